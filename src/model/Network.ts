/**
 * Eucalyptus's networking settings and address arithmetic (net/vnetwork.c, eucalyptus.conf's VNET_*):
 * modes, the VLAN-per-security-group subnet carving of MANAGED, the public address pool, STATIC's MAC
 * map. Everything here is pure: settings are validated once, and the decider asks these functions
 * which VLAN, slot and public address come next.
 */
import { Either, Schema } from "effect"
import * as Ipv4 from "./Ipv4.js"

export const Mode = Schema.Literal("SYSTEM", "STATIC", "MANAGED", "MANAGED-NOVLAN")
export type Mode = typeof Mode.Type

/** What a user writes (experiment or server config file). */
export const NetworkSettings = Schema.Struct({
  mode: Mode,
  /** VNET_SUBNET/VNET_NETMASK as one CIDR, e.g. "172.31.0.0/16". */
  subnet: Schema.optional(Schema.String),
  /** VNET_ADDRSPERNET: a power of two ≥ 4; limits instances per security group (slots 2 … n−2). */
  addressesPerNetwork: Schema.optional(Schema.Int),
  /** VNET_PUBLICIPS: single addresses, CIDRs, ranges a-b, and exclusions !a. */
  publicIps: Schema.optional(Schema.Array(Schema.String)),
  /** The VLAN pool [min, max]; max is also limited by how many networks fit in the subnet. */
  vlanMin: Schema.optional(Schema.Int),
  vlanMax: Schema.optional(Schema.Int),
  dns: Schema.optional(Schema.Array(Schema.String)),
  /** STATIC: VNET_MACMAP, MAC=IP pairs handed out first come first served. */
  macMap: Schema.optional(Schema.Array(Schema.Struct({ mac: Schema.String, ip: Schema.String }))),
  /** STATIC: the site router (VNET_ROUTER). */
  router: Schema.optional(Schema.String),
  /** What happens when a launch wants a public address and none is left: reject the request (Eucalyptus) or launch private-only. */
  onPublicExhausted: Schema.optional(Schema.Literal("reject", "private")),
  /** Where 169.254.169.254:80 is redirected (the metadata service), "host:port". */
  metadata: Schema.optional(Schema.String)
})
export type NetworkSettings = typeof NetworkSettings.Type

/** Validated settings, in the form the decider uses. */
export interface Network {
  readonly mode: Mode
  readonly subnet: Ipv4.Cidr
  readonly addressesPerNetwork: number
  readonly publicIps: ReadonlyArray<string>
  readonly vlanMin: number
  /** Inclusive. */
  readonly vlanMax: number
  readonly dns: ReadonlyArray<string>
  readonly macMap: ReadonlyArray<{ readonly mac: string; readonly ip: string }>
  readonly router: string | undefined
  readonly onPublicExhausted: "reject" | "private"
  readonly metadata: string | undefined
}

export const DEFAULTS = {
  subnet: "172.31.0.0/16",
  addressesPerNetwork: 32,
  vlanMin: 10,
  dns: ["8.8.8.8"]
} as const

export const isManaged = (n: Network): boolean => n.mode === "MANAGED" || n.mode === "MANAGED-NOVLAN"

export class NetworkSettingsError extends Schema.TaggedError<NetworkSettingsError>()("NetworkSettingsError", {
  field: Schema.String,
  message: Schema.String
}) {}

const bad = (field: string, message: string) => Either.left(new NetworkSettingsError({ field, message }))

/**
 * Expands VNET_PUBLICIPS-style entries: "a.b.c.d", "a.b.c.d/nn", "a.b.c.d-e.f.g.h" (at most 65536),
 * and "!a.b.c.d" to remove one. Order is kept (first listed is handed out first); duplicates dropped.
 */
