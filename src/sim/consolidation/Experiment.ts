/**
 * A consolidation experiment file: CloudSim's PlanetLab set-up named in JSON.
 *
 * ```json
 * { "kind": "consolidation",
 *   "workload": { "format": "planetlab", "path": "../../traces/planetlab/planetlab-cloudsim-10days.tar.gz", "days": ["20110303"] },
 *   "hosts": 800, "policies": ["npa", "dvfs", "thr-mmt-0.8"], "seed": 1, "cloudsimCompatible": true }
 * ```
 *
 * `policies` (or a single `policy`) use CloudSim's names: `npa`, `dvfs`, `<thr|iqr|mad|lr|lrr>-<mmt|mc|mu|rs>[-parameter]`
 * (default parameters as CloudSim's examples: thr 0.8, iqr 1.5, mad 2.5, lr/lrr 1.2). Paths are
 * relative to the experiment file. Errors name the file and the field.
 *
 * `workload.fileOrder` (optional) names a folder of `listfiles-<day>.txt` files, one workload file
 * name a line: VM i is then created from the i-th name, as CloudSim creates it from the i-th entry of
 * `File.listFiles()` on the machine it runs on (a day without such a file keeps name order). CloudSim's
 * printed 20110303 figures come from the order in `test/sim/consolidation/fixtures/listfiles-20110303.txt`.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Policy from "../../model/consolidation/Policy.js"

export interface ConsolidationExperiment {
  readonly file: string
  readonly archive: string
  readonly days: ReadonlyArray<string>
  readonly hosts: number
  readonly policies: ReadonlyArray<Policy.Policy>
  readonly seed: number
  readonly cloudsimCompatible: boolean
  /** Folder of `listfiles-<day>.txt` orders (workload.fileOrder), resolved; undefined: name order. */
  readonly fileOrder?: string
}

/** The day's file order from the experiment's fileOrder folder, or undefined (name order). */
export const fileOrderFor = (exp: ConsolidationExperiment, day: string): ReadonlyArray<string> | undefined => {
  if (exp.fileOrder === undefined) return undefined
  const f = Path.join(exp.fileOrder, `listfiles-${day}.txt`)
  if (!Fs.existsSync(f)) return undefined
  return Fs.readFileSync(f, "utf8").split("\n").map((l) => l.trim()).filter((l) => l !== "")
}

export class ConsolidationExperimentError extends Error {
  constructor(readonly file: string, readonly field: string | undefined, detail: string) {
    super(`${file}: ${field === undefined ? "" : `${field}: `}${detail}`)
  }
}

/** Is this JSON value a consolidation experiment (`"kind": "consolidation"`)? */
export const isConsolidation = (json: unknown): boolean =>
  typeof json === "object" && json !== null && (json as Record<string, unknown>)["kind"] === "consolidation"

/** Peeks at a file: true when it parses as JSON with `"kind": "consolidation"`. */
export const isConsolidationFile = (file: string): boolean => {
  try {
    return isConsolidation(JSON.parse(Fs.readFileSync(file, "utf8")))
  } catch {
    return false
  }
}

export const compile = (file: string, json: unknown): ConsolidationExperiment => {
  const fail = (field: string | undefined, detail: string): never => {
    throw new ConsolidationExperimentError(file, field, detail)
  }
  if (!isConsolidation(json)) fail("kind", 'expected "consolidation"')
  const o = json as Record<string, unknown>
  const known = new Set(["kind", "workload", "hosts", "policy", "policies", "seed", "cloudsimCompatible", "description"])
  for (const k of Object.keys(o)) if (!known.has(k)) fail(k, `unknown field (expected one of ${[...known].join(", ")})`)
  const w = o["workload"]
  if (typeof w !== "object" || w === null) return fail("workload", "expected an object { format, path, days }")
  const wl = w as Record<string, unknown>
  if (wl["format"] !== "planetlab") fail("workload.format", `expected "planetlab", found ${JSON.stringify(wl["format"])}`)
  if (typeof wl["path"] !== "string" || wl["path"] === "") fail("workload.path", "expected the archive or folder path")
  const archive = Path.resolve(Path.dirname(file), wl["path"] as string)
  for (const k of Object.keys(wl)) if (!["format", "path", "days", "day", "fileOrder"].includes(k)) fail(`workload.${k}`, "unknown field (expected format, path, days, fileOrder)")
  const rawOrder = wl["fileOrder"]
  if (rawOrder !== undefined && (typeof rawOrder !== "string" || rawOrder === "")) fail("workload.fileOrder", "expected the path of a folder of listfiles-<day>.txt files")
  const fileOrder = rawOrder === undefined ? undefined : Path.resolve(Path.dirname(file), rawOrder as string)
  if (fileOrder !== undefined && !(Fs.existsSync(fileOrder) && Fs.statSync(fileOrder).isDirectory())) fail("workload.fileOrder", `no folder at ${fileOrder}`)
  const rawDays = wl["days"] ?? (wl["day"] === undefined ? undefined : [wl["day"]])
  if (!Array.isArray(rawDays) || rawDays.length === 0 || !rawDays.every((d) => typeof d === "string" && /^\d{8}$/.test(d))) {
    fail("workload.days", 'expected a non-empty list of days such as ["20110303"]')
  }
  const hosts = o["hosts"] ?? 800
  if (typeof hosts !== "number" || !Number.isInteger(hosts) || hosts < 1) fail("hosts", `expected a positive integer, found ${JSON.stringify(hosts)}`)
  const rawPolicies = o["policies"] ?? (o["policy"] === undefined ? undefined : [o["policy"]])
  if (!Array.isArray(rawPolicies) || rawPolicies.length === 0) return fail("policies", 'expected a list of policy names such as ["thr-mmt-0.8"]')
  const policies = rawPolicies.map((p, i) => {
    const parsed = typeof p === "string" ? Policy.parse(p) : undefined
    if (parsed === undefined) return fail(`policies[${i}]`, `unknown policy ${JSON.stringify(p)} (npa, dvfs, or <thr|iqr|mad|lr|lrr>-<mmt|mc|mu|rs>[-parameter])`)
    return parsed
  })
  const seed = o["seed"] ?? 1
  if (typeof seed !== "number" || !Number.isSafeInteger(seed)) fail("seed", "expected an integer")
  const compat = o["cloudsimCompatible"] ?? true
  if (typeof compat !== "boolean") fail("cloudsimCompatible", "expected true or false")
  const base = { file, archive, days: rawDays as Array<string>, hosts: hosts as number, policies, seed: seed as number, cloudsimCompatible: compat as boolean }
  return fileOrder === undefined ? base : { ...base, fileOrder }
}

export const load = (file: string): ConsolidationExperiment => {
  let text: string
  try {
    text = Fs.readFileSync(file, "utf8")
  } catch (e) {
    throw new ConsolidationExperimentError(file, undefined, `cannot read: ${(e as Error).message}`)
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    throw new ConsolidationExperimentError(file, undefined, `not JSON: ${(e as Error).message}`)
  }
  return compile(file, json)
}
