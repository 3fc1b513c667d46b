/**
 * What happened: the journal. Events are facts decided by `decide` and applied by `evolve`; the real
 * controller persists them, the simulator can log them, and two runs can be diffed event by event.
 */
import { Schema } from "effect"
import * as EbsEvents from "./EbsEvents.js"
import * as Ids from "./Ids.js"
import * as Resources from "./Resources.js"
import * as SecurityGroup from "./SecurityGroup.js"
import * as Units from "./Units.js"

const at = Units.Millis

export const Reason = Schema.Struct({ code: Schema.String, message: Schema.String })

export const LaunchedInstance = Schema.Struct({
  id: Ids.InstanceId,
  node: Ids.NodeId,
  launchIndex: Schema.Int,
  mac: Schema.String,
  privateIp: Schema.optional(Schema.String),
  publicIp: Schema.optional(Schema.String),
  vlan: Schema.optional(Schema.Int),
  slot: Schema.optional(Schema.Int)
})
export type LaunchedInstance = typeof LaunchedInstance.Type

/** The owner's instance settings (State.InstanceAttributes). */
export const InstanceAttributes = Schema.Struct({
  disableApiTermination: Schema.optional(Schema.Boolean),
  disableApiStop: Schema.optional(Schema.Boolean),
  shutdownBehavior: Schema.optional(Schema.Literal("stop", "terminate")),
  sourceDestCheck: Schema.optional(Schema.Boolean)
})

export const LaunchRequest = Schema.Struct({
  imageId: Schema.String,
  vmType: Schema.String,
  size: Resources.Resources,
  kernelId: Schema.optional(Schema.String),
  ramdiskId: Schema.optional(Schema.String),
  keyName: Schema.optional(Schema.String),
  userData: Schema.optional(Schema.String),
  groups: Schema.Array(Ids.GroupId),
  addressing: Schema.Literal("public", "private"),
  clientToken: Schema.optional(Schema.String),
  lifetimeMs: Schema.optional(Schema.Int),
  /** EBS-backed: the root device's name (its volume is made with the launch). */
  ebsRoot: Schema.optional(Schema.String),
  attributes: Schema.optional(InstanceAttributes)
})
export type LaunchRequest = typeof LaunchRequest.Type

export const InstancesLaunched = Schema.TaggedStruct("InstancesLaunched", {
  at,
  account: Ids.AccountId,
  reservationId: Ids.ReservationId,
  zone: Ids.ZoneName,
  request: LaunchRequest,
  instances: Schema.Array(LaunchedInstance),
  /** Asleep nodes this launch wakes up. */
  woken: Schema.Array(Ids.NodeId),
  /** Groups that got a network (VLAN) with this launch. */
  networks: Schema.Array(Schema.Struct({ group: Ids.GroupId, vlan: Schema.Int })),
  /** The zone's policy state after the placements (e.g. the round-robin cursor). */
  policyState: Schema.Unknown
})

export const InstanceBooted = Schema.TaggedStruct("InstanceBooted", { at, instance: Ids.InstanceId })
export const InstanceRebootRequested = Schema.TaggedStruct("InstanceRebootRequested", { at, instance: Ids.InstanceId })
export const InstancesTerminating = Schema.TaggedStruct("InstancesTerminating", {
  at,
  instances: Schema.Array(Ids.InstanceId),
  reason: Reason
})
/** The instance is gone: capacity, addresses and (if it was the group's last) the VLAN are released. */
export const InstanceTerminated = Schema.TaggedStruct("InstanceTerminated", {
  at,
  instance: Ids.InstanceId,
  reason: Reason
})
/** The owner changed instance settings: `attributes` replaces the instance's whole set. */
export const InstanceAttributesChanged = Schema.TaggedStruct("InstanceAttributesChanged", { at, instance: Ids.InstanceId, attributes: InstanceAttributes })
/** The instance's security groups replaced; `home` is the group whose network it keeps sitting in. */
export const InstanceGroupsChanged = Schema.TaggedStruct("InstanceGroupsChanged", {
  at,
  instance: Ids.InstanceId,
  groups: Schema.Array(Ids.GroupId),
  home: Ids.GroupId
})
export const InstancesForgotten = Schema.TaggedStruct("InstancesForgotten", { at, instances: Schema.Array(Ids.InstanceId) })