export const expandPublicIps = (entries: ReadonlyArray<string>): Either.Either<Array<string>, NetworkSettingsError> => {
  const out: Array<number> = []
  const excluded = new Set<number>()
  for (const raw of entries) {
    const e = raw.trim()
    if (e.startsWith("!")) {
      const ip = Ipv4.parse(e.slice(1))
      if (ip === undefined) return bad("publicIps", `"${raw}": not an IPv4 address after "!"`)
      excluded.add(ip)
    } else if (e.includes("/")) {
      const c = Ipv4.parseCidr(e)
      if (!c) return bad("publicIps", `"${raw}": not a CIDR block`)
      const n = Ipv4.size(c)
      if (n > 65536) return bad("publicIps", `"${raw}": more than 65536 addresses`)
      // A /31 or /32 is all usable; larger blocks drop their network and broadcast addresses.
      const first = n > 2 ? 1 : 0
      const last = n > 2 ? n - 2 : n - 1
      for (let i = first; i <= last; i++) out.push((c.base + i) >>> 0)
    } else if (e.includes("-")) {
      const [a, b] = e.split("-")
      const lo = a === undefined ? undefined : Ipv4.parse(a)
      const hi = b === undefined ? undefined : Ipv4.parse(b)
      if (lo === undefined || hi === undefined) return bad("publicIps", `"${raw}": not a range a.b.c.d-e.f.g.h`)
      if (hi < lo) return bad("publicIps", `"${raw}": the range ends before it starts`)
      if (hi - lo >= 65536) return bad("publicIps", `"${raw}": more than 65536 addresses`)
      for (let ip = lo; ip <= hi; ip++) out.push(ip >>> 0)
    } else {
      const ip = Ipv4.parse(e)
      if (ip === undefined) return bad("publicIps", `"${raw}": not an IPv4 address, CIDR, range or !exclusion`)
      out.push(ip)
    }
  }
  const seen = new Set<number>()
  const result: Array<string> = []
  for (const ip of out) {
    if (excluded.has(ip) || seen.has(ip)) continue
    seen.add(ip)
    result.push(Ipv4.format(ip))
  }
  return Either.right(result)
}

/** The highest usable VLAN for a subnet (Eucalyptus: max_vlan = min(4096, hostspace / numaddrs), exclusive). */
export const maxVlanFor = (subnet: Ipv4.Cidr, addressesPerNetwork: number): number =>
  Math.min(4096, Math.floor(Ipv4.size(subnet) / addressesPerNetwork)) - 1

