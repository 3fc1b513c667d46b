/**
 * Elastic block storage as the core sees it: volumes per availability zone, their attachments to
 * instances, snapshots, and the storage controller's capacity per zone (Eucalyptus 1.5's SC).
 *
 * Volume states (EC2's): creating → available ⇄ in-use; error when the storage controller fails to
 * make it; a deleted volume leaves the state. An attachment goes attaching → attached → detaching.
 * A volume is `in-use` exactly when it has an attachment, and an attachment names one instance.
 * Snapshots go pending → completed (progress 0…100) or error.
 *
 * Used storage per zone is derived (kept by evolve): the sizes of the zone's volumes. A zone with no
 * configured capacity is unlimited.
 */
import { HashMap, Option, Schema } from "effect"
import * as Ids from "./Ids.js"
import type * as Units from "./Units.js"

export const VolumeId = Schema.String.pipe(Schema.pattern(/^vol-[0-9a-f]{8}$/), Schema.brand("VolumeId"))
export type VolumeId = typeof VolumeId.Type
export const SnapshotId = Schema.String.pipe(Schema.pattern(/^snap-[0-9a-f]{8}$/), Schema.brand("SnapshotId"))
export type SnapshotId = typeof SnapshotId.Type

export const volumeId = (seq: number): VolumeId => `vol-${Ids.hex8(seq, 0x1e1e1e1e)}` as VolumeId
export const snapshotId = (seq: number): SnapshotId => `snap-${Ids.hex8(seq, 0x2d2d2d2d)}` as SnapshotId

export const VolumeState = Schema.Literal("creating", "available", "in-use", "deleting", "deleted", "error")
export type VolumeState = typeof VolumeState.Type
export const AttachState = Schema.Literal("attaching", "attached", "detaching")
export type AttachState = typeof AttachState.Type
export const SnapshotState = Schema.Literal("pending", "completed", "error")
export type SnapshotState = typeof SnapshotState.Type

/** EC2's limits on a volume's size (GiB), as for a standard/gp2 volume. */
export const MIN_SIZE_GIB = 1
export const MAX_SIZE_GIB = 16384

export interface Attachment {
  readonly instance: Ids.InstanceId
  readonly device: string
  readonly state: AttachState
  readonly since: Units.Millis
  readonly deleteOnTermination: boolean
}

export interface Volume {
  readonly id: VolumeId
  /** Creation order across the cloud (the sequence the id came from). */
  readonly seq: number
  readonly account: Ids.AccountId
  readonly zone: Ids.ZoneName
  readonly sizeGiB: number
  readonly snapshotId?: SnapshotId | undefined
  readonly state: VolumeState
  readonly createdAt: Units.Millis
  readonly attachment?: Attachment | undefined
  /** Why the storage controller failed it (state error), or why its last attachment failed. */
  readonly reason?: string | undefined
}

export interface Snapshot {
  readonly id: SnapshotId
  readonly seq: number
  readonly account: Ids.AccountId
  readonly volumeId: VolumeId
  readonly zone: Ids.ZoneName
  readonly volumeSizeGiB: number
  readonly description: string
  readonly state: SnapshotState
  /** Percent, 0…100. */
  readonly progress: number
  readonly startedAt: Units.Millis
  readonly reason?: string | undefined
  /** createVolumePermission: accounts it is shared with, and whether everyone may use it ("all"). */
  readonly sharedWith: ReadonlyArray<Ids.AccountId>
  readonly public: boolean
}

export interface Storage {
  /** GiB per zone the storage controller can hold; a zone absent here is unlimited. */
  readonly capacity: Readonly<Record<string, number>>
  /** Derived from `volumes` (kept by evolve): GiB held per zone. */
  readonly used: Readonly<Record<string, number>>
  readonly volumes: HashMap.HashMap<VolumeId, Volume>
  readonly snapshots: HashMap.HashMap<SnapshotId, Snapshot>
  readonly seq: { readonly volume: number; readonly snapshot: number }
}

export const make = (capacity: Readonly<Record<string, number>> = {}): Storage => ({
  capacity,
  used: {},
  volumes: HashMap.empty(),
  snapshots: HashMap.empty(),
  seq: { volume: 0, snapshot: 0 }
})

export const volume = (s: Storage, id: string): Volume | undefined => Option.getOrUndefined(HashMap.get(s.volumes, id as VolumeId))
export const snapshot = (s: Storage, id: string): Snapshot | undefined => Option.getOrUndefined(HashMap.get(s.snapshots, id as SnapshotId))

