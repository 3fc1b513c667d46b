import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as Google from "../../../src/sim/traces/Google.js"
import { readAll, readError, withTmp } from "./support.js"

const sample = { format: "google", path: "traces/google-2011/task-events-sample-1.csv" } as const

/** A task_events row: time in seconds, event type, CPU and memory fractions. */
const ev = (s: number, job: number, task: number, type: number, cpu = "0.125", mem = "0.0625") =>
  `${s * 1_000_000},,${job},${task},,${type},user,3,9,${cpu},${mem},0.1,0`

describe("Google 2011 task events: the bundled sample", () => {
  it("one request per SUBMIT, in submit order, lifetime from SCHEDULE to the terminating event", async () => {
    const { requests, stats } = await readAll(sample)
    // Read off the sample: (job/task, submit s, schedule s, end s) — 2/0 is evicted at 30 s, 2/2 fails at 21 s.
    const expected: Array<[number, number, number, number]> = [
      [2, 0, 10, 50],
      [3, 0, 10, 50],
      [4, 0, 12, 30],
      [5, 0, 14, 65],
      [6, 0, 16, 21],
      [7, 0, 25, 70],
      [8, 0, 25, 70],
      [9, 0, 25, 80],
      [10, 0, 30, 90],
      [11, 10, 10, 90]
    ]
    expect(requests.map((r) => [r.line, r.arrivalMs, r.lifetimeMs])).toEqual(expected.map(([l, a, s, e]) => [l, a * 1000, (e - s) * 1000]))
    // CPU 0.125 / 0.03125 / 0.0625 / 0.1875 of a 32-core machine; memory of 64 GiB, rounded up.
    expect(requests.map((r) => r.size!.cores)).toEqual([4, 4, 1, 1, 1, 2, 6, 6, 6, 6])
    expect(requests[0]!.size!.memoryMiB).toBe(Math.ceil(0.07446 * 65536))
    expect(stats).toMatchObject({ requests: 10, skipped: {}, untilHorizon: {}, sorted: true, lines: 33 })
    const fromSubmit = await readAll({ ...sample, lifetimeFrom: "submit", machineCores: 16, machineMemoryMiB: 1024 })
    expect(fromSubmit.requests.map((r) => r.lifetimeMs)).toEqual(expected.map(([, a, , e]) => (e - a) * 1000))
    expect(fromSubmit.requests.map((r) => r.size!.cores)).toEqual([2, 2, 1, 1, 1, 1, 3, 3, 3, 3])
    expect(fromSubmit.requests[0]!.size!.memoryMiB).toBe(Math.ceil(0.07446 * 1024))
  })
})

