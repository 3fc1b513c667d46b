import { describe, expect, it } from "@effect/vitest"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import { alice, at, bob, launchedIds, make, placements, runCmd, topology } from "../support/cloud.js"

const twoSmallNodes = topology([
  [2, 1024, 20],
  [2, 1024, 20]
])

describe("RunInstances", () => {
  it("places min…max instances in one zone, all or nothing", () => {
    const c = make(Policy.greedy(), twoSmallNodes)
    // m1.small is 1 vCPU / 128 MiB / 2 GiB: 2 fit per node by cores, 4 in the zone.
    const events = c.ok(runCmd({ minCount: 1, maxCount: 10 }))
    expect(placements(events)).toEqual(["z1n1", "z1n1", "z1n2", "z1n2"])
    const d = c.run(runCmd({ minCount: 1, maxCount: 1 }))
    expect(d._tag).toBe("Rejected")
    if (d._tag === "Rejected") {
      expect(d.rejection).toMatchObject({ _tag: "InsufficientCapacity", zone: "zone-1", requested: 1, placeable: 0 })
    }
  })

  it("rejects the whole request when fewer than MinCount fit (Eucalyptus's CC placed fewer; we do not)", () => {
    const c = make(Policy.greedy(), twoSmallNodes)
    const d = c.run(runCmd({ minCount: 5, maxCount: 5 }))
    expect(d).toMatchObject({ _tag: "Rejected", rejection: { _tag: "InsufficientCapacity", requested: 5, placeable: 4 } })
    expect(State.liveInstances(c.state)).toHaveLength(0)
    expect(c.state.nodes.every((n) => n.instances === 0)).toBe(true)
  })

  it("holds capacity from placement until terminated, through shutting-down", () => {
    const c = make(Policy.greedy(), topology([[1, 1024, 20]]))
    const [id] = launchedIds(c.ok(runCmd()))
    expect(c.run(runCmd())._tag).toBe("Rejected")
    c.ok({ _tag: "InstanceBooted", at: at(10), instanceId: id! })
    c.ok({ _tag: "TerminateInstances", at: at(20), account: alice, instanceIds: [id!] })
    expect(State.instance(c.state, id!)!.state).toBe("shutting-down")
    expect(c.run(runCmd())._tag).toBe("Rejected")
    c.ok({ _tag: "InstanceStopped", at: at(30), instanceId: id! })
    expect(State.instance(c.state, id!)!.state).toBe("terminated")
    expect(c.run(runCmd({ at: at(40) }))._tag).toBe("Accepted")
  })

  it("keeps accounts apart", () => {
    const c = make(Policy.greedy(), twoSmallNodes)
    const [id] = launchedIds(c.ok(runCmd()))
    expect(c.run({ _tag: "TerminateInstances", at: at(1), account: bob, instanceIds: [id!] })).toMatchObject({
      _tag: "Rejected",
      rejection: { _tag: "InstanceNotFound", ids: [id!] }
    })
  })
})
