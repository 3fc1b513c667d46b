/**
 * The Simulator port bound to src/sim: runs an experiment in-process through the simulator's own
 * Run.run (what `euca sim run` does) and hands back the small RunResult the notebooks use. Measured runs go to a fresh Node process (MeasureWorker) so that each one's wall time and peak
 * RSS are its own, not the builder's.
 *
 * Experiments are validated and compiled by src/sim/Experiment.ts (the JSON `euca sim run` reads); the
 * engine is the one the experiment names (fast by default).
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Either, Layer } from "effect"
import * as Experiment from "../sim/Experiment.js"
import * as Results from "../sim/Results.js"
import * as Run from "../sim/Run.js"
import * as TraceError from "../sim/traces/TraceError.js"
import * as UserProgram from "../sim/UserProgram.js"
import * as Cache from "./Cache.js"
import type * as RunResult from "./RunResult.js"
import * as Simulator from "./Simulator.js"

/** Validates and compiles with src/sim/Experiment.ts — the same rules and messages as `euca sim run`. */
export const compile = (experiment: unknown, baseDir: string): Either.Either<Experiment.Loaded, Simulator.RunError> => {
  // The experiment has no file of its own: relative paths start at baseDir, and the file name is cut from messages.
  const file = Path.join(baseDir, "experiment.json")
  const loaded = Experiment.compile(file, experiment)
  if (Either.isRight(loaded)) return Either.right(loaded.right)
  const e = loaded.left
  const prefix = `${file}: ${e.field === undefined ? "" : `${e.field}: `}`
  const message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message
  return Either.left(new Simulator.RunError({ ...(e.field === undefined ? {} : { field: e.field }), message }))
}

const capacityOf = (loaded: Experiment.Loaded): RunResult.Capacity => {
  let cores = 0, memoryMiB = 0, diskGiB = 0
  for (const n of loaded.setup.nodes) {
    cores += n.capacity.cores
    memoryMiB += n.capacity.memoryMiB
    diskGiB += n.capacity.diskGiB
  }
  return { nodes: loaded.setup.nodes.length, cores, memoryMiB, diskGiB }
}

/** Rows of one of the simulator's CSV files as records keyed by its header. */
const csvRows = (file: string): Array<Record<string, string>> => {
  const lines = Fs.readFileSync(file, "utf8").split("\n")
  const header = Results.splitCsv(lines[0] ?? "")
  const out: Array<Record<string, string>> = []
  for (let i = 1; i < lines.length; i++) {
    if (lines[i] === "") continue
    const f = Results.splitCsv(lines[i]!)
    const row: Record<string, string> = {}
    for (let k = 0; k < header.length; k++) row[header[k]!] = f[k] ?? ""
    out.push(row)
  }
  return out
}

/**
 * Runs in this process through the simulator's own Run.run — the code path of `euca sim run` — and
 * reads back the summary, timeseries.csv and placements.csv it wrote into a scratch directory (their
 * formats are the simulator's documented contract). `collect: false` computes the summary only.
 */
