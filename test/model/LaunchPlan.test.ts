/**
 * The launch planner on its own: zone choice, the network and storage bounds and which one names the
 * refusal, all-or-nothing placement that leaves the views as they were, wake-ups, consultations (returned
 * or run at once), and a policy's defect. The decider and the fast engine both run it (the engines'
 * differential test and the decider's tests hold them to the same answers).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Capacity from "../../src/model/Capacity.js"
import * as Ids from "../../src/model/Ids.js"
import * as LaunchPlan from "../../src/model/LaunchPlan.js"
import * as Policy from "../../src/model/Policy.js"
import * as Resources from "../../src/model/Resources.js"

const node = (id: string, cores: number, state: Capacity.NodeState = "up", usedCores = 0): Capacity.NodeRow => ({
  id: Ids.nodeId(id),
  state,
  capacity: Resources.make(cores, 8192, 100),
  used: Resources.make(usedCores, 0, 0),
  instances: usedCores > 0 ? 1 : 0
})

const zonesOf = (...zones: ReadonlyArray<ReadonlyArray<Capacity.NodeRow>>) => {
  const views = zones.map((rows) => new Capacity.ArrayCapacity(rows))
  return { views, zones: LaunchPlan.plainZones(zones.map((_, k) => `zone-${k + 1}`), views) }
}

/** What a view shows: per node, state and free cores. */
const snapshot = (v: Capacity.CapacityView) => Array.from({ length: v.size }, (_, i) => `${v.state(i)}:${v.freeCores(i)}:${v.instances(i)}`)

const small = Resources.make(1, 256, 5)

const launch = (fields: Partial<LaunchPlan.Launch<string, string>> = {}): LaunchPlan.Launch<string, string> & { assigned: Array<number> } => {
  const assigned: Array<number> = []
  return {
    policy: Policy.greedy(),
    size: small,
    minCount: 1,
    maxCount: 1,
    zone: undefined,
    network: { max: 100, rejection: () => "network", assign: (n) => (assigned.push(n), `addresses for ${n}`) },
    storage: () => ({ max: 100, rejection: () => "storage" }),
    policyState: () => null,
    context: (_z, k, answers) => ({ index: k, instanceId: Ids.instanceId(k + 1), answers, instancesFile: () => "" }),
    assigned,
    ...fields
  }
}

