/**
 * The decider: `decide(context, state, command)` → events, a rejection with its reason, or a question
 * for the shell (an external placement program). Pure: the time is in the command, ids come from the
 * state's sequences, and every choice has a stated tie-break.
 */
import { HashMap } from "effect"
import * as Capacity from "./Capacity.js"
import type * as Commands from "./Commands.js"
import * as EbsDecide from "./EbsDecide.js"
import type * as Events from "./Events.js"
import { evolve } from "./Evolve.js"
import * as Ids from "./Ids.js"
import * as Ipv4 from "./Ipv4.js"
import * as LaunchPlan from "./LaunchPlan.js"
import * as Lifecycle from "./Lifecycle.js"
import * as Network from "./Network.js"
import type * as Policy from "./Policy.js"
import type { Rejection } from "./Rejection.js"
import * as Resources from "./Resources.js"
import * as SecurityGroup from "./SecurityGroup.js"
import * as State from "./State.js"
import * as Units from "./Units.js"
import * as VmType from "./VmType.js"

export type Decision =
  | { readonly _tag: "Accepted"; readonly events: ReadonlyArray<Events.Event> }
  | { readonly _tag: "Rejected"; readonly rejection: Rejection }
  /** Run the external program and decide again with its exit code appended to `answers`. */
  | { readonly _tag: "Consult"; readonly query: Policy.ExternalQuery; readonly index: number }

/** A policy returned a node it must not use (a defect in the policy; see LaunchPlan). */
export const PolicyDefect = LaunchPlan.PolicyDefect
export type PolicyDefect = LaunchPlan.PolicyDefect

export interface Context {
  readonly policy: Policy.Policy<any>
}

type S = State.State

const accept = (events: ReadonlyArray<Events.Event>): Decision => ({ _tag: "Accepted", events })
const reject = (rejection: Rejection): Decision => ({ _tag: "Rejected", rejection })

export const USER_SHUTDOWN = { code: "Client.UserInitiatedShutdown", message: "Client.UserInitiatedShutdown: User initiated shutdown" }
export const internalError = (message: string) => ({ code: "Server.InternalError", message: `Server.InternalError: ${message}` })
/** Terminated instances stay visible this long, then are forgotten (Eucalyptus's BURY_TIME). */
export const FORGET_AFTER_MS = 3_600_000

const EUCA_INSTANCE_STATE: Record<string, string> = { pending: "Pending", running: "Extant", "shutting-down": "Teardown", terminated: "Teardown" }

/** Eucalyptus's instances file for USER: `id,state,nchost,mem,disk,cores,secgroupidx,publicip,privateip` per live instance of the zone. */
export const instancesFile = (s: S, zone: string): string => {
  let out = ""
  for (const i of State.liveInstances(s)) {
    if (i.zone !== zone) continue
    out += `${i.id},${EUCA_INSTANCE_STATE[i.state]},${i.node},${i.size.memoryMiB},${i.size.diskGiB},${i.size.cores},` +
      `${i.net.vlan ?? 0},${i.net.publicIp ?? "0.0.0.0"},${i.net.privateIp ?? "0.0.0.0"}\n`
  }
  return out
}

// ---------------------------------------------------------------------------------------------
// Network assignment for a launch

/** What the network assigns the instances of a launch, and the network a group takes with its first instance. */
interface Assigned {
  readonly instances: Array<Omit<Events.LaunchedInstance, "id" | "node" | "launchIndex">>
  readonly networks: Array<{ readonly group: Ids.GroupId; readonly vlan: number }>
}

const usedVlans = (s: S): Set<number> => {
  const used = new Set<number>()
  for (const g of HashMap.values(s.groups)) if (g.vlan !== undefined) used.add(g.vlan)
  return used
}

