import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import * as Ebs from "../../src/model/Ebs.js"
import * as Effects from "../../src/model/Effects.js"
import * as Events from "../../src/model/Events.js"
import { evolve } from "../../src/model/Evolve.js"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import type * as Topology from "../../src/model/Topology.js"
import { alice, at, bob, launchedIds, make, runCmd, topology } from "../support/cloud.js"

const MANAGED = {
  mode: "MANAGED" as const,
  subnet: "10.0.0.0/16",
  addressesPerNetwork: 32,
  publicIps: ["192.0.2.10-192.0.2.19"]
}

/** Two zones of two nodes; each zone's storage controller holds `gib` GiB. */
const cloud = (gib = 100) => {
  const t = topology([[2, 1024, 50], [2, 1024, 50]], [[2, 1024, 50]])
  const topo: Topology.Topology = { zones: t.zones.map((z) => ({ ...z, storageGiB: gib as never })) }
  return make(Policy.greedy(), topo, { network: MANAGED as never })
}

const volumeOf = (events: ReadonlyArray<Events.Event>): string => {
  const e = events.find((x) => x._tag === "VolumesCreated")
  if (e?._tag !== "VolumesCreated") throw new Error("no volume created")
  return e.volumes[0]!.id
}

const running = (c: ReturnType<typeof cloud>, fields: Parameters<typeof runCmd>[0] = {}) => {
  const id = launchedIds(c.ok(runCmd({ zone: "zone-1", ...fields })))[0]!
  c.ok({ _tag: "InstanceBooted", at: at(1), instanceId: id })
  return id
}

/** Every effect the cloud's journal derives, replayed from the genesis. */
const effectsOf = (genesis: State.State, log: ReadonlyArray<Events.Event>): Array<Effects.Effect> => {
  const out: Array<Effects.Effect> = []
  let s = genesis
  for (const e of log) {
    const next = evolve(s, e)
    out.push(...Effects.of(s, e, next))
    s = next
  }
  return out
}