describe("planLaunch", () => {
  it("goes to the zone named, else the one with the most free slots (ties: the first)", () => {
    const { zones } = zonesOf([node("a1", 2)], [node("b1", 4)], [node("c1", 4)])
    expect(LaunchPlan.chooseZone(zones, "zone-1", small)).toBe(0)
    expect(LaunchPlan.chooseZone(zones, "nowhere", small)).toEqual({ unknown: "nowhere" })
    for (const z of [undefined, "", "default"]) expect(LaunchPlan.chooseZone(zones, z, small)).toBe(1)
    expect(LaunchPlan.planLaunch(zones, launch({ zone: "nowhere" }))).toEqual({ _tag: "UnknownZone", zone: "nowhere" })
    expect(LaunchPlan.planLaunch(zones, launch())).toMatchObject({ _tag: "Placed", zone: 1, nodes: [0], woken: [], assigned: "addresses for 1" })
  })

  it("places MaxCount when it can, else as many as fit down to MinCount, and assigns addresses once for those", () => {
    const { zones, views } = zonesOf([node("a1", 2), node("a2", 1)])
    const l = launch({ minCount: 2, maxCount: 5 })
    const p = LaunchPlan.planLaunch(zones, l)
    expect(p).toMatchObject({ _tag: "Placed", zone: 0, nodes: [0, 0, 1] })
    expect(l.assigned).toEqual([3])
    // The view holds the placements.
    expect(snapshot(views[0]!)).toEqual(["up:0:2", "up:0:1"])
  })

  it("is all or nothing: short of MinCount, nothing is placed, nothing woken, nothing assigned", () => {
    const { zones, views } = zonesOf([node("a1", 1), node("a2", 1, "asleep"), node("a3", 1, "down")])
    const before = snapshot(views[0]!)
    const l = launch({ policy: Policy.powerSave(), minCount: 3, maxCount: 3 })
    const p = LaunchPlan.planLaunch(zones, l)
    expect(p).toMatchObject({ _tag: "InsufficientCapacity", zone: 0, placeable: 2 })
    expect(p._tag === "InsufficientCapacity" && p.reason).toMatch(/1 down/)
    expect(snapshot(views[0]!)).toEqual(before)
    expect(l.assigned).toEqual([])
  })

  it("wakes the asleep nodes it chooses, in the order chosen", () => {
    const { zones, views } = zonesOf([node("a1", 1), node("a2", 1, "asleep"), node("a3", 1, "asleep")])
    const p = LaunchPlan.planLaunch(zones, launch({ policy: Policy.powerSave(), minCount: 3, maxCount: 3 }))
    expect(p).toMatchObject({ _tag: "Placed", nodes: [0, 1, 2], woken: [1, 2] })
    expect(snapshot(views[0]!)).toEqual(["up:0:1", "waking:0:1", "waking:0:1"])
  })

  it("is bounded by the network and the storage before placing; the network names the refusal first", () => {
    const { zones, views } = zonesOf([node("a1", 8)])
    const placeAll = (network: number, storage: number | "invalid", min = 2, max = 4) =>
      LaunchPlan.planLaunch(
        zones,
        launch({
          minCount: min,
          maxCount: max,
          network: { max: network, rejection: () => "network", assign: (n) => `addresses for ${n}` },
          storage: () => (storage === "invalid" ? { invalid: "bad mapping" } : { max: storage, rejection: () => "storage" })
        })
      )
    expect(placeAll(1, 1)).toEqual({ _tag: "Refused", rejection: "network" })
    expect(placeAll(5, 1)).toEqual({ _tag: "Refused", rejection: "storage" })
    expect(placeAll(1, "invalid")).toEqual({ _tag: "Refused", rejection: "bad mapping" })
    expect(snapshot(views[0]!)).toEqual(["up:8:0"])
    expect(placeAll(3, 100)).toMatchObject({ _tag: "Placed", nodes: [0, 0, 0], assigned: "addresses for 3" })
  })

  it("returns a consultation to the caller (views left as they were), or runs it at once when it can", () => {
    const { zones, views } = zonesOf([node("a1", 1), node("a2", 1)])
    const user = Policy.user("/opt/place")
    const before = snapshot(views[0]!)
    expect(LaunchPlan.planLaunch(zones, launch({ policy: user, minCount: 2, maxCount: 2 }))).toMatchObject({ _tag: "Consult", index: 0 })
    // With the first answer known, it asks about the second instance; the first placement is undone meanwhile.
    expect(LaunchPlan.planLaunch(zones, launch({ policy: user, minCount: 2, maxCount: 2, answers: [2] }))).toMatchObject({ _tag: "Consult", index: 1 })
    expect(snapshot(views[0]!)).toEqual(before)
    const asked: Array<string> = []
    const p = LaunchPlan.planLaunch(
      zones,
      launch({ policy: user, minCount: 2, maxCount: 2, consult: (q) => (asked.push(q.args[3]!), asked.length === 1 ? 2 : 1) })
    )
    expect(p).toMatchObject({ _tag: "Placed", nodes: [1, 0] })
    expect(asked).toEqual([Ids.instanceId(1), Ids.instanceId(2)])
  })

  it("refuses a policy's impossible choice as a PolicyDefect, leaving the views as they were", () => {
    const { zones, views } = zonesOf([node("a1", 4), node("a2", 4, "down")])
    const before = snapshot(views[0]!)
    let calls = 0
    const broken: Policy.Policy<null> = {
      ...Policy.greedy(),
      name: "broken",
      place: () => ({ _tag: "Placed", node: calls++ === 0 ? 0 : 1, state: null })
    }
    expect(() => LaunchPlan.planLaunch(zones, launch({ policy: broken, minCount: 2, maxCount: 2 }))).toThrow(LaunchPlan.PolicyDefect)
    expect(snapshot(views[0]!)).toEqual(before)
  })
})
