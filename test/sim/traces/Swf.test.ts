import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import * as Swf from "../../../src/sim/traces/Swf.js"
import { readAll, readError, sum, text, withTmp } from "./support.js"

/** An independent reading of an SWF file: job rows as 18 numbers. */
const jobs = async (relative: string): Promise<Array<Array<number>>> =>
  (await text(relative))
    .split("\n")
    .filter((l) => l.trim() !== "" && !l.trim().startsWith(";"))
    .map((l) => l.trim().split(/\s+/).map(Number))

const usable = (j: ReadonlyArray<number>) => j[10] !== 5 && j[3]! > 0 && (j[4]! > 0 || j[7]! > 0)
const procs = (j: ReadonlyArray<number>) => (j[4]! > 0 ? j[4]! : j[7]!)

describe("SWF reader on the bundled logs", () => {
  it("KTH SP2: all 27,992 jobs (the archive's count), submit → arrival, run time → lifetime, processors → vCPUs", async () => {
    const rows = await jobs("swf/KTH-SP2-1996-2.1-cln.swf.gz")
    const { requests, stats } = await readAll({ format: "swf", path: "traces/swf/KTH-SP2-1996-2.1-cln.swf.gz" })
    expect(rows).toHaveLength(27_992)
    expect(stats.requests).toBe(27_992)
    expect(stats.skipped).toEqual({})
    expect(stats.sorted).toBe(true)
    expect(stats.done).toBe(true)
    const first = rows[0]!
    expect(requests[0]).toEqual({
      line: 25, // 24 header comment lines precede the first job
      arrivalMs: first[1]! * 1000,
      lifetimeMs: first[3]! * 1000,
      size: { cores: procs(first), memoryMiB: procs(first) * 1024, diskGiB: 0 },
      vmType: undefined,
      count: 1,
      zone: undefined
    })
    const last = rows.at(-1)!
    expect(requests.at(-1)).toMatchObject({ arrivalMs: last[1]! * 1000, lifetimeMs: last[3]! * 1000, size: { cores: procs(last) } })
    expect(stats.vcpus).toBe(sum(rows.map(procs)))
    expect(stats.maxArrivalMs).toBe(last[1]! * 1000)
  })

  it("NASA iPSC: the 173 jobs without run time are skipped and counted", async () => {
    const rows = await jobs("swf/NASA-iPSC-1993-3.1-cln.swf.gz")
    const { stats } = await readAll({ format: "swf", path: "traces/swf/NASA-iPSC-1993-3.1-cln.swf.gz" })
    expect(rows).toHaveLength(18_239)
    expect(stats.skipped).toEqual({ [Swf.skipReasons.runTime]: rows.filter((j) => j[3]! <= 0).length })
    expect(stats.requests + stats.skipped[Swf.skipReasons.runTime]!).toBe(18_239)
    expect(stats.vcpus).toBe(sum(rows.filter(usable).map(procs)))
  })

  it("LLNL Thunder: cancelled jobs and jobs that never ran are skipped by reason, never silently", async () => {
    const rows = await jobs("swf/LLNL-Thunder-2007-1.1-cln.swf.gz")
    const { requests, stats } = await readAll({ format: "swf", path: "traces/swf/LLNL-Thunder-2007-1.1-cln.swf.gz" })
    const cancelled = rows.filter((j) => j[10] === 5).length
    const noRun = rows.filter((j) => j[10] !== 5 && j[3]! <= 0).length
    expect(stats.skipped).toEqual({ [Swf.skipReasons.cancelled]: cancelled, [Swf.skipReasons.runTime]: noRun })
    expect(stats.requests + cancelled + noRun).toBe(rows.length)
    expect(stats.vcpus).toBe(sum(rows.filter(usable).map(procs)))
    expect(sum(requests.map((r) => r.lifetimeMs!))).toBe(sum(rows.filter(usable).map((j) => j[3]! * 1000)))
  })

  it("keeps cancelled jobs that ran when asked", async () => {
    const rows = await jobs("swf/LLNL-Thunder-2007-1.1-cln.swf.gz")
    const { stats } = await readAll({ format: "swf", path: "traces/swf/LLNL-Thunder-2007-1.1-cln.swf.gz", cancelled: "keep" })
    const ranCancelled = rows.filter((j) => j[10] === 5 && j[3]! > 0 && procs(j) > 0).length
    expect(ranCancelled).toBeGreaterThan(0)
    expect(stats.skipped[Swf.skipReasons.cancelled]).toBeUndefined()
    expect(stats.requests).toBe(rows.filter(usable).length + ranCancelled)
  })

  it("HPC2N (first 20,000 jobs): memory from the KB-per-processor fields, requested first, else used", async () => {
    const rows = await jobs("swf/HPC2N-2002-2.1-cln.first20000.swf.gz")
    const path = "traces/swf/HPC2N-2002-2.1-cln.first20000.swf.gz"
    const requested = await readAll({ format: "swf", path })
    const used = await readAll({ format: "swf", path, memory: "used" })
    const flat = await readAll({ format: "swf", path, memory: "default", memoryMiBPerCore: 512 })
    expect(requested.stats.requests).toBe(20_000)
    const mib = (kb: number, cores: number) => Math.ceil((kb * cores) / 1024)
    const expectMem = (j: ReadonlyArray<number>, first: number, second: number) =>
      j[first]! > 0 ? mib(j[first]!, procs(j)) : j[second]! > 0 ? mib(j[second]!, procs(j)) : 1024 * procs(j)
    expect(requested.requests.map((r) => r.size!.memoryMiB)).toEqual(rows.map((j) => expectMem(j, 9, 6)))
    expect(used.requests.map((r) => r.size!.memoryMiB)).toEqual(rows.map((j) => expectMem(j, 6, 9)))
    expect(flat.stats.memoryMiB).toBe(512 * flat.stats.vcpus)
    // The log has both kinds of rows, so the options really differ.
    expect(requested.stats.memoryMiB).not.toBe(used.stats.memoryMiB)
  })

  it("coresPerVm splits a job into equal VMs, all or nothing (count = ⌈P/c⌉, vCPUs = ⌈P/count⌉)", async () => {
    const { requests } = await readAll({ format: "swf", path: "traces/swf/KTH-SP2-1996-2.1-cln.swf.gz", coresPerVm: 4 })
    const rows = await jobs("swf/KTH-SP2-1996-2.1-cln.swf.gz")
    const ps = rows.map(procs)
    expect(requests.map((r) => [r.count, r.size!.cores])).toEqual(ps.map((p) => [Math.ceil(p / 4), Math.ceil(p / Math.ceil(p / 4))]))
    // Never more than 4 vCPUs per VM, never fewer vCPUs than processors, overshoot below one per VM.
    expect(requests.every((r, i) => r.size!.cores <= 4 && r.size!.cores * r.count >= ps[i]! && r.size!.cores * r.count - ps[i]! < r.count)).toBe(true)
    const nine = requests.find((_, i) => procs(rows[i]!) === 9)!
    expect([nine.count, nine.size!.cores]).toEqual([3, 3])
  })
})

