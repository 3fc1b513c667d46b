/**
 * Google cluster trace 2011 (ClusterData2011_2), task_events: headerless CSV, 13 columns — timestamp (µs),
 * missing info, job ID, task index, machine ID, event type, user, scheduling class, priority, CPU request,
 * memory request, disk request, different-machine constraint. Lines starting with "#" are comments (the
 * bundled sample has one as header).
 *
 * Each SUBMIT (type 0) of a task is one single-instance RunInstances at its timestamp. Its lifetime is
 * the time from the task's next SCHEDULE (1) to its terminating event — EVICT 2, FAIL 3, FINISH 4,
 * KILL 5, LOST 6 (`lifetimeFrom: "submit"`: from the SUBMIT instead). A task that ends without having
 * been scheduled is skipped and counted (`lifetimeFrom: "submit"` keeps it). UPDATE events (7, 8) are
 * ignored: the size is the SUBMIT's. Requests are normalised to the largest machine: vCPUs =
 * CPU × `machineCores` (default 32) rounded by `cpuRounding` (default "ceil", at least 1), memory =
 * ⌈memory × `machineMemoryMiB`⌉ (default 65536), disk = `diskGiB` (default 0).
 *
 * Why a bounded reorder buffer, not two passes: the end of a task comes later in the file than its
 * SUBMIT, but a request must carry its lifetime when handed out. Two passes would hold a map of every
 * task of the trace (25 M in the full 2011 trace); instead SUBMITs wait, in submit order, until their
 * task ends, and the oldest is handed out once it has ended — or, when it has waited `lookaheadMs`
 * of trace time (default 1 h) or more than `maxPending` (default 1,000,000) are waiting, without a
 * lifetime (until the horizon, counted as "end beyond lookahead"). Memory is bounded by the submissions
 * of one lookahead window; arrival order is the file's (the trace is sorted by time), so requests come
 * out with non-decreasing arrivals. A task still open at the end of the file runs until the horizon.
 * Timestamps 2^63 − 1 ("after the trace") count as no event.
 */
import { Schema } from "effect"
import * as Resources from "../../model/Resources.js"
import * as Fields from "./Fields.js"
import * as LineSource from "./LineSource.js"
import * as TraceError from "./TraceError.js"
import * as TraceReader from "./TraceReader.js"
import * as TraceRequest from "./TraceRequest.js"

export const Options = Schema.Struct({
  machineCores: Schema.optional(Schema.Int.pipe(Schema.positive())),
  machineMemoryMiB: Schema.optional(Schema.Int.pipe(Schema.positive())),
  cpuRounding: Schema.optional(Fields.Rounding),
  diskGiB: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  lifetimeFrom: Schema.optional(Schema.Literal("schedule", "submit")),
  lookaheadMs: Schema.optional(Schema.Int.pipe(Schema.positive())),
  maxPending: Schema.optional(Schema.Int.pipe(Schema.positive())),
  malformed: Schema.optional(TraceReader.Malformed),
  ...TraceReader.CommonOptions
})
export type Options = typeof Options.Type

export const fieldNames = [
  "timestamp",
  "missing info",
  "job ID",
  "task index",
  "machine ID",
  "event type",
  "user",
  "scheduling class",
  "priority",
  "CPU request",
  "memory request",
  "disk request",
  "different-machine constraint"
] as const

export const skipReasons = {
  unscheduled: "ended before being scheduled",
  noRequest: "no CPU or memory request",
  afterEnd: "submitted after the end of the trace",
  malformed: "malformed row"
} as const
export const horizonReasons = {
  open: "no end event in the trace",
  lookahead: "end beyond lookahead"
} as const

const SUBMIT = 0
const SCHEDULE = 1
const LAST_END = 6
/** Above 2^53 only the "after the end of the trace" marker (2^63 − 1) occurs. */
const afterEnd = 2 ** 53
/** Task.endMs before the task has ended, and when it ends after the trace (still running at its end). */
const OPEN = -1
const BEYOND = -2

interface Task {
  readonly key: string
  readonly line: number
  readonly submitMs: number
  readonly size: Resources.Resources
  scheduleMs: number
  endMs: number
}

