/**
 * EC2 error codes and their HTTP statuses: the one table at the edge (the core never knows them),
 * and the mapping from the core's Rejection to a code and a message.
 *
 * Sources (checked with the docs/issues search, not from memory):
 * - AWS, "Error codes for the Amazon EC2 API" (docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html):
 *   client errors carry a 400-series status, server errors a 500-series one; the common client codes
 *   (AuthFailure, DryRunOperation, IdempotentParameterMismatch, IncompleteSignature, InvalidAction,
 *   InvalidParameterValue, InvalidParameterCombination, MalformedQueryString, MissingAction,
 *   MissingParameter, UnauthorizedOperation, …) and the resource codes (Invalid….NotFound/Malformed).
 * - DryRunOperation is 412 Precondition Failed: the raw AWS response quoted in getmoto/moto#1980
 *   (fixed in getmoto/moto#4270).
 * - AuthFailure is 401 (hashicorp/terraform#17273: "AuthFailure … status code: 401");
 *   SignatureDoesNotMatch is 403 Forbidden with EC2's `<Response><Errors>` body (mitchellh/vagrant-aws#138).
 * - InsufficientInstanceCapacity is a *server* error on AWS, answered with 500 (galaxyproject/cloudman#64
 *   shows the raw 500 response; aws-sdk-js v2 reports it `statusCode: 500, retryable: true`).
 *
 * Our rule: a user's mistake is never a 5xx. Capacity is not a user's mistake, so
 * InsufficientInstanceCapacity stays 500 as on AWS: SDKs treat 500 as transient and retry a bounded
 * number of times (3 attempts in the standard retry mode of SDK v3 and botocore, 5 in botocore's
 * legacy mode) with backoff, then surface the code — they never loop forever, and a cloud that frees
 * capacity in the meantime (a terminating instance) lets the retry succeed.
 */
import { Schema } from "effect"
import type * as Rejection from "../../model/Rejection.js"

/** Every code we answer with, and its HTTP status. */
export const statuses = {
  // Request shape and parameters
  InvalidAction: 400,
  MissingAction: 400,
  MalformedQueryString: 400,
  MissingParameter: 400,
  InvalidParameter: 400,
  InvalidParameterValue: 400,
  InvalidParameterCombination: 400,
  InvalidPaginationToken: 400,
  IdempotentParameterMismatch: 400,
  RequestEntityTooLarge: 413,
  // Authentication and authorisation
  AuthFailure: 401,
  InvalidClientTokenId: 401,
  IncompleteSignature: 400,
  SignatureDoesNotMatch: 403,
  RequestExpired: 400,
  UnauthorizedOperation: 403,
  DryRunOperation: 412,
  // Instances and images
  "InvalidInstanceID.NotFound": 400,
  "InvalidInstanceID.Malformed": 400,
  IncorrectInstanceState: 400,
  "InvalidAMIID.NotFound": 400,
  "InvalidAMIID.Malformed": 400,
  "InvalidAMIID.Unavailable": 400,
  "InvalidAMIName.Duplicate": 400,
  "InvalidZone.NotFound": 400,
  InstanceLimitExceeded: 400,
  // Key pairs
  "InvalidKeyPair.NotFound": 400,
  "InvalidKeyPair.Duplicate": 400,
  "InvalidKeyPair.Format": 400,
  // Security groups
  "InvalidGroup.NotFound": 400,
  "InvalidGroup.Duplicate": 400,
  "InvalidGroup.Reserved": 400,
  "InvalidGroupId.Malformed": 400,
  "InvalidPermission.Duplicate": 400,
  "InvalidPermission.NotFound": 400,
  "InvalidPermission.Malformed": 400,
  DependencyViolation: 400,
  InsufficientFreeAddressesInSubnet: 400,
  // Addresses
  "InvalidAllocationID.NotFound": 400,
  "InvalidAssociationID.NotFound": 400,
  "InvalidAddress.NotFound": 400,
  "InvalidIPAddress.InUse": 400,
  AddressLimitExceeded: 400,
  // Volumes, snapshots and stop/start (EBS)
  "InvalidVolume.NotFound": 400,
  "InvalidVolumeID.Malformed": 400,
  "InvalidVolume.ZoneMismatch": 400,
  "InvalidSnapshot.NotFound": 400,
  "InvalidSnapshotID.Malformed": 400,
  "InvalidSnapshot.InUse": 400,
  "InvalidAttachment.NotFound": 400,
  VolumeInUse: 400,
  IncorrectState: 400,
  OperationNotPermitted: 400,
  UnsupportedOperation: 400,
  // Tags and ids
  "InvalidID": 400,
  // The default VPC, attributes and unsupported operations
  "InvalidVpcID.NotFound": 400,
  "InvalidSubnetID.NotFound": 400,
  "InvalidNetworkInterfaceID.NotFound": 400,
  "InvalidLaunchTemplateId.NotFound": 400,
  "InvalidLaunchTemplateId.VersionNotFound": 400,
  "InvalidLaunchTemplateName.NotFoundException": 400,
  "InvalidLaunchTemplateName.AlreadyExistsException": 400,
  // Server side
  InsufficientInstanceCapacity: 500,
  InsufficientVolumeCapacity: 500,
  InternalError: 500,
  Unavailable: 503
} as const satisfies Record<string, number>

