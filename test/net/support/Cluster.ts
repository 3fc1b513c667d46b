/**
 * A cluster in namespaces, built from network plans:
 *
 *   ext (192.0.2.100: the Internet, and the metadata stand-in on :8773)
 *    │ eth0 ── pub0 (192.0.2.1/24 + public /32s)
 *   head (router + NAT; the applier's head host)
 *    │ trunk 10.255.255.1/30 ── trunk 10.255.255.2/30
 *   node (the applier's node host: eucabr<vlan> + segment device per VLAN, or the shared br0 in NOVLAN)
 *    │ v<k> ── eth0 in an instance namespace (IP and MAC from the state, default route via the gateway)
 *
 * Segments cross the trunk as VXLAN (VNI = VLAN id; this kernel has no 802.1Q) or as one veth pair per
 * segment. Instances run socat listeners that answer with who they are; probes are real TCP, UDP
 * and ICMP from inside the namespaces.
 */
import { Effect } from "effect"
import type { NetworkApplierShape } from "../../../src/backends/net/NetworkApplier.js"
import * as NetworkApplier from "../../../src/backends/net/NetworkApplier.js"
import * as Runner from "../../../src/backends/net/Runner.js"
import type * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import type * as NetworkRender from "../../../src/model/NetworkRender.js"
import { type Lab, must, until } from "./Lab.js"

export const HEAD: NetworkPlan.Head = { privateInterface: "trunk", publicInterface: "pub0" }
export const HEAD_PUBLIC = "192.0.2.1"
export const EXT = "192.0.2.100"
export const METADATA = `${EXT}:8773`
export const SHARED_BRIDGE = "br0"
/** T_DENY: how long a probe waits before calling a flow dropped. */
export const DENY_SECONDS = 1
export const ALLOW_SECONDS = 5

export type SegmentMode = "vxlan" | "veth"

/** Counts commands per host, to check "one iptables-restore per apply". */
export interface Counted extends Runner.Runner {
  readonly log: Array<ReadonlyArray<string>>
}

const counted = (r: Runner.Runner): Counted => {
  const log: Array<ReadonlyArray<string>> = []
  return { where: r.where, log, run: (argv, stdin) => Effect.suspend(() => (log.push(argv), r.run(argv, stdin))) }
}

export class Cluster {
  readonly instances = new Map<string, { readonly ns: string; readonly vif: string }>()
  private vifs = 0

  private constructor(
    readonly lab: Lab,
    readonly head: string,
    readonly node: string,
    readonly ext: string,
    readonly applier: NetworkApplierShape,
    readonly headRunner: Counted,
    readonly novlan: boolean,
    readonly mode: SegmentMode,
    readonly config: NetworkApplier.Options
  ) {}

  /** Another applier on the same hosts with no memory (a restarted controller). */
  freshApplier(): Promise<NetworkApplierShape> {
    return Effect.runPromise(NetworkApplier.make(this.config))
  }

