import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, HashMap } from "effect"
import type * as Commands from "../../src/model/Commands.js"
import * as Ebs from "../../src/model/Ebs.js"
import * as Lifecycle from "../../src/model/Lifecycle.js"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import type * as Topology from "../../src/model/Topology.js"
import { alice, at, bob, make, runCmd, topology } from "../support/cloud.js"

const CAPACITY = 40

type Step =
  | { readonly kind: "create"; readonly account: 0 | 1; readonly zone: 0 | 1; readonly size: number; readonly fromSnapshot: number | undefined }
  | { readonly kind: "attach"; readonly account: 0 | 1; readonly volume: number; readonly instance: number; readonly device: number }
  | { readonly kind: "detach"; readonly account: 0 | 1; readonly volume: number; readonly force: boolean }
  | { readonly kind: "delete"; readonly account: 0 | 1; readonly volume: number }
  | { readonly kind: "snapshot"; readonly volume: number }
  | { readonly kind: "observe"; readonly what: "ready" | "failed" | "attached" | "attachFailed" | "detached" | "progress"; readonly pick: number }
  | { readonly kind: "run"; readonly account: 0 | 1; readonly zone: 0 | 1; readonly ebs: boolean; readonly count: number }
  | { readonly kind: "instance"; readonly what: "boot" | "stop" | "stopped" | "start" | "terminate" | "fail"; readonly pick: number }

const acct = fc.constantFrom(0 as const, 1 as const)
const zone = fc.constantFrom(0 as const, 1 as const)
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("create" as const), account: acct, zone, size: fc.integer({ min: 1, max: 15 }), fromSnapshot: fc.option(fc.nat(), { nil: undefined }) }),
  fc.record({ kind: fc.constant("attach" as const), account: acct, volume: fc.nat(), instance: fc.nat(), device: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant("detach" as const), account: acct, volume: fc.nat(), force: fc.boolean() }),
  fc.record({ kind: fc.constant("delete" as const), account: acct, volume: fc.nat() }),
  fc.record({ kind: fc.constant("snapshot" as const), volume: fc.nat() }),
  fc.record({ kind: fc.constant("observe" as const), what: fc.constantFrom("ready" as const, "failed" as const, "attached" as const, "attachFailed" as const, "detached" as const, "progress" as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant("run" as const), account: acct, zone, ebs: fc.boolean(), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant("instance" as const), what: fc.constantFrom("boot" as const, "stop" as const, "stopped" as const, "start" as const, "terminate" as const, "fail" as const), pick: fc.nat() })
)

const pick = <A>(xs: ReadonlyArray<A>, k: number): A | undefined => (xs.length === 0 ? undefined : xs[k % xs.length])
const DEVICES = ["/dev/sdf", "/dev/sdg", "/dev/sdh", "/dev/sda1"]