/** The planner's network allocator over the state's address sets; instance k of the launch will be `idsOf(k)`. */
const planNetwork = (
  s: S,
  group: SecurityGroup.Group,
  addressing: "public" | "private",
  idsOf: (k: number) => Ids.InstanceId
): LaunchPlan.NetworkAllocator<Assigned, Rejection> => {
  const net = s.network
  switch (net.mode) {
    case "SYSTEM": {
      // The site's DHCP hands out addresses; we simulate it with the lowest free host of the subnet.
      const used = new Set<number>()
      for (const ip of s.privateIps) used.add(ip - net.subnet.base)
      const hostMax = Ipv4.size(net.subnet) - 2
      return {
        max: Math.max(0, hostMax - 1 - used.size),
        rejection: () => ({ _tag: "NoStaticAddress", detail: `the SYSTEM subnet ${Ipv4.formatCidr(net.subnet)} is full` }),
        assign: (count) => {
          const instances = []
          for (let k = 0; k < count; k++) {
            const idx = Network.lowestFree(used, 2, hostMax)!
            used.add(idx)
            const ip = Ipv4.format(net.subnet.base + idx)
            instances.push({ mac: Ids.macOf(idsOf(k)), privateIp: ip, publicIp: ip })
          }
          return { instances, networks: [] }
        }
      }
    }
    case "STATIC": {
      const usedIps = new Set<number>(s.privateIps)
      const free = net.macMap.filter((e) => !usedIps.has(Ipv4.parse(e.ip)!))
      return {
        max: free.length,
        rejection: () => ({ _tag: "NoStaticAddress", detail: `all ${net.macMap.length} entries of the MAC map are in use` }),
        assign: (count) => ({
          instances: free.slice(0, count).map((e) => ({ mac: e.mac, privateIp: e.ip, publicIp: e.ip })),
          networks: []
        })
      }
    }
    case "MANAGED":
    case "MANAGED-NOVLAN": {
      let vlan = group.vlan
      const networks: Array<{ group: Ids.GroupId; vlan: number }> = []
      if (vlan === undefined) {
        vlan = Network.lowestFree(usedVlans(s), net.vlanMin, net.vlanMax)
        if (vlan === undefined) {
          return {
            max: 0,
            rejection: () => ({ _tag: "NoVlanAvailable", detail: `all VLANs ${net.vlanMin}…${net.vlanMax} are held by active security groups` }),
            assign: () => ({ instances: [], networks: [] })
          }
        }
        networks.push({ group: group.id, vlan })
      }
      const v = vlan
      const usedSlots = new Set<number>(State.members(s, group.id).slots)
      const slotsFree = Network.slotsPerNetwork(net) - usedSlots.size
      const wantsPublic = addressing === "public"
      const publicLimit = wantsPublic && net.onPublicExhausted === "reject" ? State.freePublicCount(s) : Number.POSITIVE_INFINITY
      const max = Math.min(slotsFree, publicLimit)
      // Whichever limit binds names the rejection.
      const rejection: Rejection = slotsFree <= publicLimit
        ? { _tag: "SubnetFull", group: group.id, detail: `${Network.slotsPerNetwork(net)} instance slots per security group (addressesPerNetwork ${net.addressesPerNetwork}), all in use` }
        : { _tag: "NoPublicAddress", detail: `all ${net.publicIps.length} public addresses are in use (launch with private addressing to go without)` }
      return {
        max,
        rejection: () => rejection,
        assign: (count) => {
          const instances = []
          const freePublic = wantsPublic ? State.freePublicIps(s, count) : []
          for (let k = 0; k < count; k++) {
            const slot = Network.lowestFree(usedSlots, Network.firstSlot, Network.lastSlot(net))!
            usedSlots.add(slot)
            const publicIp = wantsPublic ? freePublic[k] : undefined
            instances.push({ mac: Ids.macOf(idsOf(k)), privateIp: Network.slotAddress(net, v, slot), publicIp, vlan: v, slot })
          }
          return { instances, networks }
        }
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Commands

const resolveGroup = (s: S, account: string, ref: { readonly id?: string | undefined; readonly name?: string | undefined }) => {
  if (ref.id !== undefined) {
    const g = State.group(s, ref.id)
    return g && g.account === account ? g : undefined
  }
  return ref.name === undefined ? undefined : State.groupByName(s, account, ref.name)
}

const runInstances = (ctx: Context, s0: S, c: Commands.RunInstances): Decision => {
  if (!Number.isInteger(c.minCount) || c.minCount < 1) {
    return reject({ _tag: "InvalidRequest", field: "MinCount", message: `must be an integer ≥ 1, got ${c.minCount}` })
  }
  if (!Number.isInteger(c.maxCount) || c.maxCount < c.minCount) {
    return reject({ _tag: "InvalidRequest", field: "MaxCount", message: `must be an integer ≥ MinCount (${c.minCount}), got ${c.maxCount}` })
  }
  let size: Resources.Resources
  let vmType: string
  if (c.size !== undefined) {
    size = c.size
    vmType = c.vmType ?? "custom"
    if (size.cores <= 0 && size.memoryMiB <= 0 && size.diskGiB <= 0) {
      return reject({ _tag: "InvalidRequest", field: "size", message: "an instance needs at least one core, MiB or GiB" })
    }
  } else {
    const t = VmType.find(s0.vmTypes, c.vmType ?? VmType.defaultTypeName)
    if (!t) return reject({ _tag: "UnknownVmType", name: c.vmType ?? VmType.defaultTypeName })
    size = VmType.size(t)
    vmType = t.name
  }

  // Security groups; none named means the account's default group, made on first use.
  const pre: Array<Events.Event> = []
  let s = s0
  const groups: Array<SecurityGroup.Group> = []
  for (const id of c.groupIds ?? []) {
    const g = resolveGroup(s, c.account, { id })
    if (!g) return reject({ _tag: "GroupNotFound", group: id })
    groups.push(g)
  }
  for (const name of c.groupNames ?? []) {
    const g = resolveGroup(s, c.account, { name })
    if (!g) return reject({ _tag: "GroupNotFound", group: name })
    if (!groups.some((x) => x.id === g.id)) groups.push(g)
  }
  if (groups.length === 0) {
    let g = State.groupByName(s, c.account, SecurityGroup.DEFAULT_GROUP)
    if (!g) {
      const e: Events.Event = {
        _tag: "GroupCreated",
        at: c.at,
        group: Ids.groupId(s.seq.group + 1),
        account: c.account,
        name: SecurityGroup.DEFAULT_GROUP,
        description: "default group"
      }
      pre.push(e)
      s = evolve(s, e)
      g = State.groupByName(s, c.account, SecurityGroup.DEFAULT_GROUP)!
    }
    groups.push(g)
  }

  // Zone, network and storage bounds, all-or-nothing placement and wake-ups: the launch planner.
  const views = s.zones.map((z) => new Capacity.ArrayCapacity(State.nodeRows(s, z), ctx.policy.ratios))
  const addressing = c.addressing ?? "public"
  const ids = (k: number) => Ids.instanceId(s.seq.instance + k + 1)
  // The instances' volumes, once the zone is known.
  let volumes: EbsDecide.LaunchPlan["events"] = () => []
  const plan = LaunchPlan.planLaunch(LaunchPlan.plainZones(s.zones.map((z) => z.name), views), {
    policy: ctx.policy,
    size,
    minCount: c.minCount,
    maxCount: c.maxCount,
    zone: c.zone,
    network: planNetwork(s, groups[0]!, addressing, ids),
    // What the zone's storage controller can hold of the instances' volumes (EBS).
    storage: (z) => {
      const ebs = EbsDecide.launchPlan(s, c, s.zones[z]!.name)
      if ("invalid" in ebs) return ebs
      volumes = ebs.events
      return { max: ebs.max, rejection: () => ebs.rejection! }
    },
    policyState: (z) => s.policyState[s.zones[z]!.name] ?? ctx.policy.initial,
    context: (z, k, answers) => ({ index: k, instanceId: ids(k), answers, instancesFile: () => instancesFile(s, s.zones[z]!.name) }),
    answers: c.answers ?? []
  })
  switch (plan._tag) {
    case "UnknownZone":
      return reject({ _tag: "UnknownZone", zone: plan.zone })
    case "Refused":
      return reject(plan.rejection)
    case "Consult":
      return { _tag: "Consult", query: plan.query, index: plan.index }
    case "InsufficientCapacity":
      return reject({ _tag: "InsufficientCapacity", zone: s.zones[plan.zone]!.name, requested: c.minCount, placeable: plan.placeable, detail: plan.reason })
    case "Placed":
      break
  }
  const zone = s.zones[plan.zone]!
  const view = views[plan.zone]!
  const nodes = plan.nodes
  const woken = plan.woken.map((i) => view.id(i))
  const pstate = plan.policyState
  const assigned = plan.assigned
  const idList = nodes.map((_, k) => ids(k))
  const launched: Events.Event = {
    _tag: "InstancesLaunched",
    at: c.at,
    account: c.account,
    reservationId: Ids.reservationId(s.seq.reservation + 1),
    zone: zone.name,
    request: {
      imageId: c.imageId,
      vmType,
      size,
      kernelId: c.kernelId,
      ramdiskId: c.ramdiskId,
      keyName: c.keyName,
      userData: c.userData,
      groups: groups.map((g) => g.id),
      addressing,
      clientToken: c.clientToken,
      lifetimeMs: c.lifetimeMs,
      ...(c.ebsRoot !== undefined ? { ebsRoot: c.ebsRoot } : {}),
      ...(c.attributes !== undefined ? { attributes: c.attributes } : {})
    },
    instances: nodes.map((i, k) => ({ id: idList[k]!, node: view.id(i), launchIndex: k, ...assigned.instances[k]! })),
    woken,
    networks: assigned.networks,
    policyState: pstate
  }
  // The instances' volumes come first: the start effects carry them.
  return accept([...pre, ...volumes(idList, c.at), launched])
}

const owned = (s: S, account: string | undefined, ids: ReadonlyArray<string>) => {
  const found: Array<State.Instance> = []
  const missing: Array<string> = []
  for (const id of ids) {
    const i = State.instance(s, id)
    if (i && (account === undefined || i.account === account)) found.push(i)
    else missing.push(id)
  }
  return { found, missing }
}

const terminate = (s: S, c: Commands.TerminateInstances): Decision => {
  const { found, missing } = owned(s, c.account, c.instanceIds)
  if (missing.length > 0) return reject({ _tag: "InstanceNotFound", ids: missing })
  // The owner's termination protection; the operator and the simulator (no account) are not held by it.
  const held = c.account === undefined ? undefined : found.find((i) => i.attributes?.disableApiTermination === true && (i.state === "pending" || i.state === "running"))
  if (held !== undefined) {
    return reject({ _tag: "OperationNotPermitted", instance: held.id, detail: "termination is disabled (disableApiTermination); modify the attribute first" })
  }
  const reason = c.reason ?? USER_SHUTDOWN
  const events: Array<Events.Event> = []
  const stopping: Array<Ids.InstanceId> = []
  const seen = new Set<string>()
  for (const i of found) {
    if (seen.has(i.id)) continue
    seen.add(i.id)
    // A stopped (EBS) instance has no VM: it is gone at once; a stopping one's VM is already going away.
    if (i.state === "stopped") {
      events.push({ _tag: "InstanceTerminated", at: c.at, instance: i.id, reason })
      continue
    }
    if (i.state !== "pending" && i.state !== "running" && i.state !== "stopping") continue
    // Never started (its node is still waking): nothing to stop, it is gone at once.
    if (!i.dispatched) events.push({ _tag: "InstanceTerminated", at: c.at, instance: i.id, reason })
    else stopping.push(i.id)
  }
  if (stopping.length > 0) events.unshift({ _tag: "InstancesTerminating", at: c.at, instances: stopping, reason })
  return accept(events)
}

const modifyAttributes = (s: S, c: Commands.ModifyInstanceAttributes): Decision => {
  const i = State.instance(s, c.instanceId)
  if (!i || i.account !== c.account) return reject({ _tag: "InstanceNotFound", ids: [c.instanceId] })
  if (i.state === "terminated" || i.state === "shutting-down") return reject({ _tag: "IncorrectInstanceState", instance: i.id, state: i.state, action: "modify" })
  // No instance stops yet (instance-store roots): such a change is refused as EC2 refuses it for a running one.
  if (c.whileStopped !== undefined) {
    return reject({ _tag: "IncorrectInstanceState", instance: i.id, state: i.state, action: `change ${c.whileStopped} of (it must be stopped)` })
  }
  const attributes = { ...i.attributes, ...c.attributes }
  return accept([{ _tag: "InstanceAttributesChanged", at: c.at, instance: i.id, attributes }])
}

/** EC2 allows this many security groups per network interface. */
export const MAX_GROUPS = 5

const modifyGroups = (s: S, c: Commands.ModifyInstanceGroups): Decision => {
  const i = State.instance(s, c.instanceId)
  if (!i || i.account !== c.account) return reject({ _tag: "InstanceNotFound", ids: [c.instanceId] })
  if (i.state === "terminated" || i.state === "shutting-down") return reject({ _tag: "IncorrectInstanceState", instance: i.id, state: i.state, action: "change the security groups of" })
  if (c.groupIds.length === 0) return reject({ _tag: "InvalidRequest", field: "GroupId", message: "name at least one security group" })
  const groups: Array<Ids.GroupId> = []
  for (const id of c.groupIds) {
    const g = resolveGroup(s, c.account, { id })
    if (!g) return reject({ _tag: "GroupNotFound", group: id })
    if (!groups.includes(g.id)) groups.push(g.id)
  }
  if (groups.length > MAX_GROUPS) return reject({ _tag: "InvalidRequest", field: "GroupId", message: `at most ${MAX_GROUPS} security groups per instance, got ${groups.length}` })
  if (groups.length === i.groups.length && groups.every((g, k) => i.groups[k] === g)) return accept([])
  // The instance keeps its address: it stays in the network of the group it was launched in.
  const home = State.homeGroup(i)!
  return accept([{ _tag: "InstanceGroupsChanged", at: c.at, instance: i.id, groups, home }])
}

const reboot = (s: S, c: Commands.RebootInstances): Decision => {
  const { found, missing } = owned(s, c.account, c.instanceIds)
  if (missing.length > 0) return reject({ _tag: "InstanceNotFound", ids: missing })
  for (const i of found) {
    if (i.state !== "running") return reject({ _tag: "IncorrectInstanceState", instance: i.id, state: i.state, action: "reboot" })
  }
  // Several reboots of one instance in one call are one reboot (Eucalyptus's simultaneous-reboot race, EUCA-13445).
  const ids = [...new Set(found.map((i) => i.id))]
  return accept(ids.map((id) => ({ _tag: "InstanceRebootRequested", at: c.at, instance: id })))
}

const nodeLost = (s: S, c: Commands.NodeLost): Decision => {
  const n = s.nodes.find((x) => x.id === c.nodeId)
  if (!n) return reject({ _tag: "NodeNotFound", node: c.nodeId })
  const events: Array<Events.Event> = []
  for (const i of State.liveInstances(s)) {
    if (i.node === n.id && i.state !== "stopped") events.push({ _tag: "InstanceTerminated", at: c.at, instance: i.id, reason: internalError(`node ${n.id} lost: ${c.reason}`) })
  }
  if (n.state !== "down" || events.length > 0) events.push({ _tag: "NodeLost", at: c.at, node: n.id, reason: c.reason })
  return accept(events)
}

const tick = (ctx: Context, s: S, c: Commands.Tick): Decision => {
  const events: Array<Events.Event> = []
  const power = ctx.policy.power
  if (power) {
    for (const n of s.nodes) {
      if (n.state === "up" && n.instances === 0 && n.idleSince !== undefined && c.at - n.idleSince > power.idleThresholdMs) {
        events.push({ _tag: "NodePoweredDown", at: c.at, node: n.id })
      }
    }
  }
  const forget: Array<Ids.InstanceId> = []
  for (const i of HashMap.values(s.instances)) {
    if (i.state === "terminated" && i.terminatedAt !== undefined && c.at - i.terminatedAt >= FORGET_AFTER_MS) forget.push(i.id)
  }
  if (forget.length > 0) events.push({ _tag: "InstancesForgotten", at: c.at, instances: forget.sort() })
  return accept(events)
}

const validPorts = (r: Commands.RuleInput): string | undefined => {
  if (r.protocol === "tcp" || r.protocol === "udp") {
    if (!Number.isInteger(r.fromPort) || !Number.isInteger(r.toPort) || r.fromPort < 0 || r.toPort > 65535 || r.fromPort > r.toPort) {
      return `ports ${r.fromPort}-${r.toPort}: need 0 ≤ from ≤ to ≤ 65535`
    }
  } else if (r.protocol === "icmp") {
    if (!Number.isInteger(r.fromPort) || !Number.isInteger(r.toPort) || r.fromPort < -1 || r.fromPort > 255 || r.toPort < -1 || r.toPort > 255) {
      return `icmp type ${r.fromPort} code ${r.toPort}: each must be −1 (any) or 0…255`
    }
  }
  return undefined
}

const resolveRules = (
  s: S,
  account: string,
  inputs: ReadonlyArray<Commands.RuleInput>
): { readonly rules: Array<SecurityGroup.Rule> } | { readonly rejection: Rejection } => {
  if (inputs.length === 0) return { rejection: { _tag: "InvalidRequest", field: "IpPermissions", message: "no rule given" } }
  const rules: Array<SecurityGroup.Rule> = []
  for (const r of inputs) {
    const bad = validPorts(r)
    if (bad) return { rejection: { _tag: "InvalidRequest", field: "IpPermissions", message: bad } }
    const all = r.protocol === "all"
    const fromPort = all ? -1 : r.fromPort
    const toPort = all ? -1 : r.toPort
    let source: SecurityGroup.Source
    if (r.source._tag === "Cidr") {
      const c = Ipv4.parseCidr(r.source.cidr)
      if (!c) return { rejection: { _tag: "InvalidRequest", field: "CidrIp", message: `"${r.source.cidr}" is not an IPv4 CIDR block` } }
      source = { _tag: "Cidr", cidr: Ipv4.formatCidr(c) }
    } else {
      const owner = r.source.account ?? account
      const g = r.source.groupId !== undefined
        ? State.group(s, r.source.groupId)
        : r.source.groupName !== undefined
          ? State.groupByName(s, owner, r.source.groupName)
          : undefined
      // Another account's group must be named with its owner (EC2's UserIdGroupPairs.UserId).
      if (!g || (r.source.account !== undefined && g.account !== r.source.account) || (g.account !== account && r.source.account === undefined)) {
        return { rejection: { _tag: "GroupNotFound", group: r.source.groupId ?? r.source.groupName ?? "(none)" } }
      }
      source = { _tag: "Group", groupId: g.id }
    }
    rules.push({ protocol: r.protocol, fromPort, toPort, source })
  }
  return { rules }
}

const groupRef = (c: { readonly groupId?: string | undefined; readonly groupName?: string | undefined }) => c.groupId ?? c.groupName ?? "(none)"

/** Ingress (`rules`) or egress (`egress`): the same decisions on either list of a group. */
type Side = "rules" | "egress"
const authorizedEvent = (side: Side, at: Units.Millis, group: Ids.GroupId, rules: Array<SecurityGroup.Rule>): Events.Event =>
  side === "rules" ? { _tag: "IngressAuthorized", at, group, rules } : { _tag: "EgressAuthorized", at, group, rules }
const revokedEvent = (side: Side, at: Units.Millis, group: Ids.GroupId, rules: Array<SecurityGroup.Rule>): Events.Event =>
  side === "rules" ? { _tag: "IngressRevoked", at, group, rules } : { _tag: "EgressRevoked", at, group, rules }

type RuleCommand = Commands.AuthorizeIngress | Commands.RevokeIngress | Commands.AuthorizeEgress | Commands.RevokeEgress

const authorize = (s: S, c: RuleCommand, side: Side): Decision => {
  const g = resolveGroup(s, c.account, { id: c.groupId, name: c.groupName })
  if (!g) return reject({ _tag: "GroupNotFound", group: groupRef(c) })
  const r = resolveRules(s, c.account, c.rules)
  if ("rejection" in r) return reject(r.rejection)
  const keys = new Set(g[side].map(SecurityGroup.ruleKey))
  for (const rule of r.rules) {
    const k = SecurityGroup.ruleKey(rule)
    if (keys.has(k)) return reject({ _tag: "DuplicateRule", group: g.id, rule: k })
    keys.add(k)
  }
  return accept([authorizedEvent(side, c.at, g.id, r.rules)])
}

const revoke = (s: S, c: RuleCommand, side: Side): Decision => {
  const g = resolveGroup(s, c.account, { id: c.groupId, name: c.groupName })
  if (!g) return reject({ _tag: "GroupNotFound", group: groupRef(c) })
  const r = resolveRules(s, c.account, c.rules)
  if ("rejection" in r) return reject(r.rejection)
  const keys = new Set(g[side].map(SecurityGroup.ruleKey))
  for (const rule of r.rules) {
    const k = SecurityGroup.ruleKey(rule)
    if (!keys.has(k)) return reject({ _tag: "RuleNotFound", group: g.id, rule: k })
  }
  return accept([revokedEvent(side, c.at, g.id, r.rules)])
}

const needsManaged = (s: S, field: string): Decision | undefined =>
  Network.isManaged(s.network)
    ? undefined
    : reject({ _tag: "InvalidRequest", field, message: `elastic addresses need a MANAGED or MANAGED-NOVLAN network; this cloud runs ${s.network.mode}` })

const elastic = (s: S, account: string, ip: string | undefined, allocationId: string | undefined): State.Address | undefined => {
  const a = ip !== undefined ? State.address(s, ip) : allocationId !== undefined ? State.addressByAllocation(s, allocationId) : undefined
  return a && a.kind === "elastic" && a.account === account ? a : undefined
}

/** The public address an instance falls back to when its elastic address leaves (EC2-classic / Eucalyptus). */
const replacementFor = (s: S, inst: State.Instance): string | undefined =>
  inst.addressing === "public" && inst.state !== "terminated" && inst.state !== "shutting-down" ? State.freePublicIps(s, 1)[0] : undefined

const associate = (s: S, c: Commands.AssociateAddress): Decision => {
  const no = needsManaged(s, "PublicIp")
  if (no) return no
  const a = elastic(s, c.account, c.publicIp, c.allocationId)
  if (!a) return reject({ _tag: "AddressNotFound", address: c.publicIp ?? c.allocationId ?? "(none)" })
  const inst = State.instance(s, c.instanceId)
  if (!inst || inst.account !== c.account) return reject({ _tag: "InstanceNotFound", ids: [c.instanceId] })
  if (inst.state !== "pending" && inst.state !== "running") {
    return reject({ _tag: "IncorrectInstanceState", instance: inst.id, state: inst.state, action: "associate an address with" })
  }
  if (a.instance === inst.id) return accept([])
  const events: Array<Events.Event> = []
  if (a.instance !== undefined) {
    if (c.allowReassociation === false) return reject({ _tag: "AddressInUse", address: a.ip, detail: `associated with ${a.instance}` })
    const old = State.instance(s, a.instance)!
    events.push({ _tag: "AddressDisassociated", at: c.at, ip: a.ip, instance: old.id, replacement: replacementFor(s, old) })
  }
  events.push({ _tag: "AddressAssociated", at: c.at, ip: a.ip, instance: inst.id, associationId: Ids.associationId(s.seq.association + 1) })
  return accept(events)
}

const disassociate = (s: S, c: Commands.DisassociateAddress): Decision => {
  const no = needsManaged(s, "PublicIp")
  if (no) return no
  const a = c.publicIp !== undefined ? State.address(s, c.publicIp) : c.associationId !== undefined ? State.addressByAssociation(s, c.associationId) : undefined
  if (!a || a.kind !== "elastic" || a.account !== c.account) {
    return reject({ _tag: "AddressNotFound", address: c.publicIp ?? c.associationId ?? "(none)" })
  }
  if (a.instance === undefined) return accept([])
  const inst = State.instance(s, a.instance)!
  return accept([{ _tag: "AddressDisassociated", at: c.at, ip: a.ip, instance: inst.id, replacement: replacementFor(s, inst) }])
}

const release = (s: S, c: Commands.ReleaseAddress): Decision => {
  const no = needsManaged(s, "PublicIp")
  if (no) return no
  const a = elastic(s, c.account, c.publicIp, c.allocationId)
  if (!a) return reject({ _tag: "AddressNotFound", address: c.publicIp ?? c.allocationId ?? "(none)" })
  const events: Array<Events.Event> = []
  if (a.instance !== undefined) {
    const inst = State.instance(s, a.instance)!
    events.push({ _tag: "AddressDisassociated", at: c.at, ip: a.ip, instance: inst.id, replacement: replacementFor(s, inst) })
  }
  events.push({ _tag: "AddressReleased", at: c.at, ip: a.ip })
  return accept(events)
}

const GROUP_NAME = /^[\x20-\x7e]{1,255}$/

export const decide = (ctx: Context, s: S, c: Commands.Command): Decision => {
  switch (c._tag) {
    case "RunInstances":
      return runInstances(ctx, s, c)
    case "TerminateInstances":
      return terminate(s, c)
    case "ModifyInstanceAttributes":
      return modifyAttributes(s, c)
    case "ModifyInstanceGroups":
      return modifyGroups(s, c)
    case "RebootInstances":
      return reboot(s, c)
    case "InstanceBooted": {
      const i = State.instance(s, c.instanceId)
      if (!i) return reject({ _tag: "InstanceNotFound", ids: [c.instanceId] })
      // A boot reported after a terminate (or twice) changes nothing: observations may arrive late.
      return accept(Lifecycle.after(i.state, "InstanceBooted") !== undefined ? [{ _tag: "InstanceBooted", at: c.at, instance: i.id }] : [])
    }
    case "InstanceFailed": {
      const i = State.instance(s, c.instanceId)
      if (!i) return reject({ _tag: "InstanceNotFound", ids: [c.instanceId] })
      return accept(Lifecycle.after(i.state, "InstanceTerminated") === undefined ? [] : [{ _tag: "InstanceTerminated", at: c.at, instance: i.id, reason: internalError(c.reason) }])
    }
    case "InstanceStopped": {
      const i = State.instance(s, c.instanceId)
      if (!i) return reject({ _tag: "InstanceNotFound", ids: [c.instanceId] })
      if (i.state === "stopping") return accept(EbsDecide.halted(s, i, c.at))
      return accept(
        i.state === "shutting-down" ? [{ _tag: "InstanceTerminated", at: c.at, instance: i.id, reason: i.stateReason ?? USER_SHUTDOWN }] : []
      )
    }
    case "NodeReported": {
      const n = s.nodes.find((x) => x.id === c.nodeId)
      if (!n) return reject({ _tag: "NodeNotFound", node: c.nodeId })
      const capacity = c.capacity ?? n.capacity
      if (n.state === "up" && Resources.equals(capacity, n.capacity)) return accept([])
      return accept([{ _tag: "NodeReported", at: c.at, node: n.id, capacity }])
    }
    case "NodeLost":
      return nodeLost(s, c)
    case "Tick":
      return tick(ctx, s, c)
    case "AddNode": {
      if (s.nodes.some((n) => n.id === c.nodeId)) return reject({ _tag: "NodeExists", node: c.nodeId })
      if (c.nodeId.trim() === "" || c.zone.trim() === "") return reject({ _tag: "InvalidRequest", field: "node", message: "node and zone names must not be empty" })
      return accept([{
        _tag: "NodeAdded",
        at: c.at,
        node: Ids.nodeId(c.nodeId),
        zone: Ids.zoneName(c.zone),
        capacity: c.capacity,
        idleWatts: c.idleWatts ?? 100,
        peakWatts: c.peakWatts ?? 250
      }])
    }
    case "RemoveNode": {
      const n = s.nodes.find((x) => x.id === c.nodeId)
      if (!n) return reject({ _tag: "NodeNotFound", node: c.nodeId })
      if (n.instances > 0) return reject({ _tag: "NodeInUse", node: n.id, instances: n.instances })
      return accept([{ _tag: "NodeRemoved", at: c.at, node: n.id }])
    }
    case "SetVmTypes": {
      const table = c.vmTypes.map((t) => ({ name: t.name as VmType.VmTypeName, cores: Units.vcpu(t.cores), memoryMiB: Units.mib(t.memoryMiB), diskGiB: Units.gib(t.diskGiB) }))
      for (const t of table) {
        if (!/^[a-z0-9][a-z0-9.\-_]*$/i.test(t.name)) return reject({ _tag: "InvalidVmTypes", message: `"${t.name}" is not a valid VM type name` })
        if (!(t.cores >= 1 && t.memoryMiB >= 1 && t.diskGiB >= 0) || ![t.cores, t.memoryMiB, t.diskGiB].every(Number.isInteger)) {
          return reject({ _tag: "InvalidVmTypes", message: `${t.name}: needs whole numbers, at least 1 core and 1 MiB` })
        }
      }
      const v = VmType.validate(table, { requireTotalOrder: ctx.policy.requiresOrderedVmTypes })
      if (v._tag === "Left") return reject({ _tag: "InvalidVmTypes", message: v.left.message })
      return accept([{ _tag: "VmTypesChanged", at: c.at, vmTypes: table }])
    }
    case "SetPolicy":
      return accept(s.policyName === c.policy ? [] : [{ _tag: "PolicyChanged", at: c.at, policy: c.policy, initial: c.initial }])
    case "CreateSecurityGroup": {
      if (!GROUP_NAME.test(c.name)) return reject({ _tag: "InvalidRequest", field: "GroupName", message: "1–255 printable ASCII characters" })
      if (!/^[\x20-\x7e]{0,255}$/.test(c.description)) {
        return reject({ _tag: "InvalidRequest", field: "GroupDescription", message: "at most 255 printable ASCII characters" })
      }
      if (State.groupByName(s, c.account, c.name)) return reject({ _tag: "GroupExists", name: c.name })
      return accept([{ _tag: "GroupCreated", at: c.at, group: Ids.groupId(s.seq.group + 1), account: c.account, name: c.name, description: c.description }])
    }
    case "DeleteSecurityGroup": {
      const g = resolveGroup(s, c.account, { id: c.groupId, name: c.groupName })
      if (!g) return reject({ _tag: "GroupNotFound", group: groupRef(c) })
      if (g.name === SecurityGroup.DEFAULT_GROUP) return reject({ _tag: "ReservedGroup", group: g.id })
      // Also an instance that left the group but still sits in its network (it keeps its address).
      const users = State.liveInstances(s).filter((i) => i.groups.includes(g.id) || State.homeGroup(i) === g.id)
      if (users.length > 0) {
        return reject({ _tag: "GroupInUse", group: g.id, detail: `used by ${users.length} instance(s): ${users.slice(0, 3).map((i) => i.id).join(", ")}` })
      }
      for (const other of HashMap.values(s.groups)) {
        const names = (r: SecurityGroup.Rule) => r.source._tag === "Group" && r.source.groupId === g.id
        if (other.id !== g.id && (other.rules.some(names) || other.egress.some(names))) {
          return reject({ _tag: "GroupInUse", group: g.id, detail: `referenced by the rules of ${other.id}` })
        }
      }
      return accept([{ _tag: "GroupDeleted", at: c.at, group: g.id }])
    }
    case "AuthorizeIngress":
      return authorize(s, c, "rules")
    case "RevokeIngress":
      return revoke(s, c, "rules")
    case "AuthorizeEgress":
      return authorize(s, c, "egress")
    case "RevokeEgress":
      return revoke(s, c, "egress")
    case "AllocateAddress": {
      const no = needsManaged(s, "Domain")
      if (no) return no
      const ip = State.freePublicIps(s, 1)[0]
      if (ip === undefined) return reject({ _tag: "NoPublicAddress", detail: `all ${s.network.publicIps.length} public addresses are allocated or in use` })
      return accept([{ _tag: "AddressAllocated", at: c.at, ip, account: c.account, allocationId: Ids.allocationId(s.seq.allocation + 1) }])
    }
    case "AssociateAddress":
      return associate(s, c)
    case "DisassociateAddress":
      return disassociate(s, c)
    case "ReleaseAddress":
      return release(s, c)
    default:
      return EbsDecide.decide(ctx.policy, s, c)
  }
}
