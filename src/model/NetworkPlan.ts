/**
 * The network plan of one cluster (zone): everything its cluster head must hold so that Eucalyptus's
 * MANAGED modes are enforced — segments (VLAN, subnet, bridge, gateway), per-group filter chains,
 * NAT for public addresses and the metadata redirect. Data only, compiled from the state;
 * NetworkRender turns it into `ip` commands and one `iptables-restore` input.
 *
 * Semantics (EC2-classic / Eucalyptus MANAGED):
 * - traffic to an instance is allowed if the sender shares a security group with it, or any rule of
 *   any of its groups admits the sender (a CIDR containing the sender's address, or a group the
 *   sender belongs to) for that protocol and port; everything else is dropped;
 * - a group's members are the instances whose first group it is (they sit in its subnet, so the
 *   whole subnet stands for them, as in Eucalyptus) and the instances that list it later (as /32s);
 *   once an instance's groups were changed (groupSet) it keeps its address in the subnet it sits in
 *   (State.homeGroup), and that subnet stands for the group only while all who sit there list it —
 *   otherwise those who do are /32s;
 * - accounts share nothing unless a rule names a CIDR or another account's group;
 * - traffic from an instance is allowed if any of its groups holds the allow-all egress rule, or an
 *   egress rule of one of its groups admits the destination (a CIDR containing it, or a group it
 *   belongs to) for that protocol and port; replies to allowed traffic always pass. Egress rules bind
 *   what passes through the head: traffic within one segment is bridged on the node and never meets
 *   them (nor the ingress rules).
 */
import { Either, Schema } from "effect"
import type * as Ids from "./Ids.js"
import * as Ipv4 from "./Ipv4.js"
import * as Network from "./Network.js"
import * as SecurityGroup from "./SecurityGroup.js"
import * as State from "./State.js"

/** The cluster head's interfaces, as the operator configures them (Eucalyptus's VNET_PRIVINTERFACE / VNET_PUBINTERFACE). */
export interface Head {
  /** Toward the nodes: parent of the 802.1Q devices (MANAGED), carrier of the gateways (MANAGED-NOVLAN). */
  readonly privateInterface: string
  /** Where public addresses live and instances' traffic leaves the cluster. */
  readonly publicInterface: string
  /**
   * Eucalyptus also NATed metadata requests, so the service saw the instance's public address (or the
   * head's, for private-only instances, which it then could not identify). Default false: requests
   * keep the instance's private source address, and the metadata host routes the subnet via the head.
   */
  readonly natMetadata?: boolean | undefined
}

/** One group's network in this zone. */
export interface Segment {
  /** The VLAN id (MANAGED) or network index (MANAGED-NOVLAN). */
  readonly vlan: number
  readonly group: Ids.GroupId
  readonly account: Ids.AccountId
  readonly cidr: string
  readonly prefix: number
  readonly network: string
  /** .1: held by the cluster head. */
  readonly gateway: string
  readonly broadcast: string
  /** MANAGED: eucabr<vlan> on the head and on nodes; MANAGED-NOVLAN: undefined (one shared L2). */
  readonly bridge: string | undefined
}

/** One live instance of the zone, as the network sees it. */
export interface Endpoint {
  readonly instance: Ids.InstanceId
  readonly account: Ids.AccountId
  readonly node: Ids.NodeId
  readonly mac: string
  readonly privateIp: string
  readonly vlan: number
  /** First group first: the one whose segment the instance sits in. */
  readonly groups: ReadonlyArray<Ids.GroupId>
  readonly publicIp: string | undefined
}

/** One ACCEPT: from a source CIDR, for a protocol and ports (icmp: fromPort = type, toPort = code; −1 = any). */
export interface Accept {
  readonly source: string
  readonly protocol: SecurityGroup.Protocol
  readonly fromPort: number
  readonly toPort: number
  /** Why, for operators reading the rules (ids only, never user-chosen text). */
  readonly note: string
}

