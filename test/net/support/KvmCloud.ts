/**
 * A whole KVM cloud on one machine, for the journey test and the KVM benchmark: `euca serve
 * --backend kvm` (its own process) with the AWS CLI v2 as the client; a KVM node (a real libvirtd in
 * the node's network and mount namespaces, reached over a real OpenSSH server) booting the busybox
 * guest image under QEMU; the zone's MANAGED plan applied over SSH on a cluster head namespace; the
 * guest fetching its key and user data from OUR metadata service through the head's
 * 169.254.169.254 redirect; ssh from an outside namespace to the public address. The head also runs
 * the plan's DHCP (one dnsmasq per segment, files under <work>/head-dhcp). With `cloudinit: true`
 * the cloud-init Debian image is registered too (kernel, initrd and its qcow2 disk), and the node's
 * kernel command line carries what both images need (the KVM node has one command line, not one
 * per image): its root by label for the Debian disk, which busybox's initramfs ignores.
 *
 *   root namespace: `euca serve` on 10.213.<slot>.1:<port>, two sshds, the AWS CLI
 *    │ eu<pid>k 10.213.<slot>.1/30 ── meta0 10.213.<slot>.2/30   (instances: 10.198.<4·slot>.0/22, routed via meta0)
 *   head   trunk 10.255.254.1/30 ── trunk 10.255.254.2/30 in node;  pub0 198.51.100.1 ── eth0 198.51.100.100 in ext
 *   node   libvirtd, eucabr<vlan> (the plan's, with trunk.<vlan> as VXLAN: see XenCloud), QEMU's taps
 *
 * Addresses differ from XenCloud's so both can run at once; what lives in the root namespace (the
 * link, the route to the instances) depends on a slot from the process id, so two KVM clouds of
 * different test processes can run at once too.
 */
import * as ChildProcess from "node:child_process"
import { execFile } from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { busyboxGuest } from "../../backends/kvm/guest.js"
import * as GuestImages from "../../support/GuestImages.js"
import { canRun as libvirtCanRun, type Libvirtd, startLibvirtd } from "../../support/libvirt.js"
import * as ServeProcess from "../../support/ServeProcess.js"
import { startSshd, type Sshd } from "../../support/sshd.js"
import { SHIM } from "./VlanShim.js"

// Lab.ts and XenCloud.ts's runtime imports bring vitest in, which bench:kvm cannot load: this file
// only needs what Lab offers (the test passes a Lab; the benchmark its own namespaces).
/** What the cloud needs of test/net/support/Lab.ts's Lab. */
export interface Namespaces {
  addNamespace(name: string): Promise<string>
  removeNamespace(ns: string): Promise<void>
  x(ns: string, argv: ReadonlyArray<string>): Promise<string>
}

export const run = (argv: ReadonlyArray<string>): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    execFile(argv[0]!, argv.slice(1), { encoding: "utf8", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 127) : 0
      resolve({ code, stdout, stderr })
    })
  })

