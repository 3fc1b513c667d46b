/**
 * Interpreters for tests, written apart from the renderer: what a plan's filter lets through (read
 * from the plan's data), and what a list of `ip` commands does to a host's devices (a small model of
 * the kernel that refuses what `ip` would refuse).
 */
import * as Ipv4 from "../../../src/model/Ipv4.js"
import type * as Devices from "../../../src/model/NetworkDevices.js"
import type * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import type { Probe } from "./Oracle.js"

const inCidr = (cidr: string, ip: string) => Ipv4.contains(Ipv4.parseCidr(cidr)!, Ipv4.parse(ip)!)

/** Does the plan let a new connection from one endpoint reach another's private address? */
export const planAllows = (plan: NetworkPlan.Plan, fromId: string, toId: string, probe: Probe): boolean => {
  const from = plan.endpoints.find((e) => e.instance === fromId)
  const to = plan.endpoints.find((e) => e.instance === toId)
  if (!from || !to || from === to) return false
  // Same segment: same bridge/subnet, the packet never reaches the head.
  if (from.vlan === to.vlan) return true
  for (const c of plan.chains) {
    if (!c.destinations.some((d) => inCidr(d, to.privateIp))) continue
    for (const a of c.accepts) {
      if (!inCidr(a.source, from.privateIp)) continue
      if (a.protocol === "all") return true
      if (a.protocol !== probe.protocol) continue
      if (probe.protocol === "icmp") {
        if (a.fromPort < 0 || a.fromPort === probe.type) return true
      } else if (probe.port >= a.fromPort && probe.port <= a.toPort) return true
    }
  }
  return false
}

interface ModelLink {
  kind: Devices.LinkKind
  id?: number
  master?: string
  up: boolean
  external?: boolean
}

/** A host's devices as a mutable model; `run` applies one `ip` argv or throws as `ip` would fail. */
export class IpModel {
  readonly links = new Map<string, ModelLink>()
  readonly addresses = new Map<string, Devices.Address>()

  constructor(d: Devices.Devices, readonly foreignDevs: ReadonlyArray<string>) {
    for (const l of d.links) this.links.set(l.name, { kind: l.kind, ...(l.id !== undefined ? { id: l.id } : {}), ...(l.master !== undefined ? { master: l.master } : {}), up: l.up, ...(l.external ? { external: true } : {}) })
    for (const a of d.addresses) this.addresses.set(`${a.dev} ${a.cidr}`, a)
  }

  private devExists(name: string) {
    return this.links.has(name) || this.foreignDevs.includes(name)
  }

  run(argv: ReadonlyArray<string>): void {
    const a = [...argv]
    if (a[0] !== "ip") throw new Error(`not an ip command: ${a.join(" ")}`)
    const fail = (why: string): never => {
      throw new Error(`${a.join(" ")}: ${why}`)
    }
    if (a[1] === "link" && a[2] === "add") {
      let name: string
      let rest: Array<string>
      if (a[3] === "link") {
        if (!this.devExists(a[4]!)) fail("no parent device")
        if (a[5] !== "name") fail("syntax")
        name = a[6]!
        rest = a.slice(7)
      } else {
        name = a[3]!
        rest = a.slice(4)
      }
      if (this.devExists(name)) fail("File exists")
      if (rest[0] !== "type") fail("syntax")
      const kind = rest[1] as Devices.LinkKind
      const idAt = rest.indexOf("id")
      const devAt = rest.indexOf("dev")
      if (devAt >= 0 && !this.devExists(rest[devAt + 1]!)) fail("no underlay device")
      this.links.set(name, { kind, ...(idAt >= 0 ? { id: Number(rest[idAt + 1]) } : {}), up: false })
    } else if (a[1] === "link" && a[2] === "del") {
      const l = this.links.get(a[3]!)
      if (!l) fail("Cannot find device")
      if (l!.external) fail("deleting a device made by another host")
      this.links.delete(a[3]!)
      for (const [k, x] of this.addresses) if (x.dev === a[3]) this.addresses.delete(k)
      for (const o of this.links.values()) if (o.master === a[3]) delete o.master
    } else if (a[1] === "link" && a[2] === "set") {
      const l = this.links.get(a[3]!)
      if (!l) fail("Cannot find device")
      if (a[4] === "master") {
        const m = this.links.get(a[5]!)
        if (!m || m.kind !== "bridge") fail("master is not a bridge")
        l!.master = a[5]!
      } else if (a[4] === "nomaster") delete l!.master
      else if (a[4] === "up") l!.up = true
      else fail("unknown link set")
    } else if (a[1] === "addr" && (a[2] === "add" || a[2] === "del")) {
      const cidr = a[3]!
      const dev = a[a.indexOf("dev") + 1]!
      if (!this.devExists(dev)) fail("Cannot find device")
      const key = `${dev} ${cidr}`
      if (a[2] === "add") {
        if (this.addresses.has(key)) fail("Address already assigned")
        const b = a.indexOf("broadcast")
        const l = a.indexOf("label")
        this.addresses.set(key, { dev, cidr, ...(b >= 0 ? { broadcast: a[b + 1]! } : {}), ...(l >= 0 ? { label: a[l + 1]! } : {}) })
      } else {
        if (!this.addresses.has(key)) fail("Cannot assign requested address")
        this.addresses.delete(key)
      }
    } else fail("unknown command")
  }

  devices(): Devices.Devices {
    return {
      links: [...this.links].map(([name, l]) => ({ name, ...l })),
      addresses: [...this.addresses.values()]
    }
  }
}
