import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, TestClock } from "effect"
import * as Backend from "../../src/controller/Backend.js"
import * as Cloud from "../../src/model/Cloud.js"
import * as Ebs from "../../src/model/Ebs.js"
import type * as Commands from "../../src/model/Commands.js"
import type * as Effects from "../../src/model/Effects.js"
import * as Ids from "../../src/model/Ids.js"
import * as Policy from "../../src/model/Policy.js"
import * as Resources from "../../src/model/Resources.js"
import type * as State from "../../src/model/State.js"
import * as Distribution from "../../src/sim/Distribution.js"
import * as SimBackend from "../../src/sim/SimBackend.js"
import { topology } from "./support.js"

const cloud = (): State.State => {
  const s = Cloud.make({ topology: topology([[4, 4096, 50], [4, 4096, 50]]) }, Policy.greedy())
  if (Either.isLeft(s)) throw new Error(s.left.message)
  return s.right
}

const spec = (seq: number, lifetimeMs?: number): Effects.InstanceSpec => {
  const id = Ids.instanceId(seq)
  return {
    id,
    account: Ids.accountId("alice"),
    zone: Ids.zoneName("zone-1"),
    node: Ids.nodeId("z1n1"),
    vmType: "m1.small",
    size: Resources.make(1, 128, 2),
    imageId: "emi-00000001",
    keyName: "mykey",
    launchIndex: 0,
    mac: Ids.macOf(id),
    privateIp: `172.31.0.${seq + 1}`,
    ...(lifetimeMs === undefined ? {} : { lifetimeMs })
  }
}

/** A controller stand-in: records what the backend reports, with the virtual time. */
const fakeContext = (state: State.State) => {
  const reports: Array<Commands.Command> = []
  const ctx: Backend.BackendContext = {
    report: (c) => Effect.sync(() => void reports.push(c)),
    state: Effect.succeed(state)
  }
  return { ctx, reports }
}

const summary = (reports: ReadonlyArray<Commands.Command>) =>
  reports.map((c) => `${c.at} ${c._tag} ${"instanceId" in c ? c.instanceId : "nodeId" in c ? c.nodeId : "instanceIds" in c ? c.instanceIds.join() : ""}`)

