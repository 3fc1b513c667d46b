/**
 * What changes between two plans on one host: the `ip` commands that take its devices from one set to
 * the other (only what changed), and whether the iptables rules changed. Re-applying a plan is a no-op.
 *
 * Order: addresses that go first, then links that go (segment devices before bridges), then new
 * links (bridges first, so segment devices can join them), masters, links up, new addresses. The
 * applier runs the iptables restore before these, so a segment never exists without its rules.
 */
import * as Devices from "./NetworkDevices.js"
import type * as NetworkPlan from "./NetworkPlan.js"
import * as NetworkRender from "./NetworkRender.js"

export type Argv = ReadonlyArray<string>

export interface Change {
  readonly ip: ReadonlyArray<Argv>
  readonly iptables: boolean
}

const byKey = <A>(xs: ReadonlyArray<A>, key: (a: A) => string) => new Map(xs.map((x) => [key(x), x] as const))

const addAddress = (a: Devices.Address): Argv => [
  "ip", "addr", "add", a.cidr,
  ...(a.broadcast !== undefined ? ["broadcast", a.broadcast] : []),
  ...(a.label !== undefined ? ["label", a.label] : []),
  "dev", a.dev
]

/** The `ip` commands that take a host holding `from` to holding `to`. */
export const devices = (from: Devices.Devices, to: Devices.Devices): Array<Argv> => {
  const oldLinks = byKey(from.links, (l) => l.name)
  const newLinks = byKey(to.links, (l) => l.name)
  // A link is re-made when its name now means another device (kind or id changed).
  const remade = new Set<string>()
  for (const [name, l] of newLinks) {
    const o = oldLinks.get(name)
    if (o && Devices.linkKey(o) !== Devices.linkKey(l) && !l.external) remade.add(name)
  }
  const gone = [...oldLinks.values()].filter((l) => !l.external && (!newLinks.has(l.name) || remade.has(l.name)))
  const goneNames = new Set(gone.map((l) => l.name))
  const fresh = [...newLinks.values()].filter((l) => !oldLinks.has(l.name) || remade.has(l.name))
  const freshNames = new Set(fresh.map((l) => l.name))

  const out: Array<Argv> = []
  const oldAddrs = byKey(from.addresses, Devices.addressKey)
  const newAddrs = byKey(to.addresses, Devices.addressKey)
  for (const [k, a] of oldAddrs) {
    if (!newAddrs.has(k) && !goneNames.has(a.dev)) out.push(["ip", "addr", "del", a.cidr, "dev", a.dev])
  }
  const order = (l: Devices.Link) => (l.kind === "bridge" ? 1 : 0)
  for (const l of [...gone].sort((a, b) => order(a) - order(b) || cmp(a.name, b.name))) out.push(["ip", "link", "del", l.name])
  for (const l of [...fresh].sort((a, b) => order(b) - order(a) || cmp(a.name, b.name))) {
    if (l.create !== undefined && !l.external) out.push(l.create)
  }
  for (const l of [...newLinks.values()].sort((a, b) => cmp(a.name, b.name))) {
    const was = freshNames.has(l.name) ? undefined : oldLinks.get(l.name)
    // A deleted bridge released its ports.
    const wasMaster = was?.master !== undefined && !goneNames.has(was.master) ? was.master : undefined
    if (l.master !== wasMaster) out.push(l.master !== undefined ? ["ip", "link", "set", l.name, "master", l.master] : ["ip", "link", "set", l.name, "nomaster"])
  }
  for (const l of [...newLinks.values()].sort((a, b) => order(b) - order(a) || cmp(a.name, b.name))) {
    const was = freshNames.has(l.name) ? undefined : oldLinks.get(l.name)
    if (l.up && !(was?.up ?? false)) out.push(["ip", "link", "set", l.name, "up"])
  }
  for (const [k, a] of newAddrs) {
    if (!oldAddrs.has(k) || freshNames.has(a.dev)) out.push(addAddress(a))
  }
  return out
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0)

/**
 * diff(old, new) for one host: the device commands and whether the iptables rules changed. `old`
 * undefined means a host that holds nothing of ours yet.
 */
export const diff = (old: NetworkPlan.Plan | undefined, next: NetworkPlan.Plan, target: NetworkRender.Target): Change => {
  const before = old === undefined ? Devices.none : NetworkRender.devicesFor(old, target)
  const after = NetworkRender.devicesFor(next, target)
  const ip = devices(before, after)
  if (target.role === "node") return { ip, iptables: false }
  const r0 = old === undefined ? NetworkRender.rules({ ...next, segments: [], endpoints: [], chains: [], publicAddresses: [], metadata: undefined }) : NetworkRender.rules(old)
  return { ip, iptables: !NetworkRender.sameRules(r0, NetworkRender.rules(next)) }
}

export const isEmpty = (c: Change): boolean => c.ip.length === 0 && !c.iptables
