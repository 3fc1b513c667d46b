/**
 * Standard Workload Format (Parallel Workloads Archive, v2.2): one job per line, 18 whitespace-separated
 * numeric fields, -1 where unknown; header comments start with ";".
 *
 * A job becomes one RunInstances:
 * - arrival = submit time (s → ms), lifetime = run time (s → ms);
 * - processors = allocated processors, else requested processors;
 * - without `coresPerVm` (default): one VM with as many vCPUs as processors. With `coresPerVm` = c:
 *   count = ⌈P / c⌉ VMs of ⌈P / count⌉ vCPUs each. A parallel job is gang-scheduled (all its processors
 *   at once, or it waits), which is exactly RunInstances with min = max = count (all or nothing); one
 *   RunInstances needs equal VMs, and ⌈P / count⌉ keeps the overshoot below `count` vCPUs (P = 9, c = 4
 *   gives 3 × 3, not 3 × 4). `coresPerVm: 1` is the "one processor, one VM" reading.
 * - memory per VM = memory per processor × vCPUs per VM. SWF memory fields are KB per processor; the
 *   `memory` option picks which is tried first ("requested", default: what the job asked for, like a VM
 *   size; or "used"), the other is the fallback, and `memoryMiBPerCore` (default 1024) applies when the
 *   log has neither (most logs). "default" ignores both fields.
 * - disk: `diskGiB` (default 0: SWF has no disk, and 0 never limits placement).
 *
 * Skipped and counted: status 5 (cancelled; `cancelled: "keep"` keeps those that ran), run time ≤ 0,
 * no processors, submit time < 0. Malformed rows (not 18 fields, a used field not a number) stop the
 * read with a TraceError unless `malformed: "skip"`.
 *
 * Order: SWF files are sorted by submit time, so arrivals are non-decreasing (TraceStats.sorted checks).
 */
import { Schema } from "effect"
import * as Resources from "../../model/Resources.js"
import * as Fields from "./Fields.js"
import * as LineSource from "./LineSource.js"
import * as TraceError from "./TraceError.js"
import * as TraceReader from "./TraceReader.js"
import * as TraceRequest from "./TraceRequest.js"

export const Options = Schema.Struct({
  coresPerVm: Schema.optional(Schema.Int.pipe(Schema.positive())),
  memory: Schema.optional(Schema.Literal("requested", "used", "default")),
  memoryMiBPerCore: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  diskGiB: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  cancelled: Schema.optional(Schema.Literal("skip", "keep")),
  malformed: Schema.optional(TraceReader.Malformed),
  ...TraceReader.CommonOptions
})
export type Options = typeof Options.Type

/** The 18 SWF fields, for error messages. */
export const fieldNames = [
  "job number",
  "submit time",
  "wait time",
  "run time",
  "allocated processors",
  "average cpu time",
  "used memory",
  "requested processors",
  "requested time",
  "requested memory",
  "status",
  "user id",
  "group id",
  "executable number",
  "queue number",
  "partition number",
  "preceding job",
  "think time"
] as const

const SUBMIT = 1
const RUN = 3
const ALLOC = 4
const USED_MEM = 6
const REQ_PROCS = 7
const REQ_MEM = 9
const STATUS = 10
/** The fields a request is made of, in file order (the first bad one is reported). */
const requestFields = [SUBMIT, RUN, ALLOC, USED_MEM, REQ_PROCS, REQ_MEM, STATUS] as const

export const skipReasons = {
  cancelled: "cancelled (status 5)",
  runTime: "run time ≤ 0 (unknown or zero)",
  processors: "no processors (allocated and requested ≤ 0)",
  submit: "submit time < 0 (unknown)",
  malformed: "malformed row"
} as const

const ws = /\s+/

export const parser = (file: string, options: Options, tally: TraceReader.Tally): TraceReader.LineParser => {
  const coresPerVm = options.coresPerVm
  const memory = options.memory ?? "requested"
  const perCore = options.memoryMiBPerCore ?? 1024
  const disk = options.diskGiB ?? 0
  const keepCancelled = options.cancelled === "keep"
  const skipMalformed = options.malformed === "skip"

  const bad = (lineNo: number, field: string, detail: string): void => {
    if (!skipMalformed) throw TraceError.make(file, lineNo, field, detail)
    tally.skip(skipReasons.malformed)
  }

  const row = new Float64Array(18)
  return {
    line(text, lineNo, out) {
      let i = 0
      while (i < text.length && text.charCodeAt(i) <= 32) i++
      if (i === text.length || text.charCodeAt(i) === 59 /* ; */) return
      const fields = Fields.wsNumbers(text, row)
      if (fields !== 18) {
        bad(lineNo, "fields", `expected 18 whitespace-separated SWF fields, found ${fields}: is this an SWF file?`)
        return
      }
      const submit = row[SUBMIT]!
      const run = row[RUN]!
      const alloc = row[ALLOC]!
      const reqProcs = row[REQ_PROCS]!
      const status = row[STATUS]!
      const used = row[USED_MEM]!
      const req = row[REQ_MEM]!
      if (Number.isNaN(submit + run + alloc + reqProcs + status + used + req)) {
        const i = requestFields.find((k) => Number.isNaN(row[k]!))!
        bad(lineNo, fieldNames[i], `not a number: ${JSON.stringify(text.trim().split(ws)[i])}`)
        return
      }
      if (status === 5 && !keepCancelled) return tally.skip(skipReasons.cancelled)
      if (run <= 0) return tally.skip(skipReasons.runTime)
      const procs = alloc > 0 ? alloc : reqProcs > 0 ? reqProcs : 0
      if (procs <= 0) return tally.skip(skipReasons.processors)
      if (submit < 0) return tally.skip(skipReasons.submit)
      const p = Math.ceil(procs)
      const count = coresPerVm === undefined ? 1 : Math.ceil(p / coresPerVm)
      const cores = Math.ceil(p / count)
      const kb =
        memory === "default" ? -1 : memory === "requested" ? (req > 0 ? req : used > 0 ? used : -1) : used > 0 ? used : req > 0 ? req : -1
      const mib = kb > 0 ? Math.ceil((kb * cores) / 1024) : perCore * cores
      out.push(
        TraceRequest.sized(lineNo, Math.round(submit * 1000), Math.round(run * 1000), Resources.make(cores, mib, disk), count)
      )
    }
  }
}

export const open = async (file: string, options: Options): Promise<TraceReader.TraceReader> => {
  const src = await LineSource.LineSource.open(file)
  const tally = new TraceReader.Tally()
  return TraceReader.make("swf", file, TraceReader.fromLines(src, parser(file, options, tally)), tally, options)
}
