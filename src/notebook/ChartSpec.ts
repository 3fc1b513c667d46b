/**
 * A ```chart block: a small declarative chart over one experiment's results, compiled at build time
 * into the data the page draws (ChartData) — so the page carries only what is plotted, and a
 * misspelt field fails the build with the notebook line instead of drawing an empty chart.
 *
 *   { "type": "line", "title": "Requests accepted so far", "experiment": "policies",
 *     "y": "acceptance_pct" }
 *
 * type     line | area (stacked, one panel per run) | bar (grouped) | table
 * data     timeseries (default for line/area) | summary (default for bar/table) | rejections
 * x        a field (timeseries: a time column, picked from the trace's span by default;
 *          summary: e.g. "param.N" to plot runs against a swept value)
 * y        a field, a glob ("rejected.*"), an { "field", "label", "unit", "expr" } object, or a list
 * series   summary line charts: the field whose value names the series (e.g. "param.mode");
 *          seriesLabel "{} requests" names them from the value
 * variants the runs to show (labels), in order; default all
 * xLabel, xUnit, yLabel, yUnit, xScale, yScale ("linear" | "log"), caption, step, maxPoints, transpose
 */
import { Either, ParseResult, Schema } from "effect"
import type * as Dataset from "./Dataset.js"
import * as Fields from "./Fields.js"
import * as Notebook from "./Notebook.js"
import * as NotebookError from "./NotebookError.js"

const YItem = Schema.Union(
  Schema.NonEmptyTrimmedString,
  Schema.Struct({
    field: Schema.NonEmptyTrimmedString,
    label: Schema.optional(Schema.String),
    unit: Schema.optional(Schema.String),
    /** A JavaScript expression over the row's fields, e.g. "used_vcpu / capacity_cores * 100". */
    expr: Schema.optional(Schema.String)
  })
)
type YItem = typeof YItem.Type

const Scale = Schema.Literal("linear", "log")

export const ChartSpec = Schema.Struct({
  type: Schema.Literal("line", "area", "bar", "table"),
  title: Schema.NonEmptyTrimmedString,
  experiment: Schema.optional(Schema.String),
  data: Schema.optional(Schema.Literal("timeseries", "summary", "rejections")),
  x: Schema.optional(Schema.NonEmptyTrimmedString),
  y: Schema.optional(Schema.Union(YItem, Schema.Array(YItem).pipe(Schema.minItems(1)))),
  series: Schema.optional(Schema.NonEmptyTrimmedString),
  /** How a series is named from its `series` value: "{} requests" → "10,000 requests". */
  seriesLabel: Schema.optional(Schema.String),
  variants: Schema.optional(Schema.Array(Schema.String).pipe(Schema.minItems(1))),
  xLabel: Schema.optional(Schema.String),
  xUnit: Schema.optional(Schema.String),
  yLabel: Schema.optional(Schema.String),
  yUnit: Schema.optional(Schema.String),
  xScale: Schema.optional(Scale),
  yScale: Schema.optional(Scale),
  caption: Schema.optional(Schema.String),
  step: Schema.optional(Schema.Boolean),
  maxPoints: Schema.optional(Schema.Int.pipe(Schema.between(10, 100_000))),
  transpose: Schema.optional(Schema.Boolean)
})
export type ChartSpec = typeof ChartSpec.Type

export interface RunData {
  readonly label: string
  readonly params: Readonly<Record<string, unknown>>
  readonly experiment: Readonly<Record<string, unknown>>
  readonly dataset: Dataset.Dataset
}

export interface ExperimentData {
  readonly id: string
  readonly title: string | undefined
  readonly measure: boolean
  readonly runs: ReadonlyArray<RunData>
}

export interface Axis {
  readonly label: string
  readonly unit: string
  readonly scale: "linear" | "log"
}

export interface Series {
  readonly name: string
  readonly x: ReadonlyArray<number>
  readonly y: ReadonlyArray<number | null>
}

export type ChartData =
  | { readonly kind: "line"; readonly title: string; readonly x: Axis; readonly y: Axis; readonly series: ReadonlyArray<Series>; readonly step: boolean; readonly points: boolean; readonly note: string }
  | {
      readonly kind: "area"
      readonly title: string
      readonly x: Axis
      readonly y: Axis
      readonly panels: ReadonlyArray<{ readonly name: string; readonly x: ReadonlyArray<number>; readonly series: ReadonlyArray<{ readonly name: string; readonly y: ReadonlyArray<number> }> }>
      readonly note: string
    }
  | {
      readonly kind: "bar"
      readonly title: string
      readonly x: { readonly label: string }
      readonly y: Axis
      readonly groups: ReadonlyArray<string>
      readonly keys: ReadonlyArray<string>
      /** values[group][key] */
      readonly values: ReadonlyArray<ReadonlyArray<number | null>>
      readonly note: string
    }
  | { readonly kind: "table"; readonly title: string; readonly columns: ReadonlyArray<string>; readonly units: ReadonlyArray<string>; readonly rows: ReadonlyArray<ReadonlyArray<string | number | null>>; readonly note: string }

