import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterEach, beforeAll, describe, expect, it } from "vitest"
import * as Policy from "../../../src/model/consolidation/Policy.js"
import * as Engine from "../../../src/sim/consolidation/Engine.js"
import * as Setup from "../../../src/sim/consolidation/PlanetLab.js"
import * as PlanetLab from "../../../src/sim/traces/PlanetLab.js"

// CloudSim 3.0.3's ThrMmt / NonPowerAware PlanetLab examples on 20110303 as the JVM prints them, with
// the workload files in the File.listFiles() order the JVM saw (see docs/consolidation.md, "Reference
// run on the JVM"): the fixture is that order, one file name a line.
const archive = Path.join(import.meta.dirname, "../../../traces/planetlab/planetlab-cloudsim-10days.tar.gz")
const order = Fs.readFileSync(Path.join(import.meta.dirname, "../../../traces/planetlab/file-order/listfiles-20110303.txt"), "utf8").split("\n").filter((l) => l !== "")

let day: PlanetLab.PlanetLabDay
beforeAll(async () => {
  day = Setup.inFileOrder(await PlanetLab.readDay(archive, "20110303"), order)
})

const run = (name: string) => Engine.run({ hosts: Setup.hosts(), vms: Setup.vms(day), policy: Policy.parse(name)!, seed: 1 })

const within = (actual: number, expected: number, tolerance: number) => {
  expect(Math.abs(actual - expected) / expected).toBeLessThanOrEqual(tolerance)
}

// Each whole-day run blocks the worker for many seconds; yielding to the event loop between tests lets
// vitest's worker RPC answer in time (a long synchronous stretch otherwise ends in "Timeout calling
// onTaskUpdate" under load).
afterEach(() => new Promise<void>((resolve) => setImmediate(resolve)))

describe("CloudSim 3.0.3 on the JVM, PlanetLab 20110303 in listFiles() order", { timeout: 120_000 }, () => {
  it("the fixture names every workload file of the day once", () => {
    expect(order.length).toBe(1052)
    expect(new Set(order).size).toBe(1052)
    expect(day.vms.map((v) => v.name)).toEqual(order)
  })

  it("THR-MMT-0.8: 198.08 kWh and 27,728 migrations, as CloudSim prints (within 1 %)", () => {
    const r = run("thr-mmt-0.8")
    expect(r.metrics.vms).toBe(1052)
    expect(r.metrics.updates).toBe(287)
    within(r.metrics.energyKWh, 198.08, 0.01)
    within(r.metrics.migrations, 27_728, 0.01)
    // The port reproduces the JVM run to the printed digit.
    expect(r.metrics.energyKWh.toFixed(2)).toBe("198.08")
    expect(r.metrics.migrations).toBe(27_728)
    expect(r.metrics.vmsRemoved).toBe(532)
  })

  it("NPA: 2410.80 kWh whatever the file order", () => {
    const r = run("npa")
    expect(r.metrics.energyKWh.toFixed(2)).toBe("2410.80")
    expect(r.metrics.migrations).toBe(0)
  })
})
