/**
 * What users and observers ask of the core. Users' commands carry their account; observations come
 * from the backend (simulated or Xen) and from the controller's timers (power ticks).
 */
import type * as EbsCommands from "./EbsCommands.js"
import type * as Ids from "./Ids.js"
import type * as Resources from "./Resources.js"
import type * as SecurityGroup from "./SecurityGroup.js"
import type * as State from "./State.js"
import type * as Units from "./Units.js"

export interface RunInstances {
  readonly _tag: "RunInstances"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly imageId: string
  /** A VM type from the table, or … */
  readonly vmType?: string | undefined
  /** … an explicit size (trace-driven requests that are not of a named type). */
  readonly size?: Resources.Resources | undefined
  readonly minCount: number
  readonly maxCount: number
  readonly zone?: string | undefined
  /** Security groups by id and/or by name (the account's); none means the account's "default" group. */
  readonly groupIds?: ReadonlyArray<string> | undefined
  readonly groupNames?: ReadonlyArray<string> | undefined
  readonly keyName?: string | undefined
  readonly userData?: string | undefined
  readonly kernelId?: string | undefined
  readonly ramdiskId?: string | undefined
  /** Eucalyptus's addressingType: "private" skips the public address a MANAGED launch gets. */
  readonly addressing?: "public" | "private" | undefined
  readonly clientToken?: string | undefined
  /** How long each instance runs once running (trace-driven simulation); the simulator terminates it then. */
  readonly lifetimeMs?: number | undefined
  /** Answers of an external placement program (USER policy), one per instance placed so far. */
  readonly answers?: ReadonlyArray<number> | undefined
  /** EBS: the volumes each instance gets (the image's root snapshot first), and the root's device name for an EBS-backed image. */
  readonly blockDevices?: ReadonlyArray<EbsCommands.BlockDeviceRequest> | undefined
  readonly ebsRoot?: string | undefined
  /** The owner's instance settings at launch (DisableApiTermination, …). */
  readonly attributes?: State.InstanceAttributes | undefined
}

/** ModifyInstanceAttribute: settings merged into the instance's; attributes of the image (userData, type) need a stopped instance. */
export interface ModifyInstanceAttributes {
  readonly _tag: "ModifyInstanceAttributes"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly instanceId: string
  readonly attributes: State.InstanceAttributes
  /** An attribute that can change only while the instance is stopped (instanceType, userData, kernel, ramdisk). */
  readonly whileStopped?: string | undefined
}

/** ModifyInstanceAttribute groupSet: the instance's security groups replaced (its network place stays). */
export interface ModifyInstanceGroups {
  readonly _tag: "ModifyInstanceGroups"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly instanceId: string
  readonly groupIds: ReadonlyArray<string>
}

export interface TerminateInstances {
  readonly _tag: "TerminateInstances"
  readonly at: Units.Millis
  /** undefined: the operator or the simulator, allowed on every account's instances. */
  readonly account: Ids.AccountId | undefined
  readonly instanceIds: ReadonlyArray<string>
  /** Why (EC2's state reason); default Client.UserInitiatedShutdown. */
  readonly reason?: { readonly code: string; readonly message: string } | undefined
}

export interface RebootInstances {
  readonly _tag: "RebootInstances"
  readonly at: Units.Millis
  readonly account: Ids.AccountId | undefined
  readonly instanceIds: ReadonlyArray<string>
}

/** Observations from the backend. */
export interface InstanceBooted {
  readonly _tag: "InstanceBooted"
  readonly at: Units.Millis
  readonly instanceId: string
}
export interface InstanceFailed {
  readonly _tag: "InstanceFailed"
  readonly at: Units.Millis
  readonly instanceId: string
  readonly reason: string
}
/** The VM of a shutting-down instance is gone. */
export interface InstanceStopped {
  readonly _tag: "InstanceStopped"
  readonly at: Units.Millis
  readonly instanceId: string
}
export interface NodeReported {
  readonly _tag: "NodeReported"
  readonly at: Units.Millis
  readonly nodeId: string
  /** Physical capacity available to guests (a Xen backend subtracts the dom0 reserve). */
  readonly capacity?: Resources.Resources | undefined
}
export interface NodeLost {
  readonly _tag: "NodeLost"
  readonly at: Units.Millis
  readonly nodeId: string
  readonly reason: string
}
/** Time passes: POWERSAVE powers idle nodes down; terminated instances are forgotten after an hour. */
export interface Tick {
  readonly _tag: "Tick"
  readonly at: Units.Millis
}

