import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { describe, expect, it } from "vitest"
import * as PlanetLab from "../../../src/sim/traces/PlanetLab.js"
import * as TraceError from "../../../src/sim/traces/TraceError.js"
import * as Setup from "../../../src/sim/consolidation/PlanetLab.js"

const archive = Path.join(import.meta.dirname, "../../../traces/planetlab/planetlab-cloudsim-10days.tar.gz")

describe("PlanetLab reader", () => {
  it("streams a day out of the bundled archive: 1,052 VMs of 289 fractions, sorted by name", async () => {
    const day = await PlanetLab.readDay(archive, "20110303")
    expect(day.vms.length).toBe(1052)
    const names = day.vms.map((v) => v.name)
    expect(names).toEqual([...names].sort())
    const first = day.vms[0]!
    expect(first.name).toBe("146-179_surfsnel_dsl_internl_net_colostate_557")
    expect(first.values.length).toBe(289)
    expect(Array.from(first.values.slice(0, 3))).toEqual([0.24, 0.34, 0.29])
    expect(first.values[288]).toBe(first.values[287])
  })

  it("lists the ten days with the VM counts of CloudSim's workload", async () => {
    expect(await PlanetLab.listDays(archive)).toEqual([
      "20110303", "20110306", "20110309", "20110322", "20110325", "20110403", "20110409", "20110411", "20110412", "20110420"
    ])
    expect((await PlanetLab.readDay(archive, "20110306")).vms.length).toBe(898)
  })

  it("reads a day folder and names file and line of a bad sample", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "planetlab-"))
    const day = Path.join(dir, "20990101")
    Fs.mkdirSync(day)
    Fs.writeFileSync(Path.join(day, "b"), Array.from({ length: 288 }, (_, i) => String(i % 101)).join("\n") + "\n")
    Fs.writeFileSync(Path.join(day, "a"), Array.from({ length: 288 }, () => "5").join("\n"))
    const ok = await PlanetLab.readDay(dir, "20990101")
    expect(ok.vms.map((v) => v.name)).toEqual(["a", "b"])
    expect(ok.vms[1]!.values[100]).toBe(1)
    Fs.writeFileSync(Path.join(day, "c"), ["1", "2", "x3"].join("\n"))
    const err = await PlanetLab.readDay(dir, "20990101").catch((e) => e)
    expect(TraceError.is(err)).toBe(true)
    expect(err.message).toBe(`${day}/c:3: field "utilisation": expected an integer percentage, found "x3"`)
    Fs.writeFileSync(Path.join(day, "c"), ["1", "2"].join("\n"))
    const short = await PlanetLab.readDay(dir, "20990101").catch((e) => e)
    expect(short.message).toContain("c:3: field \"utilisation\": the file ends after 2 lines; CloudSim reads 288")
    const missing = await PlanetLab.readDay(archive, "19990101").catch((e) => e)
    expect(missing.message).toContain('no VM files for day "19990101"')
    Fs.rmSync(dir, { recursive: true })
  })
})

describe("Setup.inFileOrder", () => {
  const vm = (name: string, x: number): PlanetLab.PlanetLabVm => ({ name, values: Float64Array.from({ length: 289 }, () => x) })
  const day: PlanetLab.PlanetLabDay = { day: "20110303", vms: [vm("a", 0.1), vm("b", 0.2), vm("c", 0.3)] }

  it("reorders the VMs, so VM i (and its type) comes from the i-th name", () => {
    const r = Setup.inFileOrder(day, ["c", "a", "b"])
    expect(r.vms.map((v) => v.name)).toEqual(["c", "a", "b"])
    expect(r.vms[0]!.values[0]).toBe(0.3)
    expect(Setup.vms(r)[0]!.utilization[0]).toBe(0.3)
  })

  it("refuses an order that does not name every file exactly once", () => {
    expect(() => Setup.inFileOrder(day, ["a", "b"])).toThrow("file order for 20110303: 2 names for 3 VMs")
    expect(() => Setup.inFileOrder(day, ["a", "b", "d"])).toThrow("file order for 20110303: no workload file named d")
    expect(() => Setup.inFileOrder(day, ["a", "a", "b"])).toThrow("file order for 20110303: no workload file named a")
  })
})
