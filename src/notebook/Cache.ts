/**
 * The results cache: a run's Dataset stored under a hash of everything that decides it — the
 * experiment as the simulator reads it (seed included), with every file it reads replaced by its name
 * and content digest (so moving a notebook keeps its cache, and editing a trace drops it), the
 * simulator's code fingerprint and the Dataset derivation version. One JSON file per run, written
 * atomically (temp file + rename), so an interrupted build never leaves a half-written entry.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Azure from "../sim/traces/Azure.js"
import * as Dataset from "./Dataset.js"

/** JSON with object keys sorted, so that equal values hash equally whatever the key order. */
export const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`
  if (typeof v === "object" && v !== null) {
    const o = v as Record<string, unknown>
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(",")}}`
  }
  return JSON.stringify(v) ?? "null"
}

export const sha256 = (s: string | Buffer): string => Crypto.createHash("sha256").update(s).digest("hex")

const digests = new Map<string, { readonly stamp: string; readonly digest: string }>()

/** Content digest of a file, remembered per (size, mtime) for the life of the process. */
export const fileDigest = (file: string): string => {
  const st = Fs.statSync(file)
  const stamp = `${st.size}:${st.mtimeMs}`
  const known = digests.get(file)
  if (known && known.stamp === stamp) return known.digest
  const h = Crypto.createHash("sha256")
  const fd = Fs.openSync(file, "r")
  try {
    const buf = Buffer.allocUnsafe(1 << 20)
    for (;;) {
      const n = Fs.readSync(fd, buf, 0, buf.length, null)
      if (n === 0) break
      h.update(buf.subarray(0, n))
    }
  } finally {
    Fs.closeSync(fd)
  }
  const digest = h.digest("hex")
  digests.set(file, { stamp, digest })
  return digest
}

export class MissingFile extends Error {
  constructor(
    readonly field: string,
    readonly file: string
  ) {
    super(`${field}: no such file ${file}`)
  }
}

const fileRef = (field: string, file: string) => {
  if (!Fs.existsSync(file)) throw new MissingFile(field, file)
  return { name: Path.basename(file), sha256: fileDigest(file) }
}

/**
 * The experiment with its file paths replaced by { name, sha256 } — what the cache key is made of.
 * Throws MissingFile for a file that does not exist.
 */
export const contentOf = (experiment: Readonly<Record<string, unknown>>, baseDir: string): Record<string, unknown> => {
  const out: Record<string, unknown> = { ...experiment }
  const trace = experiment["trace"]
  if (typeof trace === "object" && trace !== null && !Array.isArray(trace)) {
    const t: Record<string, unknown> = { ...(trace as Record<string, unknown>) }
    for (const k of ["path", "durations", "flavourMap", "intervalMap"]) {
      if (typeof t[k] === "string") t[k] = fileRef(`trace.${k}`, Path.resolve(baseDir, t[k] as string))
    }
    // The Azure reader finds its maps beside the trace when they are not named.
    if (t["format"] === "azure" && typeof trace === "object" && typeof (trace as Record<string, unknown>)["path"] === "string") {
      const dir = Path.dirname(Path.resolve(baseDir, (trace as Record<string, unknown>)["path"] as string))
      if (t["flavourMap"] === undefined) t["flavourMap"] = fileRef("trace.flavourMap", Path.join(dir, Azure.defaultFlavourMap))
      if (t["intervalMap"] === undefined && t["durations"] !== undefined) t["intervalMap"] = fileRef("trace.intervalMap", Path.join(dir, Azure.defaultIntervalMap))
    }
    out["trace"] = t
  }
  const policy = experiment["policy"]
  if (typeof policy === "object" && policy !== null && typeof (policy as Record<string, unknown>)["program"] === "string") {
    const p = { ...(policy as Record<string, unknown>) }
    p["program"] = fileRef("policy.program", Path.resolve(baseDir, p["program"] as string))
    out["policy"] = p
  }
  return out
}

/** The cache key of one run. `kind` separates plain runs from measured ones. */
export const key = (
  experiment: Readonly<Record<string, unknown>>,
  baseDir: string,
  fingerprint: string,
  kind: "run" | "measure",
  extra: Readonly<Record<string, unknown>> = {}
): string => sha256(canonical({ kind, experiment: contentOf(experiment, baseDir), simulator: fingerprint, dataset: Dataset.VERSION, ...extra }))

export interface Cache {
  readonly dir: string
  readonly get: (key: string) => Dataset.Dataset | undefined
  readonly put: (key: string, value: Dataset.Dataset) => void
}

export const make = (dir: string): Cache => {
  const file = (k: string) => Path.join(dir, "runs", k.slice(0, 2), `${k}.json`)
  return {
    dir,
    get: (k) => {
      const f = file(k)
      if (!Fs.existsSync(f)) return undefined
      try {
        return JSON.parse(Fs.readFileSync(f, "utf8")) as Dataset.Dataset
      } catch {
        // A corrupt entry (disk full, manual edit) is a miss, not a failure: the run is redone.
        return undefined
      }
    },
    put: (k, v) => {
      const f = file(k)
      Fs.mkdirSync(Path.dirname(f), { recursive: true })
      const tmp = `${f}.${process.pid}.tmp`
      Fs.writeFileSync(tmp, JSON.stringify(v))
      Fs.renameSync(tmp, f)
    }
  }
}

/** A digest of every .js/.ts file under the given directories (the simulator's code), sorted by path. */
export const codeFingerprint = (dirs: ReadonlyArray<string>): string => {
  const files: Array<string> = []
  const walk = (d: string) => {
    if (!Fs.existsSync(d)) return
    for (const e of Fs.readdirSync(d, { withFileTypes: true })) {
      const p = Path.join(d, e.name)
      if (e.isDirectory()) walk(p)
      else if (/\.(js|ts)$/.test(e.name) && !e.name.endsWith(".d.ts")) files.push(p)
    }
  }
  for (const d of dirs) walk(d)
  files.sort()
  const h = Crypto.createHash("sha256")
  for (const f of files) {
    h.update(Path.relative(Path.dirname(dirs[0] ?? "."), f))
    h.update("\0")
    h.update(Fs.readFileSync(f))
    h.update("\0")
  }
  return h.digest("hex")
}
