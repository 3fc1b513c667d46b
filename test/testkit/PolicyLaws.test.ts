import { describe, expect, it } from "@effect/vitest"
import * as Capacity from "../../src/model/Capacity.js"
import * as Policy from "../../src/model/Policy.js"
import * as PolicyLaws from "../../src/testkit/PolicyLaws.js"

describe("the policy kit", () => {
  const shipped: ReadonlyArray<Policy.Policy<any>> = [
    Policy.greedy(),
    Policy.roundRobin(),
    Policy.powerSave(),
    Policy.bestFit(),
    Policy.worstFit(),
    Policy.greedy({ cores: 4, memory: 1.5, disk: 1 }),
    Policy.bestFit({ cores: 2, memory: 1, disk: 2 }),
    // USER: the kit answers its consultations with random exit codes, including nonsense ones.
    Policy.user("/bin/placement-program")
  ]
  for (const policy of shipped) {
    it(`holds ${policy.name}${policy.ratios.cores > 1 ? " with overcommit" : ""} to every law`, () => {
      PolicyLaws.check(policy, { numRuns: 150 })
    })
  }

  it("catches a policy that ignores memory, with a counterexample", () => {
    // Deliberately broken: first node with enough free cores, whatever its memory and disk.
    const coresOnly: Policy.Policy<null> = {
      name: "cores-only",
      complete: true,
      requiresOrderedVmTypes: false,
      ratios: Capacity.noOvercommit,
      initial: null,
      place: (view, demand, state) => {
        for (let i = 0; i < view.size; i++) {
          if (view.state(i) !== "down" && view.freeCores(i) >= demand.cores) return { _tag: "Placed", node: i, state }
        }
        return { _tag: "Rejected", reason: "no cores" }
      }
    }
    expect(() => PolicyLaws.check(coresOnly, { numRuns: 200, seed: 42 })).toThrow(/Counterexample: \[\{"zones"[\s\S]*never (overcommits|places on a down node): policy cores-only chose node/)
  })

  it("catches a policy that is not complete although it says so", () => {
    const lazy: Policy.Policy<null> = { ...Policy.greedy(), name: "lazy", place: (v, d, s) => (v.size > 1 ? Policy.greedyPlace(v, d, s) : { _tag: "Rejected", reason: "lazy" }) }
    expect(() => PolicyLaws.check(lazy, { numRuns: 200, seed: 7 })).toThrow(/complete/)
  })

  it("checks a capacity view against the naive reference, and catches a wrong one", () => {
    PolicyLaws.checkView((rows, ratios) => new Capacity.ArrayCapacity(rows, ratios), { numRuns: 100 })
    class OffByOne extends Capacity.ArrayCapacity {
      override firstFit(d: Parameters<Capacity.CapacityView["firstFit"]>[0], states: number, from: number, wrap: boolean): number {
        return super.firstFit(d, states, from + 1, wrap)
      }
    }
    expect(() => PolicyLaws.checkView((rows, ratios) => new OffByOne(rows, ratios), { numRuns: 200, seed: 1 })).toThrow(/firstFit/)
  })
})
