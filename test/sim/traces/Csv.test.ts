import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Csv from "../../../src/sim/traces/Csv.js"
import { readAll, readError, sum, text, withTmp } from "./support.js"

/** Independent reading of a bundled CSV: rows as objects keyed by the header. */
const rows = async (relative: string) => {
  const [header, ...body] = (await text(relative)).trim().split("\n")
  const cols = header!.split(",")
  return body.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i]!, v])) as Record<string, string>)
}

describe("CSV reader on the bundled samples", () => {
  it("sized.csv: one request per row, in row order, counts and zones as written", async () => {
    const expected = await rows("csv/sized.csv")
    const { requests, stats } = await readAll({ format: "csv", path: "traces/csv/sized.csv" })
    expect(requests.map((r) => [r.line, r.arrivalMs, r.lifetimeMs, r.size, r.count, r.zone])).toEqual(
      expected.map((e, i) => [
        i + 2,
        Number(e.arrival_ms),
        e.lifetime_ms === "" ? undefined : Number(e.lifetime_ms),
        { cores: Number(e.cores), memoryMiB: Number(e.memory_mib), diskGiB: Number(e.disk_gib) },
        Number(e.count),
        e.zone === "" ? undefined : e.zone
      ])
    )
    expect(stats.instances).toBe(sum(expected.map((e) => Number(e.count))))
    expect(stats.vcpus).toBe(sum(expected.map((e) => Number(e.cores) * Number(e.count))))
    expect(stats.untilHorizon).toEqual({ [Csv.horizonReason]: expected.filter((e) => e.lifetime_ms === "").length })
  })

  it("typed.csv: VM type names, no size", async () => {
    const expected = await rows("csv/typed.csv")
    const { requests, stats } = await readAll({ format: "csv", path: "traces/csv/typed.csv" })
    expect(requests.map((r) => [r.vmType, r.size, r.count, r.zone])).toEqual(
      expected.map((e) => [e.vm_type, undefined, Number(e.count), e.zone === "" ? undefined : e.zone])
    )
    expect(stats).toMatchObject({ requests: expected.length, vcpus: 0, skipped: {} })
  })
})

describe("CSV reader on broken input", () => {
  const check = async (content: string, expected: { line: number; field: string }, contains?: string) =>
    withTmp(async (dir) => {
      const file = Path.join(dir, "t.csv")
      await Fs.writeFile(file, content)
      const e = await readError({ format: "csv", path: file })
      expect(e).toMatchObject({ _tag: "TraceError", file, ...expected })
      expect(e.message).toContain(`${file}:${expected.line}`)
      if (contains !== undefined) expect(e.message).toContain(contains)
    })

  it("bad headers name the offending column", async () => {
    await check("arrival,lifetime_ms,vm_type\n", { line: 1, field: "arrival" }, 'must be "arrival_ms"')
    await check("arrival_ms,lifetime_ms,cores,memory_mib\n", { line: 1, field: "column 5" })
    await check("arrival_ms,lifetime_ms,vm_type,zone,zone\n", { line: 1, field: "zone" }, "once each")
    await check("arrival_ms,lifetime_ms,vm_type,colour\n", { line: 1, field: "colour" })
    await withTmp(async (dir) => {
      const file = Path.join(dir, "empty.csv")
      await Fs.writeFile(file, "")
      const e = await readError({ format: "csv", path: file })
      expect(e).toMatchObject({ file, line: 1 })
      expect(e.message).toContain("empty file")
    })
  })

  it("bad cells name line and column", async () => {
    const head = "arrival_ms,lifetime_ms,cores,memory_mib,disk_gib,count,zone\n"
    await check(`${head}0,10,1,128,2,1,\n5,ten,1,128,2,1,\n`, { line: 3, field: "lifetime_ms" }, '"ten"')
    await check(`${head}-5,10,1,128,2,1,\n`, { line: 2, field: "arrival_ms" })
    await check(`${head}1.5,10,1,128,2,1,\n`, { line: 2, field: "arrival_ms" })
    await check(`${head}0,10,0,128,2,1,\n`, { line: 2, field: "cores" }, "≥ 1")
    await check(`${head}0,10,1,128,2,0,\n`, { line: 2, field: "count" })
    await check(`${head}0,10,1,128,2,1\n`, { line: 2, field: "columns" })
    await check("arrival_ms,lifetime_ms,vm_type\n0,10,m1 small\n", { line: 2, field: "vm_type" })
    await check("arrival_ms,lifetime_ms,vm_type,root_volume_gib\n0,10,m1.small,0\n", { line: 2, field: "root_volume_gib" }, "≥ 1")
    await check("arrival_ms,lifetime_ms,vm_type,root_volume_gib\n0,10,m1.small,16385\n", { line: 2, field: "root_volume_gib" }, "16384")
  })

  it("reads each instance's root volume size (root_volume_gib; empty: none)", async () => {
    await withTmp(async (dir) => {
      const file = Path.join(dir, "t.csv")
      await Fs.writeFile(file, "arrival_ms,lifetime_ms,vm_type,root_volume_gib,count\n0,10,m1.small,8,2\n5,,c1.medium,,1\n")
      const { requests } = await readAll({ format: "csv", path: file })
      expect(requests.map((r) => [r.vmType, r.rootVolumeGiB, r.count])).toEqual([["m1.small", 8, 2], ["c1.medium", undefined, 1]])
    })
  })

  it("malformed: skip skips and counts bad rows, keeps the good ones", async () => {
    await withTmp(async (dir) => {
      const file = Path.join(dir, "t.csv")
      await Fs.writeFile(file, "arrival_ms,lifetime_ms,vm_type\r\n0,10,m1.small\r\nx,10,m1.small\r\n\r\n5,,c1.medium")
      const { requests, stats } = await readAll({ format: "csv", path: file, malformed: "skip" })
      expect(requests.map((r) => [r.line, r.arrivalMs, r.lifetimeMs, r.vmType])).toEqual([
        [2, 0, 10, "m1.small"],
        [5, 5, undefined, "c1.medium"] // CRLF line ends and a last line without newline
      ])
      expect(stats.skipped).toEqual({ [Csv.skipReasons.malformed]: 1 })
    })
  })

  it("keeps row order even when arrivals go backwards, and says so", async () => {
    await withTmp(async (dir) => {
      const file = Path.join(dir, "t.csv")
      await Fs.writeFile(file, "arrival_ms,lifetime_ms,vm_type\n10,1,a\n5,1,b\n")
      const { requests, stats } = await readAll({ format: "csv", path: file })
      expect(requests.map((r) => r.vmType)).toEqual(["a", "b"])
      expect(stats.sorted).toBe(false)
    })
  })
})
