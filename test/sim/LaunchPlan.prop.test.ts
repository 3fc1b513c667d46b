/**
 * One planner, two capacity views: LaunchPlan.planLaunch over the decider's plain ArrayCapacity views
 * and over the fast engine's IndexedCapacity views (with its "nothing fits" shortcut) makes the same
 * plan — zone, nodes, woken nodes, policy state, refusals, placeable counts — and leaves both sets of
 * views in the same state, request after request, for every shipped policy.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Capacity from "../../src/model/Capacity.js"
import * as Ids from "../../src/model/Ids.js"
import * as LaunchPlan from "../../src/model/LaunchPlan.js"
import * as PolicyConfig from "../../src/model/PolicyConfig.js"
import * as Resources from "../../src/model/Resources.js"
import { IndexedCapacity } from "../../src/sim/IndexedCapacity.js"

const stateArb = fc.constantFrom<Capacity.NodeState>("up", "up", "up", "asleep", "waking", "down")
const nodeArb = fc.tuple(fc.integer({ min: 1, max: 8 }), fc.constantFrom(512, 1024, 4096), fc.constantFrom(20, 60), stateArb)
const requestArb = fc.record({
  size: fc.constantFrom([1, 256, 5] as const, [2, 512, 10] as const, [4, 2048, 20] as const, [1, 0, 0] as const),
  min: fc.integer({ min: 1, max: 3 }),
  extra: fc.integer({ min: 0, max: 3 }),
  zone: fc.constantFrom(undefined, "zone-1", "zone-2", "elsewhere"),
  network: fc.integer({ min: 0, max: 8 }),
  storage: fc.integer({ min: 0, max: 8 })
})

const snapshot = (v: Capacity.CapacityView) =>
  Array.from({ length: v.size }, (_, i) => `${v.state(i)}:${v.freeCores(i)}:${v.freeMemory(i)}:${v.freeDisk(i)}:${v.instances(i)}`)

/** A stand-in for the USER program: the last node, by the resources file, that is up and has a core free. */
const lastUp = (q: { readonly resources: string }): number => {
  let answer = 0
  for (const line of q.resources.trim().split("\n")) {
    if (line === "") continue
    const f = Object.fromEntries(line.split(",").map((kv) => kv.split("=") as [string, string]))
    if (f.state === "1" && +f.availcores! >= 1) answer = +f.idx! + 1
  }
  return answer
}

describe("planLaunch", () => {
  for (const name of PolicyConfig.PolicyName.literals) {
    it(`plans the same on ArrayCapacity and IndexedCapacity views, policy ${name}`, () => {
      const made = PolicyConfig.make({ name, ...(name === "user" ? { program: "/opt/place" } : {}) })
      if (made._tag === "Left") throw new Error(made.left)
      const policy = made.right
      const seen = new Set<string>()
      fc.assert(
        fc.property(fc.array(fc.array(nodeArb, { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }), fc.array(requestArb, { minLength: 1, maxLength: 25 }), (zonesSpec, requests) => {
          const names = zonesSpec.map((_, k) => `zone-${k + 1}`)
          const rows = zonesSpec.map((nodes, z) =>
            nodes.map(([c, m, d, state], i): Capacity.NodeRow => ({ id: Ids.nodeId(`z${z}n${i}`), state, capacity: Resources.make(c, m, d), used: Resources.zero, instances: 0 }))
          )
          const plain = rows.map((r) => new Capacity.ArrayCapacity(r, policy.ratios))
          const indexed = rows.map((r) => new IndexedCapacity(r, policy.ratios))
          const sides = [
            { zones: LaunchPlan.plainZones(names, plain), views: plain as ReadonlyArray<Capacity.CapacityView>, pstate: names.map(() => policy.initial as unknown) },
            {
              zones: {
                count: indexed.length,
                index: (n: string) => names.indexOf(n),
                view: (z: number) => indexed[z]!,
                freeSlots: (z: number, size: Resources.Resources) => indexed[z]!.freeSlots(size),
                nothingFits: (z: number, size: Resources.Resources, states: Capacity.StateMask) => indexed[z]!.nothingFits(size, states)
              } satisfies LaunchPlan.Zones,
              views: indexed as ReadonlyArray<Capacity.CapacityView>,
              pstate: names.map(() => policy.initial as unknown)
            }
          ]
          let seq = 0
          for (const r of requests) {
            const size = Resources.make(r.size[0], r.size[1], r.size[2])
            const plans = sides.map((side) => {
              const plan = LaunchPlan.planLaunch(side.zones, {
                policy,
                size,
                minCount: r.min,
                maxCount: r.min + r.extra,
                zone: r.zone,
                network: { max: r.network, rejection: () => "network", assign: (n) => n },
                storage: () => ({ max: r.storage, rejection: () => "storage" }),
                policyState: (z) => side.pstate[z],
                context: (_z, k, answers) => ({ index: k, instanceId: Ids.instanceId(seq + k + 1), answers, instancesFile: () => "" }),
                consult: lastUp
              })
              if (plan._tag === "Placed") side.pstate[plan.zone] = plan.policyState
              // The reason text is the policy's (a scan the shortcut skips): compared by presence only.
              return plan._tag === "InsufficientCapacity" ? { ...plan, reason: "" } : plan
            })
            expect(plans[1]).toEqual(plans[0])
            seen.add(plans[0]!._tag === "Placed" && plans[0]!.woken.length > 0 ? "woken" : plans[0]!._tag)
            if (plans[0]!._tag === "Placed") seq += plans[0]!.nodes.length
            expect(sides[1]!.views.map(snapshot)).toEqual(sides[0]!.views.map(snapshot))
          }
        }),
        { numRuns: 150 }
      )
      // Not a law: the generator reaches every outcome.
      for (const k of ["Placed", "Refused", "InsufficientCapacity", "UnknownZone", ...(name === "user" ? [] : ["woken"])]) expect(seen).toContain(k)
    })
  }
})
