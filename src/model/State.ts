/**
 * The cloud's state as the decider sees it: nodes in configuration order, instances, security groups,
 * addresses, per-zone policy state and the id sequences. Immutable: `evolve` returns a new state.
 */
import { HashMap, Option } from "effect"
import type * as Capacity from "./Capacity.js"
import * as Ebs from "./Ebs.js"
import * as Ids from "./Ids.js"
import type * as Lifecycle from "./Lifecycle.js"
import type * as Network from "./Network.js"
import type * as Resources from "./Resources.js"
import type * as SecurityGroup from "./SecurityGroup.js"
import type * as Topology from "./Topology.js"
import type * as Units from "./Units.js"
import type * as VmType from "./VmType.js"

export interface NodeRuntime {
  readonly id: Ids.NodeId
  readonly zone: Ids.ZoneName
  readonly state: Capacity.NodeState
  /** Physical capacity, as configured or last reported. */
  readonly capacity: Resources.Resources
  /** Held by instances from placement until terminated. */
  readonly used: Resources.Resources
  readonly instances: number
  /** Since when the node has had no instances (POWERSAVE); undefined while it has some. */
  readonly idleSince: Units.Millis | undefined
  readonly group: number
  readonly idleWatts: number
  readonly peakWatts: number
}

export interface InstanceNet {
  readonly mac: string
  readonly privateIp?: string | undefined
  readonly publicIp?: string | undefined
  /** MANAGED modes: the VLAN (network index) and slot of the instance's home group (its first security group at launch). */
  readonly vlan?: number | undefined
  readonly slot?: number | undefined
}

export interface StateReason {
  readonly code: string
  readonly message: string
}

export interface Instance {
  readonly id: Ids.InstanceId
  /** Launch order across the cloud (the sequence the id came from). */
  readonly seq: number
  readonly reservationId: Ids.ReservationId
  readonly account: Ids.AccountId
  readonly zone: Ids.ZoneName
  readonly node: Ids.NodeId
  readonly vmType: string
  readonly size: Resources.Resources
  readonly imageId: string
  readonly kernelId?: string | undefined
  readonly ramdiskId?: string | undefined
  readonly keyName?: string | undefined
  readonly userData?: string | undefined
  readonly groups: ReadonlyArray<Ids.GroupId>
  /**
   * The group whose network (VLAN, slot, subnet) the instance sits in, once its groups were changed
   * after launch (ModifyInstanceAttribute groupSet); until then its first group. See homeGroup.
   */
  readonly home?: Ids.GroupId | undefined
  readonly launchIndex: number
  readonly addressing: "public" | "private"
  readonly clientToken?: string | undefined
  readonly lifetimeMs?: number | undefined
  readonly state: Lifecycle.InstanceState
  readonly stateReason?: StateReason | undefined
  readonly launchedAt: Units.Millis
  readonly runningAt?: Units.Millis | undefined
  readonly terminatedAt?: Units.Millis | undefined
  /** The start effect was sent (false while its node is waking up). */
  readonly dispatched: boolean
  readonly net: InstanceNet
  /** EBS-backed (it can stop and start): its root device's name. */
  readonly ebsRoot?: string | undefined
  /** EC2's instance attributes that are the owner's settings (absent: EC2's defaults). */
  readonly attributes?: InstanceAttributes | undefined
}

/** Settings an owner changes with ModifyInstanceAttribute (defaults: false, false, "stop", true). */
export interface InstanceAttributes {
  readonly disableApiTermination?: boolean | undefined
  readonly disableApiStop?: boolean | undefined
  readonly shutdownBehavior?: "stop" | "terminate" | undefined
  readonly sourceDestCheck?: boolean | undefined
}

export interface Address {
  readonly ip: string
  /** Elastic addresses belong to an account until released; system addresses are lent at launch. */
  readonly kind: "elastic" | "system"
  readonly account: Ids.AccountId
  readonly allocationId?: Ids.AllocationId | undefined
  readonly instance?: Ids.InstanceId | undefined
  readonly associationId?: Ids.AssociationId | undefined
}

