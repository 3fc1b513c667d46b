/**
 * "Launch, then ssh in", for real: `euca serve --backend kvm` (its own process) with the AWS CLI v2
 * as the client; a KVM node (a real libvirtd in the node's network and mount namespaces, reached
 * over a real OpenSSH server) booting the busybox guest image under QEMU (TCG unless the node's KVM
 * passes the probe); the zone's MANAGED network plan applied over SSH on a cluster head namespace;
 * the guest fetching its key and user data from OUR metadata service through the head's
 * 169.254.169.254 redirect; `ssh -i key.pem` from an outside namespace to the public address.
 *
 *   root namespace: this test, `euca serve` on 10.213.254.1:<port>, two sshds, the AWS CLI
 *    │ eu<pid>k 10.213.254.1/30 ── meta0 10.213.254.2/30
 *   head   trunk 10.255.254.1/30 ── trunk 10.255.254.2/30 in node;  pub0 198.51.100.1 ── eth0 198.51.100.100 in ext
 *   node   libvirtd, eucabr<vlan> (the plan's, with trunk.<vlan> as VXLAN: see XenCloud), QEMU's taps
 *
 * One guest carries the journey (key, user data, console, reboot, revoke, terminate); a second one is
 * destroyed behind the controller's back.
 */
import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { busyboxGuest } from "../backends/kvm/guest.js"
import { canRun as libvirtCanRun, type Libvirtd, startLibvirtd } from "../support/libvirt.js"
import * as ServeProcess from "../support/ServeProcess.js"
import { startSshd, type Sshd } from "../support/sshd.js"
import { describeNet, Lab, must, run } from "./support/Lab.js"
import { SHIM } from "./support/XenCloud.js"

