/**
 * Real guests on a real metadata service. The two guest images (scripts/guest-images, built once
 * and cached) boot under QEMU on a tap in a "head" namespace; the instance they are is launched
 * through the API of a real `euca serve --backend sim` process; the guest reaches
 * 169.254.169.254:80, which the head DNATs to that server as the real plan does, and the server
 * answers by the guest's private source address:
 *
 *   root namespace: this test (AWS SDK), `euca serve` on LINK_ROOT:<port>, route SUBNET via the head
 *    │ eu<pid>g LINK_ROOT/30 ── meta0 LINK_HEAD/30
 *   head: br0 = the instance network's gateway (.1 of its /27), DNAT 169.254.169.254:80 → server,
 *    │     dnsmasq (DHCP for the cloud-init guest: the instance's MAC → its private address)
 *    tap0/tap1 ── QEMU (TCG unless a KVM probe boots; -accel kvm is known to be unreliable here)
 *
 * busybox: the private address by the kernel's `ip=`; the console must show the EUCA-GUEST lines,
 * then `ssh -i key root@<ip> cat /run/user-data` from the head gives the launch's user data.
 * cloudinit: DHCP from dnsmasq; cloud-init's EC2 datasource; `ssh -i key debian@<ip> sudo cat
 * /var/lib/cloud/instance/user-data.txt` gives the user data.
 *
 * Needs root, qemu-system-x86_64, iptables, dnsmasq, ssh; skipped otherwise with the reason (a
 * failure under CI=true). Each phase's time is printed.
 */
import {
  DescribeInstancesCommand,
  type EC2Client,
  ImportKeyPairCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning
} from "@aws-sdk/client-ec2"
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Ipv4 from "../../src/model/Ipv4.js"
import { checkTools, Lab, must, run } from "../net/support/Lab.js"
import * as GuestImages from "../support/GuestImages.js"
import * as ServeProcess from "../support/ServeProcess.js"

const SLOT = process.pid % 60
/** The cloud's instance addresses (MANAGED, 32 per network), unique to this process. */
const SUBNET = `10.232.${SLOT * 4}.0/22`
const ADDRESSES_PER_NETWORK = 32
const LINK_ROOT = `10.233.${SLOT}.1`
const LINK_HEAD = `10.233.${SLOT}.2`
const REGION = "euca-1"

const TOOLS: ReadonlyArray<[string, string]> = [
  ["qemu-system-x86_64", "qemu-system-x86"], ["ip", "iproute2"], ["iptables", "iptables"], ["ssh", "openssh-client"],
  ["ssh-keygen", "openssh-client"], ["dnsmasq", "dnsmasq-base"], ["socat", "socat"]
]

const has = (cmd: string) => ChildProcess.spawnSync("sh", ["-c", `command -v ${cmd}`]).status === 0

/** Why these tests cannot run here (undefined: they can). */
const cannotRun = (): string | undefined => {
  const problems: Array<string> = []
  if (process.getuid?.() !== 0) problems.push("they need root (namespaces, taps, iptables, image builds)")
  const missing = TOOLS.filter(([c]) => !has(c))
  if (missing.length > 0) problems.push(`missing ${missing.map(([c]) => c).join(", ")} (apt-get install ${[...new Set(missing.map(([, p]) => p))].join(" ")})`)
  const img = GuestImages.canBuild("cloudinit")
  if (img !== undefined && problems.length === 0) problems.push(img)
  return problems.length === 0 ? undefined : problems.join("; ")
}

const why = cannotRun()
if (why !== undefined && process.env["CI"] === "true") throw new Error(`guest boot tests cannot run under CI: ${why}`)
if (why !== undefined) console.warn(`guest boot tests skipped: ${why}`)
const describeBoot = why === undefined ? describe : describe.skip