export interface AddNode {
  readonly _tag: "AddNode"
  readonly at: Units.Millis
  readonly zone: string
  readonly nodeId: string
  readonly capacity: Resources.Resources
  readonly idleWatts?: number | undefined
  readonly peakWatts?: number | undefined
}
export interface RemoveNode {
  readonly _tag: "RemoveNode"
  readonly at: Units.Millis
  readonly nodeId: string
}
export interface SetVmTypes {
  readonly _tag: "SetVmTypes"
  readonly at: Units.Millis
  readonly vmTypes: ReadonlyArray<{ readonly name: string; readonly cores: number; readonly memoryMiB: number; readonly diskGiB: number }>
}

/** The operator changed the allocation policy (the decider is then called with the new one). */
export interface SetPolicy {
  readonly _tag: "SetPolicy"
  readonly at: Units.Millis
  readonly policy: string
  readonly initial: unknown
}

export interface CreateSecurityGroup {
  readonly _tag: "CreateSecurityGroup"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly name: string
  readonly description: string
}
export interface DeleteSecurityGroup {
  readonly _tag: "DeleteSecurityGroup"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly groupId?: string | undefined
  readonly groupName?: string | undefined
}
export interface AuthorizeIngress {
  readonly _tag: "AuthorizeIngress"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly groupId?: string | undefined
  readonly groupName?: string | undefined
  readonly rules: ReadonlyArray<RuleInput>
}
export interface RevokeIngress {
  readonly _tag: "RevokeIngress"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly groupId?: string | undefined
  readonly groupName?: string | undefined
  readonly rules: ReadonlyArray<RuleInput>
}
/** AuthorizeSecurityGroupEgress: rules whose `source` is the destination the group's members may reach. */
export interface AuthorizeEgress {
  readonly _tag: "AuthorizeEgress"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly groupId: string
  /** EC2 names the group of an egress rule by id only. */
  readonly groupName?: undefined
  readonly rules: ReadonlyArray<RuleInput>
}
export interface RevokeEgress {
  readonly _tag: "RevokeEgress"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly groupId: string
  /** EC2 names the group of an egress rule by id only. */
  readonly groupName?: undefined
  readonly rules: ReadonlyArray<RuleInput>
}
/** A rule as a user states it: a source group may be named (in the caller's account) or given by id. */
export interface RuleInput {
  readonly protocol: SecurityGroup.Protocol
  readonly fromPort: number
  readonly toPort: number
  readonly source:
    | { readonly _tag: "Cidr"; readonly cidr: string }
    | { readonly _tag: "Group"; readonly groupId?: string | undefined; readonly groupName?: string | undefined; readonly account?: string | undefined }
}

export interface AllocateAddress {
  readonly _tag: "AllocateAddress"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
}
export interface AssociateAddress {
  readonly _tag: "AssociateAddress"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly publicIp?: string | undefined
  readonly allocationId?: string | undefined
  readonly instanceId: string
  /** EC2's AllowReassociation: move an address that is associated elsewhere (EC2-classic always moves). */
  readonly allowReassociation?: boolean | undefined
}
export interface DisassociateAddress {
  readonly _tag: "DisassociateAddress"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly publicIp?: string | undefined
  readonly associationId?: string | undefined
}
export interface ReleaseAddress {
  readonly _tag: "ReleaseAddress"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly publicIp?: string | undefined
  readonly allocationId?: string | undefined
}

export type Command =
  | RunInstances
  | ModifyInstanceAttributes
  | ModifyInstanceGroups
  | TerminateInstances
  | RebootInstances
  | InstanceBooted
  | InstanceFailed
  | InstanceStopped
  | NodeReported
  | NodeLost
  | Tick
  | AddNode
  | RemoveNode
  | SetVmTypes
  | SetPolicy
  | CreateSecurityGroup
  | DeleteSecurityGroup
  | AuthorizeIngress
  | RevokeIngress
  | AuthorizeEgress
  | RevokeEgress
  | AllocateAddress
  | AssociateAddress
  | DisassociateAddress
  | ReleaseAddress
  | EbsCommands.StorageCommand
