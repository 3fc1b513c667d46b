/** Storage and stop/start commands (part of Commands.Command): users' requests and the storage controller's observations. */
import type * as Ids from "./Ids.js"
import type * as Units from "./Units.js"

/** A volume a launch makes for each instance: the image's root (from its snapshot) and BlockDeviceMapping entries. */
export interface BlockDeviceRequest {
  readonly device: string
  readonly sizeGiB?: number | undefined
  readonly snapshotId?: string | undefined
  readonly deleteOnTermination: boolean
  /** The snapshot comes with an image: its owner's right to the snapshot is the launcher's (EC2's launch permission). */
  readonly imageOwner?: string | undefined
}

export interface CreateVolume {
  readonly _tag: "CreateVolume"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly zone: string
  readonly sizeGiB?: number | undefined
  readonly snapshotId?: string | undefined
}
export interface DeleteVolume {
  readonly _tag: "DeleteVolume"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly volumeId: string
}
export interface AttachVolume {
  readonly _tag: "AttachVolume"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly volumeId: string
  readonly instanceId: string
  readonly device: string
}
export interface DetachVolume {
  readonly _tag: "DetachVolume"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly volumeId: string
  readonly instanceId?: string | undefined
  readonly device?: string | undefined
  readonly force?: boolean | undefined
}
export interface SetDeleteOnTermination {
  readonly _tag: "SetDeleteOnTermination"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly instanceId: string
  readonly device: string
  readonly deleteOnTermination: boolean
}
export interface CreateSnapshot {
  readonly _tag: "CreateSnapshot"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly volumeId: string
  readonly description: string
}
export interface DeleteSnapshot {
  readonly _tag: "DeleteSnapshot"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly snapshotId: string
}
export interface ModifySnapshotPermission {
  readonly _tag: "ModifySnapshotPermission"
  readonly at: Units.Millis
  readonly account: Ids.AccountId
  readonly snapshotId: string
  readonly add: { readonly accounts: ReadonlyArray<string>; readonly all: boolean }
  readonly remove: { readonly accounts: ReadonlyArray<string>; readonly all: boolean }
}
export interface StopInstances {
  readonly _tag: "StopInstances"
  readonly at: Units.Millis
  readonly account: Ids.AccountId | undefined
  readonly instanceIds: ReadonlyArray<string>
  readonly force?: boolean | undefined
}
export interface StartInstances {
  readonly _tag: "StartInstances"
  readonly at: Units.Millis
  readonly account: Ids.AccountId | undefined
  readonly instanceIds: ReadonlyArray<string>
}

/** Observations from the storage controller (simulated or real). */
export interface VolumeReady {
  readonly _tag: "VolumeReady"
  readonly at: Units.Millis
  readonly volumeId: string
}
export interface VolumeCreateFailed {
  readonly _tag: "VolumeCreateFailed"
  readonly at: Units.Millis
  readonly volumeId: string
  readonly reason: string
}
export interface VolumeAttachDone {
  readonly _tag: "VolumeAttachDone"
  readonly at: Units.Millis
  readonly volumeId: string
}
export interface VolumeAttachFailed {
  readonly _tag: "VolumeAttachFailed"
  readonly at: Units.Millis
  readonly volumeId: string
  readonly reason: string
}
export interface VolumeDetachDone {
  readonly _tag: "VolumeDetachDone"
  readonly at: Units.Millis
  readonly volumeId: string
}
export interface SnapshotProgress {
  readonly _tag: "SnapshotProgress"
  readonly at: Units.Millis
  readonly snapshotId: string
  readonly progress: number
}
export interface SnapshotCreateFailed {
  readonly _tag: "SnapshotCreateFailed"
  readonly at: Units.Millis
  readonly snapshotId: string
  readonly reason: string
}

export type StorageCommand =
  | CreateVolume
  | DeleteVolume
  | AttachVolume
  | DetachVolume
  | SetDeleteOnTermination
  | CreateSnapshot
  | DeleteSnapshot
  | ModifySnapshotPermission
  | StopInstances
  | StartInstances
  | VolumeReady
  | VolumeCreateFailed
  | VolumeAttachDone
  | VolumeAttachFailed
  | VolumeDetachDone
  | SnapshotProgress
  | SnapshotCreateFailed