const phases: Array<string> = []
const timed = async <A>(what: string, f: () => Promise<A>): Promise<A> => {
  const t0 = Date.now()
  const a = await f()
  const line = `${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s`
  phases.push(line)
  console.log(`[guest boot] ${line}`)
  return a
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** The network of `ip` (its /27) and that network's gateway (.1), as Eucalyptus lays them out. */
const networkOf = (ip: string) => {
  const prefix = 32 - Math.log2(ADDRESSES_PER_NETWORK)
  const mask = Ipv4.prefixToMask(prefix)
  const base = (Ipv4.parse(ip)! & mask) >>> 0
  return { prefix, base: Ipv4.format(base), gateway: Ipv4.format(base + 1), netmask: Ipv4.format(mask >>> 0) }
}

let lab: Lab
let head: string
let rootLink: string
let work: string
let server: ServeProcess.Serve
let ec2: EC2Client
let keyPath: string
let accel: "kvm" | "tcg" = "tcg"
const qemus: Array<ChildProcess.ChildProcess> = []

/** Starts QEMU in the head namespace; the serial console goes to `console`. */
const qemu = (args: ReadonlyArray<string>, consolePath: string, acc: "kvm" | "tcg" = accel, ns: string | undefined = head) => {
  const argv = [
    "qemu-system-x86_64", "-accel", acc, ...(acc === "kvm" ? ["-cpu", "host"] : []), "-nodefaults", "-display", "none",
    "-no-reboot", "-serial", `file:${consolePath}`, ...args
  ]
  const child = ns === undefined
    ? ChildProcess.spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "ignore", "pipe"] })
    : ChildProcess.spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", "ignore", "pipe"] })
  let err = ""
  child.stderr!.setEncoding("utf8").on("data", (d: string) => (err += d))
  child.on("error", () => {})
  qemus.push(child)
  return { child, stderr: () => err }
}

const kill = async (child: ChildProcess.ChildProcess) => {
  if (child.exitCode !== null || child.signalCode !== null) return
  const gone = new Promise((r) => child.once("exit", r))
  child.kill("SIGKILL")
  await gone
}

const readConsole = (p: string) => (Fs.existsSync(p) ? Fs.readFileSync(p, "utf8") : "")

/** Polls the console until `re` shows (or the guest dies, or the deadline passes). */
const waitConsole = async (p: string, re: RegExp, ms: number, child?: ChildProcess.ChildProcess): Promise<string> => {
  const deadline = Date.now() + ms
  for (;;) {
    const text = readConsole(p)
    if (re.test(text)) return text
    if (child !== undefined && (child.exitCode !== null || child.signalCode !== null)) throw new Error(`QEMU exited before ${re}; console:\n${text.slice(-3000)}`)
    if (Date.now() > deadline) throw new Error(`no ${re} on the console after ${ms / 1000} s; console:\n${text.slice(-3000)}`)
    await sleep(500)
  }
}

/** `ssh` from the head namespace, retried while the guest's sshd is coming up. */
const sshFromHead = async (user: string, ip: string, command: string, ms: number): Promise<string> => {
  const deadline = Date.now() + ms
  let last = ""
  for (;;) {
    const r = await run([
      "ip", "netns", "exec", head, "ssh", "-i", keyPath, "-o", "BatchMode=yes", "-o", "ConnectTimeout=10",
      "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", `${user}@${ip}`, command
    ])
    if (r.code === 0) return r.stdout
    last = `exit ${r.code}: ${r.stderr.trim()}`
    if (Date.now() > deadline) throw new Error(`ssh ${user}@${ip} ${command}: ${last}`)
    await sleep(3000)
  }
}

/** Registers the image's files as an operator would and launches one instance of it. */
const launch = async (image: GuestImages.GuestImage, userData: string, name: string) => {
  const reg = async (kind: string, imgName: string, extra: ReadonlyArray<string>) =>
    (await ServeProcess.eucaJson<{ imageId: string }>(["admin", "images", "register", "--data", Path.join(work, "data"), "--kind", kind, "--name", imgName, ...extra])).imageId
  const [kernel, ramdisk] = await Promise.all([
    reg("kernel", `${name}-vmlinuz`, ["--file", image.kernel]),
    reg("ramdisk", `${name}-initrd`, ["--file", image.ramdisk])
  ])
  const machine = await reg("machine", name, [...(image.disk === undefined ? [] : ["--file", image.disk]), "--kernel", kernel, "--ramdisk", ramdisk])
  const r = await ec2.send(new RunInstancesCommand({ ImageId: machine, MinCount: 1, MaxCount: 1, KeyName: "guest-key", UserData: Buffer.from(userData).toString("base64") }))
  const id = r.Instances![0]!.InstanceId!
  await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { InstanceIds: [id] })
  const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!
  expect(inst.ImageId).toBe(machine)
  expect(inst.KernelId).toBe(kernel)
  const ip = inst.PrivateIpAddress!
  expect(Ipv4.parse(ip)).toBeDefined()
  const net = networkOf(ip)
  expect(ip).not.toBe(net.gateway)
  // The instance network's gateway lives on the head's bridge (once per network).
  const addrs = await lab.x(head, ["ip", "-4", "-o", "addr", "show", "dev", "br0"])
  if (!addrs.includes(` ${net.gateway}/`)) await lab.x(head, ["ip", "addr", "add", `${net.gateway}/${net.prefix}`, "dev", "br0"])
  return { id, ip, net }
}