describe("SWF reader on broken input", () => {
  const job = "    1        0     -1   1451  128     -1    -1   -1     -1    -1 -1   1   1  -1 -1 -1 -1 -1"

  it("names file, line and field of a field that is not a number", async () => {
    await withTmp(async (dir) => {
      const file = Path.join(dir, "bad.swf")
      await Fs.writeFile(file, `; Version: 2.2\n${job}\n${job.replace("1451", "14x1")}\n`)
      const e = await readError({ format: "swf", path: file })
      expect(e).toMatchObject({ _tag: "TraceError", file, line: 3, field: "run time" })
      expect(e.message).toContain(`${file}:3`)
      expect(e.message).toContain("14x1")
    })
  })

  it("refuses a file that is not SWF (wrong number of fields) and says so on the first data line", async () => {
    await withTmp(async (dir) => {
      const file = Path.join(dir, "not.swf")
      await Fs.writeFile(file, "arrival_ms,lifetime_ms,vm_type\n0,1,m1.small\n")
      const e = await readError({ format: "swf", path: file })
      expect(e).toMatchObject({ file, line: 1, field: "fields" })
      expect(e.message).toContain("expected 18")
    })
  })

  it("with malformed: skip, skips and counts bad rows instead", async () => {
    await withTmp(async (dir) => {
      const file = Path.join(dir, "bad.swf")
      await Fs.writeFile(file, `${job}\n1 2 3\n${job.replace("1451", "abc")}\n${job}\n`)
      const { stats } = await readAll({ format: "swf", path: file, malformed: "skip" })
      expect(stats.requests).toBe(2)
      expect(stats.skipped).toEqual({ [Swf.skipReasons.malformed]: 2 })
    })
  })

  it("reports a truncated gzip file with the line after the last one read", async () => {
    await withTmp(async (dir) => {
      const whole = await Fs.readFile(Path.resolve(import.meta.dirname, "../../../traces/swf/KTH-SP2-1996-2.1-cln.swf.gz"))
      const file = Path.join(dir, "cut.swf.gz")
      await Fs.writeFile(file, whole.subarray(0, Math.floor(whole.length / 2)))
      const e = await readError({ format: "swf", path: file })
      expect(e).toMatchObject({ _tag: "TraceError", file, field: "gzip" })
      expect(e.line).toBeGreaterThan(1000)
      expect(e.message).toContain("truncated")
      // The line it names is indeed where the intact decompressed prefix ends.
      const prefix = Zlib.gunzipSync(whole).toString().split("\n")
      expect(e.line).toBeLessThanOrEqual(prefix.length)
    })
  })

  it("names a missing file", async () => {
    const e = await readError({ format: "swf", path: "/nonexistent/x.swf" })
    expect(e).toMatchObject({ file: "/nonexistent/x.swf" })
    expect(e.message).toContain("ENOENT")
  })
})