export const parser = (file: string, options: Options, tally: TraceReader.Tally): TraceReader.LineParser => {
  const cores = options.machineCores ?? 32
  const memory = options.machineMemoryMiB ?? 65536
  const rounding = options.cpuRounding ?? "ceil"
  const disk = options.diskGiB ?? 0
  const fromSubmit = options.lifetimeFrom === "submit"
  const lookahead = options.lookaheadMs ?? 3_600_000
  const maxPending = options.maxPending ?? 1_000_000
  const skipMalformed = options.malformed === "skip"

  /** Tasks not yet ended, by "job/task"; the queue holds every task not yet handed out, in SUBMIT order. */
  const running = new Map<string, Task>()
  let queue: Array<Task> = []
  let head = 0
  let nowMs = 0

  const bad = (lineNo: number, field: string, detail: string): void => {
    if (!skipMalformed) throw TraceError.make(file, lineNo, field, detail)
    tally.skip(skipReasons.malformed)
  }

  const emit = (t: Task, out: TraceReader.Out, reason: string): void => {
    if (t.endMs >= 0) {
      const start = fromSubmit ? t.submitMs : t.scheduleMs
      if (start < 0) return tally.skip(skipReasons.unscheduled)
      out.push(TraceRequest.sized(t.line, t.submitMs, Math.max(0, t.endMs - start), t.size))
    } else {
      if (running.get(t.key) === t) running.delete(t.key)
      out.pushUntilHorizon(TraceRequest.sized(t.line, t.submitMs, undefined, t.size), reason)
    }
  }

  /** Hands out, oldest first, the tasks that have ended or waited too long (all of them at the end). */
  const drain = (out: TraceReader.Out, all: boolean): void => {
    while (head < queue.length) {
      const t = queue[head]!
      if (t.endMs >= 0 || t.endMs === BEYOND || all) emit(t, out, horizonReasons.open)
      else if (nowMs - t.submitMs > lookahead || queue.length - head > maxPending) emit(t, out, horizonReasons.lookahead)
      else break
      head++
    }
    if (head > 4096 && head * 2 > queue.length) {
      queue = queue.slice(head)
      head = 0
    }
  }

  const submit = (f: Array<string>, lineNo: number, key: string, ms: number): void => {
    const prev = running.get(key)
    if (prev !== undefined) {
      // Resubmitted without an end on record: the earlier run ended then.
      prev.endMs = ms < 0 ? BEYOND : ms
      running.delete(key)
    }
    if (ms < 0) return tally.skip(skipReasons.afterEnd)
    const cpu = Fields.num(f[9]!)
    const mem = Fields.num(f[10]!)
    if (f[9]!.trim() === "" || f[10]!.trim() === "") return tally.skip(skipReasons.noRequest)
    if (Number.isNaN(cpu) || cpu < 0) return bad(lineNo, fieldNames[9], `not a fraction ≥ 0: ${JSON.stringify(f[9])}`)
    if (Number.isNaN(mem) || mem < 0) return bad(lineNo, fieldNames[10], `not a fraction ≥ 0: ${JSON.stringify(f[10])}`)
    if (cpu === 0) return tally.skip(skipReasons.noRequest)
    const size = Resources.make(Fields.wholeCores(cpu * cores, rounding), Math.ceil(mem * memory), disk)
    const t: Task = { key, line: lineNo, submitMs: ms, size, scheduleMs: OPEN, endMs: OPEN }
    running.set(key, t)
    queue.push(t)
  }

  return {
    line(text, lineNo, out) {
      if (text.length === 0 || text.charCodeAt(0) === 35 /* # */) return
      const f = text.split(",")
      if (f.length !== 13) {
        return bad(lineNo, "columns", `expected the 13 columns of a 2011 task_events file, found ${f.length}`)
      }
      const ts = Fields.num(f[0]!)
      if (Number.isNaN(ts) || ts < 0) return bad(lineNo, fieldNames[0], `not a timestamp in µs: ${JSON.stringify(f[0])}`)
      const type = Fields.digits(f[5]!)
      if (type < 0 || type > 8) return bad(lineNo, fieldNames[5], `not an event type 0…8: ${JSON.stringify(f[5])}`)
      if (f[2]!.length === 0) return bad(lineNo, fieldNames[2], "empty")
      if (f[3]!.length === 0) return bad(lineNo, fieldNames[3], "empty")
      const key = f[2] + "/" + f[3]
      const ms = ts >= afterEnd ? -1 : Math.floor(ts / 1000)
      if (ms > nowMs) nowMs = ms
      if (type === SUBMIT) submit(f, lineNo, key, ms)
      else if (type <= LAST_END) {
        const t = running.get(key)
        if (t !== undefined) {
          if (type === SCHEDULE) {
            if (t.scheduleMs < 0 && ms >= 0) t.scheduleMs = ms
          } else {
            t.endMs = ms < 0 ? BEYOND : ms
            running.delete(key)
          }
        }
      }
      drain(out, false)
    },
    end(out) {
      drain(out, true)
    }
  }
}

export const open = async (file: string, options: Options): Promise<TraceReader.TraceReader> => {
  const src = await LineSource.LineSource.open(file)
  const tally = new TraceReader.Tally()
  return TraceReader.make("google", file, TraceReader.fromLines(src, parser(file, options, tally)), tally, options)
}