  static async start(lab: Lab, options: { readonly mode?: SegmentMode; readonly novlan?: boolean; readonly zone?: string } = {}): Promise<Cluster> {
    const mode = options.mode ?? "vxlan"
    const head = await lab.addNamespace("head")
    const node = await lab.addNamespace("node")
    const ext = await lab.addNamespace("ext")
    const sh = (argv: ReadonlyArray<string>) => lab.x(head, argv)
    // Underlay: head trunk ↔ node trunk; public side: head pub0 ↔ ext eth0.
    await must(["ip", "-n", head, "link", "add", "trunk", "type", "veth", "peer", "name", "trunk", "netns", node])
    await must(["ip", "-n", head, "link", "add", "pub0", "type", "veth", "peer", "name", "eth0", "netns", ext])
    await sh(["ip", "addr", "add", "10.255.255.1/30", "dev", "trunk"])
    await sh(["ip", "link", "set", "trunk", "up"])
    await sh(["ip", "addr", "add", `${HEAD_PUBLIC}/24`, "dev", "pub0"])
    await sh(["ip", "link", "set", "pub0", "up"])
    await lab.x(node, ["ip", "link", "set", "trunk", "up"])
    if (options.novlan) {
      // The site's shared bridge (Eucalyptus's VNET_BRIDGE), made by the operator, not the plan.
      await lab.x(node, ["ip", "link", "add", SHARED_BRIDGE, "type", "bridge"])
      await lab.x(node, ["ip", "link", "set", "trunk", "master", SHARED_BRIDGE])
      await lab.x(node, ["ip", "link", "set", SHARED_BRIDGE, "up"])
    } else {
      await lab.x(node, ["ip", "addr", "add", "10.255.255.2/30", "dev", "trunk"])
    }
    await lab.x(ext, ["ip", "addr", "add", `${EXT}/24`, "dev", "eth0"])
    await lab.x(ext, ["ip", "link", "set", "eth0", "up"])
    // The outside knows a route to the instance range (so that "private addresses are unreachable from
    // outside" is the filter's doing, not a missing route), and the metadata service answers by it.
    await lab.x(ext, ["ip", "route", "add", "172.31.0.0/16", "via", HEAD_PUBLIC])

    const headSeg: NetworkRender.SegmentKind = mode === "vxlan"
      ? { _tag: "vxlan", dev: "trunk", local: "10.255.255.1", remote: "10.255.255.2" }
      : { _tag: "veth", peerNamespace: node }
    const nodeSeg: NetworkRender.SegmentKind = mode === "vxlan"
      ? { _tag: "vxlan", dev: "trunk", local: "10.255.255.2", remote: "10.255.255.1" }
      : { _tag: "veth" }
    const headRunner = counted(Runner.local({ netns: head }))
    const zone = options.zone ?? "zone-1"
    const config: NetworkApplier.Options = {
      zones: { [zone]: { head: HEAD, headHost: { runner: headRunner, segment: headSeg }, nodes: [{ node: "z1n1", host: { runner: Runner.local({ netns: node }), segment: nodeSeg } }] } }
    }
    const applier = await Effect.runPromise(NetworkApplier.make(config))
    const c = new Cluster(lab, head, node, ext, applier, headRunner, options.novlan ?? false, mode, config)
    // Outside: who-sees-me on :9000 and the metadata stand-in (a real HTTP server) on :8773.
    lab.spawn(ext, ["socat", "-T2", "TCP-LISTEN:9000,reuseaddr,fork", "SYSTEM:echo ext-sees-$SOCAT_PEERADDR"])
    lab.spawn(ext, [
      process.execPath,
      "-e",
      "require('http').createServer((q,s)=>s.end('metadata-from-'+q.socket.remoteAddress.replace('::ffff:','')+' '+q.url+'\\n')).listen(8773,'0.0.0.0')"
    ])
    await c.listening(ext, "tcp", 9000)
    await c.listening(ext, "tcp", 8773)
    return c
  }

  apply(plan: NetworkPlan.Plan): Promise<NetworkApplier.Applied> {
    return Effect.runPromise(this.applier.apply(plan))
  }

  /** Restores run on the head so far. */
  restores(): number {
    return this.headRunner.log.filter((a) => a[0] === "iptables-restore").length
  }

  /** Make namespaces for the plan's endpoints that have none yet (as the hypervisor would attach a VM). */
  async attach(plan: NetworkPlan.Plan): Promise<void> {
    for (const e of plan.endpoints) {
      if (this.instances.has(e.instance)) continue
      const seg = plan.segments.find((s) => s.vlan === e.vlan)!
      const ns = await this.lab.addNamespace(`i${++this.vifs}`)
      const vif = `v${this.vifs}`
      await must(["ip", "-n", this.node, "link", "add", vif, "type", "veth", "peer", "name", "eth0", "netns", ns])
      await this.lab.x(this.node, ["ip", "link", "set", vif, "master", seg.bridge ?? SHARED_BRIDGE])
      await this.lab.x(this.node, ["ip", "link", "set", vif, "up"])
      await this.lab.x(ns, ["ip", "link", "set", "eth0", "address", e.mac])
      // VXLAN carries 50 bytes of its own.
      if (this.mode === "vxlan" && !this.novlan) await this.lab.x(ns, ["ip", "link", "set", "eth0", "mtu", "1450"])
      await this.lab.x(ns, ["ip", "addr", "add", `${e.privateIp}/${seg.prefix}`, "dev", "eth0"])
      await this.lab.x(ns, ["ip", "link", "set", "eth0", "up"])
      await this.lab.x(ns, ["ip", "route", "add", "default", "via", seg.gateway])
      this.instances.set(e.instance, { ns, vif })
    }
  }

