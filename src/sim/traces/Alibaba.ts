/**
 * Alibaba cluster trace, GPU v2023 ("openb" pod lists): a CSV with a header row naming at least
 * `cpu_milli,memory_mib,creation_time,deletion_time,scheduled_time` (any order; times in seconds).
 * One pod becomes one single-instance RunInstances:
 * - vCPUs = cpu_milli / 1000 rounded by `cpuRounding` ("ceil", default; "round"; "floor"), at least 1;
 * - memory = ⌈memory_mib⌉ MiB; disk = `diskGiB` (default 0: the trace has none);
 * - arrival = creation_time; lifetime = deletion_time − creation_time (`lifetimeFrom: "scheduled"`:
 *   deletion_time − scheduled_time, the time the pod actually held its node);
 * - GPU columns (num_gpu, gpu_milli, gpu_spec), qos and pod_phase are ignored: our clouds have no GPUs.
 *   `gpu: "skip"` skips (and counts) pods that ask for GPUs instead.
 *
 * Handled and counted: pods never scheduled (empty scheduled_time, phase Pending) are skipped by default
 * (`unscheduled: "include"` keeps them, with lifetime = deletion − creation, the time they waited);
 * pods never deleted (empty deletion_time) run until the horizon; cpu_milli = 0 and deletion before
 * the start are skipped. Order: the openb files are sorted by creation_time.
 */
import { Schema } from "effect"
import * as Resources from "../../model/Resources.js"
import * as Fields from "./Fields.js"
import * as LineSource from "./LineSource.js"
import * as TraceError from "./TraceError.js"
import * as TraceReader from "./TraceReader.js"
import * as TraceRequest from "./TraceRequest.js"

export const Options = Schema.Struct({
  cpuRounding: Schema.optional(Fields.Rounding),
  lifetimeFrom: Schema.optional(Schema.Literal("creation", "scheduled")),
  unscheduled: Schema.optional(Schema.Literal("skip", "include")),
  gpu: Schema.optional(Schema.Literal("ignore", "skip")),
  diskGiB: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  malformed: Schema.optional(TraceReader.Malformed),
  ...TraceReader.CommonOptions
})
export type Options = typeof Options.Type

export const skipReasons = {
  unscheduled: "never scheduled (pending)",
  noCpu: "cpu_milli = 0",
  gpu: "asks for GPUs",
  negative: "deleted before it started",
  malformed: "malformed row"
} as const
export const horizonReason = "never deleted"

const required = ["cpu_milli", "memory_mib", "creation_time", "deletion_time", "scheduled_time"] as const

export const parser = (file: string, options: Options, tally: TraceReader.Tally): TraceReader.LineParser => {
  const rounding = options.cpuRounding ?? "ceil"
  const fromScheduled = options.lifetimeFrom === "scheduled"
  const includeUnscheduled = options.unscheduled === "include"
  const skipGpu = options.gpu === "skip"
  const disk = options.diskGiB ?? 0
  const skipMalformed = options.malformed === "skip"
  let header: ReadonlyArray<string> | undefined
  let cpuAt = 0, memAt = 0, createdAt = 0, deletedAt = 0, scheduledAt = 0, gpuAt = -1

  const bad = (lineNo: number, field: string, detail: string): void => {
    if (!skipMalformed) throw TraceError.make(file, lineNo, field, detail)
    tally.skip(skipReasons.malformed)
  }

  return {
    line(text, lineNo, out) {
      if (header === undefined) {
        header = text.split(",").map((c) => c.trim())
        for (const c of required) {
          if (!header.includes(c)) {
            throw TraceError.make(file, lineNo, c, `bad header: no column "${c}" (an Alibaba openb pod list needs ${required.join(",")})`)
          }
        }
        cpuAt = header.indexOf("cpu_milli")
        memAt = header.indexOf("memory_mib")
        createdAt = header.indexOf("creation_time")
        deletedAt = header.indexOf("deletion_time")
        scheduledAt = header.indexOf("scheduled_time")
        gpuAt = header.indexOf("num_gpu")
        if (skipGpu && gpuAt < 0) throw TraceError.make(file, lineNo, "num_gpu", `bad header: no column "num_gpu" (needed by gpu: "skip")`)
        return
      }
      if (text.trim().length === 0) return
      const f = text.split(",")
      if (f.length !== header.length) {
        return bad(lineNo, "columns", `expected ${header.length} comma-separated columns, found ${f.length}`)
      }
      let badField: string | undefined
      let badAt = 0
      const num = (i: number, field: string, allowEmpty: boolean): number | undefined => {
        const s = f[i]!.trim()
        if (s === "" && allowEmpty) return undefined
        const n = Fields.num(s)
        if (Number.isNaN(n) || n < 0) {
          if (badField === undefined) [badField, badAt] = [field, i]
          return Number.NaN
        }
        return n
      }
      const cpu = num(cpuAt, "cpu_milli", false)!
      const mem = num(memAt, "memory_mib", false)!
      const created = num(createdAt, "creation_time", false)!
      const deleted = num(deletedAt, "deletion_time", true)
      const scheduled = num(scheduledAt, "scheduled_time", true)
      const gpus = skipGpu ? num(gpuAt, "num_gpu", true) : 0
      if (badField !== undefined) return bad(lineNo, badField, `expected a number ≥ 0, found ${JSON.stringify(f[badAt])}`)
      if (scheduled === undefined && !includeUnscheduled) return tally.skip(skipReasons.unscheduled)
      if (cpu === 0) return tally.skip(skipReasons.noCpu)
      if (skipGpu && gpus !== undefined && gpus > 0) return tally.skip(skipReasons.gpu)
      const size = Resources.make(Fields.wholeCores(cpu / 1000, rounding), Math.ceil(mem), disk)
      const arrival = Math.round(created * 1000)
      if (deleted === undefined) {
        out.pushUntilHorizon(TraceRequest.sized(lineNo, arrival, undefined, size), horizonReason)
        return
      }
      const start = fromScheduled && scheduled !== undefined ? scheduled : created
      if (deleted < start) return tally.skip(skipReasons.negative)
      out.push(TraceRequest.sized(lineNo, arrival, Math.round((deleted - start) * 1000), size))
    },
    end() {
      if (header === undefined) throw TraceError.make(file, 1, undefined, "empty file: expected a header row")
    }
  }
}

export const open = async (file: string, options: Options): Promise<TraceReader.TraceReader> => {
  const src = await LineSource.LineSource.open(file)
  const tally = new TraceReader.Tally()
  return TraceReader.make("alibaba", file, TraceReader.fromLines(src, parser(file, options, tally)), tally, options)
}
