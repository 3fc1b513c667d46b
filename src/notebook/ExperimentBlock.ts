/**
 * An ```experiment block: one base experiment (inline, or a JSON file that `euca sim run` can run
 * too) and the variants to run it as. Variants are explicit patches, a sweep (every combination of
 * the listed values), or both (each explicit variant crossed with the sweep).
 *
 *   {
 *     "id": "policies",                       // how charts refer to it
 *     "base": { …experiment… } | "experiments/kth.json",
 *     "variants": [ { "label": "GREEDY", "set": { "policy.name": "greedy" } }, … ],
 *     "sweep": { "seed": [1, 2, 3] },         // path → values, or a named parameter → values
 *     "set": { "trace.limit": "$requests" },  // applied to every run; "$name" is a parameter's value
 *     "measure": false                        // true: time each run in a fresh process (scale studies)
 *   }
 *
 * Paths in `set` and `sweep` are dotted; numeric segments index arrays ("cloud.zones.0.nodes.0.count").
 * A sweep key that is not a path (no dot, not a key of the base) is a named parameter: it sets nothing
 * itself, `set` uses it as "$name", and charts see it as `param.name`. Run labels: the variant's label
 * and the swept values ("GREEDY · 2"; "hosts=100 · requests=10000" when several keys are swept).
 * Paths inside the experiment (the trace) are relative to the notebook, or to the base file if the
 * base is a file — the same rule as `euca sim run`.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Either, ParseResult, Schema } from "effect"
import * as Notebook from "./Notebook.js"
import * as NotebookError from "./NotebookError.js"

const Json = Schema.Record({ key: Schema.String, value: Schema.Unknown })

export const Variant = Schema.Struct({
  label: Schema.NonEmptyTrimmedString,
  /** Values charts can use as an axis (`param.N`), e.g. { "N": 16 }. */
  params: Schema.optional(Json),
  /** Dotted path → value, applied to the base. */
  set: Schema.optional(Json)
})

export const ExperimentBlock = Schema.Struct({
  id: Schema.String.pipe(Schema.pattern(/^[A-Za-z][A-Za-z0-9_-]*$/, { message: () => "an id is a letter followed by letters, digits, _ or -" })),
  title: Schema.optional(Schema.String),
  base: Schema.Union(Schema.NonEmptyTrimmedString, Json),
  variants: Schema.optional(Schema.Array(Variant).pipe(Schema.minItems(1))),
  /** Dotted path → value, applied to every run (before each variant's own `set`); "$name" is a swept parameter's value. */
  set: Schema.optional(Json),
  sweep: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Array(Schema.Unknown).pipe(Schema.minItems(1)) })),
  measure: Schema.optional(Schema.Boolean)
})
export type ExperimentBlock = typeof ExperimentBlock.Type

export interface Run {
  readonly label: string
  readonly params: Readonly<Record<string, unknown>>
  /** The experiment as the simulator reads it (paths still relative to baseDir). */
  readonly experiment: Readonly<Record<string, unknown>>
  /** Directory that relative paths in `experiment` are resolved against. */
  readonly baseDir: string
}

export interface Experiment {
  readonly id: string
  readonly title: string | undefined
  /** Notebook line of the block. */
  readonly line: number
  readonly measure: boolean
  readonly runs: ReadonlyArray<Run>
}