  /** The VM is gone (stopped by the hypervisor): its namespace and interface go. */
  async detach(id: string): Promise<void> {
    const i = this.instances.get(id)
    if (!i) return
    this.instances.delete(id)
    await this.lab.removeNamespace(i.ns)
  }

  nsOf(id: string): string {
    const i = this.instances.get(id)
    if (!i) throw new Error(`instance ${id} has no namespace`)
    return i.ns
  }

  /** A listener on an instance that answers "<id>-<port>" (TCP) or "<id>-udp<port>" (UDP). */
  async listen(id: string, port: number, protocol: "tcp" | "udp" = "tcp"): Promise<void> {
    const ns = this.nsOf(id)
    if (protocol === "tcp") this.lab.spawn(ns, ["socat", "-T2", `TCP-LISTEN:${port},reuseaddr,fork`, `SYSTEM:echo ${id}-${port}`])
    else {
      // socat's UDP-RECVFROM,fork loses some replies under load; a dgram echo does not.
      const answer = JSON.stringify(`${id}-udp${port}\n`)
      this.lab.spawn(ns, [process.execPath, "-e", `const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(${answer},r.port,r.address));s.bind(${port})`])
    }
    await this.listening(ns, protocol, port)
  }

  async listening(ns: string, protocol: "tcp" | "udp", port: number): Promise<void> {
    await until(`${protocol}/${port} in ${ns}`, async () => {
      const out = await this.lab.try(ns, ["ss", "-Hln", protocol === "tcp" ? "-t" : "-u"])
      return out.stdout.split("\n").some((l) => l.includes(`:${port} `))
    })
  }

  /** First line a TCP connection from `ns` to ip:port answers, or undefined if none within the time. */
  async tcp(ns: string, ip: string, port: number, seconds = ALLOW_SECONDS): Promise<string | undefined> {
    const r = await this.lab.try(ns, ["timeout", String(seconds), "bash", "-c", `exec 3<>/dev/tcp/${ip}/${port} && head -1 <&3`])
    const out = r.stdout.trim()
    return r.code === 0 && out !== "" ? out : undefined
  }

  async udp(ns: string, ip: string, port: number, seconds = ALLOW_SECONDS): Promise<string | undefined> {
    // A connected UDP socket: the first datagram back is read as soon as it comes.
    const r = await this.lab.try(ns, ["timeout", String(seconds), "bash", "-c", `exec 3<>/dev/udp/${ip}/${port} && echo hello >&3 && head -1 <&3`])
    const out = r.stdout.trim()
    return r.code === 0 && out !== "" ? out : undefined
  }

  async ping(ns: string, ip: string, seconds = ALLOW_SECONDS): Promise<boolean> {
    return (await this.lab.try(ns, ["ping", "-c1", "-W", String(seconds), "-q", ip])).code === 0
  }

  /** An HTTP GET through the metadata address, answered by the stand-in: "metadata-from-<source> <path>". */
  async metadata(ns: string, path = "/latest/meta-data/instance-id", seconds = ALLOW_SECONDS): Promise<string | undefined> {
    const r = await this.lab.try(ns, [
      "timeout",
      String(seconds),
      "bash",
      "-c",
      `exec 3<>/dev/tcp/169.254.169.254/80 && printf 'GET ${path} HTTP/1.0\\r\\n\\r\\n' >&3 && tail -1 <&3`
    ])
    const out = r.stdout.trim()
    return out !== "" ? out : undefined
  }

  /** The host's iptables-save, for checking foreign rules survive. */
  save(ns = this.head): Promise<string> {
    return this.lab.x(ns, ["iptables-save"])
  }
}
