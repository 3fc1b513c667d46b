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
    expect(bad({ ...base, workload: { ...base.workload, fileOrder: 3 } })).toBe("x.json: workload.fileOrder: expected the path of a folder of listfiles-<day>.txt files")
    expect(bad({ ...base, workload: { ...base.workload, fileOrder: "no-such-folder" } })).toMatch(/^x\.json: workload\.fileOrder: no folder at .*no-such-folder$/)
    expect(bad({ ...base, workload: { ...base.workload, order: "name" } })).toMatch(/^x\.json: workload\.order: unknown field/)
  })

  it("workload.fileOrder creates the VMs in CloudSim's listFiles() order: DVFS on 20110303 gives the JVM's 764.96 kWh, not name order's 802.75", async () => {
    const file = Path.join(examples, "planetlab-20110303.json")
    // The bundled example replays the recorded order; without fileOrder the files go in name order.
    const { fileOrder: recorded, ...inNameOrder } = Experiment.load(file)
    expect(recorded).toBe(Path.join(import.meta.dirname, "../../../traces/planetlab/file-order"))
    const named = { ...inNameOrder, policies: [{ kind: "dvfs" as const }] }
    const fixtures = Path.join(import.meta.dirname, "../../../traces/planetlab/file-order")
    const ordered = Experiment.compile(file, {
      kind: "consolidation",
      workload: { format: "planetlab", path: "../../traces/planetlab/planetlab-cloudsim-10days.tar.gz", days: ["20110303"], fileOrder: Path.relative(examples, fixtures) },
      policies: ["dvfs"]
    })
    expect(ordered.fileOrder).toBe(fixtures)
    expect(Experiment.fileOrderFor(ordered, "20110303")?.length).toBe(1052)
    expect(Experiment.fileOrderFor(ordered, "20110306")).toBeUndefined()
    const [a] = await Run.runExperiment(named)
    const [b] = await Run.runExperiment(ordered)
    expect(a!.result.metrics.energyKWh.toFixed(2)).toBe("802.75")
    expect(b!.result.metrics.energyKWh.toFixed(2)).toBe("764.96")
    expect(Run.printCloudSim(b!)).toContain("Energy consumption: 764.96 kWh")
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
