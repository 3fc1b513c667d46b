/**
 * A whole cloud for real, end to end: `euca serve --backend xen` (its own process, in the root
 * namespace) over a stand-in Xen node and a cluster head, both reached through real OpenSSH
 * servers (root, 127.0.0.1), with every network piece in namespaces made here:
 *
 *   root namespace: this test process (AWS SDK), `euca serve` on 10.213.255.1:<port>, two sshds
 *    │ eu<pid>m 10.213.255.1/30 (route to the cloud's subnet via the head; only this link)
 *    │   ── meta0 10.213.255.2/30
 *   head  (the plan applied over SSH: `ip netns exec <head> bash vlan-as-vxlan …` before each command)
 *    │ trunk 10.255.255.1/30 ── trunk 10.255.255.2/30       │ pub0 198.51.100.1/24 ── eth0 198.51.100.100/24
 *   node  ("dom0" of the stand-in xl: eucabr<vlan>, trunk.<vlan>)   ext (the Internet: who-sees-me on :9000)
 *    │ vif<domid>.0 ── eth0 in <prefix>xl-<domid> (one namespace per domain, made by `xl create`)
 *
 * The metadata setting points at the server (10.213.255.1:<port>), so 169.254.169.254:80 from an
 * instance is DNATed by the head to OUR metadata service, which sees the instance's private source.
 *
 * 802.1Q: the kernels of our test machines have none, and the nodes file always asks for 802.1Q
 * segments (`ip link add link trunk name trunk.<vlan> type vlan id <vlan>`). The head's and node's
 * command prefix therefore runs every command through a small stand-in, `vlan-as-vxlan`, that turns
 * exactly that command into the VXLAN device of the same name and id over the trunk (VNI = VLAN id,
 * the documented stand-in) and runs everything else unchanged.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type { EC2Client } from "@aws-sdk/client-ec2"
import * as Ipv4 from "../../../src/model/Ipv4.js"
import { nodeOf } from "../../backends/xen/harness.js"
import * as ServeProcess from "../../support/ServeProcess.js"
import { SSHD, startSshd, type Sshd } from "../../support/sshd.js"
import { checkTools, type Lab, listNamespaces, must, run, until } from "./Lab.js"
import * as Probe from "./Probe.js"
import { SHIM } from "./VlanShim.js"

export const ZONE = "zone-1"
export const REGION = "euca-1"
/** The cloud's instance addresses; routed from the root namespace to the head only, for metadata replies. */
export const SUBNET = "10.199.0.0/22"
export const ADDRESSES_PER_NETWORK = 32
export const META_LINK = "10.213.255.0/30"
export const META_ROOT = "10.213.255.1"
export const META_HEAD = "10.213.255.2"
export const TRUNK_HEAD = "10.255.255.1"
export const TRUNK_NODE = "10.255.255.2"
export const HEAD_PUBLIC = "198.51.100.1"
export const EXT = "198.51.100.100"
export const PUBLIC_IPS = "198.51.100.10-198.51.100.29"
export const WHO_SEES_ME = 9000


export interface Guest {
  readonly id: string
  readonly ns: string
  readonly privateIp: string
  /** The segment's gateway on the head (.1). */
  readonly gateway: string
  /** eth0's MAC, as the namespace has it. */
  readonly mac: string
}

/** Routes of the root namespace (all tables) inside or around `cidr`, other than the default route. */
const conflicts = async (cidr: string): Promise<Array<string>> => {
  const lines: Array<string> = []
  for (const how of ["root", "match"]) {
    const out = await run(["ip", "-4", "route", "show", "table", "all", how, cidr])
    lines.push(...out.stdout.split("\n").filter((l) => l.trim() !== "" && !l.startsWith("default")))
  }
  return [...new Set(lines)]
}

export class XenCloud {
  server: ServeProcess.Serve | undefined
  nodeSshd: Sshd | undefined
  headSshd: Sshd | undefined
  head = ""
  node = ""
  ext = ""
  work = ""
  /** The root namespace's end of the metadata link (goes with the head namespace, removed here too). */
  rootLink = ""
  private images: { machine: string; kernel: string; ramdisk: string } | undefined

  private constructor(readonly lab: Lab) {}

  /** The root namespace's end of the metadata link for this process. */
  static rootLinkName(): string {
    return `eu${process.pid}m`
  }

  /** Prefix of the stand-in xl's domain namespaces. */
  get xlPrefix(): string {
    return this.lab.ns("xl-")
  }

  get ec2(): EC2Client {
    return this.serve.client()
  }

  get serve(): ServeProcess.Serve {
    if (!this.server) throw new Error("the server is not running")
    return this.server
  }

  get machineImage(): string {
    if (!this.images) throw new Error("no images registered")
    return this.images.machine
  }

