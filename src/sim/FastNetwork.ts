/**
 * The fast engine's network allocator, one class per network mode (so the engine has no mode
 * ladder): what a launch can take (the planner's network bound, with the rejection Decide's
 * planNetwork names), the addresses of the instances placed, their release, and their addresses as
 * numbers. Instances are identified by their group (Setup.tenantOf's numbering) and `addr`, what the
 * mode hands out (SYSTEM: a host number; STATIC: a MAC map entry; MANAGED: a slot in the group's
 * network) plus `pub`, a public pool position (−1: none).
 */
import * as Ipv4 from "../model/Ipv4.js"
import * as Network from "../model/Network.js"
import { LowestFree } from "./LowestFree.js"

export interface FastNetwork {
  /** How many instances of group g the network can take now; `tag` names the rejection when that is fewer than asked. */
  bound(g: number): number
  readonly tag: string
  /**
   * Addresses for `count` instances of group g, into addr[k] and pub[k]; takes the group's network
   * first if it has none. Returns the group's VLAN (−1: none); `fresh` tells whether it was taken now.
   */
  assign(g: number, count: number, addr: Int32Array, pub: Int32Array): number
  readonly fresh: boolean
  /** Gives an instance's addresses back; returns the group's VLAN if that was its last instance (else −1). */
  release(g: number, addr: number, pub: number): number
  privateIp(g: number, addr: number): number
  /** The instance's public address (SYSTEM and STATIC: its private one), −1 for none. */
  publicIp(addr: number, pub: number): number
  /** The group's VLAN for Eucalyptus's instances file (0: none). */
  vlanOf(g: number): number
}

/** The site's DHCP, simulated as the lowest free host of the subnet. */
class SystemNetwork implements FastNetwork {
  readonly tag = "NoStaticAddress"
  readonly fresh = false
  private readonly hosts: LowestFree
  private readonly base: number
  constructor(net: Network.Network) {
    this.hosts = new LowestFree(2, Ipv4.size(net.subnet) - 2)
    this.base = net.subnet.base
  }
  bound(): number {
    return this.hosts.free
  }
  assign(_g: number, count: number, addr: Int32Array, pub: Int32Array): number {
    for (let k = 0; k < count; k++) {
      addr[k] = this.hosts.take()
      pub[k] = -1
    }
    return -1
  }
  release(_g: number, addr: number): number {
    this.hosts.give(addr)
    return -1
  }
  privateIp(_g: number, addr: number): number {
    return this.base + addr
  }
  publicIp(addr: number): number {
    return this.base + addr
  }
  vlanOf(): number {
    return 0
  }
}

/** The MAC map's entries whose address no live instance holds, in map order. */
class StaticNetwork implements FastNetwork {
  readonly tag = "NoStaticAddress"
  readonly fresh = false
  private readonly ips: Float64Array
  private readonly use = new Map<number, number>()
  private readonly free: Array<number> = []
  constructor(net: Network.Network) {
    this.ips = Float64Array.from(net.macMap.map((e) => Ipv4.parse(e.ip)!))
  }
  bound(): number {
    const free = this.free
    free.length = 0
    for (let k = 0; k < this.ips.length; k++) if ((this.use.get(this.ips[k]!) ?? 0) === 0) free.push(k)
    return free.length
  }
  assign(_g: number, count: number, addr: Int32Array, pub: Int32Array): number {
    for (let k = 0; k < count; k++) {
      const e = this.free[k]!
      const ip = this.ips[e]!
      this.use.set(ip, (this.use.get(ip) ?? 0) + 1)
      addr[k] = e
      pub[k] = -1
    }
    return -1
  }
  release(_g: number, addr: number): number {
    const ip = this.ips[addr]!
    this.use.set(ip, this.use.get(ip)! - 1)
    return -1
  }
  privateIp(_g: number, addr: number): number {
    return this.ips[addr]!
  }
  publicIp(addr: number): number {
    return this.ips[addr]!
  }
  vlanOf(): number {
    return 0
  }
}

/** MANAGED and MANAGED-NOVLAN: a VLAN and subnet per security group while it has instances, slots in it, public addresses from the pool. */
class ManagedNetwork implements FastNetwork {
  tag = ""
  fresh = false
  private readonly vlans: LowestFree
  private readonly pool: LowestFree
  private readonly poolIps: Float64Array
  private readonly slotsPer: number
  private readonly wantsPublic: boolean
  private readonly rejectOnNoPublic: boolean
  /** Per group: its VLAN (−1: none), its live instances, its network's slots. */
  private readonly gVlan: Int32Array
  private readonly gLive: Int32Array
  private readonly gSlots: Array<LowestFree | undefined>
  constructor(private readonly net: Network.Network, groups: number, wantsPublic: boolean) {
    this.vlans = new LowestFree(net.vlanMin, net.vlanMax)
    this.pool = new LowestFree(0, net.publicIps.length - 1)
    this.poolIps = Float64Array.from(net.publicIps.map((ip) => Ipv4.parse(ip)!))
    this.slotsPer = Network.slotsPerNetwork(net)
    this.wantsPublic = wantsPublic
    this.rejectOnNoPublic = net.onPublicExhausted === "reject"
    this.gVlan = new Int32Array(groups).fill(-1)
    this.gLive = new Int32Array(groups)
    this.gSlots = new Array(groups).fill(undefined)
  }
  bound(g: number): number {
    if (this.gVlan[g]! < 0 && this.vlans.free === 0) {
      this.tag = "NoVlanAvailable"
      return 0
    }
    const slotsFree = this.slotsPer - this.gLive[g]!
    const publicLimit = this.wantsPublic && this.rejectOnNoPublic ? this.pool.free : Number.POSITIVE_INFINITY
    // Whichever limit binds names the rejection (Decide's planNetwork).
    this.tag = slotsFree <= publicLimit ? "SubnetFull" : "NoPublicAddress"
    return Math.min(slotsFree, publicLimit)
  }
  assign(g: number, count: number, addr: Int32Array, pub: Int32Array): number {
    let vlan = this.gVlan[g]!
    this.fresh = vlan < 0
    if (vlan < 0) {
      vlan = this.vlans.take()
      this.gVlan[g] = vlan
    }
    const slots = (this.gSlots[g] ??= new LowestFree(Network.firstSlot, Network.lastSlot(this.net)))
    for (let k = 0; k < count; k++) {
      addr[k] = slots.take()
      pub[k] = this.wantsPublic ? this.pool.take() : -1
    }
    this.gLive[g] += count
    return vlan
  }
  release(g: number, addr: number, pub: number): number {
    this.gSlots[g]!.give(addr)
    if (pub >= 0) this.pool.give(pub)
    if (--this.gLive[g]! > 0) return -1
    // The group's network goes back with its last instance.
    const vlan = this.gVlan[g]!
    this.vlans.give(vlan)
    this.gVlan[g] = -1
    return vlan
  }
  privateIp(g: number, addr: number): number {
    return Network.vlanNetwork(this.net, this.gVlan[g]!) + addr
  }
  publicIp(_addr: number, pub: number): number {
    return pub >= 0 ? this.poolIps[pub]! : -1
  }
  vlanOf(g: number): number {
    return this.gVlan[g]!
  }
}

/** The allocator for the network's mode; `groups` security groups in all. */
export const make = (net: Network.Network, groups: number, wantsPublic: boolean): FastNetwork =>
  net.mode === "SYSTEM" ? new SystemNetwork(net) : net.mode === "STATIC" ? new StaticNetwork(net) : new ManagedNetwork(net, groups, wantsPublic)