const tap = async (name: string) => {
  await lab.x(head, ["ip", "tuntap", "add", "dev", name, "mode", "tap"])
  await lab.x(head, ["ip", "link", "set", name, "master", "br0"])
  await lab.x(head, ["ip", "link", "set", name, "up"])
}

beforeAll(async () => {
  if (why !== undefined) return
  await checkTools()
  work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-guest-"))
  lab = await Lab.create()
  head = await lab.addNamespace("gh")
  rootLink = `eu${process.pid}g`
  await run(["ip", "link", "del", rootLink])
  await lab.x(head, ["ip", "link", "add", "br0", "type", "bridge"])
  await lab.x(head, ["ip", "link", "set", "br0", "up"])
  await must(["ip", "link", "add", rootLink, "type", "veth", "peer", "name", "meta0", "netns", head])
  await must(["ip", "addr", "add", `${LINK_ROOT}/30`, "dev", rootLink])
  await must(["ip", "link", "set", rootLink, "up"])
  await lab.x(head, ["ip", "addr", "add", `${LINK_HEAD}/30`, "dev", "meta0"])
  await lab.x(head, ["ip", "link", "set", "meta0", "up"])
  await lab.x(head, ["ip", "route", "add", "default", "via", LINK_ROOT])
  await lab.x(head, ["sysctl", "-qw", "net.ipv4.ip_forward=1"])
  await must(["ip", "route", "add", SUBNET, "via", LINK_HEAD, "dev", rootLink])

  const port = await ServeProcess.freePort(LINK_ROOT)
  // As the plan does on a real head: 169.254.169.254:80 from the instances → the metadata listener.
  await lab.x(head, ["iptables", "-t", "nat", "-A", "PREROUTING", "-d", "169.254.169.254/32", "-p", "tcp", "--dport", "80", "-j", "DNAT", "--to-destination", `${LINK_ROOT}:${port}`])
  const configPath = Path.join(work, "cloud.json")
  Fs.writeFileSync(configPath, JSON.stringify({
    region: REGION,
    cloud: { zones: [{ name: "euca-1a", nodes: [{ prefix: "node-a", count: 1, cores: 4, memoryMiB: 4096, diskGiB: 100 }] }] },
    network: { mode: "MANAGED", subnet: SUBNET, addressesPerNetwork: ADDRESSES_PER_NETWORK, publicIps: ["198.51.100.10-198.51.100.29"], metadata: `${LINK_ROOT}:${port}` },
    backend: { kind: "sim", bootDelay: { kind: "constant", ms: 150 }, stopDelay: { kind: "constant", ms: 100 }, seed: 7 },
    tickSeconds: 1
  }))
  server = await timed("euca serve --backend sim up", () =>
    ServeProcess.startServe({ host: LINK_ROOT, port, dataDir: Path.join(work, "data"), configPath, region: REGION, backend: "sim" }))
  ec2 = server.client()
  keyPath = Path.join(work, "key")
  await must(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "guest-test", "-f", keyPath])
  await ec2.send(new ImportKeyPairCommand({ KeyName: "guest-key", PublicKeyMaterial: Fs.readFileSync(`${keyPath}.pub`) }))
}, 120_000)

afterAll(async () => {
  for (const q of qemus) await kill(q)
  await server?.stop()
  await lab?.destroy()
  if (rootLink !== undefined) await run(["ip", "link", "del", rootLink])
  if (work !== undefined) Fs.rmSync(work, { recursive: true, force: true })
  if (phases.length > 0) console.log(`[guest boot] phases:\n  ${phases.join("\n  ")}`)
}, 60_000)