const command = (s: State.State, st: Step, t: number): Commands.Command | undefined => {
  const account = [alice, bob]
  const vols = Ebs.volumes(s.storage)
  const snaps = Ebs.snapshots(s.storage)
  const insts = State.instances(s)
  const zoneName = (z: 0 | 1) => s.zones[z]!.name
  switch (st.kind) {
    case "create": {
      const snap = st.fromSnapshot === undefined ? undefined : pick(snaps, st.fromSnapshot)
      return { _tag: "CreateVolume", at: at(t), account: account[st.account]!, zone: zoneName(st.zone), sizeGiB: st.size, snapshotId: snap?.id }
    }
    case "attach": {
      const v = pick(vols, st.volume)
      const i = pick(insts, st.instance)
      return v && i ? { _tag: "AttachVolume", at: at(t), account: account[st.account]!, volumeId: v.id, instanceId: i.id, device: DEVICES[st.device]! } : undefined
    }
    case "detach": {
      const v = pick(vols, st.volume)
      return v ? { _tag: "DetachVolume", at: at(t), account: account[st.account]!, volumeId: v.id, force: st.force } : undefined
    }
    case "delete": {
      const v = pick(vols, st.volume)
      return v ? { _tag: "DeleteVolume", at: at(t), account: account[st.account]!, volumeId: v.id } : undefined
    }
    case "snapshot": {
      const v = pick(vols, st.volume)
      return v ? { _tag: "CreateSnapshot", at: at(t), account: v.account, volumeId: v.id, description: "" } : undefined
    }
    case "observe": {
      const v = pick(vols, st.pick)
      const snap = pick(snaps, st.pick)
      switch (st.what) {
        case "ready":
          return v && { _tag: "VolumeReady", at: at(t), volumeId: v.id }
        case "failed":
          return v && { _tag: "VolumeCreateFailed", at: at(t), volumeId: v.id, reason: "test" }
        case "attached":
          return v && { _tag: "VolumeAttachDone", at: at(t), volumeId: v.id }
        case "attachFailed":
          return v && { _tag: "VolumeAttachFailed", at: at(t), volumeId: v.id, reason: "test" }
        case "detached":
          return v && { _tag: "VolumeDetachDone", at: at(t), volumeId: v.id }
        case "progress":
          return snap && { _tag: "SnapshotProgress", at: at(t), snapshotId: snap.id, progress: snap.progress + 50 }
      }
      return undefined
    }
    case "run":
      return runCmd({
        at: at(t),
        account: account[st.account]!,
        zone: zoneName(st.zone),
        minCount: 1,
        maxCount: st.count,
        ...(st.ebs ? { ebsRoot: "/dev/sda1", blockDevices: [{ device: "/dev/sda1", sizeGiB: 5, deleteOnTermination: true }] } : {})
      })
    case "instance": {
      const i = pick(insts, st.pick)
      if (!i) return undefined
      switch (st.what) {
        case "boot":
          return { _tag: "InstanceBooted", at: at(t), instanceId: i.id }
        case "stop":
          return { _tag: "StopInstances", at: at(t), account: undefined, instanceIds: [i.id] }
        case "stopped":
          return { _tag: "InstanceStopped", at: at(t), instanceId: i.id }
        case "start":
          return { _tag: "StartInstances", at: at(t), account: undefined, instanceIds: [i.id] }
        case "terminate":
          return { _tag: "TerminateInstances", at: at(t), account: undefined, instanceIds: [i.id] }
        case "fail":
          return { _tag: "InstanceFailed", at: at(t), instanceId: i.id, reason: "test" }
      }
    }
  }
}

const invariants = (s: State.State) => {
  const vols = Ebs.volumes(s.storage)
  // In use exactly when attached; an attachment names one instance, which exists and is not terminated.
  for (const v of vols) {
    expect(v.state === "in-use", `${v.id} ${v.state}`).toBe(v.attachment !== undefined)
    if (v.attachment) {
      const i = State.instance(s, v.attachment.instance)
      expect(i, v.id).toBeDefined()
      expect(i!.state).not.toBe("terminated")
      expect(i!.zone).toBe(v.zone)
      expect(i!.account).toBe(v.account)
    }
  }
  // No two volumes at one device of one instance.
  const at = new Set<string>()
  for (const v of vols) {
    if (!v.attachment) continue
    const k = `${v.attachment.instance} ${v.attachment.device}`
    expect(at.has(k), k).toBe(false)
    at.add(k)
  }
  // Used storage is the sum of the zone's volumes and never above its capacity.
  for (const z of s.zones) {
    const sum = vols.filter((v) => v.zone === z.name).reduce((a, v) => a + v.sizeGiB, 0)
    expect(Ebs.used(s.storage, z.name)).toBe(sum)
    expect(sum).toBeLessThanOrEqual(CAPACITY)
  }
  // Node capacity is held exactly by the instances that hold capacity (stopped ones do not).
  for (const n of s.nodes) {
    const on = State.instances(s).filter((i) => i.node === n.id && Lifecycle.holdsCapacity(i.state))
    expect(n.instances, n.id).toBe(on.length)
    expect(n.used.cores, n.id).toBe(on.reduce((a, i) => a + i.size.cores, 0))
  }
  // Snapshot progress stays within 0…100 and is 100 exactly when completed.
  for (const snap of HashMap.values(s.storage.snapshots)) {
    expect(snap.progress).toBeGreaterThanOrEqual(0)
    expect(snap.progress).toBeLessThanOrEqual(100)
    if (snap.state === "completed") expect(snap.progress).toBe(100)
  }
}

describe("volumes: invariants over random command sequences", () => {
  it("hold after every accepted command: one instance per volume, in-use iff attached, capacity never exceeded", () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 60 }), (steps) => {
        const t = topology([[4, 4096, 100], [4, 4096, 100]], [[4, 4096, 100]])
        const topo: Topology.Topology = { zones: t.zones.map((z) => ({ ...z, storageGiB: CAPACITY as never })) }
        const c = make(Policy.greedy(), topo)
        steps.forEach((st, k) => {
          const cmd = command(c.state, st, k)
          if (cmd === undefined) return
          c.run(cmd)
          invariants(c.state)
        })
      }),
      { numRuns: 300 }
    )
  })
})
