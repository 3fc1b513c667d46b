import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Availability from "../../src/model/Availability.js"
import * as Capacity from "../../src/model/Capacity.js"
import * as Cloud from "../../src/model/Cloud.js"
import * as Lifecycle from "../../src/model/Lifecycle.js"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import * as VmType from "../../src/model/VmType.js"
import { at, make, runCmd, topology } from "../support/cloud.js"

describe("availability (describe-availability-zones verbose)", () => {
  it("counts per-node floors summed over nodes, free and max, in Eucalyptus's format", () => {
    const c = make(Policy.greedy(), topology([[4, 2048, 40], [2, 1024, 20]]))
    c.ok(runCmd({ vmType: "m1.large" }))
    const z = c.state.zones[0]!
    const view = new Capacity.ArrayCapacity(State.nodeRows(c.state, z))
    const rows = Availability.verboseRows(view, c.state.vmTypes)
    expect(rows).toEqual([
      { name: "|- vm types", state: "free / max   cpu   ram  disk" },
      // n1 after one m1.large: 2 cores, 1536 MiB, 30 GiB left; n2: 2, 1024, 20.
      { name: "|- m1.small", state: "0004 / 0006   1    128     2" },
      { name: "|- c1.medium", state: "0004 / 0006   1    256     5" },
      { name: "|- m1.large", state: "0002 / 0003   2    512    10" },
      { name: "|- m1.xlarge", state: "0002 / 0003   2   1024    20" },
      { name: "|- c1.xlarge", state: "0000 / 0001   4   2048    20" }
    ])
  })

  it("counts nothing on down nodes, and never counts fragments spread over nodes", () => {
    const c = make(Policy.greedy(), topology([[1, 1024, 10], [1, 1024, 10]]))
    c.ok({ _tag: "NodeLost", at: at(1), nodeId: "z1n2", reason: "test" })
    const view = new Capacity.ArrayCapacity(State.nodeRows(c.state, c.state.zones[0]!))
    expect(Availability.slots(view, VmType.size(VmType.find(c.state.vmTypes, "m1.large")!))).toEqual({ free: 0, max: 0 })
    expect(Availability.slots(view, VmType.size(VmType.find(c.state.vmTypes, "m1.small")!))).toEqual({ free: 1, max: 1 })
  })

  it("picks the zone with the most free slots when none is named (LeastFullFirst), the first on ties", () => {
    const c = make(Policy.greedy(), topology([[2, 2048, 40]], [[4, 4096, 80]], [[4, 4096, 80]]))
    expect(c.ok(runCmd()).find((e) => e._tag === "InstancesLaunched")).toMatchObject({ zone: "zone-2" })
    expect(c.ok(runCmd({ at: at(1) })).find((e) => e._tag === "InstancesLaunched")).toMatchObject({ zone: "zone-3" })
    expect(c.run(runCmd({ at: at(2), zone: "zone-9" }))).toMatchObject({ _tag: "Rejected", rejection: { _tag: "UnknownZone" } })
  })
})

describe("VM types", () => {
  it("ships Eucalyptus 1.5–3.0's defaults", () => {
    expect(VmType.eucalyptusDefaults.map((t) => [t.name, t.cores, t.memoryMiB, t.diskGiB])).toEqual([
      ["m1.small", 1, 128, 2],
      ["c1.medium", 1, 256, 5],
      ["m1.large", 2, 512, 10],
      ["m1.xlarge", 2, 1024, 20],
      ["c1.xlarge", 4, 2048, 20]
    ])
  })

  it("rejects a table that is not totally ordered, unless the policy does not need the order", () => {
    const table = [...VmType.eucalyptusDefaults, { ...VmType.eucalyptusDefaults[0]!, name: "x1.odd" as VmType.VmTypeName, cores: 8 as never, memoryMiB: 64 as never }]
    const topo = topology([[8, 8192, 100]])
    const greedy = Cloud.make({ topology: topo, vmTypes: table }, Policy.greedy())
    expect(Either.isLeft(greedy) && greedy.left.message).toMatch(/x1\.odd .* not ordered.*well-ordering/)
    expect(Either.isRight(Cloud.make({ topology: topo, vmTypes: table }, Policy.bestFit()))).toBe(true)
  })

  it("can be edited at run time, validated the same way", () => {
    const c = make(Policy.greedy(), topology([[8, 8192, 100]]))
    expect(c.run({ _tag: "SetVmTypes", at: at(0), vmTypes: [{ name: "a", cores: 1, memoryMiB: 512, diskGiB: 1 }, { name: "b", cores: 2, memoryMiB: 256, diskGiB: 1 }] })).toMatchObject({
      _tag: "Rejected",
      rejection: { _tag: "InvalidVmTypes" }
    })
    c.ok({ _tag: "SetVmTypes", at: at(0), vmTypes: [{ name: "t1.micro", cores: 1, memoryMiB: 64, diskGiB: 1 }] })
    expect(c.run(runCmd({ vmType: "m1.small" }))).toMatchObject({ rejection: { _tag: "UnknownVmType" } })
    expect(c.run(runCmd({ vmType: "t1.micro" }))._tag).toBe("Accepted")
  })
})

