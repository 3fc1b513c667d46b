/** Applies one event to the state. Total: every event the decider emits applies to the state it was decided on. */
import { HashMap, Option } from "effect"
import * as EbsEvolve from "./EbsEvolve.js"
import type * as Events from "./Events.js"
import type * as Ids from "./Ids.js"
import * as Ipv4 from "./Ipv4.js"
import * as Lifecycle from "./Lifecycle.js"
import * as Resources from "./Resources.js"
import * as SecurityGroup from "./SecurityGroup.js"
import * as State from "./State.js"
import * as Units from "./Units.js"
import * as VmType from "./VmType.js"

type S = State.State

const updateNode = (s: S, id: string, f: (n: State.NodeRuntime) => State.NodeRuntime): S => {
  const i = s.nodes.findIndex((n) => n.id === id)
  if (i < 0) return s
  const nodes = s.nodes.slice()
  nodes[i] = f(nodes[i]!)
  return { ...s, nodes }
}

const updateInstance = (s: S, id: Ids.InstanceId, f: (x: State.Instance) => State.Instance): S => ({
  ...s,
  instances: HashMap.modify(s.instances, id, f)
})

const transition = EbsEvolve.transition

const updateGroup = (s: S, id: Ids.GroupId, f: (g: SecurityGroup.Group) => SecurityGroup.Group): S => ({
  ...s,
  groups: HashMap.modify(s.groups, id, f)
})

/** A sorted array with `v` inserted (`delta` 1) or one occurrence of it removed (−1). */
const sortedChange = (a: ReadonlyArray<number>, v: number, delta: 1 | -1): ReadonlyArray<number> => {
  // The first position whose value is ≥ v.
  let lo = 0
  let hi = a.length
  while (lo < hi) {
    const mid = (lo + hi) >> 1
    if (a[mid]! < v) lo = mid + 1
    else hi = mid
  }
  if (delta > 0) return [...a.slice(0, lo), v, ...a.slice(lo)]
  return a[lo] === v ? [...a.slice(0, lo), ...a.slice(lo + 1)] : a
}

/** Group g's membership with one live instance more (holding `slot`, if any) or, with `delta` −1, one fewer. */
const changeMembers = (
  members: HashMap.HashMap<Ids.GroupId, State.GroupMembers>,
  g: Ids.GroupId,
  delta: 1 | -1,
  slot: number | undefined
): HashMap.HashMap<Ids.GroupId, State.GroupMembers> => {
  const was = HashMap.get(members, g)
  const live = (was._tag === "Some" ? was.value.live : 0) + delta
  if (live <= 0) return HashMap.remove(members, g)
  const slots = was._tag === "Some" ? was.value.slots : []
  return HashMap.set(members, g, { live, slots: slot === undefined ? slots : sortedChange(slots, slot, delta) })
}

/** The address table and the pool positions held, changed together. */
interface Held {
  readonly addresses: HashMap.HashMap<string, State.Address>
  readonly publicHeld: ReadonlyArray<number>
}

/** `a` put in the table (new, or replacing the entry for its address). */
const putAddress = (n: S["network"], h: Held, a: State.Address): Held => {
  const k = HashMap.has(h.addresses, a.ip) ? undefined : State.poolPosition(n, a.ip)
  return { addresses: HashMap.set(h.addresses, a.ip, a), publicHeld: k === undefined ? h.publicHeld : sortedChange(h.publicHeld, k, 1) }
}

/** The entry for `ip` taken out of the table. */
const dropAddress = (n: S["network"], h: Held, ip: string): Held => {
  const k = HashMap.has(h.addresses, ip) ? State.poolPosition(n, ip) : undefined
  return { addresses: HashMap.remove(h.addresses, ip), publicHeld: k === undefined ? h.publicHeld : sortedChange(h.publicHeld, k, -1) }
}