const ZONE = "zone-1"
const REGION = "euca-1"
const SUBNET = "10.198.0.0/22"
const ADDRESSES_PER_NETWORK = 32
const META_ROOT = "10.213.254.1"
const META_HEAD = "10.213.254.2"
const TRUNK_HEAD = "10.255.254.1"
const TRUNK_NODE = "10.255.254.2"
const HEAD_PUBLIC = "198.51.100.1"
const EXT = "198.51.100.100"
const PUBLIC_IPS = "198.51.100.40-198.51.100.59"
const AWS = "/usr/bin/aws"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describeNet("launch, then ssh in: euca serve --backend kvm, the AWS CLI, a real guest", () => {
  const why = libvirtCanRun() ?? (Fs.existsSync(AWS) ? undefined : `${AWS} (the AWS CLI v2) is missing`)
  if (why !== undefined && process.env["CI"] === "true") throw new Error(`KVM journey: ${why}`)
  let lab: Lab
  let head = ""
  let node = ""
  let ext = ""
  let rootLink = ""
  let work = ""
  let libvirtd: Libvirtd | undefined
  let nodeSshd: Sshd | undefined
  let headSshd: Sshd | undefined
  let server: ServeProcess.Serve | undefined
  let keyPath = ""
  let imageId = ""
  let nodesPaths: { instancesDir: string } = { instancesDir: "" }
  const userData = `hello from kvm ${Crypto.randomBytes(4).toString("hex")}`
  let instance = ""
  let publicIp = ""
  let groupId = ""

  const aws = (args: ReadonlyArray<string>): { code: number | null; stdout: string; stderr: string } => {
    const s = server!
    const r = ChildProcess.spawnSync(AWS, ["--endpoint-url", s.url, "--region", REGION, "--output", "json", ...args], {
      encoding: "utf8",
      timeout: 120_000,
      env: { ...process.env, AWS_ACCESS_KEY_ID: s.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s.credentials.secretAccessKey, AWS_PAGER: "", AWS_EC2_METADATA_DISABLED: "true" }
    })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  const awsJson = <A = Record<string, unknown>>(args: ReadonlyArray<string>): A => {
    const r = aws(args)
    if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: exit ${r.code}: ${r.stderr}`)
    return (r.stdout.trim() === "" ? {} : JSON.parse(r.stdout)) as A
  }
  const describe1 = (id: string) =>
    awsJson<{ Reservations: Array<{ Instances: Array<{ State: { Name: string }; StateReason?: { Message?: string }; PublicIpAddress?: string; PrivateIpAddress?: string }> }> }>(
      ["ec2", "describe-instances", "--instance-ids", id]
    ).Reservations[0]!.Instances[0]!
  const ssh = (command: string, seconds = 8) =>
    run(["ip", "netns", "exec", ext, "timeout", String(seconds + 2), "ssh", "-i", keyPath, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "BatchMode=yes",
      "-o", `ConnectTimeout=${seconds}`, "-o", "LogLevel=ERROR", `root@${publicIp}`, command])
  const waitFor = async (what: string, check: () => Promise<boolean> | boolean, seconds: number) => {
    const deadline = Date.now() + seconds * 1000
    while (Date.now() < deadline) {
      if (await check()) return
      await sleep(1000)
    }
    throw new Error(`gave up after ${seconds} s waiting for ${what}\n--- server log (tail) ---\n${server?.log().slice(-4000)}`)
  }
  const consoleOf = (id: string) => awsJson<{ Output?: string }>(["ec2", "get-console-output", "--instance-id", id]).Output ?? ""
  const virsh = (...args: ReadonlyArray<string>) => libvirtd!.run(...args)

  beforeAll(async () => {
    if (why !== undefined) return
    ServeProcess.checkBuilt()
    const guest = await busyboxGuest()
    lab = await Lab.create()
    head = await lab.addNamespace("khead")
    node = await lab.addNamespace("knode")
    ext = await lab.addNamespace("kext")
    await must(["ip", "-n", head, "link", "add", "trunk", "type", "veth", "peer", "name", "trunk", "netns", node])
    await must(["ip", "-n", head, "link", "add", "pub0", "type", "veth", "peer", "name", "eth0", "netns", ext])
    for (const [ns, dev, addr] of [[head, "trunk", `${TRUNK_HEAD}/30`], [node, "trunk", `${TRUNK_NODE}/30`], [head, "pub0", `${HEAD_PUBLIC}/24`], [ext, "eth0", `${EXT}/24`]] as const) {
      await lab.x(ns, ["ip", "addr", "add", addr, "dev", dev])
      await lab.x(ns, ["ip", "link", "set", dev, "up"])
    }
    rootLink = `eu${process.pid}k`
    await must(["ip", "link", "add", rootLink, "type", "veth", "peer", "name", "meta0", "netns", head])
    await must(["ip", "addr", "add", `${META_ROOT}/30`, "dev", rootLink])
    await must(["ip", "link", "set", rootLink, "up"])
    await lab.x(head, ["ip", "addr", "add", `${META_HEAD}/30`, "dev", "meta0"])
    await lab.x(head, ["ip", "link", "set", "meta0", "up"])
    await must(["ip", "route", "add", SUBNET, "via", META_HEAD, "dev", rootLink])

    work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-kvmcloud-"))
    Fs.chmodSync(work, 0o755)
    const shim = Path.join(work, "vlan-as-vxlan")
    Fs.writeFileSync(shim, SHIM, { mode: 0o755 })
    libvirtd = await startLibvirtd({ netns: node })
    nodeSshd = await startSshd({ user: "root" })
    headSshd = await startSshd({ user: "root" })
    const remote = Path.join(work, "node")
    nodesPaths = { instancesDir: Path.join(remote, "instances") }
    const nodesFile = Path.join(work, "nodes.json")
    const n = nodeSshd
    const h = headSshd
    Fs.writeFileSync(nodesFile, JSON.stringify({
      nodes: [{
        name: "node-1", zone: ZONE, host: n.host, port: n.port, user: n.user, privateKeyPath: n.privateKeyPath, hostKey: n.knownHostsLine,
        reserve: { memoryMiB: 1024, cores: 0 },
        paths: {
          configDir: Path.join(remote, "domains"),
          instancesDir: nodesPaths.instancesDir,
          imageCacheDir: Path.join(remote, "cache"),
          imageCacheMiB: 256,
          consoleLogDir: Path.join(remote, "console")
        },
        privateInterface: "trunk",
        commandPrefix: ["ip", "netns", "exec", node, "bash", shim, TRUNK_NODE, TRUNK_HEAD],
        kvm: { virsh: libvirtd.virsh, reboot: "reset", cmdline: guest.cmdline, prefixLength: 32 - Math.log2(ADDRESSES_PER_NETWORK), mtu: 1450 },
        timeouts: { connectMs: 5000, commandMs: 60000, createMs: 120000, uploadMs: 60000 }
      }],
      clusterHeads: [{
        zone: ZONE, host: h.host, port: h.port, user: h.user, privateKeyPath: h.privateKeyPath, hostKey: h.knownHostsLine,
        privateInterface: "trunk", publicInterface: "pub0",
        commandPrefix: ["ip", "netns", "exec", head, "bash", shim, TRUNK_HEAD, TRUNK_NODE],
        timeouts: { connectMs: 5000, commandMs: 10000 }
      }]
    }, null, 2))
    const port = await ServeProcess.freePort(META_ROOT)
    const configPath = Path.join(work, "cloud.json")
    Fs.writeFileSync(configPath, JSON.stringify({
      region: REGION,
      network: { mode: "MANAGED", subnet: SUBNET, addressesPerNetwork: ADDRESSES_PER_NETWORK, publicIps: [PUBLIC_IPS], metadata: `${META_ROOT}:${port}` },
      backend: { kind: "kvm", nodesFile },
      tickSeconds: 1
    }))
    const dataDir = Path.join(work, "data")
    server = await ServeProcess.startServe({ host: META_ROOT, port, dataDir, configPath, region: REGION })
    // The guest image, registered as an operator would (README "your first real instance").
    const root = Path.join(work, "root.img")
    Fs.writeFileSync(root, Buffer.alloc(1024 * 1024))
    const reg = async (kind: string, name: string, file: string, extra: ReadonlyArray<string> = []) =>
      (await ServeProcess.eucaJson<{ imageId: string }>(["admin", "images", "register", "--data", dataDir, "--kind", kind, "--name", name, "--file", file, ...extra])).imageId
    const [kernel, ramdisk] = await Promise.all([reg("kernel", "busybox-vmlinuz", guest.kernel), reg("ramdisk", "busybox-initrd", guest.ramdisk)])
    imageId = await reg("machine", "busybox", root, ["--kernel", kernel, "--ramdisk", ramdisk])
  }, 300_000)

  afterAll(async () => {
    const problems: Array<string> = []
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f()
      } catch (e) {
        problems.push(`${what}: ${(e as Error).message}`)
      }
    }
    await attempt("server", async () => server?.stop())
    await attempt("libvirtd", async () => libvirtd?.stop())
    await attempt("node sshd", async () => nodeSshd?.stop())
    await attempt("head sshd", async () => headSshd?.stop())
    if (rootLink !== "") await attempt("root link", async () => { if ((await run(["ip", "link", "show", rootLink])).code === 0) await must(["ip", "link", "del", rootLink]) })
    await attempt("route", async () => { if ((await run(["ip", "route", "show", SUBNET])).stdout.trim() !== "") await must(["ip", "route", "del", SUBNET]) })
    if (lab) await attempt("namespaces", () => lab.destroy())
    if (work !== "") Fs.rmSync(work, { recursive: true, force: true })
    if (problems.length > 0) throw new Error(problems.join("; "))
  }, 120_000)

  it.skipIf(why !== undefined)("runs the busybox image with a key, a group allowing tcp/22 and user data; it reaches running", async () => {
    const key = awsJson<{ KeyMaterial: string }>(["ec2", "create-key-pair", "--key-name", "journey"])
    keyPath = Path.join(work, "journey.pem")
    Fs.writeFileSync(keyPath, key.KeyMaterial.endsWith("\n") ? key.KeyMaterial : `${key.KeyMaterial}\n`, { mode: 0o600 })
    groupId = awsJson<{ GroupId: string }>(["ec2", "create-security-group", "--group-name", "ssh", "--description", "ssh in"]).GroupId
    awsJson(["ec2", "authorize-security-group-ingress", "--group-name", "ssh", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    const r = awsJson<{ Instances: Array<{ InstanceId: string }> }>([
      "ec2", "run-instances", "--image-id", imageId, "--instance-type", "c1.medium", "--count", "1", "--key-name", "journey", "--security-groups", "ssh", "--user-data", userData
    ])
    instance = r.Instances[0]!.InstanceId
    const w = aws(["ec2", "wait", "instance-running", "--instance-ids", instance])
    const d = describe1(instance)
    expect(w.code, `${w.stderr} ${JSON.stringify(d)}`).toBe(0)
    expect(d.State.Name).toBe("running")
    publicIp = d.PublicIpAddress!
    expect(publicIp).toMatch(/^198\.51\.100\./)
    expect(virsh("domstate", instance).stdout.trim()).toBe("running")
  }, 240_000)

  it.skipIf(why !== undefined)("the guest got its key from our metadata service: ssh -i key.pem from outside runs a command and reads its user data", async () => {
    expect(instance).not.toBe("")
    let last = ""
    await waitFor("ssh into the instance", async () => {
      const r = await ssh("cat /run/user-data")
      last = `${r.code} ${r.stdout} ${r.stderr}`
      return r.code === 0
    }, 300)
    const r = await ssh("cat /run/user-data; echo; uname -r")
    expect(r.code, last).toBe(0)
    expect(r.stdout).toContain(userData)
    expect(r.stdout).toMatch(/6\.1\.\d+-\d+-amd64/)
  }, 330_000)

  it.skipIf(why !== undefined)("get-console-output returns the real boot log", () => {
    const out = consoleOf(instance)
    expect(out).toMatch(/Linux version 6\.1/)
    expect(out).toContain("EUCA-GUEST: key ok")
    expect(out).toContain(`EUCA-GUEST: user-data ${Buffer.byteLength(userData)} bytes`)
  }, 60_000)

  it.skipIf(why !== undefined)("reboot-instances comes back: a second boot on the console, ssh again", async () => {
    const before = consoleOf(instance).split("Linux version").length
    awsJson(["ec2", "reboot-instances", "--instance-ids", instance])
    await waitFor("a second boot on the console", () => consoleOf(instance).split("Linux version").length > before, 120)
    await waitFor("ssh after the reboot", async () => (await ssh("true")).code === 0, 300)
    expect(describe1(instance).State.Name).toBe("running")
  }, 450_000)

  it.skipIf(why !== undefined)("revoking the rule stops SSH", async () => {
    awsJson(["ec2", "revoke-security-group-ingress", "--group-name", "ssh", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    await waitFor("ssh to be refused by the filter", async () => (await ssh("true", 4)).code !== 0, 30)
    expect((await ssh("true", 4)).code).not.toBe(0)
    expect(groupId).toMatch(/^sg-/)
  }, 60_000)

  it.skipIf(why !== undefined)("terminate-instances removes the domain and its overlay", async () => {
    awsJson(["ec2", "terminate-instances", "--instance-ids", instance])
    const w = aws(["ec2", "wait", "instance-terminated", "--instance-ids", instance])
    expect(w.code, w.stderr).toBe(0)
    await waitFor("the domain to be undefined", () => virsh("domstate", instance).status !== 0, 30)
    expect(virsh("domstate", instance).stderr).toMatch(/failed to get domain/)
    expect(Fs.existsSync(Path.join(nodesPaths.instancesDir, instance))).toBe(false)
  }, 120_000)

  it.skipIf(why !== undefined)("a guest destroyed behind the controller's back (virsh destroy) is noticed and its instance failed", async () => {
    const r = awsJson<{ Instances: Array<{ InstanceId: string }> }>(["ec2", "run-instances", "--image-id", imageId, "--instance-type", "c1.medium", "--count", "1"])
    const id = r.Instances[0]!.InstanceId
    expect(aws(["ec2", "wait", "instance-running", "--instance-ids", id]).code).toBe(0)
    expect(virsh("destroy", id).status).toBe(0)
    await waitFor("the instance to be failed", () => describe1(id).State.Name === "terminated", 60)
    expect(describe1(id).StateReason?.Message ?? "").toMatch(/shut down|no longer/)
    // What was left of the domain is cleaned up.
    await waitFor("the shut-off domain to be undefined", () => virsh("domstate", id).status !== 0, 30)
  }, 180_000)
})
