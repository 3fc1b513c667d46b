/**
 * Renders a NetworkPlan for a host: the devices it must hold (links and addresses, as data that
 * NetworkDiff turns into `ip` commands) and ONE `iptables-restore` input for the head.
 *
 * iptables: everything the cloud does lives in its own chains, all named `EU-*`: EU-FORWARD (filter),
 * EU-PREROUTING, EU-OUTPUT and EU-POSTROUTING (nat), each jumped to from the first position of the
 * builtin chain of the same name, plus EU-INGRESS, EU-EGRESS and one EU-<groupId> per group; and, once a
 * group's egress is restricted, EU-OUTBOUND, EU-PASS and one EU-O-<groupId> per restricted group. The input
 * is meant for `iptables-restore --noflush`: without --noflush a restore flushes whole tables (every
 * foreign rule); with it, only the chains the input declares (`:EU-X - [0:0]`) are flushed and
 * refilled. The kernel commits each table of one restore as a whole (nft: one transaction), so a
 * revoke, a terminate or an address move replaces the old rules with no moment in between; if any
 * line fails, nothing changes. Builtin chains are never declared (that would set their policy) and
 * their policies are left alone: instead our chains end with an explicit DROP for cloud traffic.
 * Chains the plan no longer has are declared (flushed) and removed with `-X` in the same input; the
 * jumps from builtins are inserted only when missing, and removed when the plan is empty.
 */
import * as Devices from "./NetworkDevices.js"
import * as NetworkPlan from "./NetworkPlan.js"

/**
 * How a segment reaches the nodes. `vlan`: 802.1Q on `dev` (production: `<dev>.<vlan>`); `vxlan`:
 * VNI = VLAN id over `dev` to one peer (heads and nodes whose kernel lacks 802.1Q); `veth`: one veth
 * pair per segment, made by the head with its other end in the node's namespace (tests only).
 */
export type SegmentKind =
  | { readonly _tag: "vlan"; readonly dev: string }
  | { readonly _tag: "vxlan"; readonly dev: string; readonly local: string; readonly remote: string; readonly port?: number | undefined }
  | { readonly _tag: "veth"; readonly peerNamespace?: string | undefined }

export type Role = "head" | "node"

export const VXLAN_PORT = 4789
const IFNAMSIZ = 15

export const segmentName = (kind: SegmentKind, vlan: number): string =>
  kind._tag === "vlan" ? `${kind.dev}.${vlan}` : kind._tag === "vxlan" ? `eucavx${vlan}` : `eucave${vlan}`

/** A configuration mistake in a segment kind, or undefined. */
export const checkKind = (kind: SegmentKind, role: Role): string | undefined => {
  if (kind._tag === "vlan" && `${kind.dev}.4094`.length > IFNAMSIZ) {
    return `segment.dev "${kind.dev}": 802.1Q device names <dev>.<vlan> must fit 15 characters; use an interface name of at most 10`
  }
  if (kind._tag === "veth" && role === "head" && (kind.peerNamespace === undefined || kind.peerNamespace === "")) {
    return "segment.peerNamespace: a veth segment needs the node's network namespace on the head"
  }
  return undefined
}

const segmentLink = (kind: SegmentKind, role: Role, vlan: number, bridge: string): Devices.Link => {
  const name = segmentName(kind, vlan)
  switch (kind._tag) {
    case "vlan":
      return { name, kind: "vlan", id: vlan, master: bridge, up: true, create: ["ip", "link", "add", "link", kind.dev, "name", name, "type", "vlan", "id", String(vlan)] }
    case "vxlan":
      return {
        name,
        kind: "vxlan",
        id: vlan,
        master: bridge,
        up: true,
        create: ["ip", "link", "add", name, "type", "vxlan", "id", String(vlan), "local", kind.local, "remote", kind.remote, "dstport", String(kind.port ?? VXLAN_PORT), "dev", kind.dev]
      }
    case "veth":
      return role === "head"
        ? { name, kind: "veth", master: bridge, up: true, create: ["ip", "link", "add", name, "type", "veth", "peer", "name", name, "netns", kind.peerNamespace ?? ""] }
        : { name, kind: "veth", master: bridge, up: true, external: true }
  }
}

const bridgeLink = (name: string): Devices.Link => ({ name, kind: "bridge", up: true, create: ["ip", "link", "add", name, "type", "bridge"] })

const segmentLinks = (kind: SegmentKind, role: Role, segments: ReadonlyArray<NetworkPlan.Segment>): Array<Devices.Link> =>
  segments.flatMap((s) => (s.bridge === undefined ? [] : [bridgeLink(s.bridge), segmentLink(kind, role, s.vlan, s.bridge)]))

