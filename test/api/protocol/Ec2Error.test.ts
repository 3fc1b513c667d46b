import { describe, expect, it } from "@effect/vitest"
import { Effect, Exit } from "effect"
import * as Ec2Error from "../../../src/api/protocol/Ec2Error.js"
import type * as Rejection from "../../../src/model/Rejection.js"

// One example of every Rejection tag; the Record type makes a new tag in the core a compile error here.
const examples: { readonly [T in Rejection.RejectionTag]: Extract<Rejection.Rejection, { _tag: T }> } = {
  InsufficientCapacity: { _tag: "InsufficientCapacity", zone: "zone-1", requested: 5, placeable: 4, detail: "greedy: no node has 1 free core" },
  UnknownZone: { _tag: "UnknownZone", zone: "zone-9" },
  UnknownVmType: { _tag: "UnknownVmType", name: "m9.huge" },
  InvalidRequest: { _tag: "InvalidRequest", field: "MinCount", message: "must be an integer ≥ 1, got 0" },
  InstanceNotFound: { _tag: "InstanceNotFound", ids: ["i-00000001"] },
  IncorrectInstanceState: { _tag: "IncorrectInstanceState", instance: "i-00000001", state: "terminated", action: "reboot" },
  GroupNotFound: { _tag: "GroupNotFound", group: "web" },
  GroupExists: { _tag: "GroupExists", name: "web" },
  GroupInUse: { _tag: "GroupInUse", group: "sg-00000002", detail: "used by 1 instance(s): i-00000001" },
  ReservedGroup: { _tag: "ReservedGroup", group: "sg-00000001" },
  DuplicateRule: { _tag: "DuplicateRule", group: "sg-00000002", rule: "tcp 22-22 from 0.0.0.0/0" },
  RuleNotFound: { _tag: "RuleNotFound", group: "sg-00000002", rule: "tcp 80-80 from 0.0.0.0/0" },
  NoVlanAvailable: { _tag: "NoVlanAvailable", detail: "all VLANs 10…11 are held by active security groups" },
  SubnetFull: { _tag: "SubnetFull", group: "sg-00000002", detail: "13 instance slots per security group" },
  NoPublicAddress: { _tag: "NoPublicAddress", detail: "all 4 public addresses are in use" },
  NoStaticAddress: { _tag: "NoStaticAddress", detail: "all 8 entries of the MAC map are in use" },
  AddressNotFound: { _tag: "AddressNotFound", address: "192.0.2.1" },
  AddressInUse: { _tag: "AddressInUse", address: "192.0.2.1", detail: "associated with i-00000001" },
  NodeNotFound: { _tag: "NodeNotFound", node: "node-9" },
  NodeExists: { _tag: "NodeExists", node: "node-1" },
  NodeInUse: { _tag: "NodeInUse", node: "node-1", instances: 2 },
  InvalidVmTypes: { _tag: "InvalidVmTypes", message: "m1.large is smaller than m1.small" },
  VolumeNotFound: { _tag: "VolumeNotFound", ids: ["vol-00000001"] },
  SnapshotNotFound: { _tag: "SnapshotNotFound", ids: ["snap-00000001"] },
  VolumeInUse: { _tag: "VolumeInUse", volume: "vol-00000001", detail: "attached to i-00000001 at /dev/sdf" },
  IncorrectVolumeState: { _tag: "IncorrectVolumeState", volume: "vol-00000001", state: "creating", action: "attach" },
  VolumeZoneMismatch: { _tag: "VolumeZoneMismatch", volume: "vol-00000001", volumeZone: "zone-1", instance: "i-00000001", instanceZone: "zone-2" },
  DeviceInUse: { _tag: "DeviceInUse", instance: "i-00000001", device: "/dev/sdf" },
  AttachmentNotFound: { _tag: "AttachmentNotFound", volume: "vol-00000001", instance: "i-00000002" },
  StorageFull: { _tag: "StorageFull", zone: "zone-1", requestedGiB: 10, freeGiB: 5, capacityGiB: 100 },
  IncorrectSnapshotState: { _tag: "IncorrectSnapshotState", snapshot: "snap-00000001", state: "pending", action: "delete" },
  NotEbsBacked: { _tag: "NotEbsBacked", instance: "i-00000001" },
  RootVolumeInUse: { _tag: "RootVolumeInUse", volume: "vol-00000001", instance: "i-00000001" },
  OperationNotPermitted: { _tag: "OperationNotPermitted", instance: "i-00000001", detail: "termination is disabled" }
}

