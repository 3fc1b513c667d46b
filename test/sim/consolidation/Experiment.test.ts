import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import * as Experiment from "../../../src/sim/consolidation/Experiment.js"
import * as Run from "../../../src/sim/consolidation/Run.js"

const examples = Path.join(import.meta.dirname, "../../../examples/experiments")

describe("consolidation experiment files", () => {
  it("the bundled examples compile: the 20110303 reproduction and the ten-day sweep of 22 policies", () => {
    const one = Experiment.load(Path.join(examples, "planetlab-20110303.json"))
    expect(one.days).toEqual(["20110303"])
    expect(one.hosts).toBe(800)
    expect(one.policies.map((p) => p.kind)).toEqual(["npa", "dvfs", "migration"])
    expect(one.archive.endsWith("traces/planetlab/planetlab-cloudsim-10days.tar.gz")).toBe(true)
    const sweep = Experiment.load(Path.join(examples, "planetlab-sweep.json"))
    expect(sweep.days.length * sweep.policies.length).toBe(220)
  })

  it("names the file and the field of a mistake", () => {
    const bad = (json: unknown) => {
      try {
        Experiment.compile("x.json", json)
        return "compiled"
      } catch (e) {
        return (e as Error).message
      }
    }
    const base = { kind: "consolidation", workload: { format: "planetlab", path: "a.tar.gz", days: ["20110303"] }, policies: ["npa"] }
    expect(bad({ ...base, policies: ["thr-xyz"] })).toBe('x.json: policies[0]: unknown policy "thr-xyz" (npa, dvfs, or <thr|iqr|mad|lr|lrr>-<mmt|mc|mu|rs>[-parameter])')
    expect(bad({ ...base, hosts: 0 })).toBe("x.json: hosts: expected a positive integer, found 0")
    expect(bad({ ...base, workload: { ...base.workload, format: "swf" } })).toBe('x.json: workload.format: expected "planetlab", found "swf"')
    expect(bad({ ...base, colour: 1 })).toMatch(/^x\.json: colour: unknown field/)
    expect(bad(base)).toBe("compiled")
  })

  it("prints CloudSim's summary lines for a short run", async () => {
    const exp = { ...Experiment.load(Path.join(examples, "planetlab-20110303.json")), policies: [{ kind: "npa" as const }] }
    const [r] = await Run.runExperiment(exp)
    const text = Run.printCloudSim(r!)
    expect(text).toContain("Experiment name: 20110303_npa")
    expect(text).toContain("Energy consumption: 2410.80 kWh")
    expect(text).toContain("Number of VM migrations: 0")
  })
})
