/** Applies one event to the state. Total: every event the decider emits applies to the state it was decided on. */
import { HashMap } from "effect"
import type * as Events from "./Events.js"
import type * as Ids from "./Ids.js"
import * as Resources from "./Resources.js"
import * as SecurityGroup from "./SecurityGroup.js"
import type * as State from "./State.js"
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

const updateGroup = (s: S, id: Ids.GroupId, f: (g: SecurityGroup.Group) => SecurityGroup.Group): S => ({
  ...s,
  groups: HashMap.modify(s.groups, id, f)
})

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
  let slots = was._tag === "Some" ? was.value.slots : []
  if (slot !== undefined) {
    if (delta > 0) {
      let k = slots.length
      while (k > 0 && slots[k - 1]! > slot) k--
      slots = [...slots.slice(0, k), slot, ...slots.slice(k)]
    } else {
      const k = slots.indexOf(slot)
      if (k >= 0) slots = [...slots.slice(0, k), ...slots.slice(k + 1)]
    }
  }
  return HashMap.set(members, g, { live, slots })
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
  // Capacity.
  let next = updateNode(s, inst.node, (n) => {
    const instances = n.instances - 1
    return {
      ...n,
      used: Resources.make(n.used.cores - inst.size.cores, n.used.memoryMiB - inst.size.memoryMiB, n.used.diskGiB - inst.size.diskGiB),
      instances,
      idleSince: instances === 0 ? at : n.idleSince
    }
  })
  // Addresses: a system address goes back to the pool; an elastic one stays with its account, unassociated.
  let addresses = next.addresses
  for (const a of HashMap.values(next.addresses)) {
    if (a.instance !== inst.id) continue
    addresses = a.kind === "system"
      ? HashMap.remove(addresses, a.ip)
      : HashMap.set(addresses, a.ip, { ...a, instance: undefined, associationId: undefined })
  }
  next = { ...next, addresses }
  const first = inst.groups[0]
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
      let addresses = s.addresses
      let members = s.members
      const first = e.request.groups[0]
      e.instances.forEach((x, k) => {
        if (first !== undefined) members = changeMembers(members, first, 1, x.slot)
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
          state: "pending",
          launchedAt: e.at,
          dispatched: nodes[i]!.state === "up",
          net: { mac: x.mac, privateIp: x.privateIp, publicIp: x.publicIp, vlan: x.vlan, slot: x.slot }
        })
        // In SYSTEM and STATIC the "public" address is the private one: not from the public pool.
        if (x.publicIp !== undefined && (s.network.mode === "MANAGED" || s.network.mode === "MANAGED-NOVLAN")) {
          addresses = HashMap.set(addresses, x.publicIp, { ip: x.publicIp, kind: "system", account: e.account, instance: x.id })
        }
      })
      let groups = s.groups
      for (const n of e.networks) groups = HashMap.modify(groups, n.group, (g) => ({ ...g, vlan: n.vlan }))
      return {
        ...s,
        nodes,
        instances,
        addresses,
        members,
        groups,
        policyState: { ...s.policyState, [e.zone]: e.policyState },
        seq: { ...s.seq, instance: s.seq.instance + e.instances.length, reservation: s.seq.reservation + 1 }
      }
    }
    case "InstanceBooted":
      return updateInstance(s, e.instance, (x) => ({ ...x, state: "running", runningAt: e.at }))
    case "InstanceRebootRequested":
      return s
    case "InstancesTerminating": {
      let next = s
      for (const id of e.instances) next = updateInstance(next, id, (x) => ({ ...x, state: "shutting-down", stateReason: e.reason }))
      return next
    }
    case "InstanceTerminated": {
      const inst = HashMap.unsafeGet(s.instances, e.instance)
      const next = releaseInstance(s, inst, e.at)
      return updateInstance(next, e.instance, (x) => ({
        ...x,
        state: "terminated",
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
        groups: HashMap.set(s.groups, e.group, { id: e.group, account: e.account, name: e.name, description: e.description, rules: [] }),
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
    case "AddressAllocated":
      return {
        ...s,
        addresses: HashMap.set(s.addresses, e.ip, { ip: e.ip, kind: "elastic", account: e.account, allocationId: e.allocationId }),
        seq: { ...s.seq, allocation: s.seq.allocation + 1 }
      }
    case "AddressAssociated": {
      const inst = HashMap.unsafeGet(s.instances, e.instance)
      let addresses = s.addresses
      // The instance's previous public address: a system one returns to the pool, an elastic one is unassociated.
      for (const a of HashMap.values(addresses)) {
        if (a.instance !== inst.id) continue
        addresses = a.kind === "system"
          ? HashMap.remove(addresses, a.ip)
          : HashMap.set(addresses, a.ip, { ...a, instance: undefined, associationId: undefined })
      }
      addresses = HashMap.modify(addresses, e.ip, (a) => ({ ...a, instance: e.instance, associationId: e.associationId }))
      return {
        ...s,
        addresses,
        instances: HashMap.modify(s.instances, e.instance, (x) => ({ ...x, net: { ...x.net, publicIp: e.ip } })),
        seq: { ...s.seq, association: s.seq.association + 1 }
      }
    }
    case "AddressDisassociated": {
      let addresses = HashMap.modify(s.addresses, e.ip, (a) => ({ ...a, instance: undefined, associationId: undefined }))
      const inst = HashMap.unsafeGet(s.instances, e.instance)
      if (e.replacement !== undefined) {
        addresses = HashMap.set(addresses, e.replacement, { ip: e.replacement, kind: "system", account: inst.account, instance: inst.id })
      }
      return {
        ...s,
        addresses,
        instances: HashMap.modify(s.instances, e.instance, (x) => ({ ...x, net: { ...x.net, publicIp: e.replacement } }))
      }
    }
    case "AddressReleased":
      return { ...s, addresses: HashMap.remove(s.addresses, e.ip) }
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
  }
}

export const evolveAll = (s: S, events: ReadonlyArray<Events.Event>): S => events.reduce(evolve, s)