/**
 * The head: per segment a bridge with the segment device in it and the gateway on it (MANAGED), or
 * the gateway on the private interface (MANAGED-NOVLAN); each public address as a /32 on the public
 * interface. Addresses on interfaces we do not own carry our label.
 */
export const headDevices = (plan: NetworkPlan.Plan, kind: SegmentKind): Devices.Devices => {
  const addresses: Array<Devices.Address> = []
  for (const s of plan.segments) {
    const dev = s.bridge ?? plan.head.privateInterface
    addresses.push({ dev, cidr: `${s.gateway}/${s.prefix}`, broadcast: s.broadcast, ...(s.bridge === undefined ? { label: Devices.labelFor(dev) } : {}) })
  }
  const pub = plan.head.publicInterface
  for (const a of plan.publicAddresses) addresses.push({ dev: pub, cidr: `${a.publicIp}/32`, label: Devices.labelFor(pub) })
  return Devices.normalize({ links: segmentLinks(kind, "head", plan.segments), addresses })
}

/**
 * A node: the bridge and segment device of each segment with an instance on that node (MANAGED),
 * without addresses — instances' interfaces join eucabr<vlan>. MANAGED-NOVLAN: nothing (instances
 * join the site's bridge, Eucalyptus's VNET_BRIDGE).
 */
export const nodeDevices = (plan: NetworkPlan.Plan, node: string, kind: SegmentKind): Devices.Devices => {
  const vlans = new Set(plan.endpoints.filter((e) => e.node === node).map((e) => e.vlan))
  return Devices.normalize({ links: segmentLinks(kind, "node", plan.segments.filter((s) => vlans.has(s.vlan))), addresses: [] })
}

export const devicesFor = (plan: NetworkPlan.Plan, target: Target): Devices.Devices =>
  target.role === "head" ? headDevices(plan, target.kind) : nodeDevices(plan, target.node, target.kind)

export type Target =
  | { readonly role: "head"; readonly kind: SegmentKind }
  | { readonly role: "node"; readonly node: string; readonly kind: SegmentKind }

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")

/** The links of a host that belong to the cloud, by name. */
export const ownership = (kind: SegmentKind, role: Role): Devices.Ownership => {
  const seg = kind._tag === "vlan" ? new RegExp(`^${escape(kind.dev)}\\.\\d+$`) : kind._tag === "vxlan" ? /^eucavx\d+$/ : /^eucave\d+$/
  const nodeVeth = kind._tag === "veth" && role === "node"
  return {
    own: (name) => /^eucabr\d+$/.test(name) || (!nodeVeth && seg.test(name)),
    external: (name) => nodeVeth && seg.test(name)
  }
}

/**
 * Host settings the head needs once: forwarding on; no ICMP redirects (in MANAGED-NOVLAN the head
 * routes between subnets on one interface and would otherwise tell instances to talk directly,
 * around the filter); and bridged frames kept out of iptables (br_netfilter), if that module is
 * there: with it, an instance reaching a same-group peer through its public address is DNATed at
 * the bridge and bridged straight back, skipping the hairpin MASQUERADE, and the reply goes astray.
 * The head's bridges have one port each (the segment device), so nothing of ours is bridged there.
 */
export const headSetup = (plan: NetworkPlan.Plan): Array<ReadonlyArray<string>> =>
  NetworkPlan.isEmpty(plan)
    ? []
    : [
      ["sysctl", "-qw", "net.ipv4.ip_forward=1"],
      ["sysctl", "-qw", "net.ipv4.conf.all.send_redirects=0"],
      ["sysctl", "-qw", "net.ipv4.conf.default.send_redirects=0"],
      ["sysctl", "-qw", `net.ipv4.conf.${plan.head.privateInterface}.send_redirects=0`],
      // -e: no error where br_netfilter is not loaded (the key does not exist then).
      ["sysctl", "-qew", "net.bridge.bridge-nf-call-iptables=0"]
    ]

// ---------------------------------------------------------------------------------------------
// iptables

export const FORWARD = "EU-FORWARD"
export const INGRESS = "EU-INGRESS"
export const EGRESS = "EU-EGRESS"
export const OUTBOUND = "EU-OUTBOUND"
export const PASS = "EU-PASS"
export const PREROUTING = "EU-PREROUTING"
export const OUTPUT = "EU-OUTPUT"
export const POSTROUTING = "EU-POSTROUTING"
export const CHAIN_PREFIX = "EU-"

export type Table = "filter" | "nat"

/** The jumps from builtin chains into ours: table, builtin, our chain. */
export const HOOKS: ReadonlyArray<readonly [Table, string, string]> = [
  ["filter", "FORWARD", FORWARD],
  ["nat", "PREROUTING", PREROUTING],
  ["nat", "OUTPUT", OUTPUT],
  ["nat", "POSTROUTING", POSTROUTING]
]

