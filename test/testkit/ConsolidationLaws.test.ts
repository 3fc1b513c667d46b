import { describe, expect, it } from "vitest"
import * as Policy from "../../src/model/consolidation/Policy.js"
import * as ConsolidationLaws from "../../src/testkit/ConsolidationLaws.js"

describe("ConsolidationLaws", { timeout: 120_000 }, () => {
  it("THR-MMT, IQR-MC and LR-RS keep the consolidation laws on random small data centres", () => {
    for (const name of ["thr-mmt-0.8", "iqr-mc-1.5", "lr-rs-1.2", "dvfs"]) ConsolidationLaws.check(Policy.parse(name)!, { numRuns: 25, seed: 42 })
  })

  it("a broken law comes back with a shrunk counterexample", () => {
    const nothingMoves: ConsolidationLaws.Law = {
      name: "nothing ever migrates",
      holds: (r) => (r.migrations.length === 0 ? undefined : `${r.migrations.length} migrations`)
    }
    let caught: unknown
    try {
      ConsolidationLaws.check(Policy.parse("thr-mmt-0.5")!, { laws: [nothingMoves], numRuns: 200, seed: 1 })
    } catch (e) {
      caught = e
    }
    expect(caught).toBeInstanceOf(ConsolidationLaws.LawBroken)
    const broken = caught as ConsolidationLaws.LawBroken
    expect(broken.law).toBe("nothing ever migrates")
    // Shrunk to a handful of hosts and VMs (a migration needs at least two hosts).
    expect(broken.scenario.hosts.length).toBeGreaterThanOrEqual(2)
    expect(broken.scenario.hosts.length).toBeLessThanOrEqual(3)
    expect(broken.scenario.vms.length).toBeLessThanOrEqual(3)
    expect(broken.message).toMatch(/smallest counterexample/)
  })

  it("compare: two policies on the same scenarios (a false claim is refuted, a true one holds)", () => {
    const energy = (r: ConsolidationLaws.RunRecord) => r.result.metrics.energyKWh
    // NPA (all hosts at full power) never uses less energy than DVFS: holds.
    ConsolidationLaws.compare(Policy.parse("dvfs")!, Policy.parse("npa")!, (a, b) => (energy(a) <= energy(b) + 1e-9 ? undefined : "DVFS used more energy than NPA"), { numRuns: 30, seed: 3 })
    // "Consolidating (THR 0.5) never uses more energy than DVFS" is false on some scenario.
    expect(() =>
      ConsolidationLaws.compare(Policy.parse("thr-mmt-0.5")!, Policy.parse("dvfs")!, (a, b) => (energy(a) <= energy(b) + 1e-9 ? undefined : `THR used ${energy(a)} kWh, DVFS ${energy(b)} kWh`), { numRuns: 300, seed: 5 })
    ).toThrow(ConsolidationLaws.LawBroken)
  })
})