export type Code = keyof typeof statuses

export const codes = Object.keys(statuses) as ReadonlyArray<Code>

/** An EC2 error as answered to a client: `<Code>` and `<Message>`; the status follows from the code. */
export class Ec2Error extends Schema.TaggedError<Ec2Error>()("Ec2Error", {
  code: Schema.Literal(...codes),
  message: Schema.String
}) {
  get status(): number {
    return statuses[this.code]
  }
}

export const make = (code: Code, message: string): Ec2Error => new Ec2Error({ code, message })

export const status = (code: Code): number => statuses[code]

export const isCode = (s: string): s is Code => Object.prototype.hasOwnProperty.call(statuses, s)

/** A value quoted in a message: bounded, so a hostile megabyte never echoes back whole. */
export const quote = (value: string, max = 64): string => {
  const chars = Array.from(value)
  return chars.length <= max ? value : `${chars.slice(0, max).join("")}…`
}

// The messages EC2 itself uses where it has a fixed one.
export const missingParameter = (name: string): Ec2Error => make("MissingParameter", `The request must contain the parameter ${name}`)

export const invalidParameterValue = (name: string, value: string, expected: string): Ec2Error =>
  make("InvalidParameterValue", `Invalid value '${quote(value)}' for ${name}: ${expected}`)

export const invalidAction = (action: string): Ec2Error =>
  make("InvalidAction", `The action ${quote(action)} is not valid for this web service.`)

export const dryRunOperation = (): Ec2Error => make("DryRunOperation", "Request would have succeeded, but DryRun flag is set.")

export const unauthorizedOperation = (): Ec2Error => make("UnauthorizedOperation", "You are not authorized to perform this operation.")

export const authFailure = (detail?: string): Ec2Error =>
  make("AuthFailure", detail === undefined ? "AWS was not able to validate the provided access credentials" : detail)

export const internalError = (): Ec2Error =>
  make("InternalError", "An internal error has occurred; the request was not carried out.")

const list = (ids: ReadonlyArray<string>): string => ids.map((i) => quote(i)).join(", ")

/**
 * The core's Rejection as an EC2 error. Mapping choices where EC2 has no exact twin:
 * - UnknownZone / UnknownVmType / InvalidRequest → InvalidParameterValue (what EC2 answers for a bad
 *   AvailabilityZone or InstanceType value).
 * - ReservedGroup (deleting `default`) → InvalidGroup.Reserved, EC2-Classic's code for the default group.
 * - GroupInUse → DependencyViolation (what DeleteSecurityGroup documents).
 * - NoVlanAvailable / NoStaticAddress → InsufficientInstanceCapacity: the cloud ran out of network
 *   slots the operator configured, not a user mistake.
 * - SubnetFull → InsufficientFreeAddressesInSubnet (400): the group's network holds a fixed number of
 *   instances; the user can use another group.
 * - NoPublicAddress → AddressLimitExceeded (400): the public pool is the operator's limit; retrying
 *   does not help, so it must not be a 5xx that SDKs retry.
 * - AddressNotFound → InvalidAllocationID.NotFound for `eipalloc-` ids, InvalidAssociationID.NotFound
 *   for `eipassoc-` ids, else InvalidAddress.NotFound.
 * - AddressInUse → InvalidIPAddress.InUse.
 * - NodeNotFound, NodeExists, NodeInUse and InvalidVmTypes are operator (admin) rejections; they map to parameter errors so the
 *   admin API can reuse the table.
 * - StorageFull → InsufficientVolumeCapacity (500, a server error in AWS's list): like instance
 *   capacity, the storage controller's size is the cloud's limit, not the user's mistake.
 * - IncorrectVolumeState / IncorrectSnapshotState → IncorrectState; DeviceInUse → InvalidParameterValue
 *   (EC2: "Attachment point … is already in use"); RootVolumeInUse → OperationNotPermitted;
 *   NotEbsBacked → UnsupportedOperation (StopInstances on an instance-store instance).
 */
