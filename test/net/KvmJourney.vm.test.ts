/**
 * "Launch, then ssh in", for real: `euca serve --backend kvm` (its own process) with the AWS CLI v2
 * as the client; a KVM node (a real libvirtd in the node's network and mount namespaces, reached
 * over a real OpenSSH server) booting the busybox guest image under QEMU (TCG unless the node's KVM
 * passes the probe); the zone's MANAGED network plan applied over SSH on a cluster head namespace;
 * the guest fetching its key and user data from OUR metadata service through the head's
 * 169.254.169.254 redirect; `ssh -i key.pem` from an outside namespace to the public address.
 *
 * Topology: test/net/support/KvmCloud.ts.
 *
 * One guest carries the journey (key, user data, console, reboot, revoke, terminate); a second one is
 * destroyed behind the controller's back. Then, on the same cloud, the stock cloud-init Debian image
 * (its qcow2 disk with its kernel and initrd) passes the same journey without `ip=` mattering: its
 * address by DHCP from the head's dnsmasq (the plan's), its key and user data by cloud-init's EC2
 * datasource from our metadata service, `ssh -i key.pem debian@<public ip>` from outside. Under TCG
 * a Debian boot takes minutes: the waits are generous and the times are printed at the end.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { describeNet, Lab } from "./support/Lab.js"
import * as GuestImages from "../support/GuestImages.js"
import { cannotRun, KvmCloud } from "./support/KvmCloud.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describeNet("launch, then ssh in: euca serve --backend kvm, the AWS CLI, a real guest", () => {
  const why = cannotRun() ?? GuestImages.canBuild("cloudinit")
  if (why !== undefined && process.env["CI"] === "true") throw new Error(`KVM journey: ${why}`)
  let lab: Lab
  let cloud: KvmCloud
  let keyPath = ""
  const userData = `hello from kvm ${Crypto.randomBytes(4).toString("hex")}`
  let instance = ""
  let publicIp = ""
  let groupId = ""
  const times: Array<string> = []
  const since = (t0: number) => `${((Date.now() - t0) / 1000).toFixed(1)} s`
  let launchedAt = 0

  const waitFor = async (what: string, check: () => Promise<boolean> | boolean, seconds: number) => {
    const deadline = Date.now() + seconds * 1000
    while (Date.now() < deadline) {
      if (await check()) return
      await sleep(1000)
    }
    throw new Error(`gave up after ${seconds} s waiting for ${what}\n--- server log (tail) ---\n${cloud.server?.log().slice(-4000)}`)
  }
  const ssh = (command: string, seconds = 8) => cloud.ssh(keyPath, publicIp, command, seconds)

  beforeAll(async () => {
    if (why !== undefined) return
    lab = await Lab.create()
    const t0 = Date.now()
    cloud = await KvmCloud.start(lab, { cloudinit: true })
    times.push(`cloud up (images built or cached: cloudinit ${(cloud.cloudinitBuildMs / 1000).toFixed(1)} s): ${since(t0)}`)
  }, 2_400_000)

  afterAll(async () => {
    if (times.length > 0) console.log(`[kvm journey] times:\n  ${times.join("\n  ")}`)
    if (cloud) await cloud.stop()
    if (lab) await lab.destroy()
  }, 120_000)

  it.skipIf(why !== undefined)("runs the busybox image with a key, a group allowing tcp/22 and user data; it reaches running", async () => {
    const key = cloud.awsJson<{ KeyMaterial: string }>(["ec2", "create-key-pair", "--key-name", "journey"])
    keyPath = Path.join(cloud.work, "journey.pem")
    Fs.writeFileSync(keyPath, key.KeyMaterial.endsWith("\n") ? key.KeyMaterial : `${key.KeyMaterial}\n`, { mode: 0o600 })
    groupId = cloud.awsJson<{ GroupId: string }>(["ec2", "create-security-group", "--group-name", "ssh", "--description", "ssh in"]).GroupId
    cloud.awsJson(["ec2", "authorize-security-group-ingress", "--group-name", "ssh", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    launchedAt = Date.now()
    const r = cloud.awsJson<{ Instances: Array<{ InstanceId: string }> }>([
      "ec2", "run-instances", "--image-id", cloud.imageId, "--instance-type", "c1.medium", "--count", "1", "--key-name", "journey", "--security-groups", "ssh", "--user-data", userData
    ])
    instance = r.Instances[0]!.InstanceId
    const w = cloud.aws(["ec2", "wait", "instance-running", "--instance-ids", instance])
    const d = cloud.describe(instance)
    expect(w.code, `${w.stderr} ${JSON.stringify(d)}`).toBe(0)
    expect(d.State.Name).toBe("running")
    publicIp = d.PublicIpAddress!
    expect(publicIp).toMatch(/^198\.51\.100\./)
    expect(cloud.virsh("domstate", instance).stdout.trim()).toBe("running")
    times.push(`busybox: RunInstances → running: ${since(launchedAt)}`)
  }, 240_000)

  it.skipIf(why !== undefined)("the guest got its key from our metadata service: ssh -i key.pem from outside runs a command and reads its user data", async () => {
    expect(instance).not.toBe("")
    let last = ""
    await waitFor("ssh into the instance", async () => {
      const r = await ssh("cat /run/user-data")
      last = `${r.code} ${r.stdout} ${r.stderr}`
      return r.code === 0
    }, 300)
    times.push(`busybox: RunInstances → ssh works: ${since(launchedAt)}`)
    const r = await ssh("cat /run/user-data; echo; uname -r")
    expect(r.code, last).toBe(0)
    expect(r.stdout).toContain(userData)
    expect(r.stdout).toMatch(/6\.1\.\d+-\d+-amd64/)
  }, 330_000)

  it.skipIf(why !== undefined)("get-console-output returns the real boot log", () => {
    const out = cloud.consoleOf(instance)
    expect(out).toMatch(/Linux version 6\.1/)
    expect(out).toContain("EUCA-GUEST: key ok")
    expect(out).toContain(`EUCA-GUEST: user-data ${Buffer.byteLength(userData)} bytes`)
  }, 60_000)

  it.skipIf(why !== undefined)("reboot-instances comes back: a second boot on the console, ssh again", async () => {
    const before = cloud.consoleOf(instance).split("Linux version").length
    cloud.awsJson(["ec2", "reboot-instances", "--instance-ids", instance])
    await waitFor("a second boot on the console", () => cloud.consoleOf(instance).split("Linux version").length > before, 120)
    await waitFor("ssh after the reboot", async () => (await ssh("true")).code === 0, 300)
    expect(cloud.describe(instance).State.Name).toBe("running")
  }, 450_000)

  it.skipIf(why !== undefined)("revoking the rule stops SSH", async () => {
    cloud.awsJson(["ec2", "revoke-security-group-ingress", "--group-name", "ssh", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    await waitFor("ssh to be refused by the filter", async () => (await ssh("true", 4)).code !== 0, 30)
    expect((await ssh("true", 4)).code).not.toBe(0)
    expect(groupId).toMatch(/^sg-/)
  }, 60_000)

  it.skipIf(why !== undefined)("terminate-instances removes the domain and its overlay", async () => {
    cloud.awsJson(["ec2", "terminate-instances", "--instance-ids", instance])
    const w = cloud.aws(["ec2", "wait", "instance-terminated", "--instance-ids", instance])
    expect(w.code, w.stderr).toBe(0)
    await waitFor("the domain to be undefined", () => cloud.virsh("domstate", instance).status !== 0, 30)
    expect(cloud.virsh("domstate", instance).stderr).toMatch(/failed to get domain/)
    expect(Fs.existsSync(Path.join(cloud.instancesDir, instance))).toBe(false)
  }, 120_000)

  it.skipIf(why !== undefined)("a guest destroyed behind the controller's back (virsh destroy) is noticed and its instance failed", async () => {
    const r = cloud.awsJson<{ Instances: Array<{ InstanceId: string }> }>(["ec2", "run-instances", "--image-id", cloud.imageId, "--instance-type", "c1.medium", "--count", "1"])
    const id = r.Instances[0]!.InstanceId
    expect(cloud.aws(["ec2", "wait", "instance-running", "--instance-ids", id]).code).toBe(0)
    expect(cloud.virsh("destroy", id).status).toBe(0)
    await waitFor("the instance to be failed", () => cloud.describe(id).State.Name === "terminated", 60)
    expect(cloud.describe(id).StateReason?.Message ?? "").toMatch(/shut down|no longer/)
    // What was left of the domain is cleaned up.
    await waitFor("the shut-off domain to be undefined", () => cloud.virsh("domstate", id).status !== 0, 30)
  }, 180_000)

  // ── The cloud-init Debian image, on the same cloud ──────────────────────────────────────────────
  const ciTag = Crypto.randomBytes(4).toString("hex")
  const ciUserData = `#cloud-config\n# kvm journey ${ciTag}\nwrite_files:\n  - path: /run/euca-journey\n    content: "written by cloud-init ${ciTag}"\n`
  let ci = ""
  let ciPublic = ""
  let ciPrivate = ""
  let ciLaunchedAt = 0
  let ciKeyPath = ""
  // sudo first tries to resolve the guest's host name, and the guest has no DNS: that alone takes
  // longer than 10 s, so commands get a minute (the connection itself still has to come quickly).
  const ciSsh = (command: string, seconds = 60) => cloud.ssh(ciKeyPath, ciPublic, command, seconds, "debian")

  it.skipIf(why !== undefined)("runs the cloud-init image (qcow2 disk, its kernel and initrd) with a key, a group allowing tcp/22 and user data; it reaches running", async () => {
    const key = cloud.awsJson<{ KeyMaterial: string }>(["ec2", "create-key-pair", "--key-name", "journey-ci"])
    ciKeyPath = Path.join(cloud.work, "journey-ci.pem")
    Fs.writeFileSync(ciKeyPath, key.KeyMaterial.endsWith("\n") ? key.KeyMaterial : `${key.KeyMaterial}\n`, { mode: 0o600 })
    cloud.awsJson(["ec2", "create-security-group", "--group-name", "ssh-ci", "--description", "ssh into the Debian guest"])
    cloud.awsJson(["ec2", "authorize-security-group-ingress", "--group-name", "ssh-ci", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    ciLaunchedAt = Date.now()
    // m1.xlarge: 1024 MiB, what a Debian boot with cloud-init wants (the guest boot test's size).
    const r = cloud.awsJson<{ Instances: Array<{ InstanceId: string }> }>([
      "ec2", "run-instances", "--image-id", cloud.cloudinitImageId, "--instance-type", "m1.xlarge", "--count", "1", "--key-name", "journey-ci", "--security-groups", "ssh-ci",
      "--user-data", ciUserData
    ])
    ci = r.Instances[0]!.InstanceId
    // Polled here rather than with `aws ec2 wait` (whose process the helper stops after 180 s).
    await waitFor("the cloud-init instance to be running", () => cloud.describe(ci).State.Name !== "pending", 800)
    const d = cloud.describe(ci)
    expect(d.State.Name, JSON.stringify(d)).toBe("running")
    ciPublic = d.PublicIpAddress!
    ciPrivate = d.PrivateIpAddress!
    expect(ciPublic).toMatch(/^198\.51\.100\./)
    expect(cloud.virsh("domstate", ci).stdout.trim()).toBe("running")
    times.push(`cloudinit: RunInstances → running (the 700 MB disk staged to the node first): ${since(ciLaunchedAt)}`)
  }, 900_000)

  it.skipIf(why !== undefined)("cloud-init took the key and user data from our metadata service: ssh -i key.pem debian@<public ip> reads them back", async () => {
    expect(ci).not.toBe("")
    let last = ""
    await waitFor("ssh debian@ into the cloud-init guest", async () => {
      const r = await ciSsh("sudo cat /var/lib/cloud/instance/user-data.txt")
      last = `${r.code} ${r.stdout} ${r.stderr}`
      return r.code === 0
    }, 1500)
    times.push(`cloudinit: RunInstances → ssh works: ${since(ciLaunchedAt)}`)
    const r = await ciSsh("sudo cat /var/lib/cloud/instance/user-data.txt")
    expect(r.code, last).toBe(0)
    expect(r.stdout).toBe(ciUserData)
    // The user data was acted on (write_files), and the instance is who the metadata says.
    await waitFor("cloud-init's write_files", async () => (await ciSsh("cat /run/euca-journey")).stdout.includes(ciTag), 300)
    expect((await ciSsh("cat /run/euca-journey")).stdout).toBe(`written by cloud-init ${ciTag}`)
    expect((await ciSsh("cat /var/lib/cloud/data/instance-id")).stdout.trim()).toBe(ci)
  }, 1_900_000)

  it.skipIf(why !== undefined)("its address came from the head's DHCP server (the plan's dnsmasq lease for its private address)", async () => {
    expect(ciPrivate).not.toBe("")
    expect(cloud.leases()).toContain(` ${ciPrivate} `)
    const r = await ciSsh("ip -4 -o addr show dev eth0")
    expect(r.stdout).toContain(` ${ciPrivate}/`)
  }, 60_000)

  it.skipIf(why !== undefined)("get-console-output returns the real boot log of the Debian guest", () => {
    const out = cloud.consoleOf(ci)
    expect(out).toMatch(/Cloud-init v\. \S+ running 'init'/)
    expect(out).toMatch(new RegExp(`ci-info: .*eth0.*True.*${ciPrivate.replaceAll(".", "\\.")}`))
  }, 60_000)

  it.skipIf(why !== undefined)("reboot-instances brings the Debian guest back: a second boot on the console, ssh again, the same instance", async () => {
    expect(ci).not.toBe("")
    const t0 = Date.now()
    // get-console-output is the log's last 64 KiB, and a Debian boot writes more than that: counting
    // "Linux version" in the tail races the old boot scrolling out. What the guest wrote after the
    // reboot is what follows the tail's last line of before (all of it, once that line scrolled out).
    const mark = cloud.consoleOf(ci).trimEnd().slice(-160)
    expect(mark.length).toBeGreaterThan(40)
    const sinceReboot = () => {
      const out = cloud.consoleOf(ci)
      const at = out.lastIndexOf(mark)
      return at < 0 ? out : out.slice(at + mark.length)
    }
    const up0 = Number((await ciSsh("cut -d' ' -f1 /proc/uptime", 30)).stdout.trim())
    expect(up0).toBeGreaterThan(0)
    cloud.awsJson(["ec2", "reboot-instances", "--instance-ids", ci])
    await waitFor("a second boot of the Debian guest on the console", () => /Linux version|Cloud-init v\. \S+ running/.test(sinceReboot()), 600)
    await waitFor("ssh debian@ after the reboot", async () => (await ciSsh("cat /var/lib/cloud/data/instance-id", 30)).code === 0, 900)
    expect((await ciSsh("cat /var/lib/cloud/data/instance-id")).stdout.trim()).toBe(ci)
    // The guest really restarted: its uptime is less than the time since the reboot was asked for.
    const up1 = Number((await ciSsh("cut -d' ' -f1 /proc/uptime", 30)).stdout.trim())
    expect(up1).toBeGreaterThan(0)
    expect(up1).toBeLessThan((Date.now() - t0) / 1000)
    expect(cloud.describe(ci).State.Name).toBe("running")
    times.push(`cloudinit: reboot → ssh again: ${since(t0)}`)
  }, 1_600_000)

  it.skipIf(why !== undefined)("revoking its group's rule stops SSH to the Debian guest", async () => {
    cloud.awsJson(["ec2", "revoke-security-group-ingress", "--group-name", "ssh-ci", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    await waitFor("ssh to the Debian guest to be refused by the filter", async () => (await ciSsh("true", 6)).code !== 0, 30)
    expect((await ciSsh("true", 6)).code).not.toBe(0)
  }, 90_000)

  it.skipIf(why !== undefined)("terminate-instances removes the Debian guest's domain and its overlay", async () => {
    const t0 = Date.now()
    cloud.awsJson(["ec2", "terminate-instances", "--instance-ids", ci])
    const w = cloud.aws(["ec2", "wait", "instance-terminated", "--instance-ids", ci])
    expect(w.code, w.stderr).toBe(0)
    await waitFor("the domain to be undefined", () => cloud.virsh("domstate", ci).status !== 0, 60)
    expect(cloud.virsh("domstate", ci).stderr).toMatch(/failed to get domain/)
    expect(Fs.existsSync(Path.join(cloud.instancesDir, ci))).toBe(false)
    times.push(`cloudinit: terminate → gone: ${since(t0)}`)
  }, 180_000)
})
