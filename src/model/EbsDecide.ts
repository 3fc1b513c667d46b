/**
 * The decider's storage part: volumes, attachments, snapshots and the stop/start of EBS-backed
 * instances. Pure, like Decide.ts: ids come from the storage sequences, time from the command.
 */
import * as Capacity from "./Capacity.js"
import type * as Commands from "./Commands.js"
import * as Ebs from "./Ebs.js"
import type * as EbsCommands from "./EbsCommands.js"
import type * as Events from "./Events.js"
import type * as EbsEvents from "./EbsEvents.js"
import type * as Ids from "./Ids.js"
import * as Lifecycle from "./Lifecycle.js"
import type * as Policy from "./Policy.js"
import type { Rejection } from "./Rejection.js"
import * as State from "./State.js"

type S = State.State
export type Decision =
  | { readonly _tag: "Accepted"; readonly events: ReadonlyArray<Events.Event> }
  | { readonly _tag: "Rejected"; readonly rejection: Rejection }

const accept = (events: ReadonlyArray<Events.Event>): Decision => ({ _tag: "Accepted", events })
const reject = (rejection: Rejection): Decision => ({ _tag: "Rejected", rejection })

export const USER_STOP = { code: "Client.UserInitiatedShutdown", message: "Client.UserInitiatedShutdown: User initiated shutdown" }

const ownVolume = (s: S, account: string, id: string): Ebs.Volume | undefined => {
  const v = Ebs.volume(s.storage, id)
  return v && v.account === account ? v : undefined
}

const checkSize = (size: number, field = "Size"): Rejection | undefined =>
  Number.isInteger(size) && size >= Ebs.MIN_SIZE_GIB && size <= Ebs.MAX_SIZE_GIB
    ? undefined
    : { _tag: "InvalidRequest", field, message: `a volume is ${Ebs.MIN_SIZE_GIB}–${Ebs.MAX_SIZE_GIB} GiB (a whole number), got ${size}` }

/** The size a volume gets, from the request and its snapshot (at least the snapshot's size), or why not. */
const sizeFor = (
  s: S,
  account: string,
  sizeGiB: number | undefined,
  snapshotId: string | undefined,
  field: string,
  via?: string
): { size: number; snap?: Ebs.Snapshot } | { rejection: Rejection } => {
  let snap: Ebs.Snapshot | undefined
  if (snapshotId !== undefined) {
    snap = Ebs.snapshot(s.storage, snapshotId)
    if (!snap || !(Ebs.restorableBy(snap, account) || (via !== undefined && Ebs.restorableBy(snap, via)))) return { rejection: { _tag: "SnapshotNotFound", ids: [snapshotId] } }
    if (snap.state !== "completed") return { rejection: { _tag: "IncorrectSnapshotState", snapshot: snap.id, state: snap.state, action: "create a volume from" } }
  }
  const size = sizeGiB ?? snap?.volumeSizeGiB
  if (size === undefined) return { rejection: { _tag: "InvalidRequest", field, message: "a volume needs a size or a snapshot" } }
  const bad = checkSize(size, field)
  if (bad) return { rejection: bad }
  if (snap && size < snap.volumeSizeGiB) {
    return { rejection: { _tag: "InvalidRequest", field, message: `${size} GiB is smaller than snapshot ${snap.id} (${snap.volumeSizeGiB} GiB)` } }
  }
  return snap ? { size, snap } : { size }
}

const storageFull = (s: S, zone: string, requested: number): Rejection => ({
  _tag: "StorageFull",
  zone,
  requestedGiB: requested,
  freeGiB: Ebs.free(s.storage, zone),
  capacityGiB: Ebs.capacityOf(s.storage, zone) ?? Number.POSITIVE_INFINITY
})

// ---------------------------------------------------------------------------------------------
// Launches

export interface LaunchPlan {
  /** How many instances the zone's storage can give their volumes. */
  readonly max: number
  readonly rejection?: Rejection
  readonly events: (instances: ReadonlyArray<Ids.InstanceId>, at: Events.Event["at"]) => ReadonlyArray<Events.Event>
}