  static async start(lab: Lab): Promise<XenCloud> {
    const c = new XenCloud(lab)
    try {
      await c.build()
      return c
    } catch (e) {
      await c.stop()
      throw e
    }
  }

  private async build(): Promise<void> {
    ServeProcess.checkBuilt()
    await checkTools()
    if (!Fs.existsSync(SSHD)) throw new Error(`${SSHD} is missing: apt-get install -y --no-install-recommends openssh-server`)
    for (const cidr of [SUBNET, META_LINK]) {
      const found = await conflicts(cidr)
      if (found.length > 0) throw new Error(`this machine already routes ${cidr}, which the test needs for its own link: ${found.join("; ")}`)
    }
    const lab = this.lab
    this.head = await lab.addNamespace("head")
    this.node = await lab.addNamespace("node")
    this.ext = await lab.addNamespace("ext")
    const [head, node, ext] = [this.head, this.node, this.ext]
    await must(["ip", "-n", head, "link", "add", "trunk", "type", "veth", "peer", "name", "trunk", "netns", node])
    await must(["ip", "-n", head, "link", "add", "pub0", "type", "veth", "peer", "name", "eth0", "netns", ext])
    for (const [ns, dev, addr] of [[head, "trunk", `${TRUNK_HEAD}/30`], [node, "trunk", `${TRUNK_NODE}/30`], [head, "pub0", `${HEAD_PUBLIC}/24`], [ext, "eth0", `${EXT}/24`]] as const) {
      await lab.x(ns, ["ip", "addr", "add", addr, "dev", dev])
      await lab.x(ns, ["ip", "link", "set", dev, "up"])
    }
    // The outside has a route to the instances, so "private addresses are unreachable from outside" is the filter's doing.
    await lab.x(ext, ["ip", "route", "add", SUBNET, "via", HEAD_PUBLIC])
    Probe.listen(lab, ext, WHO_SEES_ME, "ext-sees-$SOCAT_PEERADDR")

    // The metadata link: root namespace ↔ head. Made from the root side with its peer moved into the
    // head, so deleting the head namespace also deletes this end.
    this.rootLink = XenCloud.rootLinkName()
    await must(["ip", "link", "add", this.rootLink, "type", "veth", "peer", "name", "meta0", "netns", head])
    await must(["ip", "addr", "add", `${META_ROOT}/30`, "dev", this.rootLink])
    await must(["ip", "link", "set", this.rootLink, "up"])
    await lab.x(head, ["ip", "addr", "add", `${META_HEAD}/30`, "dev", "meta0"])
    await lab.x(head, ["ip", "link", "set", "meta0", "up"])
    // Replies of the metadata service to instances' private addresses go back through the head.
    await must(["ip", "route", "add", SUBNET, "via", META_HEAD, "dev", this.rootLink])

    this.work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-xencloud-"))
    Fs.chmodSync(this.work, 0o755)
    const shim = Path.join(this.work, "vlan-as-vxlan")
    Fs.writeFileSync(shim, SHIM, { mode: 0o755 })

    // The node: root (the stand-in xl makes namespaces), its domains on bridges in the node namespace.
    this.nodeSshd = await startSshd({ user: "root" })
    this.headSshd = await startSshd({ user: "root" })
    for (const [f, v] of [["netns", ""], ["host/dom0_netns", node], ["host/netns_prefix", this.xlPrefix]] as const) {
      Fs.mkdirSync(Path.dirname(Path.join(this.nodeSshd.stateDir, f)), { recursive: true })
      Fs.writeFileSync(Path.join(this.nodeSshd.stateDir, f), `${v}\n`)
    }
    const h = this.headSshd
    const nodesFile = Path.join(this.work, "nodes.json")
    Fs.writeFileSync(
      nodesFile,
      JSON.stringify(
        {
          nodes: [{
            ...nodeOf(this.nodeSshd, "node-1", { zone: ZONE }),
            privateInterface: "trunk",
            commandPrefix: ["ip", "netns", "exec", node, "bash", shim, TRUNK_NODE, TRUNK_HEAD]
          }],
          clusterHeads: [{
            zone: ZONE,
            host: h.host,
            port: h.port,
            user: h.user,
            privateKeyPath: h.privateKeyPath,
            hostKey: h.knownHostsLine,
            privateInterface: "trunk",
            publicInterface: "pub0",
            commandPrefix: ["ip", "netns", "exec", head, "bash", shim, TRUNK_HEAD, TRUNK_NODE],
            timeouts: { connectMs: 5000, commandMs: 10000 }
          }]
        },
        null,
        2
      )
    )
    const port = await ServeProcess.freePort(META_ROOT)
    const configPath = Path.join(this.work, "cloud.json")
    Fs.writeFileSync(
      configPath,
      JSON.stringify({
        region: REGION,
        network: {
          mode: "MANAGED",
          subnet: SUBNET,
          addressesPerNetwork: ADDRESSES_PER_NETWORK,
          publicIps: [PUBLIC_IPS],
          metadata: `${META_ROOT}:${port}`
        },
        backend: { kind: "xen", nodesFile },
        tickSeconds: 1
      })
    )
    const dataDir = Path.join(this.work, "data")
    this.server = await ServeProcess.startServe({ host: META_ROOT, port, dataDir, configPath, region: REGION })

    // Images with files, registered as an operator would; the node agent stages them over SFTP.
    const file = (name: string, bytes: number) => {
      const p = Path.join(this.work, name)
      Fs.writeFileSync(p, Crypto.randomBytes(bytes))
      return p
    }
    const reg = async (kind: string, name: string, extra: ReadonlyArray<string> = []) =>
      (await ServeProcess.eucaJson<{ imageId: string }>(["admin", "images", "register", "--data", dataDir, "--kind", kind, "--name", name, "--file", file(name, 4096), ...extra])).imageId
    // Each `euca` run costs seconds of start-up: kernel and ramdisk at once (SQLite waits for the other writer).
    const [kernel, ramdisk] = await Promise.all([reg("kernel", "vmlinuz"), reg("ramdisk", "initrd")])
    const machine = await reg("machine", "root.img", ["--kernel", kernel, "--ramdisk", ramdisk])
    this.images = { machine, kernel, ramdisk }
  }