describe("SimBackend", () => {
  it.scoped("reports every node at start, boots after the boot delay, stops after the stop delay, wakes nodes after the wake delay", () =>
    Effect.gen(function* () {
      const { ctx, reports } = fakeContext(cloud())
      const b = yield* SimBackend.make({ bootDelay: Distribution.constantMs(30_000), stopDelay: Distribution.constantMs(2_000), wakeDelayMs: 45_000 })
      yield* b.start(ctx)
      expect(summary(reports)).toEqual(["0 NodeReported z1n1", "0 NodeReported z1n2"])
      reports.length = 0
      const x = spec(1)
      yield* b.execute({ _tag: "StartInstance", instance: x })
      yield* TestClock.adjust("29999 millis")
      expect(reports).toEqual([])
      yield* TestClock.adjust("1 millis")
      expect(summary(reports)).toEqual([`30000 InstanceBooted ${x.id}`])
      yield* b.execute({ _tag: "StopInstance", instanceId: x.id, node: x.node })
      yield* b.execute({ _tag: "PowerUp", node: Ids.nodeId("z1n2") })
      yield* TestClock.adjust("60 seconds")
      expect(summary(reports)).toEqual([`30000 InstanceBooted ${x.id}`, `32000 InstanceStopped ${x.id}`, "75000 NodeReported z1n2"])
    })
  )

  it.scoped("the storage controller: creates, attaches, detaches (at once when forced) and snapshots after its delays, reporting progress half-way", () =>
    Effect.gen(function* () {
      const { ctx, reports } = fakeContext(cloud())
      const b = yield* SimBackend.make({
        volumeCreateDelay: Distribution.constantMs(3_000),
        volumeAttachDelay: Distribution.constantMs(1_500),
        volumeDetachDelay: Distribution.constantMs(700),
        snapshotDelay: Distribution.constantMs(10_000)
      })
      yield* b.start(ctx)
      reports.length = 0
      const volume = { id: Ebs.volumeId(1), zone: Ids.zoneName("zone-1"), sizeGiB: 5 }
      const i = spec(1)
      yield* b.execute({ _tag: "CreateVolume", volume })
      yield* b.execute({ _tag: "AttachVolume", volume, instanceId: i.id, node: i.node, device: "/dev/sdf" })
      yield* b.execute({ _tag: "CreateSnapshot", snapshotId: Ebs.snapshotId(1), volume })
      yield* TestClock.adjust("2999 millis")
      const seen = () => reports.map((c) => `${c.at} ${c._tag}${"progress" in c ? ` ${c.progress}` : ""}`)
      expect(seen()).toEqual(["1500 VolumeAttachDone"])
      yield* TestClock.adjust("1 millis")
      yield* b.execute({ _tag: "DetachVolume", volume, instanceId: i.id, node: i.node, device: "/dev/sdf", force: false })
      yield* b.execute({ _tag: "DetachVolume", volume, instanceId: i.id, node: i.node, device: "/dev/sdf", force: true })
      yield* TestClock.adjust("10 seconds")
      expect(seen()).toEqual(["1500 VolumeAttachDone", "3000 VolumeReady", "3000 VolumeDetachDone", "3700 VolumeDetachDone", "5000 SnapshotProgress 50", "10000 SnapshotProgress 100"])
    })
  )

  it.scoped("fails starts with the configured probability, and ends an instance with a lifetime by itself", () =>
    Effect.gen(function* () {
      const { ctx, reports } = fakeContext(cloud())
      const failing = yield* SimBackend.make({ failureProbability: 1, bootDelay: Distribution.constantMs(10_000) })
      yield* failing.start(ctx)
      reports.length = 0
      yield* failing.execute({ _tag: "StartInstance", instance: spec(1) })
      yield* TestClock.adjust("10 seconds")
      expect(reports).toMatchObject([{ _tag: "InstanceFailed", at: 10_000, instanceId: spec(1).id, reason: "the simulated start failed" }])

      const { ctx: ctx2, reports: r2 } = fakeContext(cloud())
      const b = yield* SimBackend.make({ bootDelay: Distribution.constantMs(10_000) })
      yield* b.start(ctx2)
      r2.length = 0
      yield* b.execute({ _tag: "StartInstance", instance: spec(2, 60_000) })
      yield* TestClock.adjust("2 minutes")
      expect(r2).toMatchObject([
        { _tag: "InstanceBooted", instanceId: spec(2).id },
        { _tag: "TerminateInstances", account: undefined, instanceIds: [spec(2).id], reason: { code: "Client.InstanceInitiatedShutdown" } }
      ])
      // The clock is at 10 s: booted 10 s later, terminated 60 s after that.
      expect(r2.map((c) => c.at)).toEqual([20_000, 80_000])
    })
  )

  it.scoped("a stop before the boot cancels the boot report", () =>
    Effect.gen(function* () {
      const { ctx, reports } = fakeContext(cloud())
      const b = yield* SimBackend.make({ bootDelay: Distribution.constantMs(30_000), stopDelay: Distribution.constantMs(1_000) })
      yield* b.start(ctx)
      reports.length = 0
      yield* b.execute({ _tag: "StartInstance", instance: spec(3, 5_000) })
      yield* TestClock.adjust("10 seconds")
      yield* b.execute({ _tag: "StopInstance", instanceId: spec(3).id, node: Ids.nodeId("z1n1") })
      yield* TestClock.adjust("5 minutes")
      expect(summary(reports)).toEqual([`11000 InstanceStopped ${spec(3).id}`])
    })
  )

  it.scoped("draws its delays from the seed: same seed, same delays; another seed, others", () =>
    Effect.gen(function* () {
      const times = (seed: number) =>
        Effect.gen(function* () {
          const { ctx, reports } = fakeContext(cloud())
          const b = yield* SimBackend.make({ seed, bootDelay: Distribution.uniformMs(10_000, 90_000) })
          yield* b.start(ctx)
          reports.length = 0
          const t0 = yield* TestClockTime
          for (let k = 1; k <= 5; k++) yield* b.execute({ _tag: "StartInstance", instance: spec(k) })
          yield* TestClock.adjust("2 minutes")
          return reports.map((c) => [(c as { instanceId: string }).instanceId, c.at - t0] as const).sort()
        })
      const a = yield* times(1)
      const again = yield* times(1)
      const other = yield* times(2)
      expect(a).toHaveLength(5)
      expect(again).toEqual(a)
      expect(other).not.toEqual(a)
    })
  )

  it.scoped("gives a booted instance a console log with its id, MAC, address and key", () =>
    Effect.gen(function* () {
      const state = cloud()
      const { ctx } = fakeContext(state)
      const b = yield* SimBackend.make({ seed: 9 })
      yield* b.start(ctx)
      const x = spec(4)
      const instance = { id: x.id } as State.Instance
      expect(yield* b.consoleOutput(instance)).toBe("")
      yield* b.execute({ _tag: "StartInstance", instance: x })
      yield* TestClock.adjust("31 seconds")
      const log = yield* b.consoleOutput(instance)
      expect(log).toContain("Linux version")
      expect(log).toContain(`eth0: MAC ${x.mac}`)
      expect(log).toContain(x.privateIp!)
      expect(log).toContain(`instance-id: ${x.id}`)
      expect(log).toContain(`ssh key "mykey"`)
      expect(log).toContain(`${x.id} login:`)
    })
  )

  it("takes its options from an experiment's backend object, naming a wrong field", () => {
    const ok = SimBackend.optionsFromConfig({ bootDelay: { kind: "constant", seconds: 12 }, wakeDelaySeconds: 5, failureProbability: 0.5 }, 7)
    expect(Either.getOrThrow(ok)).toMatchObject({ seed: 7, wakeDelayMs: 5000, failureProbability: 0.5 })
    expect(Either.getOrThrow(ok).bootDelay!.meanMs).toBe(12_000)
    const bad = SimBackend.optionsFromConfig({ stopDelay: { kind: "uniform", minSeconds: 1 } })
    expect(Either.isLeft(bad) && bad.left.field).toBe("stopDelay.maxSeconds")
  })

  it.scoped("is provided as the Backend service by its layer", () =>
    Effect.gen(function* () {
      // The port names no backend: what the layer provides is known by what it does.
      const b = yield* Backend.Backend
      const { ctx, reports } = fakeContext(cloud())
      yield* b.start(ctx)
      expect(summary(reports)).toEqual(["0 NodeReported z1n1", "0 NodeReported z1n2"])
    }).pipe(Effect.provide(SimBackend.layer({ seed: 3 })))
  )
})

const TestClockTime = TestClock.currentTimeMillis
