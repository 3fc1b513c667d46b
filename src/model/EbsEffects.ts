/** The storage controller's effects (part of Effects.Effect), derived from the storage and stop/start events. */
import * as Ebs from "./Ebs.js"
import type * as EbsEvents from "./EbsEvents.js"
import type * as Effects from "./Effects.js"
import type * as Ids from "./Ids.js"
import * as Network from "./Network.js"
import * as State from "./State.js"

export interface VolumeSpec {
  readonly id: Ebs.VolumeId
  readonly zone: Ids.ZoneName
  readonly sizeGiB: number
  readonly snapshotId?: Ebs.SnapshotId | undefined
}

/** A volume as a starting instance gets it. */
export interface BlockDevice extends VolumeSpec {
  readonly device: string
}

export type StorageEffect =
  | { readonly _tag: "CreateVolume"; readonly volume: VolumeSpec }
  | { readonly _tag: "DeleteVolume"; readonly volumeId: Ebs.VolumeId; readonly zone: Ids.ZoneName }
  | { readonly _tag: "AttachVolume"; readonly volume: VolumeSpec; readonly instanceId: Ids.InstanceId; readonly node: Ids.NodeId; readonly device: string }
  | { readonly _tag: "DetachVolume"; readonly volume: VolumeSpec; readonly instanceId: Ids.InstanceId; readonly node: Ids.NodeId; readonly device: string; readonly force: boolean }
  | { readonly _tag: "CreateSnapshot"; readonly snapshotId: Ebs.SnapshotId; readonly volume: VolumeSpec }
  | { readonly _tag: "DeleteSnapshot"; readonly snapshotId: Ebs.SnapshotId; readonly zone: Ids.ZoneName }

export const specOf = (v: Ebs.Volume): VolumeSpec => ({ id: v.id, zone: v.zone, sizeGiB: v.sizeGiB, ...(v.snapshotId !== undefined ? { snapshotId: v.snapshotId } : {}) })

/** The volumes attached to an instance, for its start (none: undefined, so instance-store specs stay as they were). */
export const blockDevices = (s: State.State, instance: Ids.InstanceId): ReadonlyArray<BlockDevice> | undefined => {
  if (noVolumeEver(s)) return undefined
  const list = Ebs.attachedTo(s.storage, instance).map((v) => ({ ...specOf(v), device: v.attachment!.device }))
  return list.length === 0 ? undefined : list
}
const noVolumeEver = (s: State.State): boolean => s.storage.seq.volume === 0

/** Volumes a termination deleted (DeleteOnTermination): the storage controller frees them. */
export const ofTermination = (before: State.State, after: State.State, instance: Ids.InstanceId): Array<Effects.Effect> => {
  if (noVolumeEver(before)) return []
  return Ebs.attachedTo(before.storage, instance)
    .filter((v) => Ebs.volume(after.storage, v.id) === undefined)
    .map((v) => ({ _tag: "DeleteVolume", volumeId: v.id, zone: v.zone }) as const)
}

export const of = (before: State.State, e: EbsEvents.StorageEvent, after: State.State, spec: (s: State.State, i: State.Instance) => Effects.InstanceSpec): Array<Effects.Effect> => {
  const vol = (id: Ebs.VolumeId) => Ebs.volume(after.storage, id)!
  switch (e._tag) {
    case "VolumesCreated":
      // Every volume is made by the storage controller; a launch's are then carried by the instances' starts.
      return e.volumes.map((x) => ({ _tag: "CreateVolume", volume: specOf(vol(x.id)) }) as const)
    case "VolumeDeleted": {
      const v = Ebs.volume(before.storage, e.volume)!
      return [{ _tag: "DeleteVolume", volumeId: v.id, zone: v.zone }]
    }
    case "VolumeAttaching": {
      const i = State.instance(after, e.instance)!
      // A stopped instance gets the volume when it starts.
      if (i.state !== "running") return []
      return [{ _tag: "AttachVolume", volume: specOf(vol(e.volume)), instanceId: i.id, node: i.node, device: e.device }]
    }
    case "VolumeDetaching": {
      const v = vol(e.volume)
      const i = State.instance(after, v.attachment!.instance)!
      if (i.state !== "running" && i.state !== "pending" && i.state !== "stopping") return []
      return [{ _tag: "DetachVolume", volume: specOf(v), instanceId: i.id, node: i.node, device: v.attachment!.device, force: e.force }]
    }
    case "SnapshotStarted":
      return [{ _tag: "CreateSnapshot", snapshotId: e.snapshot, volume: specOf(Ebs.volume(after.storage, e.volume)!) }]
    case "SnapshotDeleted":
      return [{ _tag: "DeleteSnapshot", snapshotId: e.snapshot, zone: Ebs.snapshot(before.storage, e.snapshot)!.zone }]
    case "InstancesStopping":
      return e.instances.map((id) => ({ _tag: "StopInstance", instanceId: id, node: State.instance(after, id)!.node }) as const)
    case "InstanceStarting": {
      const i = State.instance(after, e.instance)!
      const out: Array<Effects.Effect> = e.woken.map((node) => ({ _tag: "PowerUp", node }) as const)
      if (Network.isManaged(after.network)) out.push({ _tag: "ApplyNetwork", zone: i.zone })
      if (i.dispatched) out.push({ _tag: "StartInstance", instance: spec(after, i) })
      return out
    }
    case "VolumeAvailable":
    case "VolumeFailed":
    case "VolumeAttached":
    case "VolumeAttachFailed":
    case "VolumeDetached":
    case "DeleteOnTerminationSet":
    case "SnapshotProgressed":
    case "SnapshotFailed":
    case "SnapshotPermissionChanged":
    case "InstanceStopCompleted":
      return []
  }
}