/** A group's ingress chain: decides traffic to its destinations; what it does not accept is dropped. */
export interface Chain {
  /** EU-<groupId>, e.g. EU-sg-1a2b3c4d (iptables allows 28 characters). */
  readonly name: string
  readonly group: Ids.GroupId
  readonly account: Ids.AccountId
  /** The group's segment here and its later-listed members' /32s. */
  readonly destinations: ReadonlyArray<string>
  /** Intra-group accepts (the members' sources, all traffic) first, then one per rule and source. */
  readonly accepts: ReadonlyArray<Accept>
}

/** One egress ACCEPT: to a destination CIDR, for a protocol and ports (as in Accept). */
export interface Allow {
  readonly destination: string
  readonly protocol: SecurityGroup.Protocol
  readonly fromPort: number
  readonly toPort: number
  readonly note: string
}

/**
 * The outbound chain of a group whose egress is restricted (it lacks the allow-all rule) and that
 * has a member here. A member whose every group is restricted may start only what one of its
 * groups' chains allows; a member of any open group is not held.
 */
export interface Outbound {
  /** EU-O-<groupId>. */
  readonly name: string
  readonly group: Ids.GroupId
  readonly account: Ids.AccountId
  /** One per egress rule and destination; none: the members may start nothing. */
  readonly allows: ReadonlyArray<Allow>
}

export interface PublicAddress {
  readonly publicIp: string
  readonly privateIp: string
  readonly instance: Ids.InstanceId
  readonly kind: "system" | "elastic"
}

export interface Metadata {
  readonly host: string
  readonly port: number
}

export const METADATA_IP = "169.254.169.254"
export const METADATA_PORT = 80

export interface Plan {
  readonly zone: Ids.ZoneName
  readonly mode: Network.Mode
  readonly head: Head
  /** VNET_SUBNET: every instance address of the cloud lies in it. */
  readonly subnet: string
  /** By VLAN. */
  readonly segments: ReadonlyArray<Segment>
  /** By private address. */
  readonly endpoints: ReadonlyArray<Endpoint>
  /** By name. */
  readonly chains: ReadonlyArray<Chain>
  /** By name: the restricted groups with a member here. */
  readonly outbound: ReadonlyArray<Outbound>
  /** By address; the head holds each as a /32 on its public interface. */
  readonly publicAddresses: ReadonlyArray<PublicAddress>
  /** Where 169.254.169.254:80 goes (settings.metadata); undefined: no redirect. */
  readonly metadata: Metadata | undefined
}

export class NetworkPlanError extends Schema.TaggedError<NetworkPlanError>()("NetworkPlanError", {
  field: Schema.String,
  message: Schema.String
}) {}

const INTERFACE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,11}$/

/**
 * Interface names: what Linux accepts, at most 12 characters so that the ":eu" label we put on the
 * addresses we own still fits IFNAMSIZ (15).
 */
export const checkHead = (head: Head): NetworkPlanError | undefined => {
  for (const field of ["privateInterface", "publicInterface"] as const) {
    if (!INTERFACE.test(head[field])) {
      return new NetworkPlanError({ field: `head.${field}`, message: `"${head[field]}": expected an interface name of 1–12 characters [A-Za-z0-9_.-]` })
    }
  }
  return undefined
}

/** settings.metadata "host:port": host must be an IPv4 address (it is a DNAT target). */
export const parseMetadata = (s: string | undefined): Either.Either<Metadata | undefined, NetworkPlanError> => {
  if (s === undefined || s.trim() === "") return Either.right(undefined)
  const m = /^([^:]+):(\d{1,5})$/.exec(s.trim())
  const port = m ? Number(m[2]) : NaN
  if (!m || Ipv4.parse(m[1]!) === undefined || !(port >= 1 && port <= 65535)) {
    return Either.left(new NetworkPlanError({ field: "network.metadata", message: `"${s}": expected IPv4-address:port of the metadata service, e.g. 10.0.0.5:8773` }))
  }
  return Either.right({ host: Ipv4.format(Ipv4.parse(m[1]!)!), port })
}

export const chainName = (group: Ids.GroupId): string => `EU-${group}`
export const outboundName = (group: Ids.GroupId): string => `EU-O-${group}`

const byIp = (a: string, b: string) => Ipv4.parse(a)! - Ipv4.parse(b)!
const host32 = (ip: string) => `${ip}/32`

