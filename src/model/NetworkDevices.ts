/**
 * The devices a host holds for the cloud, as data: links (bridges and segment devices) and IPv4
 * addresses. NetworkRender derives the wanted set from a plan, NetworkDiff turns two sets into `ip`
 * commands, and the parsers here read what a host actually has (`ip -d -j link show`, `ip -j addr
 * show`), so an applier that lost its memory can diff against the truth instead of guessing.
 */
import { Either, Schema } from "effect"

export type LinkKind = "bridge" | "vlan" | "vxlan" | "veth"

export interface Link {
  readonly name: string
  readonly kind: LinkKind
  /** The VLAN id or VXLAN VNI. */
  readonly id?: number | undefined
  readonly master?: string | undefined
  readonly up: boolean
  /** Made by another host (this node's end of the head's veth pair): attached and raised here, never created or deleted. */
  readonly external?: boolean | undefined
  /** The argv that makes it (targets only; what was observed is never re-created from here). */
  readonly create?: ReadonlyArray<string> | undefined
}

export interface Address {
  readonly dev: string
  /** a.b.c.d/prefix */
  readonly cidr: string
  readonly broadcast?: string | undefined
  /** Addresses we put on interfaces we do not own carry the label "<dev>:eu", so we can find them again. */
  readonly label?: string | undefined
}

export interface Devices {
  readonly links: ReadonlyArray<Link>
  readonly addresses: ReadonlyArray<Address>
}

export const none: Devices = { links: [], addresses: [] }

/** Same device: name, kind and id (how it was made — local/remote of a VXLAN — is host configuration, not plan). */
export const linkKey = (l: Link): string => `${l.name}|${l.kind}|${l.id ?? ""}`
export const addressKey = (a: Address): string => `${a.dev}|${a.cidr}|${a.broadcast ?? ""}|${a.label ?? ""}`

export const OWN_LABEL = ":eu"
export const labelFor = (dev: string): string => `${dev}${OWN_LABEL}`

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/** Sorted by name / address, fields kept. */
export const normalize = (d: Devices): Devices => ({
  links: [...d.links].sort((a, b) => cmp(a.name, b.name)),
  addresses: [...d.addresses].sort((a, b) => cmp(addressKey(a), addressKey(b)))
})

/** Only what describes the devices (not how they are made), sorted: for comparing sets. */
export const describe = (d: Devices): Devices => ({
  links: normalize(d).links.map((l) => ({
    name: l.name,
    kind: l.kind,
    ...(l.id !== undefined ? { id: l.id } : {}),
    ...(l.master !== undefined ? { master: l.master } : {}),
    up: l.up,
    ...(l.external ? { external: true } : {})
  })),
  addresses: normalize(d).addresses.map((a) => ({
    dev: a.dev,
    cidr: a.cidr,
    ...(a.broadcast !== undefined ? { broadcast: a.broadcast } : {}),
    ...(a.label !== undefined ? { label: a.label } : {})
  }))
})

export const equal = (a: Devices, b: Devices): boolean => JSON.stringify(describe(a)) === JSON.stringify(describe(b))

/** Which links of a host are the cloud's (`own`: may be deleted), or made elsewhere but attached here (`external`). */
export interface Ownership {
  readonly own: (name: string) => boolean
  readonly external: (name: string) => boolean
}

export class ObserveError extends Schema.TaggedError<ObserveError>()("ObserveError", {
  source: Schema.String,
  message: Schema.String
}) {}

const KINDS: ReadonlySet<string> = new Set(["bridge", "vlan", "vxlan", "veth"])

interface IpLink {
  readonly ifname?: unknown
  readonly flags?: unknown
  readonly master?: unknown
  readonly linkinfo?: { readonly info_kind?: unknown; readonly info_data?: { readonly id?: unknown } }
}

interface IpAddr {
  readonly ifname?: unknown
  readonly addr_info?: ReadonlyArray<{ readonly family?: unknown; readonly local?: unknown; readonly prefixlen?: unknown; readonly broadcast?: unknown; readonly label?: unknown }>
}

const parseJsonArray = (source: string, text: string): Either.Either<ReadonlyArray<unknown>, ObserveError> => {
  try {
    const v: unknown = JSON.parse(text)
    if (!Array.isArray(v)) return Either.left(new ObserveError({ source, message: "expected a JSON array" }))
    return Either.right(v)
  } catch (e) {
    return Either.left(new ObserveError({ source, message: `not JSON: ${String(e)}` }))
  }
}

/**
 * What the host holds, from `ip -d -j link show` and `ip -j addr show`: the links `owner` claims, the
 * addresses on those links, and the addresses anywhere that carry our label.
 */
export const observe = (linksJson: string, addrsJson: string, owner: Ownership): Either.Either<Devices, ObserveError> => {
  const rawLinks = parseJsonArray("ip -d -j link show", linksJson)
  if (Either.isLeft(rawLinks)) return Either.left(rawLinks.left)
  const rawAddrs = parseJsonArray("ip -j addr show", addrsJson)
  if (Either.isLeft(rawAddrs)) return Either.left(rawAddrs.left)
  const links: Array<Link> = []
  for (const x of rawLinks.right as ReadonlyArray<IpLink>) {
    if (typeof x.ifname !== "string") continue
    const name = x.ifname
    const own = owner.own(name)
    const external = !own && owner.external(name)
    if (!own && !external) continue
    const kind = x.linkinfo?.info_kind
    if (typeof kind !== "string" || !KINDS.has(kind)) continue
    const id = x.linkinfo?.info_data?.id
    links.push({
      name,
      kind: kind as LinkKind,
      ...((kind === "vlan" || kind === "vxlan") && typeof id === "number" ? { id } : {}),
      ...(typeof x.master === "string" ? { master: x.master } : {}),
      up: Array.isArray(x.flags) && x.flags.includes("UP"),
      ...(external ? { external: true } : {})
    })
  }
  const ours = new Set(links.filter((l) => !l.external).map((l) => l.name))
  const addresses: Array<Address> = []
  for (const x of rawAddrs.right as ReadonlyArray<IpAddr>) {
    if (typeof x.ifname !== "string") continue
    const dev = x.ifname
    for (const a of x.addr_info ?? []) {
      if (a.family !== "inet" || typeof a.local !== "string" || typeof a.prefixlen !== "number") continue
      const label = typeof a.label === "string" && a.label !== dev ? a.label : undefined
      if (!ours.has(dev) && label !== labelFor(dev)) continue
      addresses.push({
        dev,
        cidr: `${a.local}/${a.prefixlen}`,
        ...(typeof a.broadcast === "string" ? { broadcast: a.broadcast } : {}),
        ...(label !== undefined ? { label } : {})
      })
    }
  }
  return Either.right(describe({ links, addresses }))
}
