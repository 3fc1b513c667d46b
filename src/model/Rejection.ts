/**
 * Why the core said no: values, never exceptions. The API maps each tag to an EC2 error code in one
 * table (src/api); the simulator counts them by tag.
 */
import * as Ebs from "./Ebs.js"

export type Rejection =
  | { readonly _tag: "InsufficientCapacity"; readonly zone: string; readonly requested: number; readonly placeable: number; readonly detail: string }
  | { readonly _tag: "UnknownZone"; readonly zone: string }
  | { readonly _tag: "UnknownVmType"; readonly name: string }
  | { readonly _tag: "InvalidRequest"; readonly field: string; readonly message: string }
  | { readonly _tag: "InstanceNotFound"; readonly ids: ReadonlyArray<string> }
  | { readonly _tag: "IncorrectInstanceState"; readonly instance: string; readonly state: string; readonly action: string }
  | { readonly _tag: "GroupNotFound"; readonly group: string }
  | { readonly _tag: "GroupExists"; readonly name: string }
  | { readonly _tag: "GroupInUse"; readonly group: string; readonly detail: string }
  | { readonly _tag: "ReservedGroup"; readonly group: string }
  | { readonly _tag: "DuplicateRule"; readonly group: string; readonly rule: string }
  | { readonly _tag: "RuleNotFound"; readonly group: string; readonly rule: string }
  | { readonly _tag: "NoVlanAvailable"; readonly detail: string }
  | { readonly _tag: "SubnetFull"; readonly group: string; readonly detail: string }
  | { readonly _tag: "NoPublicAddress"; readonly detail: string }
  | { readonly _tag: "NoStaticAddress"; readonly detail: string }
  | { readonly _tag: "AddressNotFound"; readonly address: string }
  | { readonly _tag: "AddressInUse"; readonly address: string; readonly detail: string }
  | { readonly _tag: "NodeNotFound"; readonly node: string }
  | { readonly _tag: "NodeExists"; readonly node: string }
  | { readonly _tag: "NodeInUse"; readonly node: string; readonly instances: number }
  | { readonly _tag: "InvalidVmTypes"; readonly message: string }
  | Ebs.StorageRejection
  | { readonly _tag: "OperationNotPermitted"; readonly instance: string; readonly detail: string }

export type RejectionTag = Rejection["_tag"]

export const message = (r: Rejection): string => {
  switch (r._tag) {
    case "InsufficientCapacity":
      return `not enough capacity in ${r.zone}: ${r.requested} requested, ${r.placeable} placeable (${r.detail})`
    case "UnknownZone":
      return `no availability zone named ${r.zone}`
    case "UnknownVmType":
      return `no VM type named ${r.name}`
    case "InvalidRequest":
      return `${r.field}: ${r.message}`
    case "InstanceNotFound":
      return `no such instance: ${r.ids.join(", ")}`
    case "IncorrectInstanceState":
      return `instance ${r.instance} is ${r.state}; cannot ${r.action} it`
    case "GroupNotFound":
      return `no such security group: ${r.group}`
    case "GroupExists":
      return `a security group named ${r.name} already exists`
    case "GroupInUse":
      return `security group ${r.group} is in use: ${r.detail}`
    case "ReservedGroup":
      return `the default security group (${r.group}) cannot be deleted`
    case "DuplicateRule":
      return `security group ${r.group} already has the rule ${r.rule}`
    case "RuleNotFound":
      return `security group ${r.group} has no rule ${r.rule}`
    case "NoVlanAvailable":
      return `no VLAN left for a new security group network: ${r.detail}`
    case "SubnetFull":
      return `no address left in the subnet of security group ${r.group}: ${r.detail}`
    case "NoPublicAddress":
      return `no public address left: ${r.detail}`
    case "NoStaticAddress":
      return `no address left in the STATIC MAC map: ${r.detail}`
    case "AddressNotFound":
      return `no such address: ${r.address}`
    case "AddressInUse":
      return `address ${r.address} is in use: ${r.detail}`
    case "NodeNotFound":
      return `no such node: ${r.node}`
    case "NodeExists":
      return `a node named ${r.node} already exists`
    case "NodeInUse":
      return `node ${r.node} still holds ${r.instances} instance(s)`
    case "InvalidVmTypes":
      return r.message
    case "OperationNotPermitted":
      return `instance ${r.instance}: ${r.detail}`
    default:
      return Ebs.message(r)
  }
}