describe("volumes", () => {
  it("are created in a zone (creating → available), hold its storage, and are refused with reasons when it is full", () => {
    const c = cloud(100)
    const v = volumeOf(c.ok({ _tag: "CreateVolume", at: at(0), account: alice, zone: "zone-1", sizeGiB: 60 }))
    expect(Ebs.volume(c.state.storage, v)).toMatchObject({ state: "creating", sizeGiB: 60, zone: "zone-1" })
    expect(Ebs.used(c.state.storage, "zone-1")).toBe(60)
    expect(c.run({ _tag: "CreateVolume", at: at(1), account: alice, zone: "zone-1", sizeGiB: 41 })).toEqual({
      _tag: "Rejected",
      rejection: { _tag: "StorageFull", zone: "zone-1", requestedGiB: 41, freeGiB: 40, capacityGiB: 100 }
    })
    // The other zone has its own storage controller.
    c.ok({ _tag: "CreateVolume", at: at(1), account: alice, zone: "zone-2", sizeGiB: 41 })
    expect(c.run({ _tag: "CreateVolume", at: at(1), account: alice, zone: "zone-9", sizeGiB: 1 })).toMatchObject({ rejection: { _tag: "UnknownZone" } })
    expect(c.run({ _tag: "CreateVolume", at: at(1), account: alice, zone: "zone-1", sizeGiB: 0 })).toMatchObject({ rejection: { _tag: "InvalidRequest", field: "Size" } })
    expect(c.run({ _tag: "CreateVolume", at: at(1), account: alice, zone: "zone-1" })).toMatchObject({ rejection: { _tag: "InvalidRequest" } })
    c.ok({ _tag: "VolumeReady", at: at(2), volumeId: v })
    expect(Ebs.volume(c.state.storage, v)!.state).toBe("available")
    // A late or repeated observation changes nothing.
    expect(c.ok({ _tag: "VolumeReady", at: at(3), volumeId: v })).toEqual([])
    c.ok({ _tag: "DeleteVolume", at: at(4), account: alice, volumeId: v })
    expect(Ebs.volume(c.state.storage, v)).toBeUndefined()
    expect(Ebs.used(c.state.storage, "zone-1")).toBe(0)
    expect(c.run({ _tag: "DeleteVolume", at: at(5), account: alice, volumeId: v })).toMatchObject({ rejection: { _tag: "VolumeNotFound" } })
  })

  it("attach to one running instance of their zone at a free device, and detach back to available", () => {
    const c = cloud()
    const i1 = running(c)
    const i2 = running(c, { zone: "zone-2" })
    const v = volumeOf(c.ok({ _tag: "CreateVolume", at: at(2), account: alice, zone: "zone-1", sizeGiB: 5 }))
    const attach = (instanceId: string, device = "/dev/sdf") => c.run({ _tag: "AttachVolume", at: at(3), account: alice, volumeId: v, instanceId, device })
    expect(attach(i1)).toMatchObject({ rejection: { _tag: "IncorrectVolumeState", state: "creating" } })
    c.ok({ _tag: "VolumeReady", at: at(3), volumeId: v })
    expect(attach(i2)).toMatchObject({ rejection: { _tag: "VolumeZoneMismatch", volumeZone: "zone-1", instanceZone: "zone-2" } })
    expect(attach(i1, "/dev/sda1")).toMatchObject({ rejection: { _tag: "DeviceInUse", device: "/dev/sda1" } })
    expect(attach(i1, "sdf")).toMatchObject({ rejection: { _tag: "InvalidRequest", field: "Device" } })
    expect(c.run({ _tag: "AttachVolume", at: at(3), account: bob, volumeId: v, instanceId: i1, device: "/dev/sdf" })).toMatchObject({ rejection: { _tag: "VolumeNotFound" } })
    expect(attach(i1)._tag).toBe("Accepted")
    expect(Ebs.volume(c.state.storage, v)).toMatchObject({ state: "in-use", attachment: { instance: i1, device: "/dev/sdf", state: "attaching" } })
    expect(attach(i1, "/dev/sdg")).toMatchObject({ rejection: { _tag: "VolumeInUse" } })
    expect(c.run({ _tag: "DeleteVolume", at: at(4), account: alice, volumeId: v })).toMatchObject({ rejection: { _tag: "VolumeInUse" } })
    c.ok({ _tag: "VolumeAttachDone", at: at(4), volumeId: v })
    expect(Ebs.volume(c.state.storage, v)!.attachment!.state).toBe("attached")
    // A second volume cannot take the same device.
    const w = volumeOf(c.ok({ _tag: "CreateVolume", at: at(5), account: alice, zone: "zone-1", sizeGiB: 5 }))
    c.ok({ _tag: "VolumeReady", at: at(5), volumeId: w })
    expect(c.run({ _tag: "AttachVolume", at: at(5), account: alice, volumeId: w, instanceId: i1, device: "/dev/sdf" })).toMatchObject({ rejection: { _tag: "DeviceInUse" } })
    expect(c.run({ _tag: "DetachVolume", at: at(6), account: alice, volumeId: v, instanceId: i2 })).toMatchObject({ rejection: { _tag: "AttachmentNotFound" } })
    c.ok({ _tag: "DetachVolume", at: at(6), account: alice, volumeId: v })
    expect(Ebs.volume(c.state.storage, v)!.attachment!.state).toBe("detaching")
    c.ok({ _tag: "VolumeDetachDone", at: at(7), volumeId: v })
    expect(Ebs.volume(c.state.storage, v)).toMatchObject({ state: "available", attachment: undefined })
    expect(c.run({ _tag: "DetachVolume", at: at(8), account: alice, volumeId: v })).toMatchObject({ rejection: { _tag: "IncorrectVolumeState", state: "available" } })
    const effects = effectsOf(cloud().state, c.log).map((e) => e._tag).filter((t) => t.includes("Volume"))
    expect(effects).toEqual(["CreateVolume", "AttachVolume", "CreateVolume", "DetachVolume"])
  })

  it("a failed attachment leaves the volume available with the reason", () => {
    const c = cloud()
    const i = running(c)
    const v = volumeOf(c.ok({ _tag: "CreateVolume", at: at(2), account: alice, zone: "zone-1", sizeGiB: 5 }))
    c.ok({ _tag: "VolumeReady", at: at(3), volumeId: v })
    c.ok({ _tag: "AttachVolume", at: at(3), account: alice, volumeId: v, instanceId: i, device: "/dev/sdf" })
    c.ok({ _tag: "VolumeAttachFailed", at: at(4), volumeId: v, reason: "the NBD export went away" })
    expect(Ebs.volume(c.state.storage, v)).toMatchObject({ state: "available", attachment: undefined, reason: "the NBD export went away" })
  })
})