/** The cloud's chains and jumps a host holds now ("table:chain"), from `iptables-save` or memory. */
export interface Existing {
  readonly chains: ReadonlyArray<string>
  readonly hooks: ReadonlyArray<string>
}

export const nothing: Existing = { chains: [], hooks: [] }

/** Our chains and hooks in `iptables-save` output; foreign chains and rules are ignored. */
export const parseSave = (text: string): Existing => {
  const chains: Array<string> = []
  const hooks: Array<string> = []
  let table = ""
  for (const raw of text.split("\n")) {
    const line = raw.trim()
    if (line.startsWith("*")) table = line.slice(1)
    else if (line.startsWith(`:${CHAIN_PREFIX}`)) chains.push(`${table}:${line.slice(1).split(" ")[0]}`)
    else {
      for (const [t, builtin, ours] of HOOKS) {
        if (t === table && line === `-A ${builtin} -j ${ours}`) hooks.push(`${t}:${builtin}`)
      }
    }
  }
  return { chains: [...new Set(chains)].sort(), hooks: [...new Set(hooks)].sort() }
}

type Match = Pick<NetworkPlan.Accept, "protocol" | "fromPort" | "toPort">

const match = (a: Match): string => {
  switch (a.protocol) {
    case "all":
      return ""
    case "icmp":
      return a.fromPort < 0 ? " -p icmp" : ` -p icmp -m icmp --icmp-type ${a.fromPort}${a.toPort >= 0 ? `/${a.toPort}` : ""}`
    case "tcp":
    case "udp": {
      if (a.fromPort <= 0 && a.toPort >= 65535) return ` -p ${a.protocol}`
      const ports = a.fromPort === a.toPort ? `${a.fromPort}` : `${a.fromPort}:${a.toPort}`
      return ` -p ${a.protocol} -m ${a.protocol} --dport ${ports}`
    }
  }
}

const META = `${NetworkPlan.METADATA_IP}/32`

export interface Rules {
  /** Chains per table, in declaration order. */
  readonly chains: { readonly filter: ReadonlyArray<string>; readonly nat: ReadonlyArray<string> }
  readonly filter: ReadonlyArray<string>
  readonly nat: ReadonlyArray<string>
}