/** The volumes a launch makes for each instance (none for an instance-store image without a BlockDeviceMapping). */
export const launchPlan = (s: S, c: Commands.RunInstances, zone: Ids.ZoneName): LaunchPlan | { readonly invalid: Rejection } => {
  const devices = c.blockDevices ?? []
  if (devices.length === 0) return { max: Number.POSITIVE_INFINITY, events: () => [] }
  const sized: Array<{ device: EbsCommands.BlockDeviceRequest; size: number }> = []
  const seen = new Set<string>()
  for (const [k, d] of devices.entries()) {
    if (!Ebs.DEVICE.test(d.device)) return { invalid: { _tag: "InvalidRequest", field: `BlockDeviceMapping.${k + 1}.DeviceName`, message: `"${d.device}" is not a device name like /dev/sdf` } }
    if (seen.has(d.device)) return { invalid: { _tag: "InvalidRequest", field: `BlockDeviceMapping.${k + 1}.DeviceName`, message: `${d.device} is mapped twice` } }
    seen.add(d.device)
    const r = sizeFor(s, c.account, d.sizeGiB, d.snapshotId, `BlockDeviceMapping.${k + 1}.Ebs.VolumeSize`, d.imageOwner)
    if ("rejection" in r) return { invalid: r.rejection }
    sized.push({ device: d, size: r.size })
  }
  const per = sized.reduce((a, x) => a + x.size, 0)
  const free = Ebs.free(s.storage, zone)
  const max = Math.floor(free / per)
  return {
    max,
    rejection: storageFull(s, zone, per * Math.max(1, c.minCount)),
    events: (instances, at) => {
      if (instances.length === 0) return []
      const volumes: Array<EbsEvents.NewVolume> = []
      let seq = s.storage.seq.volume
      for (const id of instances) {
        for (const x of sized) {
          volumes.push({
            id: Ebs.volumeId(++seq),
            account: c.account,
            zone,
            sizeGiB: x.size,
            ...(x.device.snapshotId !== undefined ? { snapshotId: x.device.snapshotId as Ebs.SnapshotId } : {}),
            attachment: { instance: id, device: x.device.device, deleteOnTermination: x.device.deleteOnTermination }
          })
        }
      }
      return [{ _tag: "VolumesCreated", at, volumes }]
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Volumes

const createVolume = (s: S, c: EbsCommands.CreateVolume): Decision => {
  const zone = State.zone(s, c.zone)
  if (!zone) return reject({ _tag: "UnknownZone", zone: c.zone })
  const r = sizeFor(s, c.account, c.sizeGiB, c.snapshotId, "Size")
  if ("rejection" in r) return reject(r.rejection)
  if (Ebs.free(s.storage, zone.name) < r.size) return reject(storageFull(s, zone.name, r.size))
  return accept([{
    _tag: "VolumesCreated",
    at: c.at,
    volumes: [{ id: Ebs.volumeId(s.storage.seq.volume + 1), account: c.account, zone: zone.name, sizeGiB: r.size, ...(r.snap ? { snapshotId: r.snap.id } : {}) }]
  }])
}

const deleteVolume = (s: S, c: EbsCommands.DeleteVolume): Decision => {
  const v = ownVolume(s, c.account, c.volumeId)
  if (!v) return reject({ _tag: "VolumeNotFound", ids: [c.volumeId] })
  if (v.attachment) return reject({ _tag: "VolumeInUse", volume: v.id, detail: `attached to ${v.attachment.instance} at ${v.attachment.device}` })
  if (v.state !== "available" && v.state !== "error") return reject({ _tag: "IncorrectVolumeState", volume: v.id, state: v.state, action: "delete" })
  return accept([{ _tag: "VolumeDeleted", at: c.at, volume: v.id }])
}

/** The devices an instance has in use: its volumes' (in any attachment state), and an instance-store image's own. */
const devicesOf = (s: S, i: State.Instance): Set<string> => {
  const used = new Set<string>(i.ebsRoot === undefined ? Ebs.INSTANCE_STORE_DEVICES : [])
  for (const v of Ebs.attachedTo(s.storage, i.id)) used.add(v.attachment!.device)
  return used
}

const attachVolume = (s: S, c: EbsCommands.AttachVolume): Decision => {
  const v = ownVolume(s, c.account, c.volumeId)
  if (!v) return reject({ _tag: "VolumeNotFound", ids: [c.volumeId] })
  const i = State.instance(s, c.instanceId)
  if (!i || i.account !== c.account) return reject({ _tag: "InstanceNotFound", ids: [c.instanceId] })
  if (v.attachment) return reject({ _tag: "VolumeInUse", volume: v.id, detail: `already attached to ${v.attachment.instance}` })
  if (v.state !== "available") return reject({ _tag: "IncorrectVolumeState", volume: v.id, state: v.state, action: "attach" })
  if (v.zone !== i.zone) return reject({ _tag: "VolumeZoneMismatch", volume: v.id, volumeZone: v.zone, instance: i.id, instanceZone: i.zone })
  if (i.state !== "running" && i.state !== "stopped") return reject({ _tag: "IncorrectInstanceState", instance: i.id, state: i.state, action: "attach a volume to" })
  if (!Ebs.DEVICE.test(c.device)) return reject({ _tag: "InvalidRequest", field: "Device", message: `"${c.device}" is not a device name like /dev/sdf` })
  if (devicesOf(s, i).has(c.device)) return reject({ _tag: "DeviceInUse", instance: i.id, device: c.device })
  const events: Array<Events.Event> = [{ _tag: "VolumeAttaching", at: c.at, volume: v.id, instance: i.id, device: c.device, deleteOnTermination: false }]
  // A stopped instance has no VM to attach to: the volume joins it when it starts.
  if (i.state === "stopped") events.push({ _tag: "VolumeAttached", at: c.at, volume: v.id })
  return accept(events)
}

const detachVolume = (s: S, c: EbsCommands.DetachVolume): Decision => {
  const v = ownVolume(s, c.account, c.volumeId)
  if (!v) return reject({ _tag: "VolumeNotFound", ids: [c.volumeId] })
  const a = v.attachment
  if (!a) return reject({ _tag: "IncorrectVolumeState", volume: v.id, state: v.state, action: "detach" })
  if ((c.instanceId !== undefined && c.instanceId !== a.instance) || (c.device !== undefined && c.device !== a.device)) {
    return reject({ _tag: "AttachmentNotFound", volume: v.id, instance: c.instanceId ?? `${a.instance} at ${c.device}` })
  }
  const i = State.instance(s, a.instance)!
  if (i.ebsRoot === a.device && i.state !== "stopped") return reject({ _tag: "RootVolumeInUse", volume: v.id, instance: i.id })
  if (a.state === "detaching" && c.force !== true) return accept([])
  const events: Array<Events.Event> = [{ _tag: "VolumeDetaching", at: c.at, volume: v.id, force: c.force === true }]
  if (i.state === "stopped" || i.state === "terminated") events.push({ _tag: "VolumeDetached", at: c.at, volume: v.id })
  return accept(events)
}

const setDeleteOnTermination = (s: S, c: EbsCommands.SetDeleteOnTermination): Decision => {
  const i = State.instance(s, c.instanceId)
  if (!i || i.account !== c.account) return reject({ _tag: "InstanceNotFound", ids: [c.instanceId] })
  const v = Ebs.attachedTo(s.storage, i.id).find((x) => x.attachment!.device === c.device)
  if (!v) return reject({ _tag: "InvalidRequest", field: "BlockDeviceMapping.DeviceName", message: `instance ${i.id} has no volume at ${c.device}` })
  if (v.attachment!.deleteOnTermination === c.deleteOnTermination) return accept([])
  return accept([{ _tag: "DeleteOnTerminationSet", at: c.at, volume: v.id, deleteOnTermination: c.deleteOnTermination }])
}

// ---------------------------------------------------------------------------------------------
// Snapshots

const createSnapshot = (s: S, c: EbsCommands.CreateSnapshot): Decision => {
  const v = ownVolume(s, c.account, c.volumeId)
  if (!v) return reject({ _tag: "VolumeNotFound", ids: [c.volumeId] })
  if (v.state !== "available" && v.state !== "in-use") return reject({ _tag: "IncorrectVolumeState", volume: v.id, state: v.state, action: "snapshot" })
  if (!/^[\x20-\x7e]{0,255}$/.test(c.description)) return reject({ _tag: "InvalidRequest", field: "Description", message: "at most 255 printable ASCII characters" })
  return accept([{ _tag: "SnapshotStarted", at: c.at, snapshot: Ebs.snapshotId(s.storage.seq.snapshot + 1), account: c.account, volume: v.id, description: c.description }])
}

const deleteSnapshot = (s: S, c: EbsCommands.DeleteSnapshot): Decision => {
  const snap = Ebs.snapshot(s.storage, c.snapshotId)
  if (!snap || snap.account !== c.account) return reject({ _tag: "SnapshotNotFound", ids: [c.snapshotId] })
  if (snap.state === "pending") return reject({ _tag: "IncorrectSnapshotState", snapshot: snap.id, state: snap.state, action: "delete" })
  return accept([{ _tag: "SnapshotDeleted", at: c.at, snapshot: snap.id }])
}

const modifyPermission = (s: S, c: EbsCommands.ModifySnapshotPermission): Decision => {
  const snap = Ebs.snapshot(s.storage, c.snapshotId)
  if (!snap || snap.account !== c.account) return reject({ _tag: "SnapshotNotFound", ids: [c.snapshotId] })
  for (const a of [...c.add.accounts, ...c.remove.accounts]) {
    if (a.trim() === "") return reject({ _tag: "InvalidRequest", field: "CreateVolumePermission.UserId", message: "an account id must not be empty" })
  }
  const shared = new Set<string>(snap.sharedWith)
  for (const a of c.add.accounts) shared.add(a)
  for (const a of c.remove.accounts) shared.delete(a)
  shared.delete(snap.account)
  const pub = c.add.all ? true : c.remove.all ? false : snap.public
  const sharedWith = [...shared].sort() as Array<Ids.AccountId>
  if (pub === snap.public && sharedWith.join(",") === snap.sharedWith.join(",")) return accept([])
  return accept([{ _tag: "SnapshotPermissionChanged", at: c.at, snapshot: snap.id, sharedWith, public: pub }])
}

// ---------------------------------------------------------------------------------------------
// Stop and start

const found = (s: S, account: string | undefined, ids: ReadonlyArray<string>) => {
  const out: Array<State.Instance> = []
  const missing: Array<string> = []
  for (const id of ids) {
    const i = State.instance(s, id)
    if (i && (account === undefined || i.account === account)) {
      if (!out.some((x) => x.id === i.id)) out.push(i)
    } else missing.push(id)
  }
  return { out, missing }
}

const stopInstances = (s: S, c: EbsCommands.StopInstances): Decision => {
  const { out, missing } = found(s, c.account, c.instanceIds)
  if (missing.length > 0) return reject({ _tag: "InstanceNotFound", ids: missing })
  const stopping: Array<Ids.InstanceId> = []
  for (const i of out) {
    if (i.ebsRoot === undefined) return reject({ _tag: "NotEbsBacked", instance: i.id })
    const n = Lifecycle.next(i.state, "stop")
    if (n._tag === "Left") return reject({ _tag: "IncorrectInstanceState", instance: i.id, state: i.state, action: "stop" })
    if (n.right === "stopping" && i.state === "running") stopping.push(i.id)
  }
  return accept(stopping.length === 0 ? [] : [{ _tag: "InstancesStopping", at: c.at, instances: stopping, reason: USER_STOP }])
}

const startInstances = (policy: Policy.Policy<any>, s: S, c: EbsCommands.StartInstances): Decision => {
  const { out, missing } = found(s, c.account, c.instanceIds)
  if (missing.length > 0) return reject({ _tag: "InstanceNotFound", ids: missing })
  const events: Array<Events.Event> = []
  const views = new Map<string, Capacity.ArrayCapacity>()
  const pstates = new Map<string, unknown>()
  for (const i of out) {
    const n = Lifecycle.next(i.state, "start")
    if (n._tag === "Left") return reject({ _tag: "IncorrectInstanceState", instance: i.id, state: i.state, action: "start" })
    if (i.state !== "stopped") continue
    const z = State.zone(s, i.zone)!
    let view = views.get(z.name)
    if (view === undefined) views.set(z.name, (view = new Capacity.ArrayCapacity(State.nodeRows(s, z), policy.ratios)))
    const pstate = pstates.has(z.name) ? pstates.get(z.name) : (s.policyState[z.name] ?? policy.initial)
    const d = policy.place(view, i.size, pstate, { index: 0, instanceId: i.id, answers: [], instancesFile: () => "" })
    if (d._tag === "Consult") {
      return reject({ _tag: "InsufficientCapacity", zone: z.name, requested: 1, placeable: 0, detail: `policy ${policy.name} asks an external program, which starting a stopped instance does not consult` })
    }
    if (d._tag === "Rejected") return reject({ _tag: "InsufficientCapacity", zone: z.name, requested: 1, placeable: 0, detail: d.reason })
    const k = d.node
    if (k < 0 || k >= view.size || view.state(k) === "down" || !Capacity.fitsAt(view, k, i.size)) {
      return reject({ _tag: "InsufficientCapacity", zone: z.name, requested: 1, placeable: 0, detail: `policy ${policy.name} chose node index ${k}, which cannot take it` })
    }
    const woken: Array<Ids.NodeId> = []
    if (view.state(k) === "asleep") {
      view.setState(k, "waking")
      woken.push(view.id(k))
    }
    view.allocate(k, i.size)
    pstates.set(z.name, d.state)
    events.push({ _tag: "InstanceStarting", at: c.at, instance: i.id, node: view.id(k), woken, policyState: d.state })
  }
  return accept(events)
}

// ---------------------------------------------------------------------------------------------

export const decide = (policy: Policy.Policy<any>, s: S, c: EbsCommands.StorageCommand): Decision => {
  switch (c._tag) {
    case "CreateVolume":
      return createVolume(s, c)
    case "DeleteVolume":
      return deleteVolume(s, c)
    case "AttachVolume":
      return attachVolume(s, c)
    case "DetachVolume":
      return detachVolume(s, c)
    case "SetDeleteOnTermination":
      return setDeleteOnTermination(s, c)
    case "CreateSnapshot":
      return createSnapshot(s, c)
    case "DeleteSnapshot":
      return deleteSnapshot(s, c)
    case "ModifySnapshotPermission":
      return modifyPermission(s, c)
    case "StopInstances":
      return stopInstances(s, c)
    case "StartInstances":
      return startInstances(policy, s, c)
    // Observations may arrive late or twice: they change only what is still waiting for them.
    case "VolumeReady": {
      const v = Ebs.volume(s.storage, c.volumeId)
      return accept(v?.state === "creating" ? [{ _tag: "VolumeAvailable", at: c.at, volume: v.id }] : [])
    }
    case "VolumeCreateFailed": {
      const v = Ebs.volume(s.storage, c.volumeId)
      if (!v || v.state === "error") return accept([])
      // A launch's volume that fails is detached from its instance and left in error, with the reason.
      return accept([{ _tag: "VolumeFailed", at: c.at, volume: v.id, reason: c.reason }])
    }
    case "VolumeAttachDone": {
      const v = Ebs.volume(s.storage, c.volumeId)
      return accept(v?.attachment?.state === "attaching" ? [{ _tag: "VolumeAttached", at: c.at, volume: v.id }] : [])
    }
    case "VolumeAttachFailed": {
      const v = Ebs.volume(s.storage, c.volumeId)
      return accept(v?.attachment?.state === "attaching" ? [{ _tag: "VolumeAttachFailed", at: c.at, volume: v.id, reason: c.reason }] : [])
    }
    case "VolumeDetachDone": {
      const v = Ebs.volume(s.storage, c.volumeId)
      return accept(v?.attachment?.state === "detaching" ? [{ _tag: "VolumeDetached", at: c.at, volume: v.id }] : [])
    }
    case "SnapshotProgress": {
      const snap = Ebs.snapshot(s.storage, c.snapshotId)
      if (!snap || snap.state !== "pending") return accept([])
      const p = Math.max(0, Math.min(100, Math.round(c.progress)))
      return accept(p > snap.progress ? [{ _tag: "SnapshotProgressed", at: c.at, snapshot: snap.id, progress: p }] : [])
    }
    case "SnapshotCreateFailed": {
      const snap = Ebs.snapshot(s.storage, c.snapshotId)
      return accept(snap?.state === "pending" ? [{ _tag: "SnapshotFailed", at: c.at, snapshot: snap.id, reason: c.reason }] : [])
    }
  }
}

/** The VM of a stopping instance is gone (the backend's InstanceStopped). */
export const halted = (s: S, i: State.Instance, at: Events.Event["at"]): ReadonlyArray<Events.Event> =>
  i.state === "stopping" ? [{ _tag: "InstanceStopCompleted", at, instance: i.id }] : []