/** All volumes in creation order. */
export const volumes = (s: Storage): Array<Volume> => Array.from(HashMap.values(s.volumes)).sort((a, b) => a.seq - b.seq)
export const snapshots = (s: Storage): Array<Snapshot> => Array.from(HashMap.values(s.snapshots)).sort((a, b) => a.seq - b.seq)

/** The volumes attached (in any attachment state) to an instance, by device name. */
export const attachedTo = (s: Storage, instance: string): Array<Volume> =>
  volumes(s)
    .filter((v) => v.attachment?.instance === instance)
    .sort((a, b) => (a.attachment!.device < b.attachment!.device ? -1 : a.attachment!.device > b.attachment!.device ? 1 : 0))

export const used = (s: Storage, zone: string): number => s.used[zone] ?? 0
export const capacityOf = (s: Storage, zone: string): number | undefined => s.capacity[zone]
/** GiB still free in a zone (Infinity when unlimited). */
export const free = (s: Storage, zone: string): number => {
  const c = s.capacity[zone]
  return c === undefined ? Number.POSITIVE_INFINITY : Math.max(0, c - used(s, zone))
}

/** May `account` create volumes from this snapshot (its owner, an account it is shared with, or everyone)? */
export const restorableBy = (snap: Snapshot, account: string): boolean =>
  snap.account === account || snap.public || snap.sharedWith.includes(account as Ids.AccountId)

/** Device names a volume may be attached at: /dev/sd[a-z], /dev/xvd[a-z], /dev/vd[a-z], with an optional partition digit. */
export const DEVICE = /^\/dev\/(sd|xvd|vd)[a-z]([1-9]|1[0-5])?$/

/** Devices an instance-store instance has without any volume: Eucalyptus's root, ephemeral and swap. */
export const INSTANCE_STORE_DEVICES: ReadonlyArray<string> = ["/dev/sda1", "/dev/sda2", "/dev/sda3"]

export type StorageRejection =
  | { readonly _tag: "VolumeNotFound"; readonly ids: ReadonlyArray<string> }
  | { readonly _tag: "SnapshotNotFound"; readonly ids: ReadonlyArray<string> }
  | { readonly _tag: "VolumeInUse"; readonly volume: string; readonly detail: string }
  | { readonly _tag: "IncorrectVolumeState"; readonly volume: string; readonly state: string; readonly action: string }
  | { readonly _tag: "VolumeZoneMismatch"; readonly volume: string; readonly volumeZone: string; readonly instance: string; readonly instanceZone: string }
  | { readonly _tag: "DeviceInUse"; readonly instance: string; readonly device: string }
  | { readonly _tag: "AttachmentNotFound"; readonly volume: string; readonly instance: string }
  | { readonly _tag: "StorageFull"; readonly zone: string; readonly requestedGiB: number; readonly freeGiB: number; readonly capacityGiB: number }
  | { readonly _tag: "IncorrectSnapshotState"; readonly snapshot: string; readonly state: string; readonly action: string }
  | { readonly _tag: "NotEbsBacked"; readonly instance: string }
  | { readonly _tag: "RootVolumeInUse"; readonly volume: string; readonly instance: string }

export const message = (r: StorageRejection): string => {
  switch (r._tag) {
    case "VolumeNotFound":
      return `no such volume: ${r.ids.join(", ")}`
    case "SnapshotNotFound":
      return `no such snapshot: ${r.ids.join(", ")}`
    case "VolumeInUse":
      return `volume ${r.volume} is in use: ${r.detail}`
    case "IncorrectVolumeState":
      return `volume ${r.volume} is ${r.state}; cannot ${r.action} it`
    case "VolumeZoneMismatch":
      return `volume ${r.volume} is in ${r.volumeZone}, instance ${r.instance} in ${r.instanceZone}`
    case "DeviceInUse":
      return `device ${r.device} of instance ${r.instance} is already in use`
    case "AttachmentNotFound":
      return `volume ${r.volume} is not attached to ${r.instance}`
    case "StorageFull":
      return `the storage controller of ${r.zone} cannot hold ${r.requestedGiB} GiB more: ${r.freeGiB} GiB free of ${r.capacityGiB} GiB`
    case "IncorrectSnapshotState":
      return `snapshot ${r.snapshot} is ${r.state}; cannot ${r.action} it`
    case "NotEbsBacked":
      return `instance ${r.instance} does not have an ebs root device and cannot be stopped`
    case "RootVolumeInUse":
      return `volume ${r.volume} is the root device of ${r.instance}, which is not stopped`
  }
}