export interface Zone {
  readonly name: Ids.ZoneName
  /** Index of its first node in `nodes`, and how many it has. */
  readonly first: number
  readonly count: number
}

export interface Sequences {
  readonly instance: number
  readonly reservation: number
  readonly group: number
  readonly allocation: number
  readonly association: number
}

/** The live (not terminated) instances whose home group (first security group at launch) is a given one: how many, and the slots they hold. */
export interface GroupMembers {
  readonly live: number
  /** MANAGED modes: the instance slots in use in the group's network, ascending. */
  readonly slots: ReadonlyArray<number>
}

export interface State {
  readonly vmTypes: VmType.VmTypeTable
  readonly network: Network.Network
  readonly zones: ReadonlyArray<Zone>
  readonly nodes: ReadonlyArray<NodeRuntime>
  readonly instances: HashMap.HashMap<Ids.InstanceId, Instance>
  readonly groups: HashMap.HashMap<Ids.GroupId, SecurityGroup.Group>
  readonly addresses: HashMap.HashMap<string, Address>
  /** Derived from `instances` (kept by `evolve`): the live instances per home group (first security group at launch). */
  readonly members: HashMap.HashMap<Ids.GroupId, GroupMembers>
  /** Derived from `instances` (kept by `evolve`): the private addresses of live instances, as numbers, ascending. */
  readonly privateIps: ReadonlyArray<number>
  /** Derived from `addresses` (kept by `evolve`): the positions in the public pool of the addresses held, ascending. */
  readonly publicHeld: ReadonlyArray<number>
  /** The policy the state was last decided under, and its per-zone state (e.g. round-robin cursors). */
  readonly policyName: string
  readonly policyState: Readonly<Record<string, unknown>>
  readonly seq: Sequences
  /** Volumes, snapshots and the storage controllers' capacity per zone. */
  readonly storage: Ebs.Storage
}

export const make = (options: {
  readonly nodes: ReadonlyArray<Topology.NodeSpec>
  readonly vmTypes: VmType.VmTypeTable
  readonly network: Network.Network
  readonly policyName?: string
  readonly policyInitial: unknown
  readonly nodeState?: Capacity.NodeState
  readonly at?: Units.Millis
  /** GiB of volumes each zone's storage controller holds; zones not named are unlimited. */
  readonly storage?: Readonly<Record<string, number>>
}): State => {
  const zones: Array<Zone> = []
  const nodes: Array<NodeRuntime> = []
  for (const spec of options.nodes) {
    const last = zones[zones.length - 1]
    if (last === undefined || last.name !== spec.zone) {
      if (zones.some((z) => z.name === spec.zone)) throw new Error(`nodes of zone ${spec.zone} must be contiguous`)
      zones.push({ name: spec.zone, first: nodes.length, count: 0 })
    }
    const z = zones[zones.length - 1]!
    zones[zones.length - 1] = { ...z, count: z.count + 1 }
    nodes.push({
      id: spec.id,
      zone: spec.zone,
      state: options.nodeState ?? "up",
      capacity: spec.capacity,
      used: { cores: 0, memoryMiB: 0, diskGiB: 0 } as Resources.Resources,
      instances: 0,
      idleSince: options.at ?? (0 as Units.Millis),
      group: spec.group,
      idleWatts: spec.idleWatts,
      peakWatts: spec.peakWatts
    })
  }
  const policyState: Record<string, unknown> = {}
  for (const z of zones) policyState[z.name] = options.policyInitial
  return {
    vmTypes: options.vmTypes,
    network: options.network,
    zones,
    nodes,
    instances: HashMap.empty(),
    groups: HashMap.empty(),
    addresses: HashMap.empty(),
    members: HashMap.empty(),
    privateIps: [],
    publicHeld: [],
    policyName: options.policyName ?? "",
    policyState,
    seq: { instance: 0, reservation: 0, group: 0, allocation: 0, association: 0 },
    storage: Ebs.make(options.storage)
  }
}