/** Decodes and expands one block of a notebook at `file`. */
export const expand = (file: string, line: number, source: string): Experiment => {
  const json = Notebook.parseJson(file, line, "experiment", source)
  const decoded = Schema.decodeUnknownEither(ExperimentBlock, { onExcessProperty: "error" })(json)
  if (Either.isLeft(decoded)) {
    throw NotebookError.make(file, line, undefined, `experiment block: ${ParseResult.TreeFormatter.formatErrorSync(decoded.left)}`)
  }
  const b = decoded.right
  const notebookDir = Path.dirname(Path.resolve(file))
  let base: Record<string, unknown>
  let baseDir = notebookDir
  if (typeof b.base === "string") {
    const p = Path.resolve(notebookDir, b.base)
    let text: string
    try {
      text = Fs.readFileSync(p, "utf8")
    } catch (e) {
      throw NotebookError.make(file, line, "base", `cannot read the experiment file ${p}: ${(e as Error).message}`)
    }
    const parsed = Notebook.parseJson(p, 0, "experiment file", text)
    if (!isObject(parsed)) throw NotebookError.make(file, line, "base", `${p} does not hold a JSON object`)
    base = parsed
    baseDir = Path.dirname(p)
  } else base = b.base

  const explicit: Array<{ label: string; params: Record<string, unknown>; set: Record<string, unknown> }> = (b.variants ?? []).map((v) => ({
    label: v.label,
    params: { ...v.params },
    set: { ...v.set }
  }))
  const variants = explicit.length > 0 ? explicit : [{ label: "", params: {}, set: {} }]
  const combos = cartesian(b.sweep ?? {})
  const runs: Array<Run> = []
  const labels = new Set<string>()
  for (const v of variants) {
    for (const c of combos) {
      const keys = Object.keys(c)
      const parts = keys.map((k) => (keys.length > 1 ? `${k}=${show(c[k])}` : show(c[k])))
      const label = [v.label, ...parts].filter((s) => s !== "").join(" · ") || defaultLabel(base)
      if (labels.has(label)) throw NotebookError.make(file, line, "variants", `two runs are both labelled "${label}"; give the variants distinct labels`)
      labels.add(label)
      let experiment: Record<string, unknown> = structuredClone(base)
      const params = { ...v.params, ...c }
      // A sweep key that is a path of the experiment sets it; any other key is a named parameter, used as "$key".
      const paths = Object.entries(c).filter(([k]) => k.includes(".") || k in base)
      for (const [path, raw] of [...Object.entries(b.set ?? {}), ...Object.entries(v.set), ...paths]) {
        const value = substitute(raw, params, (name) => {
          throw NotebookError.make(file, line, path, `"$${name}" is not a parameter of run "${label}"; its parameters: ${Object.keys(params).join(", ") || "none"}`)
        })
        try {
          experiment = setPath(experiment, path, value)
        } catch (e) {
          throw NotebookError.make(file, line, path, `cannot set it on the base experiment (variant "${label}"): ${(e as Error).message}`)
        }
      }
      runs.push({ label, params, experiment, baseDir })
    }
  }
  return { id: b.id, title: b.title, line, measure: b.measure ?? false, runs }
}

const isObject = (u: unknown): u is Record<string, unknown> => typeof u === "object" && u !== null && !Array.isArray(u)

const show = (v: unknown): string => (typeof v === "string" ? v : JSON.stringify(v))

const defaultLabel = (e: Record<string, unknown>): string => {
  const p = e["policy"]
  return isObject(p) && typeof p["name"] === "string" ? p["name"] : "run"
}

/** `value` with every string "$name" replaced by the parameter's value (its JSON type kept). */
export const substitute = (value: unknown, params: Readonly<Record<string, unknown>>, unknown: (name: string) => never): unknown => {
  if (typeof value === "string" && /^\$[A-Za-z_][A-Za-z0-9_]*$/.test(value)) {
    const name = value.slice(1)
    return name in params ? params[name] : unknown(name)
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, params, unknown))
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, params, unknown)]))
  return value
}

/** Every combination of the sweep's values, keys in the order written (the last varies fastest). */
export const cartesian = (sweep: Readonly<Record<string, ReadonlyArray<unknown>>>): Array<Record<string, unknown>> => {
  let out: Array<Record<string, unknown>> = [{}]
  for (const [k, values] of Object.entries(sweep)) out = out.flatMap((o) => values.map((v) => ({ ...o, [k]: v })))
  return out
}

/** A copy of `obj` with the dotted `path` set to `value`; creates missing objects, indexes arrays by number. */
export const setPath = (obj: Record<string, unknown>, path: string, value: unknown): Record<string, unknown> => {
  const keys = path.split(".")
  if (keys.some((k) => k === "")) throw new Error(`"${path}" is not a dotted path`)
  const go = (node: unknown, i: number): unknown => {
    const k = keys[i]!
    const last = i === keys.length - 1
    if (Array.isArray(node)) {
      const idx = Number(k)
      if (!Number.isInteger(idx) || idx < 0 || idx >= node.length) throw new Error(`"${keys.slice(0, i + 1).join(".")}": no element ${k} in an array of ${node.length}`)
      const copy = [...node]
      copy[idx] = last ? value : go(node[idx], i + 1)
      return copy
    }
    const o = isObject(node) ? node : node === undefined ? {} : undefined
    if (o === undefined) throw new Error(`"${keys.slice(0, i).join(".")}" is ${JSON.stringify(node)}, not an object`)
    return { ...o, [k]: last ? value : go(o[k], i + 1) }
  }
  return go(obj, 0) as Record<string, unknown>
}

/** Reads a dotted path (undefined if absent). */
export const getPath = (obj: unknown, path: string): unknown => {
  let node: unknown = obj
  for (const k of path.split(".")) {
    if (Array.isArray(node)) node = node[Number(k)]
    else if (isObject(node)) node = node[k]
    else return undefined
  }
  return node
}