describeBoot("a busybox guest on the metadata service", () => {
  let image: GuestImages.GuestImage

  beforeAll(async () => {
    image = await timed("busybox image (build or cache)", () => GuestImages.build("busybox"))
    // KVM only if a guest actually reaches its init with it (QEMU 7.2 + these hosts: often not).
    const forced = process.env["EUCA_QEMU_ACCEL"]
    if (forced === "tcg" || forced === "kvm") accel = forced
    else if (Fs.existsSync("/dev/kvm")) {
      const probe = Path.join(work, "kvm-probe.log")
      const q = qemu(["-m", "256", "-kernel", image.kernel, "-initrd", image.ramdisk, "-append", `${image.cmdline} ip=10.0.0.2::10.0.0.1:255.255.255.0`], probe, "kvm", undefined)
      accel = await timed("KVM probe", () => waitConsole(probe, /EUCA-GUEST: init/, 20_000, q.child).then(() => "kvm" as const, () => "tcg" as const))
      await kill(q.child)
    }
    console.log(`[guest boot] accelerator: ${accel}`)
  }, 600_000)

  it("boots with ip=, fetches key and user data from 169.254.169.254, and answers ssh with the user data", async () => {
    const userData = `hello from the busybox test ${process.pid} ✓\nsecond line\n`
    const { id, ip, net } = await timed("busybox: register + launch through the API", () => launch(image, userData, "busybox-guest"))
    await tap("tap0")
    const consolePath = Path.join(work, "busybox-console.log")
    const q = qemu([
      "-m", "256", "-smp", "1", "-kernel", image.kernel, "-initrd", image.ramdisk,
      "-append", `${image.cmdline} ip=${ip}::${net.gateway}:${net.netmask}::eth0:off`,
      "-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no", "-device", "virtio-net-pci,netdev=n0,romfile=,mac=52:54:00:a1:00:01"
    ], consolePath)
    const text = await timed("busybox: QEMU start → sshd up", () => waitConsole(consolePath, /EUCA-GUEST: sshd (up|failed)/, 300_000, q.child))
    const lines = text.split("\n").filter((l) => l.startsWith("EUCA-GUEST:")).map((l) => l.trim())
    expect(lines).toContain(`EUCA-GUEST: net eth0 ${ip} (static)`)
    expect(lines).toContain(`EUCA-GUEST: metadata instance-id ${id}`)
    expect(lines).toContain("EUCA-GUEST: key ok")
    expect(lines).toContain(`EUCA-GUEST: user-data ${Buffer.byteLength(userData)} bytes`)
    expect(lines).toContain("EUCA-GUEST: sshd up")
    const got = await timed("busybox: ssh cat /run/user-data", () => sshFromHead("root", ip, "cat /run/user-data", 60_000))
    expect(got).toBe(userData)
    // The guest's hostname came from local-hostname.
    expect((await sshFromHead("root", ip, "hostname", 30_000)).trim()).toBe(`ip-${ip.replaceAll(".", "-")}.${REGION}.compute.internal`)
    await kill(q.child)
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))
  }, 600_000)
})

describeBoot("a cloud-init Debian guest on the metadata service", () => {
  let image: GuestImages.GuestImage

  beforeAll(async () => {
    image = await timed("cloudinit image (build or cache)", () => GuestImages.build("cloudinit"))
  }, 1_800_000)

  it("boots by DHCP, cloud-init takes key and user data from the EC2 datasource, ssh as debian gets them", async () => {
    const userData = `#cloud-config\n# from the cloud-init test ${process.pid}\nwrite_files:\n  - path: /run/euca-test\n    content: "written by cloud-init"\n`
    const { id, ip, net } = await timed("cloudinit: register + launch through the API", () => launch(image, userData, "cloudinit-guest"))
    const mac = "52:54:00:a1:00:02"
    await tap("tap1")
    const leases = Path.join(work, "dnsmasq.leases")
    lab.spawn(head, [
      "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null", "--user=root", "--port=0", "--interface=br0", "--bind-interfaces",
      `--dhcp-range=${net.base},static,${net.netmask}`, `--dhcp-host=${mac},${ip}`, `--dhcp-option=option:router,${net.gateway}`,
      `--dhcp-leasefile=${leases}`, `--pid-file=${Path.join(work, "dnsmasq.pid")}`, `--log-facility=${Path.join(work, "dnsmasq.log")}`, "--log-dhcp"
    ])
    const consolePath = Path.join(work, "cloudinit-console.log")
    const q = qemu([
      "-m", "1024", "-smp", "1", "-kernel", image.kernel, "-initrd", image.ramdisk, "-append", image.cmdline,
      // snapshot=on: the cached image is never written.
      "-drive", `file=${image.disk},if=virtio,format=${image.format},snapshot=on`,
      "-netdev", "tap,id=n0,ifname=tap1,script=no,downscript=no", "-device", `virtio-net-pci,netdev=n0,romfile=,mac=${mac}`
    ], consolePath)
    await timed("cloudinit: QEMU start → cloud-init init", () => waitConsole(consolePath, /Cloud-init v\. .* running 'init'/, 600_000, q.child))
    const got = await timed("cloudinit: → ssh debian@ sudo cat user-data.txt", () =>
      sshFromHead("debian", ip, "sudo cat /var/lib/cloud/instance/user-data.txt", 600_000))
    expect(got).toBe(userData)
    expect((await sshFromHead("debian", ip, "cat /var/lib/cloud/data/instance-id", 60_000)).trim()).toBe(id)
    const dhcp = Fs.readFileSync(leases, "utf8")
    expect(dhcp).toContain(ip)
    const text = readConsole(consolePath)
    expect(text).toMatch(/ci-info: .*eth0.*True.*/)
    await kill(q.child)
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))
  }, 1_800_000)
})