/** A plan that holds nothing: SYSTEM and STATIC modes, or a zone being torn down. */
export const empty = (zone: Ids.ZoneName, mode: Network.Mode, head: Head, subnet: string): Plan => ({
  zone,
  mode,
  head,
  subnet,
  segments: [],
  endpoints: [],
  chains: [],
  outbound: [],
  publicAddresses: [],
  metadata: undefined
})

export const isEmpty = (p: Plan): boolean =>
  p.segments.length === 0 && p.endpoints.length === 0 && p.chains.length === 0 && p.outbound.length === 0 && p.publicAddresses.length === 0 &&
  p.metadata === undefined

/** The endpoints whose every group is restricted (in `outbound`): they may start only what those groups allow. */
export const restricted = (p: Plan): Array<{ readonly endpoint: Endpoint; readonly chains: ReadonlyArray<string> }> => {
  const byGroup = new Map(p.outbound.map((o) => [o.group, o.name] as const))
  return p.endpoints.flatMap((e) => (e.groups.length > 0 && e.groups.every((g) => byGroup.has(g)) ? [{ endpoint: e, chains: e.groups.map((g) => byGroup.get(g)!) }] : []))
}

/**
 * The sources that stand for a group's members, cloud-wide: its subnet while it has a network, and
 * the /32 of every live instance that lists it after its first group.
 */
const memberSources = (s: State.State, g: SecurityGroup.Group): Array<string> => {
  const live = State.liveInstances(s).filter((i) => i.net.privateIp !== undefined)
  const whole = g.vlan !== undefined && live.every((i) => State.homeGroup(i) !== g.id || i.groups.includes(g.id))
  const out: Array<string> = whole ? [Network.vlanCidr(s.network, g.vlan!)] : []
  const extra: Array<string> = []
  for (const i of live) {
    if (i.groups.includes(g.id) && !(whole && State.homeGroup(i) === g.id)) extra.push(i.net.privateIp!)
  }
  return [...out, ...extra.sort(byIp).map(host32)]
}

const ruleNote = (g: Ids.GroupId, r: SecurityGroup.Rule, way: "from" | "to" = "from"): string => {
  const what = r.protocol === "all"
    ? "all"
    : r.protocol === "icmp"
      ? `icmp ${r.fromPort}/${r.toPort}`
      : `${r.protocol} ${r.fromPort}-${r.toPort}`
  const peer = r.source._tag === "Cidr" ? r.source.cidr : r.source.groupId
  return `${g} ${what} ${way} ${peer}`
}

/** The CIDRs a rule's peer stands for: its CIDR, or the members of the group it names. */
const peerCidrs = (s: State.State, r: SecurityGroup.Rule): Array<string> => {
  if (r.source._tag === "Cidr") return [r.source.cidr]
  const src = State.group(s, r.source.groupId)
  return src ? memberSources(s, src) : []
}

/**
 * The plan of one zone. SYSTEM and STATIC give an empty plan: instances sit on the site's own network
 * (addresses from the site's DHCP or the MAC map, public = private), there are no security groups to
 * enforce and no public addresses to translate, so the head holds nothing — as in Eucalyptus.
 */