export const runInProcess = (
  experiment: unknown,
  baseDir: string,
  options: { readonly collect: boolean; readonly onProgress?: ((p: Simulator.Progress) => void) | undefined }
): Effect.Effect<RunResult.RunResult, Simulator.RunError> =>
  Effect.gen(function* () {
    const loaded = compile(experiment, baseDir)
    if (Either.isLeft(loaded)) return yield* Effect.fail(loaded.left)
    const l = loaded.right
    let last = 0
    const onProgress = options.onProgress
      ? (p: Run.Progress) => {
          const now = performance.now()
          if (now - last < 200) return
          last = now
          options.onProgress!({ simulatedMs: p.simulatedMs, totalMs: p.horizonMs })
        }
      : undefined
    if (!options.collect) {
      const o = yield* Run.run(l, { onProgress }).pipe(Effect.mapError(toRunError))
      return { summary: o.summary as unknown as Record<string, unknown>, samples: [], decisions: [], capacity: capacityOf(l), trace: o.summary.trace }
    }
    const scratch = yield* Effect.acquireRelease(
      Effect.sync(() => Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-notebook-run-"))),
      (d) => Effect.sync(() => Fs.rmSync(d, { recursive: true, force: true }))
    )
    const o = yield* Run.run(l, { out: scratch, eventsLog: false, sqlite: false, onProgress }).pipe(Effect.mapError(toRunError))
    const samples: Array<RunResult.Sample> = csvRows(Path.join(scratch, "timeseries.csv")).map((r) => ({
      timeMs: Number(r["time_ms"]),
      zone: r["zone"]!,
      usedVcpu: Number(r["used_vcpu"]),
      usedMiB: Number(r["used_mib"]),
      usedGiB: Number(r["used_gib"]),
      running: Number(r["running_instances"]),
      nodesOn: Number(r["nodes_on"]),
      energyWh: Number(r["energy_wh"]),
      publicAddresses: Number(r["public_addresses"]),
      vlans: Number(r["vlans"])
    }))
    // placements.csv has a row per instance placed; the notebooks count requests.
    const decisions: Array<RunResult.Decision> = []
    for (const r of csvRows(Path.join(scratch, "placements.csv"))) {
      const requestId = Number(r["request_id"])
      if (decisions.length > 0 && decisions[decisions.length - 1]!.requestId === requestId) continue
      const outcome = r["outcome"] === "rejected" ? "rejected" : "placed"
      decisions.push({ timeMs: Number(r["time_ms"]), requestId, outcome, reason: outcome === "rejected" ? r["reason"] || "unknown" : undefined })
    }
    return { summary: o.summary as unknown as Record<string, unknown>, samples, decisions, capacity: capacityOf(l), trace: o.summary.trace }
  }).pipe(Effect.scoped)

const toRunError = (e: unknown): Simulator.RunError =>
  e instanceof Simulator.RunError
    ? e
    : e instanceof Results.ResultsError
      ? new Simulator.RunError({ message: e.message })
      : TraceError.is(e)
      ? new Simulator.RunError({ field: e.field === undefined ? "trace" : `trace (${e.field})`, message: e.message })
      : e instanceof UserProgram.UserProgramError
        ? new Simulator.RunError({ field: "policy.program", message: e.message })
        : new Simulator.RunError({ message: e instanceof Error ? (e.stack ?? e.message) : String(e) })

const here = Path.dirname(fileURLToPath(import.meta.url))
const compiled = here.split(Path.sep).includes("dist")
/** The package root (above src/ or dist/src/). */
const root = compiled ? Path.resolve(here, "..", "..", "..") : Path.resolve(here, "..", "..")

/** What the cache keys on: the simulator's and the model's code, as this process runs it. */
const fingerprint = (): string => {
  const base = compiled ? Path.join(root, "dist", "src") : Path.join(root, "src")
  return Cache.codeFingerprint([Path.join(base, "sim"), Path.join(base, "model")])
}

/** The compiled worker, checked to be no older than the sources it is built from (Left: why it cannot be used). */
export const workerPath = (): Either.Either<string, string> => {
  const worker = Path.join(root, "dist", "src", "notebook", "MeasureWorker.js")
  if (!Fs.existsSync(worker)) return Either.left(`measured experiments run the compiled simulator in a fresh process, and ${worker} does not exist: run \`tsc -p .\` first`)
  if (compiled) return Either.right(worker)
  // Running from the TypeScript sources (vitest): the compiled copy must be up to date.
  for (const dir of ["sim", "model", "notebook"]) {
    const walk = (d: string): string | undefined => {
      for (const e of Fs.readdirSync(d, { withFileTypes: true })) {
        const p = Path.join(d, e.name)
        if (e.isDirectory()) {
          const r = walk(p)
          if (r) return r
        } else if (e.name.endsWith(".ts")) {
          const js = Path.join(root, "dist", Path.relative(root, p)).replace(/\.ts$/, ".js")
          if (!Fs.existsSync(js) || Fs.statSync(js).mtimeMs < Fs.statSync(p).mtimeMs) return p
        }
      }
      return undefined
    }
    const stale = walk(Path.join(root, "src", dir))
    if (stale) return Either.left(`measured experiments run the compiled simulator in a fresh process, and dist/ is older than ${Path.relative(root, stale)}: run \`npx tsc -p .\` first (a file saved without changes is not rewritten by it: then \`npx tsc -p . --incremental false\`)`)
  }
  return Either.right(worker)
}

/** Runs the experiment in a fresh process; interrupting the Effect kills the process. */
const measureOnce = (
  experiment: Readonly<Record<string, unknown>>,
  baseDir: string
): Effect.Effect<{ readonly result: RunResult.RunResult; readonly measurement: RunResult.Measurement }, Simulator.RunError> =>
  Effect.async((resume) => {
    const w = workerPath()
    if (Either.isLeft(w)) {
      resume(Effect.fail(new Simulator.RunError({ message: w.left })))
      return
    }
    const child = ChildProcess.fork(w.right, [], { stdio: ["ignore", "ignore", "pipe", "ipc"], execArgv: [] })
    let stderr = ""
    let done = false
    const finish = (e: Effect.Effect<{ readonly result: RunResult.RunResult; readonly measurement: RunResult.Measurement }, Simulator.RunError>) => {
      if (done) return
      done = true
      resume(e)
    }
    child.stderr?.on("data", (b: Buffer) => {
      stderr += b.toString()
    })
    child.on("message", (m: { ok: boolean; result?: RunResult.RunResult; measurement?: RunResult.Measurement; error?: { field?: string; message: string } }) => {
      if (m.ok) finish(Effect.succeed({ result: m.result!, measurement: m.measurement! }))
      else finish(Effect.fail(new Simulator.RunError({ ...(m.error?.field ? { field: m.error.field } : {}), message: m.error?.message ?? "the measuring process failed" })))
    })
    child.on("error", (e) => finish(Effect.fail(new Simulator.RunError({ message: `cannot start the measuring process: ${e.message}` }))))
    child.on("exit", (code, signal) =>
      finish(Effect.fail(new Simulator.RunError({ message: `the measuring process exited (${signal ?? code}) without a result${stderr ? `: ${stderr.trim()}` : ""}` })))
    )
    child.send({ experiment, baseDir })
    return Effect.sync(() => {
      if (child.exitCode === null) child.kill("SIGKILL")
    })
  })

/** The layer; the code fingerprint is taken when it is built (not when a CLI merely imports this module). */
export const layer: Layer.Layer<Simulator.Simulator> = Layer.sync(Simulator.Simulator, () => ({
  fingerprint: fingerprint(),
  run: (experiment, baseDir, onProgress) =>
    runInProcess(experiment, baseDir, { collect: true, onProgress }).pipe(
      // A defect of the simulator (a bug, or a USER program that cannot start) still names the run.
      Effect.catchAllDefect((d) => Effect.fail(toRunError(d)))
    ),
  measure: measureOnce
}))