describe("Google 2011 task events: lifetimes, reordering and skips", () => {
  const write = async (dir: string, rows: ReadonlyArray<string>) => {
    const f = Path.join(dir, "task_events.csv")
    await Fs.writeFile(f, rows.join("\n") + "\n")
    return f
  }

  it("a task killed while pending is skipped; an open task runs to the horizon; a long one past the lookahead too", async () => {
    await withTmp(async (dir) => {
      const f = await write(dir, [
        ev(0, 1, 0, 0), // long task: scheduled at 1 s, ends at 7,200 s
        ev(0, 2, 0, 0), // killed before being scheduled
        ev(1, 1, 0, 1),
        ev(2, 2, 0, 5),
        ev(3, 3, 0, 0), // never ends
        ev(3, 3, 0, 1),
        ev(4, 4, 0, 0, "", ""), // no resource request
        ev(5, 5, 0, 0),
        ev(6, 5, 0, 1),
        ev(7, 5, 0, 4),
        `9223372036854775807,,6,0,,0,user,3,9,0.1,0.1,0.1,0`, // submitted "after the end"
        ev(100, 9, 0, 1), // an event of another task: trace time moves on
        ev(7200, 1, 0, 4)
      ])
      const exact = await readAll({ format: "google", path: f, lookaheadMs: 10_000_000 })
      expect(exact.requests.map((r) => [r.arrivalMs, r.lifetimeMs])).toEqual([
        [0, 7_199_000],
        [3000, undefined],
        [5000, 1000]
      ])
      expect(exact.stats.skipped).toEqual({
        [Google.skipReasons.unscheduled]: 1,
        [Google.skipReasons.noRequest]: 1,
        [Google.skipReasons.afterEnd]: 1
      })
      expect(exact.stats.untilHorizon).toEqual({ [Google.horizonReasons.open]: 1 })
      // A lookahead of 1 minute gives up on the long task (and the open one) once trace time passes it.
      const short = await readAll({ format: "google", path: f, lookaheadMs: 60_000 })
      expect(short.requests.map((r) => [r.arrivalMs, r.lifetimeMs])).toEqual([
        [0, undefined],
        [3000, undefined],
        [5000, 1000]
      ])
      expect(short.stats.untilHorizon).toEqual({ [Google.horizonReasons.lookahead]: 2 })
    })
  })

  it("restores submit order and exact lifetimes for random workloads (lookahead longer than every task)", async () => {
    const task = FastCheck.record({
      submit: FastCheck.integer({ min: 0, max: 10_000 }),
      wait: FastCheck.integer({ min: 0, max: 100 }),
      run: FastCheck.integer({ min: 0, max: 5000 }),
      end: FastCheck.constantFrom(2, 3, 4, 5, 6)
    })
    await withTmp(async (dir) => {
      await FastCheck.assert(
        FastCheck.asyncProperty(FastCheck.array(task, { minLength: 1, maxLength: 60 }), async (tasks) => {
          // Events sorted by time (stable: submit before schedule before end at equal times).
          const events = tasks.flatMap((t, i) => [
            [t.submit, 0, i, ev(t.submit, i, 0, 0)] as const,
            [t.submit + t.wait, 1, i, ev(t.submit + t.wait, i, 0, 1)] as const,
            [t.submit + t.wait + t.run, 2, i, ev(t.submit + t.wait + t.run, i, 0, t.end)] as const
          ])
          events.sort((a, b) => a[0] - b[0] || a[1] - b[1] || a[2] - b[2])
          const f = await write(dir, events.map((e) => e[3]))
          const { requests, stats } = await readAll({ format: "google", path: f, batchSize: 7, lookaheadMs: 1e9 })
          const order = tasks.map((t, i) => ({ ...t, i })).sort((a, b) => a.submit - b.submit || a.i - b.i)
          expect(requests.map((r) => [r.arrivalMs, r.lifetimeMs])).toEqual(order.map((t) => [t.submit * 1000, t.run * 1000]))
          expect(stats.sorted).toBe(true)
        }),
        { numRuns: 40 }
      )
    })
  })

  it("a bounded buffer: with maxPending n, at most the tasks beyond n wait in vain", async () => {
    await withTmp(async (dir) => {
      // 100 tasks submitted one second apart, all ending together at 1,000 s.
      const rows = [
        ...Array.from({ length: 100 }, (_, i) => [ev(i, i, 0, 0), ev(i, i, 0, 1)]).flat(),
        ...Array.from({ length: 100 }, (_, i) => ev(1000, i, 0, 4))
      ]
      const f = await write(dir, rows)
      const { requests, stats } = await readAll({ format: "google", path: f, maxPending: 10 })
      expect(requests).toHaveLength(100)
      expect(stats.untilHorizon[Google.horizonReasons.lookahead]).toBe(90)
      expect(requests.slice(90).map((r) => r.lifetimeMs)).toEqual(Array.from({ length: 10 }, (_, i) => (1000 - 90 - i) * 1000))
    })
  })

  it("names file, line and field of broken rows", async () => {
    await withTmp(async (dir) => {
      const cols = await write(dir, [ev(0, 1, 0, 0), "1,2,3"])
      expect(await readError({ format: "google", path: cols })).toMatchObject({ file: cols, line: 2, field: "columns" })
      const time = await write(dir, [ev(0, 1, 0, 0).replace(/^0/, "soon")])
      expect(await readError({ format: "google", path: time })).toMatchObject({ line: 1, field: "timestamp" })
      const type = await write(dir, [ev(0, 1, 0, 9)])
      expect(await readError({ format: "google", path: type })).toMatchObject({ line: 1, field: "event type" })
      const cpu = await write(dir, [ev(0, 1, 0, 0, "lots")])
      const e = await readError({ format: "google", path: cpu })
      expect(e).toMatchObject({ line: 1, field: "CPU request" })
      expect(e.message).toContain('"lots"')
      const skipped = await readAll({ format: "google", path: cpu, malformed: "skip" })
      expect(skipped.stats).toMatchObject({ requests: 0, skipped: { [Google.skipReasons.malformed]: 1 } })
    })
  })
})