export const zone = (s: State, name: string): Zone | undefined => s.zones.find((z) => z.name === name)
export const nodeIndex = (s: State, id: string): number => s.nodes.findIndex((n) => n.id === id)
export const zoneNodes = (s: State, z: Zone): ReadonlyArray<NodeRuntime> => s.nodes.slice(z.first, z.first + z.count)

export const instance = (s: State, id: string): Instance | undefined =>
  Option.getOrUndefined(HashMap.get(s.instances, id as Ids.InstanceId))

/** All instances in launch order. */
export const instances = (s: State): Array<Instance> =>
  Array.from(HashMap.values(s.instances)).sort((a, b) => a.seq - b.seq)

export const liveInstances = (s: State): Array<Instance> => instances(s).filter((i) => i.state !== "terminated")

/** The group whose network the instance sits in: the first group it was launched with. */
export const homeGroup = (i: Instance): Ids.GroupId | undefined => i.home ?? i.groups[0]

const noMembers: GroupMembers = { live: 0, slots: [] }
/** The live instances whose home group (first security group at launch) is `g`. */
export const members = (s: State, g: Ids.GroupId): GroupMembers => Option.getOrElse(HashMap.get(s.members, g), () => noMembers)

export const group = (s: State, id: string): SecurityGroup.Group | undefined =>
  Option.getOrUndefined(HashMap.get(s.groups, id as Ids.GroupId))

export const groupByName = (s: State, account: string, name: string): SecurityGroup.Group | undefined => {
  for (const g of HashMap.values(s.groups)) if (g.account === account && g.name === name) return g
  return undefined
}

/** Groups sorted by account, then name (ids are scrambled sequence numbers and say nothing of order). */
export const groups = (s: State): Array<SecurityGroup.Group> =>
  Array.from(HashMap.values(s.groups)).sort((a, b) => (a.account === b.account ? (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) : a.account < b.account ? -1 : 1))

export const address = (s: State, ip: string): Address | undefined => Option.getOrUndefined(HashMap.get(s.addresses, ip))

export const addressByAllocation = (s: State, id: string): Address | undefined => {
  for (const a of HashMap.values(s.addresses)) if (a.allocationId === id) return a
  return undefined
}

export const addressByAssociation = (s: State, id: string): Address | undefined => {
  for (const a of HashMap.values(s.addresses)) if (a.associationId === id) return a
  return undefined
}

/** The pool's addresses no one holds, in pool order: the first `limit` of them (all by default). */
export const freePublicIps = (s: State, limit = Number.POSITIVE_INFINITY): Array<string> => {
  const out: Array<string> = []
  const pool = s.network.publicIps
  const held = s.publicHeld
  let j = 0
  for (let k = 0; k < pool.length && out.length < limit; k++) {
    while (j < held.length && held[j]! < k) j++
    if (held[j] === k) continue
    out.push(pool[k]!)
  }
  return out
}

/** How many of the pool's addresses no one holds. */
export const freePublicCount = (s: State): number => s.network.publicIps.length - s.publicHeld.length

// Each address's position in the public pool, once per network (a network never changes).
const positions = new WeakMap<Network.Network, ReadonlyMap<string, number>>()
/** Where `ip` stands in the network's public pool; undefined if it is not in the pool. */
export const poolPosition = (n: Network.Network, ip: string): number | undefined => {
  let p = positions.get(n)
  if (p === undefined) positions.set(n, (p = new Map(n.publicIps.map((x, k) => [x, k]))))
  return p.get(ip)
}

export const nodeRows = (s: State, z: Zone): Array<Capacity.NodeRow> =>
  zoneNodes(s, z).map((n) => ({ id: n.id, state: n.state, capacity: n.capacity, used: n.used, instances: n.instances }))

export { Ids }