/** The instance's public address leaves it: a system one goes back to the pool, an elastic one stays with its account, unassociated. */
const leaveAddress = (n: S["network"], h: Held, inst: State.Instance): Held => {
  // An address names the instance it is on exactly when that instance's publicIp names the address.
  const ip = inst.net.publicIp
  const a = ip === undefined ? undefined : Option.getOrUndefined(HashMap.get(h.addresses, ip))
  if (a === undefined || a.instance !== inst.id) return h
  return a.kind === "system" ? dropAddress(n, h, a.ip) : putAddress(n, h, { ...a, instance: undefined, associationId: undefined })
}

const rebuildZones = (nodes: ReadonlyArray<State.NodeRuntime>): Array<State.Zone> => {
  const zones: Array<State.Zone> = []
  nodes.forEach((n, i) => {
    const last = zones[zones.length - 1]
    if (last && last.name === n.zone) zones[zones.length - 1] = { ...last, count: last.count + 1 }
    else zones.push({ name: n.zone, first: i, count: 1 })
  })
  return zones
}

const releaseInstance = (s: S, inst: State.Instance, at: Units.Millis): S => {
  // Capacity (a stopped instance gave its node's back when it stopped); then its volumes.
  let next = inst.state === "stopped" ? s : EbsEvolve.releaseNode(s, inst, at)
  next = EbsEvolve.onTerminated(next, inst.id)
  // Addresses: a system address goes back to the pool; an elastic one stays with its account, unassociated.
  next = { ...next, ...leaveAddress(next.network, next, inst) }
  if (inst.net.privateIp) next = { ...next, privateIps: sortedChange(next.privateIps, Ipv4.parse(inst.net.privateIp)!, -1) }
  const first = State.homeGroup(inst)
  if (first !== undefined) {
    const members = changeMembers(next.members, first, -1, inst.net.slot)
    next = { ...next, members }
    // The group's network goes back to the pool with its last instance.
    if (inst.net.vlan !== undefined && !HashMap.has(members, first)) next = updateGroup(next, first, (g) => ({ ...g, vlan: undefined }))
  }
  return next
}