export const validate = (s: NetworkSettings): Either.Either<Network, NetworkSettingsError> => {
  const subnet = Ipv4.parseCidr(s.subnet ?? DEFAULTS.subnet)
  if (!subnet) return bad("subnet", `"${s.subnet}": expected a CIDR block such as 172.31.0.0/16`)
  const managedMode = s.mode === "MANAGED" || s.mode === "MANAGED-NOVLAN"
  // Only the MANAGED modes carve the subnet into per-group networks.
  const n = s.addressesPerNetwork ?? Math.min(DEFAULTS.addressesPerNetwork, Ipv4.size(subnet))
  if (managedMode || s.addressesPerNetwork !== undefined) {
    if (n < 4 || (n & (n - 1)) !== 0) return bad("addressesPerNetwork", `${n}: must be a power of two, at least 4`)
    if (n > Ipv4.size(subnet)) return bad("addressesPerNetwork", `${n}: larger than the subnet ${Ipv4.formatCidr(subnet)}`)
  }
  const pub = expandPublicIps(s.publicIps ?? [])
  if (Either.isLeft(pub)) return Either.left(pub.left)
  for (const ip of pub.right) {
    if (Ipv4.contains(subnet, Ipv4.parse(ip)!)) return bad("publicIps", `${ip} lies inside the private subnet ${Ipv4.formatCidr(subnet)}`)
  }
  const managed = s.mode === "MANAGED" || s.mode === "MANAGED-NOVLAN"
  const vlanMin = s.vlanMin ?? DEFAULTS.vlanMin
  const limit = maxVlanFor(subnet, n)
  const vlanMax = Math.min(s.vlanMax ?? 4094, limit)
  if (managed) {
    if (vlanMin < 2) return bad("vlanMin", `${vlanMin}: VLANs start at 2 (the subnet of VLAN v starts at subnet + (v − 2) × addressesPerNetwork)`)
    if (vlanMax > 4094) return bad("vlanMax", `${vlanMax}: 802.1Q tags end at 4094`)
    if (vlanMax < vlanMin) {
      return bad("vlanMax", `no VLAN fits: subnet ${Ipv4.formatCidr(subnet)} with ${n} addresses per network allows VLANs up to ${limit}, below vlanMin ${vlanMin}`)
    }
  }
  const macMap: Array<{ mac: string; ip: string }> = []
  for (const [i, e] of (s.macMap ?? []).entries()) {
    if (!/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/i.test(e.mac)) return bad(`macMap[${i}].mac`, `"${e.mac}": not a MAC address`)
    if (Ipv4.parse(e.ip) === undefined) return bad(`macMap[${i}].ip`, `"${e.ip}": not an IPv4 address`)
    macMap.push({ mac: e.mac.toLowerCase(), ip: e.ip })
  }
  if (s.mode === "STATIC" && macMap.length === 0) return bad("macMap", "STATIC mode needs a MAC map (VNET_MACMAP)")
  for (const d of s.dns ?? []) if (Ipv4.parse(d) === undefined) return bad("dns", `"${d}": not an IPv4 address`)
  if (s.router !== undefined && Ipv4.parse(s.router) === undefined) return bad("router", `"${s.router}": not an IPv4 address`)
  if (s.metadata !== undefined) {
    const m = /^(\d{1,3}(?:\.\d{1,3}){3}):(\d{1,5})$/.exec(s.metadata)
    if (!m || Ipv4.parse(m[1]!) === undefined || Number(m[2]) < 1 || Number(m[2]) > 65535) {
      return bad("metadata", `"${s.metadata}": expected the metadata service as IPv4:port, e.g. 192.0.2.100:8773`)
    }
  }
  return Either.right({
    mode: s.mode,
    subnet,
    addressesPerNetwork: n,
    publicIps: pub.right,
    vlanMin,
    vlanMax,
    dns: s.dns ?? [...DEFAULTS.dns],
    macMap,
    router: s.router,
    onPublicExhausted: s.onPublicExhausted ?? "reject",
    metadata: s.metadata
  })
}

/** The network (base address) of VLAN v: SUBNET + (v − 2) · ADDRSPERNET. */
export const vlanNetwork = (n: Network, vlan: number): number => (n.subnet.base + (vlan - 2) * n.addressesPerNetwork) >>> 0
export const vlanPrefix = (n: Network): number => 32 - Math.log2(n.addressesPerNetwork)
export const vlanCidr = (n: Network, vlan: number): string => `${Ipv4.format(vlanNetwork(n, vlan))}/${vlanPrefix(n)}`
/** The gateway (.1 of the group's subnet), on the cluster head. */
export const vlanGateway = (n: Network, vlan: number): string => Ipv4.format(vlanNetwork(n, vlan) + 1)
export const slotAddress = (n: Network, vlan: number, slot: number): string => Ipv4.format(vlanNetwork(n, vlan) + slot)
export const firstSlot = 2
/** Highest instance slot: numaddrs − 2 (numaddrs − 1 is the broadcast). */
export const lastSlot = (n: Network): number => n.addressesPerNetwork - 2
export const slotsPerNetwork = (n: Network): number => lastSlot(n) - firstSlot + 1

/** Lowest value in [lo, hi] not in `used`; undefined if all are taken. */
export const lowestFree = (used: ReadonlySet<number>, lo: number, hi: number): number | undefined => {
  for (let v = lo; v <= hi; v++) if (!used.has(v)) return v
  return undefined
}

export const bridgeName = (vlan: number): string => `eucabr${vlan}`

/** The default: MANAGED on 172.31.0.0/16, 32 addresses per security group, VLANs 10…, 64 documentation-range public addresses. */
export const defaultSettings: NetworkSettings = {
  mode: "MANAGED",
  subnet: DEFAULTS.subnet,
  addressesPerNetwork: DEFAULTS.addressesPerNetwork,
  publicIps: ["198.51.100.10-198.51.100.73"],
  dns: [...DEFAULTS.dns]
}

export const systemSettings: NetworkSettings = { mode: "SYSTEM" }