describe("instance lifecycle", () => {
  it("allows exactly the documented transitions", () => {
    const table: Record<Lifecycle.InstanceState, Record<Lifecycle.Action, string>> = {
      pending: { boot: "running", reboot: "illegal", terminate: "shutting-down", stopped: "illegal", fail: "terminated", stop: "illegal", halted: "illegal", start: "pending" },
      running: { boot: "illegal", reboot: "running", terminate: "shutting-down", stopped: "illegal", fail: "terminated", stop: "stopping", halted: "illegal", start: "running" },
      "shutting-down": { boot: "illegal", reboot: "illegal", terminate: "shutting-down", stopped: "terminated", fail: "terminated", stop: "illegal", halted: "illegal", start: "illegal" },
      terminated: { boot: "illegal", reboot: "illegal", terminate: "terminated", stopped: "terminated", fail: "illegal", stop: "illegal", halted: "illegal", start: "illegal" },
      stopping: { boot: "illegal", reboot: "illegal", terminate: "shutting-down", stopped: "illegal", fail: "terminated", stop: "stopping", halted: "stopped", start: "illegal" },
      stopped: { boot: "illegal", reboot: "illegal", terminate: "terminated", stopped: "illegal", fail: "terminated", stop: "stopped", halted: "illegal", start: "pending" }
    }
    for (const [from, row] of Object.entries(table)) {
      for (const [action, to] of Object.entries(row)) {
        const r = Lifecycle.next(from as Lifecycle.InstanceState, action as Lifecycle.Action)
        expect([from, action, Either.isRight(r) ? r.right : "illegal"]).toEqual([from, action, to])
      }
    }
  })

  it("reboots only running instances, once per call, and ignores late observations", () => {
    const c = make(Policy.greedy(), topology([[8, 8192, 100]]))
    const launched = c.ok(runCmd())
    const id = launched.flatMap((e) => (e._tag === "InstancesLaunched" ? e.instances.map((i) => i.id) : []))[0]!
    expect(c.run({ _tag: "RebootInstances", at: at(1), account: undefined, instanceIds: [id] })).toMatchObject({
      rejection: { _tag: "IncorrectInstanceState", state: "pending" }
    })
    c.ok({ _tag: "InstanceBooted", at: at(2), instanceId: id })
    expect(c.ok({ _tag: "RebootInstances", at: at(3), account: undefined, instanceIds: [id, id] })).toHaveLength(1)
    expect(c.ok({ _tag: "InstanceBooted", at: at(4), instanceId: id })).toEqual([])
    c.ok({ _tag: "NodeLost", at: at(5), nodeId: "z1n1", reason: "power cut" })
    expect(State.instance(c.state, id)).toMatchObject({ state: "terminated", stateReason: { code: "Server.InternalError" } })
    expect(c.state.nodes[0]).toMatchObject({ state: "down", instances: 0, used: { cores: 0, memoryMiB: 0, diskGiB: 0 } })
    expect(c.ok({ _tag: "InstanceStopped", at: at(6), instanceId: id })).toEqual([])
  })
})
