/** The journal's storage and stop/start events (part of Events.Event). */
import { Schema } from "effect"
import * as Ebs from "./Ebs.js"
import * as Ids from "./Ids.js"
import * as Units from "./Units.js"

const at = Units.Millis

export const NewVolume = Schema.Struct({
  id: Ebs.VolumeId,
  account: Ids.AccountId,
  zone: Ids.ZoneName,
  sizeGiB: Schema.Int,
  snapshotId: Schema.optional(Ebs.SnapshotId),
  /** Volumes made by a launch (root and BlockDeviceMapping) are attached from the start. */
  attachment: Schema.optional(Schema.Struct({ instance: Ids.InstanceId, device: Schema.String, deleteOnTermination: Schema.Boolean }))
})
export type NewVolume = typeof NewVolume.Type

export const VolumesCreated = Schema.TaggedStruct("VolumesCreated", { at, volumes: Schema.Array(NewVolume) })
export const VolumeAvailable = Schema.TaggedStruct("VolumeAvailable", { at, volume: Ebs.VolumeId })
export const VolumeFailed = Schema.TaggedStruct("VolumeFailed", { at, volume: Ebs.VolumeId, reason: Schema.String })
export const VolumeDeleted = Schema.TaggedStruct("VolumeDeleted", { at, volume: Ebs.VolumeId })
export const VolumeAttaching = Schema.TaggedStruct("VolumeAttaching", {
  at,
  volume: Ebs.VolumeId,
  instance: Ids.InstanceId,
  device: Schema.String,
  deleteOnTermination: Schema.Boolean
})
export const VolumeAttached = Schema.TaggedStruct("VolumeAttached", { at, volume: Ebs.VolumeId })
/** The attach did not happen: the volume is available again, with the reason. */
export const VolumeAttachFailed = Schema.TaggedStruct("VolumeAttachFailed", { at, volume: Ebs.VolumeId, reason: Schema.String })
export const VolumeDetaching = Schema.TaggedStruct("VolumeDetaching", { at, volume: Ebs.VolumeId, force: Schema.Boolean })
export const VolumeDetached = Schema.TaggedStruct("VolumeDetached", { at, volume: Ebs.VolumeId })
export const DeleteOnTerminationSet = Schema.TaggedStruct("DeleteOnTerminationSet", { at, volume: Ebs.VolumeId, deleteOnTermination: Schema.Boolean })

export const SnapshotStarted = Schema.TaggedStruct("SnapshotStarted", {
  at,
  snapshot: Ebs.SnapshotId,
  account: Ids.AccountId,
  volume: Ebs.VolumeId,
  description: Schema.String
})
/** Progress reported by the storage controller; 100 completes the snapshot. */
export const SnapshotProgressed = Schema.TaggedStruct("SnapshotProgressed", { at, snapshot: Ebs.SnapshotId, progress: Schema.Int })
export const SnapshotFailed = Schema.TaggedStruct("SnapshotFailed", { at, snapshot: Ebs.SnapshotId, reason: Schema.String })
export const SnapshotDeleted = Schema.TaggedStruct("SnapshotDeleted", { at, snapshot: Ebs.SnapshotId })
export const SnapshotPermissionChanged = Schema.TaggedStruct("SnapshotPermissionChanged", {
  at,
  snapshot: Ebs.SnapshotId,
  sharedWith: Schema.Array(Ids.AccountId),
  public: Schema.Boolean
})

/** EBS-backed instances asked to stop: their VMs are shut down; they keep their volumes and addresses. */
export const InstancesStopping = Schema.TaggedStruct("InstancesStopping", {
  at,
  instances: Schema.Array(Ids.InstanceId),
  reason: Schema.Struct({ code: Schema.String, message: Schema.String })
})
/** The VM of a stopping instance is gone: the instance is stopped and its node capacity released. */
export const InstanceStopCompleted = Schema.TaggedStruct("InstanceStopCompleted", { at, instance: Ids.InstanceId })
/** A stopped instance placed again (on any node of its zone): pending, then running when it boots. */
export const InstanceStarting = Schema.TaggedStruct("InstanceStarting", {
  at,
  instance: Ids.InstanceId,
  node: Ids.NodeId,
  woken: Schema.Array(Ids.NodeId),
  policyState: Schema.Unknown
})

export const members = [
  VolumesCreated,
  VolumeAvailable,
  VolumeFailed,
  VolumeDeleted,
  VolumeAttaching,
  VolumeAttached,
  VolumeAttachFailed,
  VolumeDetaching,
  VolumeDetached,
  DeleteOnTerminationSet,
  SnapshotStarted,
  SnapshotProgressed,
  SnapshotFailed,
  SnapshotDeleted,
  SnapshotPermissionChanged,
  InstancesStopping,
  InstanceStopCompleted,
  InstanceStarting
] as const

export const StorageEvent = Schema.Union(...members)
export type StorageEvent = typeof StorageEvent.Type