describe("snapshots", () => {
  it("go pending → completed with progress, restore to volumes at least their size, and are shared by createVolumePermission", () => {
    const c = cloud()
    const v = volumeOf(c.ok({ _tag: "CreateVolume", at: at(0), account: alice, zone: "zone-1", sizeGiB: 8 }))
    expect(c.run({ _tag: "CreateSnapshot", at: at(1), account: alice, volumeId: v, description: "" })).toMatchObject({ rejection: { _tag: "IncorrectVolumeState" } })
    c.ok({ _tag: "VolumeReady", at: at(1), volumeId: v })
    const started = c.ok({ _tag: "CreateSnapshot", at: at(2), account: alice, volumeId: v, description: "nightly" })[0]!
    if (started._tag !== "SnapshotStarted") throw new Error("no snapshot")
    const snap = started.snapshot
    expect(Ebs.snapshot(c.state.storage, snap)).toMatchObject({ state: "pending", progress: 0, volumeSizeGiB: 8, description: "nightly" })
    expect(c.run({ _tag: "CreateVolume", at: at(3), account: alice, zone: "zone-1", snapshotId: snap })).toMatchObject({ rejection: { _tag: "IncorrectSnapshotState" } })
    expect(c.run({ _tag: "DeleteSnapshot", at: at(3), account: alice, snapshotId: snap })).toMatchObject({ rejection: { _tag: "IncorrectSnapshotState" } })
    c.ok({ _tag: "SnapshotProgress", at: at(3), snapshotId: snap, progress: 50 })
    expect(c.ok({ _tag: "SnapshotProgress", at: at(3), snapshotId: snap, progress: 40 })).toEqual([])
    expect(Ebs.snapshot(c.state.storage, snap)).toMatchObject({ state: "pending", progress: 50 })
    c.ok({ _tag: "SnapshotProgress", at: at(4), snapshotId: snap, progress: 100 })
    expect(Ebs.snapshot(c.state.storage, snap)).toMatchObject({ state: "completed", progress: 100 })
    expect(c.run({ _tag: "CreateVolume", at: at(5), account: alice, zone: "zone-1", snapshotId: snap, sizeGiB: 4 })).toMatchObject({ rejection: { _tag: "InvalidRequest" } })
    const restored = volumeOf(c.ok({ _tag: "CreateVolume", at: at(5), account: alice, zone: "zone-2", snapshotId: snap }))
    expect(Ebs.volume(c.state.storage, restored)).toMatchObject({ sizeGiB: 8, snapshotId: snap, zone: "zone-2" })
    // Bob may not use it until it is shared with him.
    expect(c.run({ _tag: "CreateVolume", at: at(6), account: bob, zone: "zone-1", snapshotId: snap })).toMatchObject({ rejection: { _tag: "SnapshotNotFound" } })
    expect(c.run({ _tag: "ModifySnapshotPermission", at: at(6), account: bob, snapshotId: snap, add: { accounts: ["bob"], all: false }, remove: { accounts: [], all: false } })).toMatchObject({
      rejection: { _tag: "SnapshotNotFound" }
    })
    c.ok({ _tag: "ModifySnapshotPermission", at: at(6), account: alice, snapshotId: snap, add: { accounts: ["bob"], all: false }, remove: { accounts: [], all: false } })
    expect(Ebs.snapshot(c.state.storage, snap)!.sharedWith).toEqual(["bob"])
    c.ok({ _tag: "CreateVolume", at: at(7), account: bob, zone: "zone-1", snapshotId: snap, sizeGiB: 10 })
    c.ok({ _tag: "ModifySnapshotPermission", at: at(8), account: alice, snapshotId: snap, add: { accounts: [], all: false }, remove: { accounts: ["bob"], all: false } })
    expect(c.run({ _tag: "CreateVolume", at: at(9), account: bob, zone: "zone-1", snapshotId: snap })).toMatchObject({ rejection: { _tag: "SnapshotNotFound" } })
    c.ok({ _tag: "DeleteSnapshot", at: at(10), account: alice, snapshotId: snap })
    expect(Ebs.snapshot(c.state.storage, snap)).toBeUndefined()
  })
})