  /** The namespace of an instance's domain (`xl domid` on the node). */
  nsOf(id: string): string {
    const r = this.nodeSshd!.xl("domid", id)
    if (r.status !== 0) throw new Error(`xl domid ${id}: ${r.stderr.trim()}`)
    return `${this.xlPrefix}${r.stdout.trim()}`
  }

  /**
   * What the guest's DHCP client would do with the lease (the stand-in xl gives eth0 the address as a
   * /32): the segment's prefix, the default route via the gateway (.1), and VXLAN's MTU.
   */
  async guestUp(id: string, privateIp: string): Promise<Guest> {
    const ns = this.nsOf(id)
    const prefix = 32 - Math.log2(ADDRESSES_PER_NETWORK)
    const gateway = Ipv4.format(((Ipv4.parse(privateIp)! & Ipv4.prefixToMask(prefix)) >>> 0) + 1)
    await this.lab.x(ns, ["ip", "addr", "del", `${privateIp}/32`, "dev", "eth0"])
    await this.lab.x(ns, ["ip", "addr", "add", `${privateIp}/${prefix}`, "dev", "eth0"])
    await this.lab.x(ns, ["ip", "link", "set", "eth0", "mtu", "1450"])
    await this.lab.x(ns, ["ip", "route", "add", "default", "via", gateway])
    const link = await this.lab.x(ns, ["ip", "-j", "link", "show", "eth0"])
    const mac = (JSON.parse(link) as Array<{ address: string }>)[0]!.address
    return { id, ns, privateIp, gateway, mac }
  }

  headSave(): Promise<string> {
    return this.lab.x(this.head, ["iptables-save"])
  }

  /** Waits until the head's rules satisfy `check` (the server applies plans after answering). */
  async untilHead(what: string, check: (save: string, addrs: string) => boolean): Promise<void> {
    await until(`the head: ${what}`, async () => check(await this.headSave(), await this.lab.x(this.head, ["ip", "-4", "-o", "addr", "show"])), 500, 20)
  }

  /** Ends the server, the sshds, the domains' namespaces, the root link and the work directory. */
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
    await attempt("node sshd", async () => this.nodeSshd?.stop())
    await attempt("head sshd", async () => this.headSshd?.stop())
    await attempt("domain namespaces", async () => {
      for (const ns of await listNamespaces()) if (ns.startsWith(this.xlPrefix)) await this.lab.removeNamespace(ns)
    })
    if (this.rootLink !== "") {
      const link = this.rootLink
      await attempt("root link", async () => {
        if ((await run(["ip", "link", "show", link])).code === 0) await must(["ip", "link", "del", link])
      })
    }
    if (this.work !== "") Fs.rmSync(this.work, { recursive: true, force: true })
    if (problems.length > 0) throw new Error(`cleanup: ${problems.join("; ")}`)
  }
}

/** What is left on this machine of a cloud: domain namespaces under `prefix`, the root link, the route. */
export const leftovers = async (prefix: string, link: string): Promise<Array<string>> => {
  const out: Array<string> = (await listNamespaces()).filter((n) => n.startsWith(prefix))
  if (link !== "" && (await run(["ip", "link", "show", link])).code === 0) out.push(`link ${link}`)
  if ((await conflicts(SUBNET)).length > 0) out.push(`route to ${SUBNET}`)
  return out
}
