/** `evolve` for the storage and stop/start events; and what a termination does to an instance's volumes. */
import { HashMap } from "effect"
import * as Ebs from "./Ebs.js"
import type * as EbsEvents from "./EbsEvents.js"
import type * as Ids from "./Ids.js"
import * as Lifecycle from "./Lifecycle.js"
import * as Resources from "./Resources.js"
import type * as State from "./State.js"
import type * as Units from "./Units.js"

type S = State.State

const withStorage = (s: S, f: (x: Ebs.Storage) => Ebs.Storage): S => ({ ...s, storage: f(s.storage) })

const changeUsed = (st: Ebs.Storage, zone: string, delta: number): Ebs.Storage => {
  const used = { ...st.used, [zone]: (st.used[zone] ?? 0) + delta }
  if (used[zone] === 0) delete used[zone]
  return { ...st, used }
}

const modifyVolume = (st: Ebs.Storage, id: Ebs.VolumeId, f: (v: Ebs.Volume) => Ebs.Volume): Ebs.Storage => ({ ...st, volumes: HashMap.modify(st.volumes, id, f) })
const modifySnapshot = (st: Ebs.Storage, id: Ebs.SnapshotId, f: (v: Ebs.Snapshot) => Ebs.Snapshot): Ebs.Storage => ({
  ...st,
  snapshots: HashMap.modify(st.snapshots, id, f)
})

const removeVolume = (st: Ebs.Storage, v: Ebs.Volume): Ebs.Storage => changeUsed({ ...st, volumes: HashMap.remove(st.volumes, v.id) }, v.zone, -v.sizeGiB)

const detached = (v: Ebs.Volume): Ebs.Volume => ({ ...v, state: "available", attachment: undefined })

const updateNode = (s: S, id: string, f: (n: State.NodeRuntime) => State.NodeRuntime): S => {
  const i = s.nodes.findIndex((n) => n.id === id)
  if (i < 0) return s
  const nodes = s.nodes.slice()
  nodes[i] = f(nodes[i]!)
  return { ...s, nodes }
}

/** The instance moved by a lifecycle event (Lifecycle.enter: refused unless the table allows it), then `f` applied. */
export const transition = (s: S, id: Ids.InstanceId, event: Lifecycle.TransitionEvent, f: (x: State.Instance) => State.Instance = (x) => x): S => ({
  ...s,
  instances: HashMap.modify(s.instances, id, (x) => ({ ...f(x), state: Lifecycle.enter(id, x.state, event) }))
})

/**
 * The instance is terminated: its volumes marked DeleteOnTermination are deleted, the others are
 * detached and available again.
 */
export const onTerminated = (s: S, instance: Ids.InstanceId): S => {
  let st = s.storage
  for (const v of HashMap.values(s.storage.volumes)) {
    if (v.attachment?.instance !== instance) continue
    st = v.attachment.deleteOnTermination ? removeVolume(st, v) : modifyVolume(st, v.id, detached)
  }
  return st === s.storage ? s : { ...s, storage: st }
}