const expected: { readonly [T in Rejection.RejectionTag]: Ec2Error.Code } = {
  InsufficientCapacity: "InsufficientInstanceCapacity",
  UnknownZone: "InvalidParameterValue",
  UnknownVmType: "InvalidParameterValue",
  InvalidRequest: "InvalidParameterValue",
  InstanceNotFound: "InvalidInstanceID.NotFound",
  IncorrectInstanceState: "IncorrectInstanceState",
  GroupNotFound: "InvalidGroup.NotFound",
  GroupExists: "InvalidGroup.Duplicate",
  GroupInUse: "DependencyViolation",
  ReservedGroup: "InvalidGroup.Reserved",
  DuplicateRule: "InvalidPermission.Duplicate",
  RuleNotFound: "InvalidPermission.NotFound",
  NoVlanAvailable: "InsufficientInstanceCapacity",
  SubnetFull: "InsufficientFreeAddressesInSubnet",
  NoPublicAddress: "AddressLimitExceeded",
  NoStaticAddress: "InsufficientInstanceCapacity",
  AddressNotFound: "InvalidAddress.NotFound",
  AddressInUse: "InvalidIPAddress.InUse",
  NodeNotFound: "InvalidParameterValue",
  NodeExists: "InvalidParameterValue",
  NodeInUse: "DependencyViolation",
  InvalidVmTypes: "InvalidParameterValue",
  VolumeNotFound: "InvalidVolume.NotFound",
  SnapshotNotFound: "InvalidSnapshot.NotFound",
  VolumeInUse: "VolumeInUse",
  IncorrectVolumeState: "IncorrectState",
  VolumeZoneMismatch: "InvalidVolume.ZoneMismatch",
  DeviceInUse: "InvalidParameterValue",
  AttachmentNotFound: "InvalidAttachment.NotFound",
  StorageFull: "InsufficientVolumeCapacity",
  IncorrectSnapshotState: "IncorrectState",
  NotEbsBacked: "UnsupportedOperation",
  RootVolumeInUse: "OperationNotPermitted",
  OperationNotPermitted: "OperationNotPermitted"
}

describe("fromRejection", () => {
  it("maps every tag of the core's Rejection to its EC2 code, with a message naming the subject", () => {
    for (const [tag, r] of Object.entries(examples) as Array<[Rejection.RejectionTag, Rejection.Rejection]>) {
      const e = Ec2Error.fromRejection(r)
      expect(e.code, tag).toBe(expected[tag])
      expect(e.message.length, tag).toBeGreaterThan(0)
    }
    expect(Ec2Error.fromRejection(examples.InstanceNotFound).message).toBe("The instance ID 'i-00000001' does not exist")
    expect(Ec2Error.fromRejection({ _tag: "InstanceNotFound", ids: ["i-1", "i-2"] }).message).toBe("The instance IDs 'i-1, i-2' do not exist")
    expect(Ec2Error.fromRejection(examples.InsufficientCapacity).message).toContain("zone-1")
  })

  it("tells allocation and association ids from addresses", () => {
    expect(Ec2Error.fromRejection({ _tag: "AddressNotFound", address: "eipalloc-00000001" }).code).toBe("InvalidAllocationID.NotFound")
    expect(Ec2Error.fromRejection({ _tag: "AddressNotFound", address: "eipassoc-00000001" }).code).toBe("InvalidAssociationID.NotFound")
  })

  it("answers a 5xx only when the cloud ran out of capacity, never for a user's mistake", () => {
    const serverSide = new Set<Rejection.RejectionTag>(["InsufficientCapacity", "NoVlanAvailable", "NoStaticAddress", "StorageFull"])
    for (const [tag, r] of Object.entries(examples) as Array<[Rejection.RejectionTag, Rejection.Rejection]>) {
      const status = Ec2Error.fromRejection(r).status
      if (serverSide.has(tag)) expect(status, tag).toBe(500)
      else expect(status, tag).toBeGreaterThanOrEqual(400), expect(status, tag).toBeLessThan(500)
    }
  })
})

describe("the code table", () => {
  it("carries EC2's statuses for the codes clients branch on", () => {
    expect(Ec2Error.status("DryRunOperation")).toBe(412)
    expect(Ec2Error.status("UnauthorizedOperation")).toBe(403)
    expect(Ec2Error.status("AuthFailure")).toBe(401)
    expect(Ec2Error.status("SignatureDoesNotMatch")).toBe(403)
    expect(Ec2Error.status("RequestExpired")).toBe(400)
    expect(Ec2Error.status("InvalidParameterValue")).toBe(400)
    expect(Ec2Error.status("InsufficientInstanceCapacity")).toBe(500)
    expect(Ec2Error.status("InternalError")).toBe(500)
    for (const c of Ec2Error.codes) {
      const s = Ec2Error.status(c)
      expect(s >= 400 && s < 600, c).toBe(true)
    }
  })

  it("is a typed, yieldable error", async () => {
    const exit = await Effect.runPromiseExit(Effect.gen(function* () {
      return yield* Ec2Error.missingParameter("InstanceId")
    }))
    expect(exit).toEqual(Exit.fail(Ec2Error.make("MissingParameter", "The request must contain the parameter InstanceId")))
    expect(Ec2Error.isCode("InvalidAction")).toBe(true)
    expect(Ec2Error.isCode("toString")).toBe(false)
  })

  it("bounds quoted values", () => {
    const e = Ec2Error.invalidParameterValue("MinCount", "9".repeat(10_000), "expected a 32-bit integer")
    expect(e.message.length).toBeLessThan(200)
  })
})