/** Decodes a block; `experimentIds` are the ids defined so far (the chart's default is the last). */
export const decode = (file: string, line: number, source: string): ChartSpec => {
  const json = Notebook.parseJson(file, line, "chart", source)
  const d = Schema.decodeUnknownEither(ChartSpec, { onExcessProperty: "error" })(json)
  if (Either.isLeft(d)) throw NotebookError.make(file, line, undefined, `chart block: ${ParseResult.TreeFormatter.formatErrorSync(d.left)}`)
  return d.right
}

interface Resolved {
  readonly field: string
  readonly label: string
  readonly unit: string
  readonly get: (row: Readonly<Record<string, unknown>>) => number | null
}

const glob = (pattern: string, fields: ReadonlyArray<string>): Array<string> => {
  const re = new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`)
  return fields.filter((f) => re.test(f)).sort()
}

const toNumber = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : v === null || v === undefined ? null : Number.isFinite(Number(v)) ? Number(v) : null)

/**
 * Compiles a spec against an experiment's results. Throws a NotebookError naming `file:line` and the
 * field for anything that does not fit (an unknown field, a run label that does not exist, mixed units).
 */
export const compile = (file: string, line: number, spec: ChartSpec, exp: ExperimentData): ChartData => {
  const fail = (field: string | undefined, msg: string): never => {
    throw NotebookError.make(file, line, field, `chart "${spec.title}": ${msg}`)
  }
  const runs = pickRuns(spec, exp, fail)
  const data = spec.data ?? (spec.type === "line" || spec.type === "area" ? "timeseries" : "summary")
  const yItems: ReadonlyArray<YItem> = spec.y === undefined ? [] : Array.isArray(spec.y) ? (spec.y as ReadonlyArray<YItem>) : [spec.y as YItem]

  const available =
    data === "timeseries"
      ? union(runs.map((r) => Object.keys(r.dataset.timeseries)))
      : data === "summary"
        ? union(runs.map((r) => [...Object.keys(r.dataset.summary), ...Object.keys(r.params).map((k) => `param.${k}`)]))
        : union(runs.map((r) => Object.keys(r.dataset.rejections)))
  const resolve = (item: YItem): Array<Resolved> => {
    if (typeof item === "string") {
      const names = item.includes("*") ? glob(item, available) : [item]
      if (names.length === 0) {
        // A glob over rejection reasons may match nothing in a run without rejections: that is data, not a typo.
        if (data === "rejections" || item.startsWith("rejected.") || item.startsWith("requests.rejectedByReason.")) return []
        return fail("y", `"${item}" matches no ${data} field; available: ${preview(available)}`)
      }
      return names.map((name) => {
        if (!available.includes(name) && !(data === "rejections")) fail("y", `no ${data} field "${name}"; available: ${preview(available)}`)
        const d = Fields.describe(name, data)
        return { field: name, label: d.label, unit: d.unit, get: (row) => toNumber(row[name]) }
      })
    }
    if (item.expr !== undefined) {
      let f: (row: unknown) => unknown
      try {
        f = new Function("row", `with (row) { return (${item.expr}) }`) as (row: unknown) => unknown
      } catch (e) {
        return fail("y", `the expression of "${item.field}" does not parse: ${(e as Error).message}`)
      }
      return [
        {
          field: item.field,
          label: item.label ?? item.field,
          unit: item.unit ?? "",
          get: (row) => {
            try {
              return toNumber(f(new Proxy(row, { has: (t, k) => typeof k === "string" && k in t })))
            } catch (e) {
              return fail("y", `the expression of "${item.field}" failed: ${(e as Error).message}`)
            }
          }
        }
      ]
    }
    const inner = resolve(item.field)
    return inner.map((r) => ({ ...r, label: item.label ?? r.label, unit: item.unit ?? r.unit }))
  }
  const ys = yItems.flatMap(resolve)
  const yAxis = (): Axis => {
    const units = [...new Set(ys.map((y) => y.unit))]
    if (spec.yUnit === undefined && units.length > 1) fail("yUnit", `the y fields have different units (${units.join(", ")}); set "yUnit" or split the chart`)
    const label = spec.yLabel ?? (ys.length === 1 ? ys[0]!.label : data === "rejections" ? "requests rejected" : commonLabel(ys.map((y) => y.label)))
    return { label, unit: spec.yUnit ?? units[0] ?? "", scale: spec.yScale ?? "linear" }
  }
  const note: Array<string> = []

  switch (spec.type) {
    case "line":
    case "area": {
      if (data === "rejections") return fail("data", `a ${spec.type} chart cannot show "rejections" (use a bar chart, or the timeseries fields "rejected.*")`)
      if (ys.length === 0) return fail("y", `a ${spec.type} chart needs "y"`)
      if (data === "timeseries") {
        const xField = spec.x ?? timeField(runs)
        if (!available.includes(xField)) fail("x", `no timeseries field "${xField}"; available: ${preview(available)}`)
        const xd = Fields.describe(xField, "timeseries")
        const x: Axis = { label: spec.xLabel ?? xd.label, unit: spec.xUnit ?? xd.unit, scale: spec.xScale ?? "linear" }
        const max = spec.maxPoints ?? 600
        const rowsOf = (r: RunData) => {
          const ts = r.dataset.timeseries
          const n = ts[xField]?.length ?? 0
          const step = Math.max(1, Math.ceil(n / max))
          if (step > 1) note.push(`${r.label}: every ${step}th of ${n} samples shown`)
          const idx: Array<number> = []
          for (let i = 0; i < n; i += step) idx.push(i)
          if (n > 0 && idx[idx.length - 1] !== n - 1) idx.push(n - 1)
          const cols = Object.keys(ts)
          const row = (i: number) => {
            const o: Record<string, unknown> = {}
            for (const c of cols) o[c] = ts[c]![i]
            return o
          }
          return { xs: idx.map((i) => ts[xField]![i] as number), rows: idx.map(row) }
        }
        if (spec.type === "line") {
          const series: Array<Series> = []
          for (const r of runs) {
            const { xs, rows } = rowsOf(r)
            for (const y of ys) {
              series.push({ name: seriesName(r.label, y.label, runs.length, ys.length), x: xs, y: rows.map(y.get) })
            }
          }
          return { kind: "line", title: spec.title, x, y: yAxis(), series, step: spec.step ?? false, points: false, note: dedupe(note) }
        }
        const panels = runs.map((r) => {
          const { xs, rows } = rowsOf(r)
          return { name: r.label, x: xs, series: ys.map((y) => ({ name: y.label, y: rows.map((row) => y.get(row) ?? 0) })) }
        })
        return { kind: "area", title: spec.title, x, y: yAxis(), panels, note: dedupe(note) }
      }
      // Summary data: runs as points against a field (a swept parameter, usually).
      if (spec.type === "area") return fail("data", `an area chart shows a time series; use "line" or "bar" for summary data`)
      if (spec.x === undefined) return fail("x", `a line chart over summary data needs "x" (e.g. "param.N")`)
      const xField = spec.x
      if (!available.includes(xField)) fail("x", `no summary field "${xField}"; available: ${preview(available)}`)
      const xd = Fields.describe(xField, "summary")
      const x: Axis = { label: spec.xLabel ?? xd.label, unit: spec.xUnit ?? xd.unit, scale: spec.xScale ?? "linear" }
      const rowOf = (r: RunData): Record<string, unknown> => ({ ...r.dataset.summary, ...Object.fromEntries(Object.entries(r.params).map(([k, v]) => [`param.${k}`, v])) })
      const groups = new Map<string, Array<RunData>>()
      for (const r of runs) {
        const v = spec.series === undefined ? undefined : rowOf(r)[spec.series]
        const shown = typeof v === "number" ? v.toLocaleString("en-US") : String(v ?? "")
        const key = spec.series === undefined ? "" : spec.seriesLabel === undefined ? shown : spec.seriesLabel.replace("{}", shown)
        if (spec.series !== undefined && !(spec.series in rowOf(r))) fail("series", `run "${r.label}" has no field "${spec.series}"`)
        groups.set(key, [...(groups.get(key) ?? []), r])
      }
      const series: Array<Series> = []
      for (const [key, rs] of groups) {
        const pts = rs.map((r) => ({ x: toNumber(rowOf(r)[xField]), row: rowOf(r) })).filter((p) => p.x !== null)
        pts.sort((a, b) => (a.x as number) - (b.x as number))
        for (const y of ys) {
          const name = key === "" ? y.label : ys.length === 1 ? key : `${key} · ${y.label}`
          series.push({ name, x: pts.map((p) => p.x as number), y: pts.map((p) => y.get(p.row)) })
        }
      }
      return { kind: "line", title: spec.title, x, y: yAxis(), series, step: spec.step ?? false, points: true, note: "" }
    }
    case "bar": {
      if (data === "timeseries") return fail("data", `a bar chart shows summary or rejections data`)
      let keys: Array<Resolved>
      if (data === "rejections") {
        keys = ys.length > 0 ? ys : available.sort().map((k) => ({ field: k, label: k, unit: "requests", get: (row) => toNumber(row[k]) ?? 0 }))
        keys = keys.map((k) => ({ ...k, get: (row) => toNumber(row[k.field]) ?? 0 }))
        if (keys.length === 0) {
          // No run rejected anything: one honest bar group of zeros rather than an empty chart.
          keys = [{ field: "none", label: "none rejected", unit: "requests", get: () => 0 }]
        }
      } else {
        if (ys.length === 0) return fail("y", `a bar chart needs "y"`)
        keys = ys
      }
      const rowOf = (r: RunData): Record<string, unknown> =>
        data === "rejections" ? r.dataset.rejections : { ...r.dataset.summary, ...Object.fromEntries(Object.entries(r.params).map(([k, v]) => [`param.${k}`, v])) }
      const matrix = runs.map((r) => keys.map((k) => k.get(rowOf(r))))
      const y = data === "rejections" ? { label: spec.yLabel ?? "requests rejected", unit: spec.yUnit ?? "requests", scale: spec.yScale ?? ("linear" as const) } : yAxis()
      if (spec.transpose) {
        return {
          kind: "bar",
          title: spec.title,
          x: { label: spec.xLabel ?? (data === "rejections" ? "rejection reason" : "") },
          y,
          groups: keys.map((k) => k.label),
          keys: runs.map((r) => r.label),
          values: keys.map((_k, j) => runs.map((_r, i) => matrix[i]![j]!)),
          note: ""
        }
      }
      return { kind: "bar", title: spec.title, x: { label: spec.xLabel ?? "run" }, y, groups: runs.map((r) => r.label), keys: keys.map((k) => k.label), values: matrix, note: "" }
    }
    case "table": {
      if (data === "timeseries") return fail("data", `a table shows summary or rejections data`)
      const cols: Array<Resolved> =
        data === "rejections" ? available.sort().map((k) => ({ field: k, label: k, unit: "requests", get: (row) => toNumber(row[k]) ?? 0 })) : ys
      if (cols.length === 0 && data !== "rejections") return fail("y", `a table needs "y" (the columns)`)
      const rowOf = (r: RunData): Record<string, unknown> =>
        data === "rejections" ? r.dataset.rejections : { ...r.dataset.summary, ...Object.fromEntries(Object.entries(r.params).map(([k, v]) => [`param.${k}`, v])) }
      return {
        kind: "table",
        title: spec.title,
        columns: ["run", ...cols.map((c) => c.label)],
        units: ["", ...cols.map((c) => c.unit)],
        rows: runs.map((r) => [r.label, ...cols.map((c) => c.get(rowOf(r)))]),
        note: ""
      }
    }
  }
}

const pickRuns = (spec: ChartSpec, exp: ExperimentData, fail: (f: string, m: string) => never): ReadonlyArray<RunData> => {
  if (spec.variants === undefined) return exp.runs
  return spec.variants.map((v) => exp.runs.find((r) => r.label === v) ?? fail("variants", `experiment "${exp.id}" has no run "${v}"; its runs: ${exp.runs.map((r) => r.label).join(", ")}`))
}

const union = (lists: ReadonlyArray<ReadonlyArray<string>>): Array<string> => [...new Set(lists.flat())]

const preview = (xs: ReadonlyArray<string>): string => (xs.length > 40 ? `${xs.slice(0, 40).join(", ")}, … (${xs.length} in all)` : xs.join(", "))

const dedupe = (xs: ReadonlyArray<string>): string => [...new Set(xs)].join("; ")

const seriesName = (run: string, y: string, nRuns: number, nY: number): string => (nY === 1 ? run : nRuns === 1 ? y : `${run} · ${y}`)

const commonLabel = (labels: ReadonlyArray<string>): string => labels.join(", ")

/** The time column that suits the span of the runs' series. */
const timeField = (runs: ReadonlyArray<RunData>): string => {
  let max = 0
  for (const r of runs) {
    const t = r.dataset.timeseries["time_ms"]
    if (t && t.length > 0) max = Math.max(max, (t[t.length - 1] as number) ?? 0)
  }
  if (max > 4 * 86_400_000) return "time_d"
  if (max > 3 * 3_600_000) return "time_h"
  if (max > 3 * 60_000) return "time_min"
  return "time_s"
}

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString("en-US")} ${n === 1 ? one : many}`

const get = (o: unknown, path: string): unknown => path.split(".").reduce<unknown>((a, k) => (typeof a === "object" && a !== null ? (a as Record<string, unknown>)[k] : undefined), o)

/** "Trace …. Seed …. Policy …." for the runs a chart shows. */
export const caption = (exp: ExperimentData, labels?: ReadonlyArray<string>): string => {
  const runs = labels ? exp.runs.filter((r) => labels.includes(r.label)) : exp.runs
  const parts: Array<string> = []
  // One entry per trace file, whatever the limits of the runs that read it.
  const traces = new Map<string, { format: string; limits: Set<number>; simulated: Array<number>; skipped: Array<number> }>()
  for (const r of runs) {
    const t = get(r.experiment, "trace")
    if (typeof t !== "object" || t === null) continue
    const file = String(get(t, "path") ?? get(t, "format") ?? "").replace(/^.*[\\/]/, "")
    const entry = traces.get(file) ?? { format: String(get(t, "format") ?? "").toUpperCase(), limits: new Set<number>(), simulated: [], skipped: [] }
    const limit = get(t, "limit")
    if (typeof limit === "number") entry.limits.add(limit)
    // What the simulator took (a horizon stops it before the reader's read-ahead).
    const simulated = r.dataset.summary["requests.total"]
    const read = typeof simulated === "number" ? simulated : get(r.dataset.trace, "requests")
    if (typeof read === "number") entry.simulated.push(read)
    const skipped = get(r.dataset.trace, "skipped")
    entry.skipped.push(typeof skipped === "object" && skipped !== null ? Object.values(skipped).reduce<number>((a, b) => a + (typeof b === "number" ? b : 0), 0) : 0)
    traces.set(file, entry)
  }
  const span = (xs: ReadonlyArray<number>, what: string) => {
    const lo = Math.min(...xs), hi = Math.max(...xs)
    return lo === hi ? plural(lo, what) : `${lo.toLocaleString("en-US")}–${plural(hi, what)}`
  }
  const described = [...traces.entries()].map(([file, e]) => {
    const bits = [e.format]
    if (e.limits.size > 0) bits.push(`first ${[...e.limits].sort((a, b) => a - b).map((n) => n.toLocaleString("en-US")).join(" / ")} requests`)
    if (e.simulated.length > 0) bits.push(`${span(e.simulated, "request")} simulated`)
    if (e.skipped.some((n) => n > 0)) bits.push(`${span(e.skipped, "row")} skipped`)
    return `${file} (${bits.filter((b) => b !== "").join(", ")})`
  })
  if (described.length > 0) parts.push(`Trace: ${described.join("; ")}.`)
  const seeds = [...new Set(runs.map((r) => get(r.experiment, "seed")).filter((s) => s !== undefined).map(String))]
  if (seeds.length > 0) parts.push(`${seeds.length === 1 ? "Seed" : "Seeds"}: ${seeds.join(", ")}.`)
  const policies = [...new Set(runs.map((r) => get(r.experiment, "policy.name")).filter((s) => s !== undefined).map((s) => String(s).toUpperCase()))]
  if (policies.length > 0) parts.push(`${policies.length === 1 ? "Policy" : "Policies"}: ${policies.join(", ")}.`)
  const modes = [...new Set(runs.map((r) => get(r.experiment, "network.mode")).filter((s) => s !== undefined).map(String))]
  if (modes.length > 0) parts.push(`Network: ${modes.join(", ")}.`)
  const clouds = [...new Set(runs.map((r) => `${plural(Number(r.dataset.summary["capacity.nodes"] ?? 0), "node")}, ${plural(Number(r.dataset.summary["capacity.cores"] ?? 0), "core")}`))]
  if (clouds.length === 1) parts.push(`Cloud: ${clouds[0]}.`)
  else if (clouds.length > 1) parts.push(`Clouds: ${span(runs.map((r) => Number(r.dataset.summary["capacity.nodes"] ?? 0)), "node")}.`)
  parts.push(runs.length <= 6 ? `${plural(runs.length, "run")}: ${runs.map((r) => r.label).join(", ")}.` : `${plural(runs.length, "run")}.`)
  const m = runs.find((r) => r.dataset.machine)?.dataset.machine
  if (exp.measure && m) {
    parts.push(
      `Measured ${m.measuredAt} on ${m.cpu} (${m.cpus} CPUs, ${m.memoryGiB} GiB), Node ${m.node}: machine-dependent figures, cached until the notebook or the simulator changes (rebuild with --remeasure to measure again).`
    )
  }
  return parts.join(" ")
}