/** The rule lines of a plan (without declarations or hooks); an empty plan has none. */
export const rules = (plan: NetworkPlan.Plan): Rules => {
  if (NetworkPlan.isEmpty(plan)) return { chains: { filter: [], nat: [] }, filter: [], nat: [] }
  const net = plan.subnet
  const pub = plan.head.publicInterface
  const f: Array<string> = []
  // A segment's bridge only carries its own subnet: an instance cannot borrow another group's source.
  for (const s of plan.segments) if (s.bridge !== undefined) f.push(`-A ${FORWARD} -i ${s.bridge} ! -s ${s.cidr} -j DROP`)
  const outbound = plan.outbound.length > 0
  // Restricted egress first: what an instance may start, before what its destination admits.
  if (outbound) f.push(`-A ${FORWARD} -s ${net} -j ${OUTBOUND}`)
  f.push(`-A ${FORWARD} -d ${net} -j ${INGRESS}`)
  f.push(`-A ${FORWARD} -s ${net} -j ${EGRESS}`)
  f.push(`-A ${INGRESS} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)
  // From outside the cloud, instances are reachable only through their public addresses.
  f.push(`-A ${INGRESS} ! -s ${net} -m conntrack ! --ctstate DNAT -j DROP`)
  for (const c of plan.chains) for (const d of c.destinations) f.push(`-A ${INGRESS} -d ${d} -j ${c.name}`)
  f.push(`-A ${INGRESS} -j DROP`)
  f.push(`-A ${EGRESS} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`)
  if (plan.metadata) {
    const m = plan.metadata
    f.push(`-A ${EGRESS} -d ${m.host}/32 -p tcp -m tcp --dport ${m.port} -m conntrack --ctstate DNAT --ctorigdst ${META} -j ACCEPT`)
  }
  f.push(`-A ${EGRESS} -o ${pub} -j ACCEPT`)
  f.push(`-A ${EGRESS} -j DROP`)
  for (const c of plan.chains) {
    for (const a of c.accepts) f.push(`-A ${c.name} -s ${a.source}${match(a)} -m comment --comment "${a.note}" -j ACCEPT`)
  }
  if (outbound) {
    // Replies and the metadata service are never held; a restricted instance's new traffic goes
    // through its groups' chains, whose allows jump to EU-PASS (the rest of EU-FORWARD, which
    // always decides); what no chain allows is dropped. Other sources return to EU-FORWARD.
    f.push(`-A ${OUTBOUND} -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN`)
    if (plan.metadata) {
      const m = plan.metadata
      f.push(`-A ${OUTBOUND} -d ${m.host}/32 -p tcp -m tcp --dport ${m.port} -m conntrack --ctstate DNAT --ctorigdst ${META} -j RETURN`)
    }
    for (const r of NetworkPlan.restricted(plan)) {
      const src = `${r.endpoint.privateIp}/32`
      for (const c of r.chains) f.push(`-A ${OUTBOUND} -s ${src} -j ${c}`)
      f.push(`-A ${OUTBOUND} -s ${src} -j DROP`)
    }
    f.push(`-A ${PASS} -d ${net} -j ${INGRESS}`)
    f.push(`-A ${PASS} -j ${EGRESS}`)
    for (const o of plan.outbound) {
      for (const a of o.allows) f.push(`-A ${o.name} -d ${a.destination}${match(a)} -m comment --comment "${a.note}" -j ${PASS}`)
    }
  }

  const n: Array<string> = []
  if (plan.metadata) {
    const m = plan.metadata
    n.push(`-A ${PREROUTING} -s ${net} -d ${META} -p tcp -m tcp --dport ${NetworkPlan.METADATA_PORT} -j DNAT --to-destination ${m.host}:${m.port}`)
  }
  for (const a of plan.publicAddresses) n.push(`-A ${PREROUTING} -d ${a.publicIp}/32 -j DNAT --to-destination ${a.privateIp}`)
  // So the head itself reaches instances at their public addresses.
  for (const a of plan.publicAddresses) n.push(`-A ${OUTPUT} -d ${a.publicIp}/32 -j DNAT --to-destination ${a.privateIp}`)
  // An instance reaching another through its public address: answer through the head, not directly.
  n.push(`-A ${POSTROUTING} -s ${net} -d ${net} -m conntrack --ctstate DNAT -j MASQUERADE`)
  n.push(`-A ${POSTROUTING} -s ${net} -d ${net} -j RETURN`)
  if (plan.metadata && !plan.head.natMetadata) {
    // The metadata service knows instances by their private address.
    n.push(`-A ${POSTROUTING} -s ${net} -m conntrack --ctstate DNAT --ctorigdst ${META} -j RETURN`)
  }
  for (const a of plan.publicAddresses) n.push(`-A ${POSTROUTING} -s ${a.privateIp}/32 -j SNAT --to-source ${a.publicIp}`)
  n.push(`-A ${POSTROUTING} -s ${net} -j MASQUERADE`)

  return {
    chains: {
      filter: [FORWARD, INGRESS, EGRESS, ...plan.chains.map((c) => c.name), ...(outbound ? [OUTBOUND, PASS, ...plan.outbound.map((o) => o.name)] : [])],
      nat: [PREROUTING, OUTPUT, POSTROUTING]
    },
    filter: f,
    nat: n
  }
}

export const sameRules = (a: Rules, b: Rules): boolean => JSON.stringify(a) === JSON.stringify(b)

/**
 * One `iptables-restore --noflush` input that takes a host from `existing` to the plan: our chains
 * declared (flushed) and refilled, missing hooks inserted, stale chains emptied and deleted; for an
 * empty plan, hooks removed and every chain of ours deleted. Undefined when there is nothing to do
 * (an empty plan on a host without our chains).
 */
export const restore = (plan: NetworkPlan.Plan, existing: Existing): string | undefined => {
  const r = rules(plan)
  const empty = NetworkPlan.isEmpty(plan)
  if (empty && existing.chains.length === 0 && existing.hooks.length === 0) return undefined
  const has = new Set(existing.hooks)
  let out = ""
  for (const table of ["filter", "nat"] as const) {
    const ours = r.chains[table]
    const stale = existing.chains
      .filter((c) => c.startsWith(`${table}:`))
      .map((c) => c.slice(table.length + 1))
      .filter((c) => !ours.includes(c))
    out += `*${table}\n`
    for (const c of [...ours, ...stale]) out += `:${c} - [0:0]\n`
    for (const line of r[table]) out += `${line}\n`
    for (const [t, builtin, chain] of HOOKS) {
      if (t !== table) continue
      if (!empty && !has.has(`${t}:${builtin}`)) out += `-I ${builtin} 1 -j ${chain}\n`
      if (empty && has.has(`${t}:${builtin}`)) out += `-D ${builtin} -j ${chain}\n`
    }
    for (const c of stale) out += `-X ${c}\n`
    out += "COMMIT\n"
  }
  return out
}

/** What a host holds after `restore(plan, …)` succeeded. */
export const existingAfter = (plan: NetworkPlan.Plan): Existing => {
  if (NetworkPlan.isEmpty(plan)) return nothing
  const r = rules(plan)
  return {
    chains: [...r.chains.filter.map((c) => `filter:${c}`), ...r.chains.nat.map((c) => `nat:${c}`)].sort(),
    hooks: HOOKS.map(([t, b]) => `${t}:${b}`).sort()
  }
}