export const fromRejection = (r: Rejection.Rejection): Ec2Error => {
  switch (r._tag) {
    case "InsufficientCapacity":
      return make(
        "InsufficientInstanceCapacity",
        `There is not enough capacity to fulfill your request in ${r.zone}: ${r.requested} requested, ${r.placeable} can be placed (${r.detail}).`
      )
    case "UnknownZone":
      return make("InvalidParameterValue", `Invalid availability zone: [${quote(r.zone)}]`)
    case "UnknownVmType":
      return make("InvalidParameterValue", `Invalid value '${quote(r.name)}' for InstanceType.`)
    case "InvalidRequest":
      return make("InvalidParameterValue", `${r.field}: ${r.message}`)
    case "InstanceNotFound":
      return make(
        "InvalidInstanceID.NotFound",
        r.ids.length === 1 ? `The instance ID '${quote(r.ids[0]!)}' does not exist` : `The instance IDs '${list(r.ids)}' do not exist`
      )
    case "IncorrectInstanceState":
      return make("IncorrectInstanceState", `The instance '${r.instance}' is not in a state from which it can be used to ${r.action}: it is ${r.state}.`)
    case "GroupNotFound":
      return make("InvalidGroup.NotFound", `The security group '${quote(r.group)}' does not exist`)
    case "GroupExists":
      return make("InvalidGroup.Duplicate", `The security group '${quote(r.name)}' already exists`)
    case "GroupInUse":
      return make("DependencyViolation", `resource ${r.group} has a dependent object: ${r.detail}`)
    case "ReservedGroup":
      return make("InvalidGroup.Reserved", `The default security group (${r.group}) cannot be deleted; its rules can be changed.`)
    case "DuplicateRule":
      return make("InvalidPermission.Duplicate", `the specified rule "${r.rule}" already exists in ${r.group}`)
    case "RuleNotFound":
      return make("InvalidPermission.NotFound", `The specified rule "${r.rule}" does not exist in ${r.group}`)
    case "NoVlanAvailable":
    case "NoStaticAddress":
      return make("InsufficientInstanceCapacity", `There is not enough network capacity to fulfill your request: ${r.detail}`)
    case "SubnetFull":
      return make("InsufficientFreeAddressesInSubnet", `The network of security group ${r.group} has no free address: ${r.detail}`)
    case "NoPublicAddress":
      return make("AddressLimitExceeded", `No public address is available: ${r.detail}`)
    case "AddressNotFound":
      return r.address.startsWith("eipalloc-")
        ? make("InvalidAllocationID.NotFound", `The allocation ID '${quote(r.address)}' does not exist`)
        : r.address.startsWith("eipassoc-")
          ? make("InvalidAssociationID.NotFound", `The association ID '${quote(r.address)}' does not exist`)
          : make("InvalidAddress.NotFound", `Address '${quote(r.address)}' not found.`)
    case "AddressInUse":
      return make("InvalidIPAddress.InUse", `Address ${r.address} is in use: ${r.detail}`)
    case "NodeNotFound":
      return make("InvalidParameterValue", `No such node: ${quote(r.node)}`)
    case "NodeExists":
      return make("InvalidParameterValue", `A node named ${quote(r.node)} already exists`)
    case "NodeInUse":
      return make("DependencyViolation", `Node ${r.node} still holds ${r.instances} instance(s)`)
    case "InvalidVmTypes":
      return make("InvalidParameterValue", r.message)
    case "VolumeNotFound":
      return make("InvalidVolume.NotFound", r.ids.length === 1 ? `The volume '${quote(r.ids[0]!)}' does not exist.` : `The volumes '${list(r.ids)}' do not exist.`)
    case "SnapshotNotFound":
      return make("InvalidSnapshot.NotFound", r.ids.length === 1 ? `The snapshot '${quote(r.ids[0]!)}' does not exist.` : `The snapshots '${list(r.ids)}' do not exist.`)
    case "VolumeInUse":
      return make("VolumeInUse", `${r.volume} is in use: ${r.detail}`)
    case "IncorrectVolumeState":
      return make("IncorrectState", `The volume '${r.volume}' is '${r.state}'; it cannot be used to ${r.action}.`)
    case "VolumeZoneMismatch":
      return make("InvalidVolume.ZoneMismatch", `The volume '${r.volume}' is not in the same availability zone as instance '${r.instance}' (${r.volumeZone} ≠ ${r.instanceZone}).`)
    case "DeviceInUse":
      return make("InvalidParameterValue", `Invalid value '${quote(r.device)}' for unixDevice. Attachment point ${quote(r.device)} is already in use on ${r.instance}.`)
    case "AttachmentNotFound":
      return make("InvalidAttachment.NotFound", `The volume '${r.volume}' is not attached to '${quote(r.instance)}'.`)
    case "StorageFull":
      return make("InsufficientVolumeCapacity", `There is not enough storage in ${r.zone} for ${r.requestedGiB} GiB: ${r.freeGiB} GiB free of ${r.capacityGiB} GiB.`)
    case "IncorrectSnapshotState":
      return make("IncorrectState", `The snapshot '${r.snapshot}' is '${r.state}'; it cannot be used to ${r.action}.`)
    case "NotEbsBacked":
      return make("UnsupportedOperation", `The instance '${r.instance}' does not have an 'ebs' root device type and cannot be stopped.`)
    case "RootVolumeInUse":
      return make("OperationNotPermitted", `The volume '${r.volume}' is the root device of instance '${r.instance}' and cannot be detached while it is not stopped.`)
    case "OperationNotPermitted":
      return make("OperationNotPermitted", `The instance '${r.instance}' may not be terminated: ${r.detail}`)
  }
}