export const evolve = (s: S, e: Events.Event): S => {
  switch (e._tag) {
    case "InstancesLaunched": {
      const woken = new Set<string>(e.woken)
      let nodes = s.nodes.slice()
      const indexOf = new Map(nodes.map((n, i) => [n.id as string, i]))
      for (const id of woken) {
        const i = indexOf.get(id)!
        nodes[i] = { ...nodes[i]!, state: "waking" }
      }
      let instances = s.instances
      let held: Held = s
      let members = s.members
      let privateIps = s.privateIps
      const first = e.request.groups[0]
      e.instances.forEach((x, k) => {
        if (first !== undefined) members = changeMembers(members, first, 1, x.slot)
        if (x.privateIp) privateIps = sortedChange(privateIps, Ipv4.parse(x.privateIp)!, 1)
        const i = indexOf.get(x.node)!
        const n = nodes[i]!
        nodes[i] = { ...n, used: Resources.add(n.used, e.request.size), instances: n.instances + 1, idleSince: undefined }
        instances = HashMap.set(instances, x.id, {
          id: x.id,
          seq: s.seq.instance + k + 1,
          reservationId: e.reservationId,
          account: e.account,
          zone: e.zone,
          node: x.node,
          vmType: e.request.vmType,
          size: e.request.size,
          imageId: e.request.imageId,
          kernelId: e.request.kernelId,
          ramdiskId: e.request.ramdiskId,
          keyName: e.request.keyName,
          userData: e.request.userData,
          groups: e.request.groups,
          launchIndex: x.launchIndex,
          addressing: e.request.addressing,
          clientToken: e.request.clientToken,
          lifetimeMs: e.request.lifetimeMs,
          ...(e.request.attributes !== undefined ? { attributes: e.request.attributes } : {}),
          state: Lifecycle.initial,
          launchedAt: e.at,
          dispatched: nodes[i]!.state === "up",
          net: { mac: x.mac, privateIp: x.privateIp, publicIp: x.publicIp, vlan: x.vlan, slot: x.slot },
          ...(e.request.ebsRoot !== undefined ? { ebsRoot: e.request.ebsRoot } : {})
        })
        // In SYSTEM and STATIC the "public" address is the private one: not from the public pool.
        if (x.publicIp !== undefined && (s.network.mode === "MANAGED" || s.network.mode === "MANAGED-NOVLAN")) {
          held = putAddress(s.network, held, { ip: x.publicIp, kind: "system", account: e.account, instance: x.id })
        }
      })
      let groups = s.groups
      for (const n of e.networks) groups = HashMap.modify(groups, n.group, (g) => ({ ...g, vlan: n.vlan }))
      return {
        ...s,
        nodes,
        instances,
        addresses: held.addresses,
        publicHeld: held.publicHeld,
        members,
        privateIps,
        groups,
        policyState: { ...s.policyState, [e.zone]: e.policyState },
        seq: { ...s.seq, instance: s.seq.instance + e.instances.length, reservation: s.seq.reservation + 1 }
      }
    }
    case "InstanceBooted":
      return transition(s, e.instance, e._tag, (x) => ({ ...x, runningAt: e.at }))
    case "InstanceRebootRequested":
      // running → running: nothing in the state changes (the reboot is an effect).
      Lifecycle.enter(e.instance, HashMap.unsafeGet(s.instances, e.instance).state, e._tag)
      return s
    case "InstanceAttributesChanged":
      return updateInstance(s, e.instance, (x) => ({ ...x, attributes: e.attributes }))
    case "InstanceGroupsChanged":
      return updateInstance(s, e.instance, (x) => ({ ...x, groups: e.groups, home: e.home }))
    case "InstancesTerminating": {
      let next = s
      for (const id of e.instances) next = transition(next, id, e._tag, (x) => ({ ...x, stateReason: e.reason }))
      return next
    }
    case "InstanceTerminated": {
      const inst = HashMap.unsafeGet(s.instances, e.instance)
      // Checked before anything is released: a second termination must not give capacity back twice.
      Lifecycle.enter(inst.id, inst.state, e._tag)
      const next = releaseInstance(s, inst, e.at)
      return transition(next, e.instance, e._tag, (x) => ({
        ...x,
        terminatedAt: e.at,
        stateReason: x.state === "shutting-down" && x.stateReason ? x.stateReason : e.reason,
        net: { ...x.net, publicIp: undefined }
      }))
    }
    case "InstancesForgotten": {
      let instances = s.instances
      for (const id of e.instances) instances = HashMap.remove(instances, id)
      return { ...s, instances }
    }
    case "NodeReported": {
      let next = updateNode(s, e.node, (n) => ({ ...n, state: "up", capacity: e.capacity }))
      for (const x of HashMap.values(next.instances)) {
        if (x.node === e.node && !x.dispatched && x.state !== "terminated") {
          next = updateInstance(next, x.id, (y) => ({ ...y, dispatched: true }))
        }
      }
      return next
    }
    case "NodePoweredDown":
      return updateNode(s, e.node, (n) => ({ ...n, state: "asleep" }))
    case "NodeLost":
      return updateNode(s, e.node, (n) => ({ ...n, state: "down" }))
    case "NodeAdded": {
      const node: State.NodeRuntime = {
        id: e.node,
        zone: e.zone,
        state: "down",
        capacity: e.capacity,
        used: Resources.zero,
        instances: 0,
        idleSince: e.at,
        group: 0,
        idleWatts: e.idleWatts,
        peakWatts: e.peakWatts
      }
      const z = s.zones.find((x) => x.name === e.zone)
      const nodes = s.nodes.slice()
      nodes.splice(z ? z.first + z.count : nodes.length, 0, node)
      const policyState = z ? s.policyState : { ...s.policyState, [e.zone]: undefined }
      return { ...s, nodes, zones: rebuildZones(nodes), policyState }
    }
    case "NodeRemoved": {
      const nodes = s.nodes.filter((n) => n.id !== e.node)
      return { ...s, nodes, zones: rebuildZones(nodes) }
    }
    case "GroupCreated":
      return {
        ...s,
        groups: HashMap.set(s.groups, e.group, { id: e.group, account: e.account, name: e.name, description: e.description, rules: [], egress: [SecurityGroup.ALLOW_ALL_EGRESS] }),
        seq: { ...s.seq, group: s.seq.group + 1 }
      }
    case "GroupDeleted":
      return { ...s, groups: HashMap.remove(s.groups, e.group) }
    case "IngressAuthorized":
      return updateGroup(s, e.group, (g) => ({ ...g, rules: [...g.rules, ...e.rules] }))
    case "IngressRevoked": {
      const gone = new Set(e.rules.map(SecurityGroup.ruleKey))
      return updateGroup(s, e.group, (g) => ({ ...g, rules: g.rules.filter((r) => !gone.has(SecurityGroup.ruleKey(r))) }))
    }
    case "EgressAuthorized":
      return updateGroup(s, e.group, (g) => ({ ...g, egress: [...g.egress, ...e.rules] }))
    case "EgressRevoked": {
      const gone = new Set(e.rules.map(SecurityGroup.ruleKey))
      return updateGroup(s, e.group, (g) => ({ ...g, egress: g.egress.filter((r) => !gone.has(SecurityGroup.ruleKey(r))) }))
    }
    case "AddressAllocated":
      return {
        ...s,
        ...putAddress(s.network, s, { ip: e.ip, kind: "elastic", account: e.account, allocationId: e.allocationId }),
        seq: { ...s.seq, allocation: s.seq.allocation + 1 }
      }
    case "AddressAssociated": {
      const inst = HashMap.unsafeGet(s.instances, e.instance)
      // The instance's previous public address: a system one returns to the pool, an elastic one is unassociated.
      const held = leaveAddress(s.network, s, inst)
      return {
        ...s,
        addresses: HashMap.modify(held.addresses, e.ip, (a) => ({ ...a, instance: e.instance, associationId: e.associationId })),
        publicHeld: held.publicHeld,
        instances: HashMap.modify(s.instances, e.instance, (x) => ({ ...x, net: { ...x.net, publicIp: e.ip } })),
        seq: { ...s.seq, association: s.seq.association + 1 }
      }
    }
    case "AddressDisassociated": {
      let held: Held = { addresses: HashMap.modify(s.addresses, e.ip, (a) => ({ ...a, instance: undefined, associationId: undefined })), publicHeld: s.publicHeld }
      const inst = HashMap.unsafeGet(s.instances, e.instance)
      if (e.replacement !== undefined) {
        held = putAddress(s.network, held, { ip: e.replacement, kind: "system", account: inst.account, instance: inst.id })
      }
      return {
        ...s,
        ...held,
        instances: HashMap.modify(s.instances, e.instance, (x) => ({ ...x, net: { ...x.net, publicIp: e.replacement } }))
      }
    }
    case "AddressReleased":
      return { ...s, ...dropAddress(s.network, s, e.ip) }
    case "PolicyChanged": {
      const policyState: Record<string, unknown> = {}
      for (const z of s.zones) policyState[z.name] = e.initial
      return { ...s, policyName: e.policy, policyState }
    }
    case "VmTypesChanged":
      return {
        ...s,
        vmTypes: e.vmTypes.map((t) => ({
          name: t.name as VmType.VmTypeName,
          cores: Units.vcpu(t.cores),
          memoryMiB: Units.mib(t.memoryMiB),
          diskGiB: Units.gib(t.diskGiB)
        }))
      }
    default:
      return EbsEvolve.evolve(s, e)
  }
}

export const evolveAll = (s: S, events: ReadonlyArray<Events.Event>): S => events.reduce(evolve, s)