export const evolve = (s: S, e: EbsEvents.StorageEvent): S => {
  switch (e._tag) {
    case "VolumesCreated":
      return withStorage(s, (st) => {
        let next = st
        e.volumes.forEach((x, k) => {
          const v: Ebs.Volume = {
            id: x.id,
            seq: st.seq.volume + k + 1,
            account: x.account,
            zone: x.zone,
            sizeGiB: x.sizeGiB,
            snapshotId: x.snapshotId,
            state: x.attachment ? "in-use" : "creating",
            createdAt: e.at,
            attachment: x.attachment ? { ...x.attachment, state: "attached", since: e.at } : undefined
          }
          next = changeUsed({ ...next, volumes: HashMap.set(next.volumes, v.id, v) }, v.zone, v.sizeGiB)
        })
        return { ...next, seq: { ...next.seq, volume: st.seq.volume + e.volumes.length } }
      })
    case "VolumeAvailable":
      return withStorage(s, (st) => modifyVolume(st, e.volume, (v) => ({ ...v, state: v.attachment ? "in-use" : "available" })))
    case "VolumeFailed":
      return withStorage(s, (st) => modifyVolume(st, e.volume, (v) => ({ ...v, state: "error", attachment: undefined, reason: e.reason })))
    case "VolumeDeleted":
      return withStorage(s, (st) => removeVolume(st, Ebs.volume(st, e.volume)!))
    case "VolumeAttaching":
      return withStorage(s, (st) =>
        modifyVolume(st, e.volume, (v) => ({
          ...v,
          state: "in-use",
          reason: undefined,
          attachment: { instance: e.instance, device: e.device, state: "attaching", since: e.at, deleteOnTermination: e.deleteOnTermination }
        }))
      )
    case "VolumeAttached":
      return withStorage(s, (st) => modifyVolume(st, e.volume, (v) => ({ ...v, attachment: { ...v.attachment!, state: "attached", since: e.at } })))
    case "VolumeAttachFailed":
      return withStorage(s, (st) => modifyVolume(st, e.volume, (v) => ({ ...detached(v), reason: e.reason })))
    case "VolumeDetaching":
      return withStorage(s, (st) => modifyVolume(st, e.volume, (v) => ({ ...v, attachment: { ...v.attachment!, state: "detaching" } })))
    case "VolumeDetached":
      return withStorage(s, (st) => modifyVolume(st, e.volume, detached))
    case "DeleteOnTerminationSet":
      return withStorage(s, (st) => modifyVolume(st, e.volume, (v) => ({ ...v, attachment: { ...v.attachment!, deleteOnTermination: e.deleteOnTermination } })))
    case "SnapshotStarted":
      return withStorage(s, (st) => {
        const v = Ebs.volume(st, e.volume)!
        const snap: Ebs.Snapshot = {
          id: e.snapshot,
          seq: st.seq.snapshot + 1,
          account: e.account,
          volumeId: v.id,
          zone: v.zone,
          volumeSizeGiB: v.sizeGiB,
          description: e.description,
          state: "pending",
          progress: 0,
          startedAt: e.at,
          sharedWith: [],
          public: false
        }
        return { ...st, snapshots: HashMap.set(st.snapshots, snap.id, snap), seq: { ...st.seq, snapshot: st.seq.snapshot + 1 } }
      })
    case "SnapshotProgressed":
      return withStorage(s, (st) => modifySnapshot(st, e.snapshot, (x) => ({ ...x, progress: e.progress, state: e.progress >= 100 ? "completed" : "pending" })))
    case "SnapshotFailed":
      return withStorage(s, (st) => modifySnapshot(st, e.snapshot, (x) => ({ ...x, state: "error", reason: e.reason })))
    case "SnapshotDeleted":
      return withStorage(s, (st) => ({ ...st, snapshots: HashMap.remove(st.snapshots, e.snapshot) }))
    case "SnapshotPermissionChanged":
      return withStorage(s, (st) => modifySnapshot(st, e.snapshot, (x) => ({ ...x, sharedWith: e.sharedWith, public: e.public })))
    case "InstancesStopping": {
      let next = s
      for (const id of e.instances) next = transition(next, id, e._tag, (x) => ({ ...x, stateReason: e.reason }))
      return next
    }
    case "InstanceStopCompleted": {
      // Node capacity goes back; addresses, the private address and the group slot stay with the instance.
      const inst = HashMap.unsafeGet(s.instances, e.instance)
      // Checked before the node's capacity goes back: a second stop must not release it twice.
      Lifecycle.enter(inst.id, inst.state, e._tag)
      const next = releaseNode(s, inst, e.at)
      return transition(next, e.instance, e._tag)
    }
    case "InstanceStarting": {
      const inst = HashMap.unsafeGet(s.instances, e.instance)
      Lifecycle.enter(inst.id, inst.state, e._tag)
      let next = s
      for (const w of e.woken) next = updateNode(next, w, (n) => ({ ...n, state: "waking" }))
      next = updateNode(next, e.node, (n) => ({ ...n, used: Resources.add(n.used, inst.size), instances: n.instances + 1, idleSince: undefined }))
      const up = next.nodes.find((n) => n.id === e.node)!.state === "up"
      next = { ...next, policyState: { ...next.policyState, [inst.zone]: e.policyState } }
      return transition(next, e.instance, e._tag, (x) => ({
        ...x,
        node: e.node,
        launchedAt: e.at,
        runningAt: undefined,
        stateReason: undefined,
        dispatched: up
      }))
    }
  }
}

/** The node capacity an instance held, released (a stop, or the termination of an instance that was not stopped). */
export const releaseNode = (s: S, inst: State.Instance, at: Units.Millis): S =>
  updateNode(s, inst.node, (n) => {
    const instances = n.instances - 1
    return {
      ...n,
      used: Resources.make(n.used.cores - inst.size.cores, n.used.memoryMiB - inst.size.memoryMiB, n.used.diskGiB - inst.size.diskGiB),
      instances,
      idleSince: instances === 0 ? at : n.idleSince
    }
  })