describe("EBS-backed instances", () => {
  const ebsLaunch = (c: ReturnType<typeof cloud>, snap: string, fields: Parameters<typeof runCmd>[0] = {}) =>
    c.ok(
      runCmd({
        zone: "zone-1",
        ebsRoot: "/dev/sda1",
        blockDevices: [
          { device: "/dev/sda1", snapshotId: snap, deleteOnTermination: true },
          { device: "/dev/sdb", sizeGiB: 3, deleteOnTermination: false }
        ],
        ...fields
      })
    )

  const completedSnapshot = (c: ReturnType<typeof cloud>, gib = 4) => {
    const v = volumeOf(c.ok({ _tag: "CreateVolume", at: at(0), account: alice, zone: "zone-1", sizeGiB: gib }))
    c.ok({ _tag: "VolumeReady", at: at(0), volumeId: v })
    const e = c.ok({ _tag: "CreateSnapshot", at: at(0), account: alice, volumeId: v, description: "root" })[0]!
    if (e._tag !== "SnapshotStarted") throw new Error("no snapshot")
    c.ok({ _tag: "SnapshotProgress", at: at(0), snapshotId: e.snapshot, progress: 100 })
    c.ok({ _tag: "DeleteVolume", at: at(0), account: alice, volumeId: v })
    return e.snapshot
  }

  it("launch with their root and mapped volumes attached; the start carries them", () => {
    const c = cloud()
    const genesis = c.state
    const snap = completedSnapshot(c)
    const events = ebsLaunch(c, snap)
    expect(events.map((e) => e._tag)).toEqual(["GroupCreated", "VolumesCreated", "InstancesLaunched"])
    const id = launchedIds(events)[0]!
    const vols = Ebs.attachedTo(c.state.storage, id)
    expect(vols.map((v) => [v.attachment!.device, v.sizeGiB, v.state, v.attachment!.state, v.attachment!.deleteOnTermination])).toEqual([
      ["/dev/sda1", 4, "in-use", "attached", true],
      ["/dev/sdb", 3, "in-use", "attached", false]
    ])
    const start = effectsOf(genesis, c.log).find((e) => e._tag === "StartInstance")
    expect(start?._tag === "StartInstance" && start.instance.volumes?.map((v) => [v.device, v.sizeGiB, v.snapshotId])).toEqual([
      ["/dev/sda1", 4, snap],
      ["/dev/sdb", 3, undefined]
    ])
    // The storage bounds the count: 100 GiB hold 14 instances of 7 GiB (7 are taken by the first).
    expect(c.run(runCmd({ zone: "zone-1", ebsRoot: "/dev/sda1", blockDevices: [{ device: "/dev/sda1", sizeGiB: 50, deleteOnTermination: true }], minCount: 2, maxCount: 2 }))).toMatchObject({
      rejection: { _tag: "StorageFull", zone: "zone-1", requestedGiB: 100 }
    })
    expect(c.run(runCmd({ zone: "zone-1", blockDevices: [{ device: "/dev/sda1", snapshotId: "snap-00000000", deleteOnTermination: true }] }))).toMatchObject({
      rejection: { _tag: "SnapshotNotFound" }
    })
  })

  it("stop (keeping volumes and addresses, releasing node capacity), start on any node of the zone, and terminate", () => {
    const c = cloud()
    const snap = completedSnapshot(c)
    const id = launchedIds(ebsLaunch(c, snap, { vmType: "m1.large" }))[0]!
    const store = running(c, { zone: "zone-2" })
    expect(c.run({ _tag: "StopInstances", at: at(2), account: alice, instanceIds: [store] })).toMatchObject({ rejection: { _tag: "NotEbsBacked", instance: store } })
    expect(c.run({ _tag: "StopInstances", at: at(2), account: alice, instanceIds: [id] })).toMatchObject({ rejection: { _tag: "IncorrectInstanceState", state: "pending" } })
    c.ok({ _tag: "InstanceBooted", at: at(3), instanceId: id })
    const before = State.instance(c.state, id)!
    expect(c.ok({ _tag: "StopInstances", at: at(4), account: alice, instanceIds: [id] }).map((e) => e._tag)).toEqual(["InstancesStopping"])
    expect(State.instance(c.state, id)!.state).toBe("stopping")
    // Still on its node until the VM is gone.
    expect(c.state.nodes[0]!.used.cores).toBe(2)
    c.ok({ _tag: "InstanceStopped", at: at(5), instanceId: id })
    const stopped = State.instance(c.state, id)!
    expect(stopped).toMatchObject({ state: "stopped", net: before.net })
    expect(c.state.nodes[0]!).toMatchObject({ used: { cores: 0 }, instances: 0 })
    expect(Ebs.attachedTo(c.state.storage, id)).toHaveLength(2)
    expect(c.ok({ _tag: "StopInstances", at: at(6), account: alice, instanceIds: [id] })).toEqual([])
    // The root volume stays put while stopped; a volume may be attached to a stopped instance at once.
    const extra = volumeOf(c.ok({ _tag: "CreateVolume", at: at(6), account: alice, zone: "zone-1", sizeGiB: 1 }))
    c.ok({ _tag: "VolumeReady", at: at(6), volumeId: extra })
    c.ok({ _tag: "AttachVolume", at: at(6), account: alice, volumeId: extra, instanceId: id, device: "/dev/sdc" })
    expect(Ebs.volume(c.state.storage, extra)!.attachment!.state).toBe("attached")
    // Node 1 fills up meanwhile: the instance starts on node 2 of its zone.
    running(c, { vmType: "m1.large" })
    const start = c.ok({ _tag: "StartInstances", at: at(7), account: alice, instanceIds: [id] })
    expect(start).toMatchObject([{ _tag: "InstanceStarting", node: "z1n2" }])
    expect(State.instance(c.state, id)).toMatchObject({ state: "pending", node: "z1n2", net: before.net })
    const fx = Effects.of(c.state, start[0]!, c.state).find((e) => e._tag === "StartInstance")
    expect(fx?._tag === "StartInstance" && fx.instance.volumes?.map((v) => v.device)).toEqual(["/dev/sda1", "/dev/sdb", "/dev/sdc"])
    c.ok({ _tag: "InstanceBooted", at: at(8), instanceId: id })
    expect(c.run({ _tag: "DetachVolume", at: at(9), account: alice, volumeId: Ebs.attachedTo(c.state.storage, id)[0]!.id })).toMatchObject({ rejection: { _tag: "RootVolumeInUse" } })
    // DeleteOnTermination can be changed per device (ModifyInstanceAttribute's blockDeviceMapping).
    const sdb = Ebs.attachedTo(c.state.storage, id).find((v) => v.attachment!.device === "/dev/sdb")!
    expect(c.ok({ _tag: "SetDeleteOnTermination", at: at(9), account: alice, instanceId: id, device: "/dev/sdb", deleteOnTermination: true })).toHaveLength(1)
    expect(Ebs.volume(c.state.storage, sdb.id)!.attachment!.deleteOnTermination).toBe(true)
    expect(c.ok({ _tag: "SetDeleteOnTermination", at: at(9), account: alice, instanceId: id, device: "/dev/sdb", deleteOnTermination: false })).toHaveLength(1)
    expect(c.run({ _tag: "SetDeleteOnTermination", at: at(9), account: alice, instanceId: id, device: "/dev/sdz", deleteOnTermination: true })).toMatchObject({ rejection: { _tag: "InvalidRequest" } })
    // Stopped again, then terminated: the root (DeleteOnTermination) goes, the others stay, available.
    c.ok({ _tag: "StopInstances", at: at(10), account: alice, instanceIds: [id] })
    c.ok({ _tag: "InstanceStopped", at: at(11), instanceId: id })
    const used = Ebs.used(c.state.storage, "zone-1")
    const usedNodes = c.state.nodes.map((n) => n.used.cores)
    c.ok({ _tag: "TerminateInstances", at: at(12), account: alice, instanceIds: [id] })
    expect(State.instance(c.state, id)!.state).toBe("terminated")
    expect(c.state.nodes.map((n) => n.used.cores)).toEqual(usedNodes)
    expect(Ebs.attachedTo(c.state.storage, id)).toEqual([])
    expect(Ebs.used(c.state.storage, "zone-1")).toBe(used - 4)
    expect(Ebs.volumes(c.state.storage).map((v) => [v.sizeGiB, v.state])).toEqual([[3, "available"], [1, "available"]])
  })

  it("journal events survive their Schema round trip (what the journal writes and reads)", () => {
    const c = cloud()
    const snap = completedSnapshot(c)
    const id = launchedIds(ebsLaunch(c, snap))[0]!
    c.ok({ _tag: "InstanceBooted", at: at(3), instanceId: id })
    c.ok({ _tag: "StopInstances", at: at(4), account: alice, instanceIds: [id] })
    c.ok({ _tag: "InstanceStopped", at: at(5), instanceId: id })
    c.ok({ _tag: "StartInstances", at: at(6), account: alice, instanceIds: [id] })
    const codec = Schema.parseJson(Schema.Array(Events.Event))
    const back = Schema.decodeUnknownSync(codec)(Schema.encodeSync(codec)(c.log))
    expect(back).toEqual(c.log)
    let s = cloud().state
    for (const e of back) s = evolve(s, e)
    expect(s).toEqual(c.state)
  })
})