export const compile = (s: State.State, zone: Ids.ZoneName, head: Head): Either.Either<Plan, NetworkPlanError> => {
  const badHead = checkHead(head)
  if (badHead) return Either.left(badHead)
  const net = s.network
  const subnet = Ipv4.formatCidr(net.subnet)
  if (!Network.isManaged(net)) return Either.right(empty(zone, net.mode, head, subnet))
  const metadata = parseMetadata(net.metadata)
  if (Either.isLeft(metadata)) return Either.left(metadata.left)

  const live = State.liveInstances(s).filter((i) => i.zone === zone && i.net.privateIp !== undefined && i.net.vlan !== undefined)
  // The group whose network each endpoint sits in (its first group, unless its groups were changed).
  const home = new Map(live.map((i) => [i.id, State.homeGroup(i)!] as const))
  const endpoints: Array<Endpoint> = live
    .map((i) => ({
      instance: i.id,
      account: i.account,
      node: i.node,
      mac: i.net.mac,
      privateIp: i.net.privateIp!,
      vlan: i.net.vlan!,
      groups: i.groups,
      publicIp: i.net.publicIp
    }))
    .sort((a, b) => byIp(a.privateIp, b.privateIp))

  // Segments: one per VLAN with an instance here; the VLAN belongs to the instances' first group.
  const segmentsByVlan = new Map<number, Segment>()
  for (const e of endpoints) {
    if (segmentsByVlan.has(e.vlan)) continue
    const g = State.group(s, home.get(e.instance)!)
    const base = Network.vlanNetwork(net, e.vlan)
    segmentsByVlan.set(e.vlan, {
      vlan: e.vlan,
      group: home.get(e.instance)!,
      account: g?.account ?? e.account,
      cidr: Network.vlanCidr(net, e.vlan),
      prefix: Network.vlanPrefix(net),
      network: Ipv4.format(base),
      gateway: Network.vlanGateway(net, e.vlan),
      broadcast: Ipv4.format(base + net.addressesPerNetwork - 1),
      bridge: net.mode === "MANAGED" ? Network.bridgeName(e.vlan) : undefined
    })
  }
  const segments = [...segmentsByVlan.values()].sort((a, b) => a.vlan - b.vlan)

  // Chains: one per group with a member here.
  const localGroups = new Set<Ids.GroupId>()
  for (const e of endpoints) for (const g of e.groups) localGroups.add(g)
  const chains: Array<Chain> = []
  for (const gid of [...localGroups].sort()) {
    const g = State.group(s, gid)
    if (!g) continue
    const destinations: Array<string> = []
    // The group's segment while all who sit in it list the group; else those who do, one by one.
    const whole = new Set<number>()
    for (const seg of segments) {
      if (seg.group === gid && endpoints.every((e) => e.vlan !== seg.vlan || e.groups.includes(gid))) {
        destinations.push(seg.cidr)
        whole.add(seg.vlan)
      }
    }
    for (const e of endpoints) if (e.groups.includes(gid) && !whole.has(e.vlan)) destinations.push(host32(e.privateIp))
    const accepts: Array<Accept> = []
    const seen = new Set<string>()
    const add = (a: Accept) => {
      const k = `${a.source} ${a.protocol} ${a.fromPort} ${a.toPort}`
      if (seen.has(k)) return
      seen.add(k)
      accepts.push(a)
    }
    for (const src of memberSources(s, g)) add({ source: src, protocol: "all", fromPort: -1, toPort: -1, note: `${gid} intra-group` })
    for (const r of g.rules) {
      for (const src of peerCidrs(s, r)) add({ source: src, protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, note: ruleNote(gid, r) })
    }
    chains.push({ name: chainName(gid), group: gid, account: g.account, destinations, accepts })
  }

  // Outbound chains: one per restricted group with a member here.
  const outbound: Array<Outbound> = []
  for (const gid of [...localGroups].sort()) {
    const g = State.group(s, gid)
    if (!g || SecurityGroup.egressOpen(g)) continue
    const allows: Array<Allow> = []
    const seen = new Set<string>()
    for (const r of g.egress) {
      for (const destination of peerCidrs(s, r)) {
        const k = `${destination} ${r.protocol} ${r.fromPort} ${r.toPort}`
        if (seen.has(k)) continue
        seen.add(k)
        allows.push({ destination, protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, note: ruleNote(gid, r, "to") })
      }
    }
    outbound.push({ name: outboundName(gid), group: gid, account: g.account, allows })
  }

  const publicAddresses: Array<PublicAddress> = endpoints
    .filter((e) => e.publicIp !== undefined)
    .map((e) => ({
      publicIp: e.publicIp!,
      privateIp: e.privateIp,
      instance: e.instance,
      kind: State.address(s, e.publicIp!)?.kind ?? "system"
    }))
    .sort((a, b) => byIp(a.publicIp, b.publicIp))

  // A zone without instances holds nothing, not even the metadata redirect.
  if (endpoints.length === 0) return Either.right(empty(zone, net.mode, head, subnet))
  return Either.right({ zone, mode: net.mode, head, subnet, segments, endpoints, chains, outbound, publicAddresses, metadata: metadata.right })
}