export const must = async (argv: ReadonlyArray<string>): Promise<string> => {
  const r = await run(argv)
  if (r.code !== 0) throw new Error(`${argv.join(" ")} → exit ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}

export const ZONE = "zone-1"
export const REGION = "euca-1"
const SLOT = (process.pid % 60) + 1
export const SUBNET = `10.198.${SLOT * 4}.0/22`
export const ADDRESSES_PER_NETWORK = 32
const META_ROOT = `10.213.${SLOT}.1`
const META_HEAD = `10.213.${SLOT}.2`
const TRUNK_HEAD = "10.255.254.1"
const TRUNK_NODE = "10.255.254.2"
const HEAD_PUBLIC = "198.51.100.1"
const EXT = "198.51.100.100"
const PUBLIC_IPS = "198.51.100.40-198.51.100.59"
export const AWS = "/usr/bin/aws"

/** Why the KVM cloud cannot run here (undefined: it can). */
export const cannotRun = (): string | undefined => {
  if (process.getuid?.() !== 0) return "needs root (namespaces, libvirtd, sshd)"
  return libvirtCanRun() ?? (Fs.existsSync(AWS) ? undefined : `${AWS} (the AWS CLI v2) is missing`)
}

export interface AwsResult {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

export interface KvmCloudOptions {
  readonly reconcileSeconds?: number
  /** Also build (or take from the cache) and register the cloud-init Debian image. */
  readonly cloudinit?: boolean
  /**
   * A storage host for the zone (volumes): its commands run in the head namespace, where qemu-nbd
   * exports on the head's trunk address, which the node's QEMU reaches.
   */
  readonly storage?: boolean
}

/** The NBD export ports of the storage host (with `storage: true`). */
export const STORAGE_PORTS = { first: 10810, last: 10819 } as const
export const STORAGE_EXPORT_ADDRESS = TRUNK_HEAD

export class KvmCloud {
  head = ""
  node = ""
  ext = ""
  rootLink = ""
  work = ""
  libvirtd: Libvirtd | undefined
  nodeSshd: Sshd | undefined
  headSshd: Sshd | undefined
  server: ServeProcess.Serve | undefined
  imageId = ""
  /** With `cloudinit: true`: the cloud-init Debian image (its disk, kernel and initrd). */
  cloudinitImageId = ""
  instancesDir = ""
  /** With `storage: true`: the zone's storage host (an sshd whose commands run in the head namespace). */
  storageSshd: Sshd | undefined
  /** Where the storage host keeps the volume files (`vol-….img`, `snap-….img`, export pid files). */
  storageDir = ""
  /** The head's DHCP state directory (dnsmasq config, hosts, pid and lease files per segment). */
  dhcpDir = ""

  private constructor(readonly lab: Namespaces) {}

  static async start(lab: Namespaces, options: KvmCloudOptions = {}): Promise<KvmCloud> {
    const c = new KvmCloud(lab)
    try {
      await c.build(options)
      return c
    } catch (e) {
      await c.stop().catch(() => undefined)
      throw e
    }
  }

  private async build(options: KvmCloudOptions): Promise<void> {
    ServeProcess.checkBuilt()
    const guest = await busyboxGuest()
    const debian = options.cloudinit === true ? await GuestImages.build("cloudinit") : undefined
    if (debian !== undefined) this.cloudinitBuildMs = debian.buildMs
    // busybox's words first, then what the Debian disk needs (its root; hvc0 is Xen's console).
    const words = [...guest.cmdline.split(/\s+/), ...(debian?.cmdline.split(/\s+/) ?? [])].filter((w) => w !== "" && w !== "console=hvc0")
    const cmdline = [...new Set(words)].join(" ")
    const lab = this.lab
    if ((await run(["ip", "route", "show", SUBNET])).stdout.trim() !== "") throw new Error(`this machine already routes ${SUBNET}, which the KVM cloud needs`)
    this.head = await lab.addNamespace("khead")
    this.node = await lab.addNamespace("knode")
    this.ext = await lab.addNamespace("kext")
    const [head, node, ext] = [this.head, this.node, this.ext]
    await must(["ip", "-n", head, "link", "add", "trunk", "type", "veth", "peer", "name", "trunk", "netns", node])
    await must(["ip", "-n", head, "link", "add", "pub0", "type", "veth", "peer", "name", "eth0", "netns", ext])
    for (const [ns, dev, addr] of [[head, "trunk", `${TRUNK_HEAD}/30`], [node, "trunk", `${TRUNK_NODE}/30`], [head, "pub0", `${HEAD_PUBLIC}/24`], [ext, "eth0", `${EXT}/24`]] as const) {
      await lab.x(ns, ["ip", "addr", "add", addr, "dev", dev])
      await lab.x(ns, ["ip", "link", "set", dev, "up"])
    }
    this.rootLink = `eu${process.pid}k`
    await must(["ip", "link", "add", this.rootLink, "type", "veth", "peer", "name", "meta0", "netns", head])
    await must(["ip", "addr", "add", `${META_ROOT}/30`, "dev", this.rootLink])
    await must(["ip", "link", "set", this.rootLink, "up"])
    await lab.x(head, ["ip", "addr", "add", `${META_HEAD}/30`, "dev", "meta0"])
    await lab.x(head, ["ip", "link", "set", "meta0", "up"])
    await must(["ip", "route", "add", SUBNET, "via", META_HEAD, "dev", this.rootLink])

    this.work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-kvmcloud-"))
    Fs.chmodSync(this.work, 0o755)
    const shim = Path.join(this.work, "vlan-as-vxlan")
    Fs.writeFileSync(shim, SHIM, { mode: 0o755 })
    this.libvirtd = await startLibvirtd({ netns: node })
    this.nodeSshd = await startSshd({ user: "root" })
    this.headSshd = await startSshd({ user: "root" })
    const remote = Path.join(this.work, "node")
    this.dhcpDir = Path.join(this.work, "head-dhcp")
    this.instancesDir = Path.join(remote, "instances")
    const nodesFile = Path.join(this.work, "nodes.json")
    const n = this.nodeSshd
    const h = this.headSshd
    let storage: Record<string, unknown> = {}
    if (options.storage === true) {
      const st = this.storageSshd = await startSshd({ user: "root" })
      this.storageDir = Path.join(this.work, "storage")
      storage = {
        storage: [{
          zone: ZONE, host: st.host, port: st.port, user: st.user, privateKeyPath: st.privateKeyPath, hostKey: st.knownHostsLine,
          dir: this.storageDir, export: { address: TRUNK_HEAD, ports: STORAGE_PORTS },
          commandPrefix: ["ip", "netns", "exec", head],
          timeouts: { connectMs: 5000, commandMs: 30000, uploadMs: 120000 }
        }]
      }
    }
    Fs.writeFileSync(nodesFile, JSON.stringify({
      nodes: [{
        name: "node-1", zone: ZONE, host: n.host, port: n.port, user: n.user, privateKeyPath: n.privateKeyPath, hostKey: n.knownHostsLine,
        reserve: { memoryMiB: 1024, cores: 0 },
        paths: {
          configDir: Path.join(remote, "domains"),
          instancesDir: this.instancesDir,
          imageCacheDir: Path.join(remote, "cache"),
          // The Debian disk is about 700 MB.
          imageCacheMiB: debian === undefined ? 256 : 2048,
          consoleLogDir: Path.join(remote, "console")
        },
        privateInterface: "trunk",
        commandPrefix: ["ip", "netns", "exec", node, "bash", shim, TRUNK_NODE, TRUNK_HEAD],
        kvm: { virsh: this.libvirtd.virsh, reboot: "reset", cmdline, prefixLength: 32 - Math.log2(ADDRESSES_PER_NETWORK), mtu: 1450 },
        timeouts: { connectMs: 5000, commandMs: 60000, createMs: 120000, uploadMs: debian === undefined ? 60000 : 600000 }
      }],
      clusterHeads: [{
        zone: ZONE, host: h.host, port: h.port, user: h.user, privateKeyPath: h.privateKeyPath, hostKey: h.knownHostsLine,
        privateInterface: "trunk", publicInterface: "pub0",
        commandPrefix: ["ip", "netns", "exec", head, "bash", shim, TRUNK_HEAD, TRUNK_NODE],
        dhcp: { stateDir: this.dhcpDir },
        timeouts: { connectMs: 5000, commandMs: 10000 }
      }],
      ...storage
    }, null, 2))
    const port = await ServeProcess.freePort(META_ROOT)
    const configPath = Path.join(this.work, "cloud.json")
    Fs.writeFileSync(configPath, JSON.stringify({
      region: REGION,
      network: { mode: "MANAGED", subnet: SUBNET, addressesPerNetwork: ADDRESSES_PER_NETWORK, publicIps: [PUBLIC_IPS], metadata: `${META_ROOT}:${port}` },
      backend: { kind: "kvm", nodesFile },
      tickSeconds: 1
    }))
    const dataDir = Path.join(this.work, "data")
    this.server = await ServeProcess.startServe({ host: META_ROOT, port, dataDir, configPath, region: REGION })
    // The guest image, registered as the README says: kernel and ramdisk with files, the machine
    // image with a 1 MiB empty disk (it gets a qcow2 overlay, grown to the VM type's disk).
    const root = Path.join(this.work, "root.img")
    Fs.writeFileSync(root, Buffer.alloc(1024 * 1024))
    const reg = async (kind: string, name: string, file: string, extra: ReadonlyArray<string> = []) =>
      (await ServeProcess.eucaJson<{ imageId: string }>(["admin", "images", "register", "--data", dataDir, "--kind", kind, "--name", name, "--file", file, ...extra])).imageId
    const [kernel, ramdisk] = await Promise.all([reg("kernel", "busybox-vmlinuz", guest.kernel), reg("ramdisk", "busybox-initrd", guest.ramdisk)])
    this.imageId = await reg("machine", "busybox", root, ["--kernel", kernel, "--ramdisk", ramdisk])
    if (debian !== undefined) {
      // The Debian disk as the machine image (a qcow2 overlay on it per instance), booted by its kernel and initrd.
      const [k, r] = await Promise.all([reg("kernel", "debian-vmlinuz", debian.kernel), reg("ramdisk", "debian-initrd", debian.ramdisk)])
      this.cloudinitImageId = await reg("machine", "debian-cloudinit", debian.disk!, ["--kernel", k, "--ramdisk", r])
    }
  }

  /** Wall-clock ms the cloud-init image's build (or cache lookup) took. */
  cloudinitBuildMs = 0

  /** The head's dnsmasq leases, every segment's ("" when none). */
  leases(): string {
    if (!Fs.existsSync(this.dhcpDir)) return ""
    return Fs.readdirSync(this.dhcpDir).filter((f) => f.endsWith(".leases")).map((f) => Fs.readFileSync(Path.join(this.dhcpDir, f), "utf8")).join("")
  }

  get serve(): ServeProcess.Serve {
    if (this.server === undefined) throw new Error("the server is not running")
    return this.server
  }

  aws(args: ReadonlyArray<string>): AwsResult {
    const s = this.serve
    const r = ChildProcess.spawnSync(AWS, ["--endpoint-url", s.url, "--region", REGION, "--output", "json", ...args], {
      encoding: "utf8",
      timeout: 180_000,
      env: { ...process.env, AWS_ACCESS_KEY_ID: s.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: s.credentials.secretAccessKey, AWS_PAGER: "", AWS_EC2_METADATA_DISABLED: "true" }
    })
    return { code: r.status, stdout: r.stdout, stderr: r.stderr }
  }

  awsJson<A = Record<string, unknown>>(args: ReadonlyArray<string>): A {
    const r = this.aws(args)
    if (r.code !== 0) throw new Error(`aws ${args.join(" ")}: exit ${r.code}: ${r.stderr}`)
    return (r.stdout.trim() === "" ? {} : JSON.parse(r.stdout)) as A
  }

  describe(id: string): { State: { Name: string }; StateReason?: { Message?: string }; PublicIpAddress?: string; PrivateIpAddress?: string } {
    return this.awsJson<{ Reservations: Array<{ Instances: Array<ReturnType<KvmCloud["describe"]>> }> }>(
      ["ec2", "describe-instances", "--instance-ids", id]
    ).Reservations[0]!.Instances[0]!
  }

  consoleOf(id: string): string {
    return this.awsJson<{ Output?: string }>(["ec2", "get-console-output", "--instance-id", id]).Output ?? ""
  }

  /** ssh from the outside namespace. */
  ssh(keyPath: string, address: string, command: string, seconds = 8, user = "root"): Promise<{ code: number; stdout: string; stderr: string }> {
    return run(["ip", "netns", "exec", this.ext, "timeout", String(seconds + 2), "ssh", "-i", keyPath, "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null",
      "-o", "BatchMode=yes", "-o", `ConnectTimeout=${Math.min(seconds, 10)}`, "-o", "LogLevel=ERROR", `${user}@${address}`, command])
  }

  virsh(...args: ReadonlyArray<string>): { readonly status: number | null; readonly stdout: string; readonly stderr: string } {
    if (this.libvirtd === undefined) throw new Error("no libvirtd")
    return this.libvirtd.run(...args)
  }

  async stop(): Promise<void> {
    const problems: Array<string> = []
    const attempt = async (what: string, f: () => Promise<unknown>) => {
      try {
        await f()
      } catch (e) {
        problems.push(`${what}: ${(e as Error).message}`)
      }
    }
    await attempt("server", async () => this.server?.stop())
    await attempt("libvirtd", async () => this.libvirtd?.stop())
    await attempt("node sshd", async () => this.nodeSshd?.stop())
    await attempt("head sshd", async () => this.headSshd?.stop())
    await attempt("storage sshd", async () => this.storageSshd?.stop())
    // The storage host's exports (qemu-nbd, forked in the head namespace): each by its pid file.
    if (this.storageDir !== "" && Fs.existsSync(this.storageDir)) {
      for (const f of Fs.readdirSync(this.storageDir).filter((x) => x.endsWith(".pid"))) {
        await attempt(`export ${f}`, async () => {
          const pid = Number(Fs.readFileSync(Path.join(this.storageDir, f), "utf8").trim())
          if (Number.isInteger(pid) && pid > 1 && Fs.existsSync(`/proc/${pid}/cmdline`) && Fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu-nbd")) process.kill(pid, "SIGKILL")
        })
      }
    }
    const link = this.rootLink
    if (link !== "") await attempt("root link", async () => { if ((await run(["ip", "link", "show", link])).code === 0) await must(["ip", "link", "del", link]) })
    await attempt("route", async () => { if ((await run(["ip", "route", "show", SUBNET])).stdout.trim() !== "") await must(["ip", "route", "del", SUBNET]) })
    for (const ns of [this.ext, this.node, this.head]) if (ns !== "") await attempt(`namespace ${ns}`, () => this.lab.removeNamespace(ns))
    if (this.work !== "") Fs.rmSync(this.work, { recursive: true, force: true })
    if (problems.length > 0) throw new Error(`cleanup: ${problems.join("; ")}`)
  }
}