export const NodeReported = Schema.TaggedStruct("NodeReported", { at, node: Ids.NodeId, capacity: Resources.Resources })
export const NodePoweredDown = Schema.TaggedStruct("NodePoweredDown", { at, node: Ids.NodeId })
export const NodeLost = Schema.TaggedStruct("NodeLost", { at, node: Ids.NodeId, reason: Schema.String })
export const NodeAdded = Schema.TaggedStruct("NodeAdded", {
  at,
  node: Ids.NodeId,
  zone: Ids.ZoneName,
  capacity: Resources.Resources,
  idleWatts: Schema.Number,
  peakWatts: Schema.Number
})
export const NodeRemoved = Schema.TaggedStruct("NodeRemoved", { at, node: Ids.NodeId })

export const GroupCreated = Schema.TaggedStruct("GroupCreated", {
  at,
  group: Ids.GroupId,
  account: Ids.AccountId,
  name: Schema.String,
  description: Schema.String
})
export const GroupDeleted = Schema.TaggedStruct("GroupDeleted", { at, group: Ids.GroupId })
export const IngressAuthorized = Schema.TaggedStruct("IngressAuthorized", {
  at,
  group: Ids.GroupId,
  rules: Schema.Array(SecurityGroup.Rule)
})
export const EgressAuthorized = Schema.TaggedStruct("EgressAuthorized", {
  at,
  group: Ids.GroupId,
  rules: Schema.Array(SecurityGroup.Rule)
})
export const EgressRevoked = Schema.TaggedStruct("EgressRevoked", {
  at,
  group: Ids.GroupId,
  rules: Schema.Array(SecurityGroup.Rule)
})
export const IngressRevoked = Schema.TaggedStruct("IngressRevoked", {
  at,
  group: Ids.GroupId,
  rules: Schema.Array(SecurityGroup.Rule)
})

export const AddressAllocated = Schema.TaggedStruct("AddressAllocated", {
  at,
  ip: Schema.String,
  account: Ids.AccountId,
  allocationId: Ids.AllocationId
})
/** An elastic address moves onto an instance; the instance's previous public address (if any) is freed or unassociated. */
export const AddressAssociated = Schema.TaggedStruct("AddressAssociated", {
  at,
  ip: Schema.String,
  instance: Ids.InstanceId,
  associationId: Ids.AssociationId
})
/** An elastic address leaves its instance, which gets `replacement` as its public address (if one was free). */
export const AddressDisassociated = Schema.TaggedStruct("AddressDisassociated", {
  at,
  ip: Schema.String,
  instance: Ids.InstanceId,
  replacement: Schema.optional(Schema.String)
})
export const AddressReleased = Schema.TaggedStruct("AddressReleased", { at, ip: Schema.String })

export const VmTypesChanged = Schema.TaggedStruct("VmTypesChanged", {
  at,
  vmTypes: Schema.Array(Schema.Struct({ name: Schema.String, cores: Schema.Int, memoryMiB: Schema.Int, diskGiB: Schema.Int }))
})

/** The operator switched allocation policy: every zone's policy state starts afresh. */
export const PolicyChanged = Schema.TaggedStruct("PolicyChanged", { at, policy: Schema.String, initial: Schema.Unknown })

export const Event = Schema.Union(
  InstancesLaunched,
  InstanceBooted,
  InstanceRebootRequested,
  InstancesTerminating,
  InstanceTerminated,
  InstancesForgotten,
  InstanceAttributesChanged,
  InstanceGroupsChanged,
  NodeReported,
  NodePoweredDown,
  NodeLost,
  NodeAdded,
  NodeRemoved,
  GroupCreated,
  GroupDeleted,
  IngressAuthorized,
  IngressRevoked,
  EgressAuthorized,
  EgressRevoked,
  AddressAllocated,
  AddressAssociated,
  AddressDisassociated,
  AddressReleased,
  VmTypesChanged,
  PolicyChanged,
  ...EbsEvents.members
)
export type Event = typeof Event.Type
export type EventTag = Event["_tag"]
export type EventOf<T extends EventTag> = Extract<Event, { readonly _tag: T }>
