/**
 * Runs a loaded experiment end to end: opens its trace (or synthetic workload), drives the chosen
 * engine, and — given an output directory — writes summary.json, placements.csv, timeseries.csv,
 * events.log and results.sqlite. Nothing here reads a clock: the same experiment and seed give the
 * same files (results.sqlite holds the same rows).
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Effect } from "effect"
import type * as Consult from "./Consult.js"
import * as Engine from "./Engine.js"
import { EventLog } from "./EventLog.js"
import type * as Experiment from "./Experiment.js"
import * as FastEngine from "./FastEngine.js"
import { Metrics } from "./Metrics.js"
import * as Placements from "./Placements.js"
import * as Recorder from "./Recorder.js"
import * as ReferenceEngine from "./ReferenceEngine.js"
import * as Results from "./Results.js"
import * as Setup from "./Setup.js"
import * as Synthetic from "./Synthetic.js"
import * as TraceError from "./traces/TraceError.js"
import type * as TraceReader from "./traces/TraceReader.js"
import * as TraceSpec from "./traces/TraceSpec.js"
import * as UserProgram from "./UserProgram.js"

export interface Progress {
  readonly requests: number
  readonly simulatedMs: number
  readonly events: number
  readonly horizonMs: number | undefined
}

export interface Options {
  /** Directory for the output files (created). None: only the summary is computed. */
  readonly out?: string | undefined
  /** Write events.log (default true when `out` is given). */
  readonly eventsLog?: boolean | undefined
  /** Write results.sqlite in `out` (default true when `out` is given; a sweep writes one for all its runs). */
  readonly sqlite?: boolean | undefined
  /** Answers for the USER policy (default: run the policy's program). */
  readonly consult?: Consult.Consult | undefined
  /** Called after each batch of requests. */
  readonly onProgress?: ((p: Progress) => void) | undefined
}

export interface Outcome {
  readonly summary: Results.RunSummary
  /** The files written, by name (summary.json, placements.csv, …). */
  readonly files: Readonly<Record<string, string>>
}

export class RunError extends Error {}

type Source = Engine.BatchSource & { readonly stats?: () => TraceReader.TraceStats }

const openSource = (loaded: Experiment.Loaded) =>
  loaded.trace.format === "synthetic"
    ? Effect.sync((): Source => {
        const spec = loaded.trace as Synthetic.SyntheticSpec
        const setup = loaded.setup
        const total = setup.nodes.reduce((n, x) => n + x.capacity.cores, 0)
        return Synthetic.source(spec, Synthetic.plan(spec, total, setup.vmTypes), setup.seed)
      })
    : TraceSpec.open(loaded.trace as TraceSpec.TraceSpec, loaded.dir).pipe(Effect.map((r): Source => r))

/** Runs one experiment. Fails with the trace's TraceError or a ResultsError; anything else is a defect. */
export const run = (
  loaded: Experiment.Loaded,
  options: Options = {}
): Effect.Effect<Outcome, TraceError.TraceError | Results.ResultsError> =>
  Effect.scoped(
    Effect.gen(function* () {
      const setup = loaded.setup
      const out = options.out
      const files: Record<string, string> = {}
      const sinks: Array<Results.FileSink> = []
      const sink = (name: string): Results.FileSink => {
        const s = Results.fileSink(Path.join(out!, name))
        sinks.push(s)
        files[name] = s.path
        return s
      }
      yield* Effect.addFinalizer(() => Effect.sync(() => sinks.forEach((s) => s.close())))
      if (out !== undefined) Fs.mkdirSync(out, { recursive: true })

      let onSample: ((s: import("./Metrics.js").Sample) => void) | undefined
      if (out !== undefined) {
        const ts = sink("timeseries.csv")
        ts.out.line(Results.timeseriesHeader)
        onSample = (s) => ts.out.line(Results.timeseriesRow(s))
      }
      const metrics = new Metrics(Setup.metricNodes(setup), Setup.zoneNames(setup), setup.metricsIntervalMs, Setup.countsPublic(setup), onSample, Setup.storageCapacity(setup))
      const recorders: Array<Recorder.Recorder> = [metrics]
      if (out !== undefined) {
        const p = sink("placements.csv")
        p.out.line(Placements.header)
        recorders.push(new Placements.Placements(Setup.nodeIds(setup), Setup.nodeZones(setup), (r) => p.out.line(Placements.formatRow(r))))
        if (options.eventsLog ?? true) recorders.push(new EventLog(Setup.nodeIds(setup), Setup.zoneNames(setup), sink("events.log").write))
      }
      const recorder = Recorder.tee(...recorders)

      let consult = options.consult
      if (consult === undefined && setup.policy.name === "user") {
        const program = UserProgram.make()
        yield* Effect.addFinalizer(() => Effect.sync(program.dispose))
        consult = program.consult
      }
      const engine: Engine.Engine =
        loaded.engine === "reference" ? ReferenceEngine.make(setup, { recorder, consult }) : FastEngine.make(setup, { recorder, consult })

      const source = yield* openSource(loaded)
      const onBatch = options.onProgress
        ? (f: Engine.Feeder, e: Engine.Engine) =>
            options.onProgress!({ requests: f.requests, simulatedMs: e.now, events: e.events, horizonMs: setup.horizonMs })
        : undefined
      const { feed } = yield* Effect.tryPromise({
        try: () => Engine.runAsync(engine, source, setup.horizonMs, onBatch),
        catch: (e) => e
      }).pipe(Effect.catchAll((e) => (TraceError.is(e) ? Effect.fail(e) : Effect.die(e))))
      const stats = source.stats?.()
      const m = metrics.summary()
      const trace = loaded.trace
      const summary: Results.RunSummary = {
        experiment: setup.name,
        engine: loaded.engine,
        seed: setup.seed,
        policy: setup.policy.name,
        networkMode: setup.network.mode,
        horizonMs: setup.horizonMs ?? null,
        ...m,
        trace: {
          format: trace.format,
          path: "path" in trace ? trace.path : null,
          requests: feed.requests,
          late: feed.late,
          stoppedAtHorizon: feed.stoppedAtHorizon,
          skipped: stats?.skipped ?? {},
          untilHorizon: stats?.untilHorizon ?? {}
        }
      }
      for (const s of sinks) s.close()
      if (out !== undefined) {
        const p = Path.join(out, "summary.json")
        Fs.writeFileSync(p, JSON.stringify(summary, null, 2) + "\n")
        files["summary.json"] = p
        if (options.sqlite ?? true) {
          const db = Path.join(out, "results.sqlite")
          Fs.rmSync(db, { force: true })
          yield* Results.writeSqlite(db, [
            { summary, experimentFile: loaded.file, placementsCsv: files["placements.csv"], timeseriesCsv: files["timeseries.csv"] }
          ])
          files["results.sqlite"] = db
        }
      }
      return { summary, files }
    })
  )
