/**
 * `euca sim …`: run experiments on the simulator.
 *
 *   euca sim run EXPERIMENT [--out DIR] [--json] [--engine fast|reference] [--seed N] [--no-events-log]
 *   euca sim sweep EXPERIMENT (--policies greedy,roundrobin,… | --seeds 1,2,3) [--out DIR] [--json] [--engine …]
 *
 * `run` prints a summary table (or the summary as JSON with --json) on stdout and, with --out, writes
 * summary.json, placements.csv, timeseries.csv, events.log and results.sqlite into DIR. `sweep` runs
 * one variant per policy × seed, prints them side by side, and with --out writes each variant's
 * files into DIR/<policy>-seed<N>/ plus DIR/sweep.json and one DIR/results.sqlite holding every run.
 * On a terminal, a progress line is drawn on stderr.
 *
 * Failures are typed: ExperimentError (the file, with the field), TraceError (trace file, line,
 * field), ResultsError (output), SweepError (bad --policies/--seeds); each `message` is a full sentence.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option, Schema } from "effect"
import * as PolicyConfig from "../model/PolicyConfig.js"
import * as ConsolidationCommand from "./ConsolidationCommand.js"
import * as Experiment from "../sim/Experiment.js"
import * as Results from "../sim/Results.js"
import * as Run from "../sim/Run.js"

export class SweepError extends Schema.TaggedError<SweepError>()("SweepError", { message: Schema.String }) {}

// ------------------------------------------------------------------------------------------------
// Presentation

const int = (n: number): string => Math.round(n).toLocaleString("en-US")

export const duration = (ms: number): string => {
  const a = Math.abs(ms)
  if (a < 1000) return `${Math.round(ms)} ms`
  if (a < 120_000) return `${(ms / 1000).toFixed(1)} s`
  if (a < 7_200_000) return `${(ms / 60_000).toFixed(1)} min`
  if (a < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`
  return `${(ms / 86_400_000).toFixed(1)} d`
}

const pct = (x: number): string => `${(100 * x).toFixed(1)}%`

/** The rows of the summary table: [label, value] (the same labels for every run, so sweeps line up). */
export const rows = (s: Results.RunSummary, reasons: ReadonlyArray<string>, skips: ReadonlyArray<string>): Array<[string, string]> => [
  ["policy", s.policy],
  ["seed", String(s.seed)],
  ["engine", s.engine],
  ["simulated time", duration(s.simulatedMs)],
  ["events", int(s.events)],
  ["requests", int(s.requests.total)],
  ["  accepted", `${int(s.requests.accepted)} (${pct(s.requests.total === 0 ? 0 : s.requests.accepted / s.requests.total)})`],
  ["  rejected", int(s.requests.rejected)],
  ...reasons.map((r): [string, string] => [`    ${r}`, int(s.requests.rejectedByReason[r] ?? 0)]),
  ["  late (out of order)", int(s.trace.late)],
  ["instances placed", int(s.instances.placed)],
  ["  started", int(s.instances.started)],
  ["  failed", int(s.instances.failed)],
  ["  completed", int(s.instances.completed)],
  ["  live at end", int(s.instances.liveAtEnd)],
  ["wait until running: mean", duration(s.waitMs.mean)],
  ["  p50 / p95 / max", `${duration(s.waitMs.p50)} / ${duration(s.waitMs.p95)} / ${duration(s.waitMs.max)}`],
  ["utilisation: cores", pct(s.utilisation.cores)],
  ["  memory / disk", `${pct(s.utilisation.memory)} / ${pct(s.utilisation.disk)}`],
  ["nodes (peak on)", `${int(s.nodes.total)} (${int(s.nodes.peakOn)})`],
  ["  wake-ups / power-downs", `${int(s.nodes.wakeUps)} / ${int(s.nodes.powerDowns)}`],
  ["energy", s.energyWh >= 10_000 ? `${(s.energyWh / 1000).toFixed(1)} kWh` : `${s.energyWh.toFixed(1)} Wh`],
  ["peak public addresses / VLANs", `${int(s.network.peakPublicAddresses)} / ${int(s.network.peakVlans)}`],
  ["trace rows skipped", int(Object.values(s.trace.skipped).reduce((a, b) => a + b, 0))],
  ...skips.map((r): [string, string] => [`    ${r}`, int(s.trace.skipped[r] ?? 0)])
]

/** A table of runs side by side: one label column, one column per run. */
export const table = (summaries: ReadonlyArray<Results.RunSummary>, headers: ReadonlyArray<string>): string => {
  const reasons = [...new Set(summaries.flatMap((s) => Object.keys(s.requests.rejectedByReason)))].sort()
  const skips = [...new Set(summaries.flatMap((s) => Object.keys(s.trace.skipped)))].sort()
  const cols = summaries.map((s) => rows(s, reasons, skips))
  const labels = cols[0]?.map((r) => r[0]) ?? []
  const lw = Math.max(6, ...labels.map((l) => l.length))
  const widths = cols.map((c, i) => Math.max(headers[i]!.length, ...c.map((r) => r[1].length)))
  const line = (label: string, values: ReadonlyArray<string>) =>
    `${label.padEnd(lw)}  ${values.map((v, i) => v.padStart(widths[i]!)).join("  ")}`.trimEnd()
  const out = [line("", headers), line("".padEnd(lw, "-"), widths.map((w) => "".padEnd(w, "-")))]
  labels.forEach((l, k) => out.push(line(l, cols.map((c) => c[k]![1]))))
  return out.join("\n")
}

/** A progress line on stderr, only on a terminal, redrawn at most every 100 ms (wall clock: presentation only). */
const progress = (label: string) => {
  const tty = process.stderr.isTTY === true
  let last = 0
  let drawn = false
  const draw = (p: Run.Progress) => {
    if (!tty) return
    const now = Date.now()
    if (now - last < 100) return
    last = now
    drawn = true
    const width = 24
    const frac = p.horizonMs !== undefined && p.horizonMs > 0 ? Math.min(1, p.simulatedMs / p.horizonMs) : undefined
    const bar = frac === undefined ? "" : `[${"#".repeat(Math.round(frac * width)).padEnd(width, ".")}] ${pct(frac)} `
    process.stderr.write(`\r\x1b[K${label} ${bar}sim ${duration(p.simulatedMs)} · ${int(p.requests)} requests · ${int(p.events)} events`)
  }
  const done = () => {
    if (tty && drawn) process.stderr.write("\r\x1b[K")
  }
  return { draw, done }
}

// ------------------------------------------------------------------------------------------------
// Commands

const experimentArg = Args.text({ name: "experiment" }).pipe(Args.withDescription("the experiment file (JSON)"))
const outOption = Options.directory("out").pipe(Options.optional, Options.withDescription("write the result files into this directory"))
const jsonOption = Options.boolean("json").pipe(Options.withDescription("print the summary as JSON instead of a table"))
const engineOption = Options.choice("engine", ["fast", "reference"]).pipe(
  Options.optional,
  Options.withDescription("the fast engine (default) or the reference engine (the decider itself; small experiments)")
)
const seedOption = Options.integer("seed").pipe(Options.optional, Options.withDescription("override the experiment's seed"))
const noEventsOption = Options.boolean("no-events-log").pipe(Options.withDescription("do not write events.log (it can be large)"))

const runOne = (
  file: string,
  overrides: Experiment.Overrides,
  options: Run.Options,
  label: string
) =>
  Effect.gen(function* () {
    const loaded = yield* Experiment.load(file, overrides)
    const bar = progress(label)
    const outcome = yield* Run.run(loaded, { ...options, onProgress: bar.draw }).pipe(Effect.ensuring(Effect.sync(bar.done)))
    return outcome
  })

export const runCommand = Command.make(
  "run",
  { experiment: experimentArg, out: outOption, json: jsonOption, engine: engineOption, seed: seedOption, noEventsLog: noEventsOption },
  (a) =>
    Effect.gen(function* () {
      const out = Option.getOrUndefined(a.out)
      if (ConsolidationCommand.isConsolidationFile(a.experiment)) return yield* ConsolidationCommand.run(a.experiment, { json: a.json, out })
      const { summary, files } = yield* runOne(
        a.experiment,
        { engine: Option.getOrUndefined(a.engine), seed: Option.getOrUndefined(a.seed) },
        { out, eventsLog: !a.noEventsLog },
        Path.basename(a.experiment)
      )
      if (a.json) return yield* Console.log(JSON.stringify(summary, null, 2))
      yield* Console.log(table([summary], [summary.experiment]))
      if (out !== undefined) yield* Console.log(`\nwritten to ${out}: ${Object.keys(files).sort().join(", ")}`)
    })
).pipe(Command.withDescription("run an experiment and summarise it"))

const listOf = (flag: string, raw: string): Array<string> => {
  const xs = raw.split(",").map((x) => x.trim()).filter((x) => x !== "")
  if (xs.length === 0) throw new SweepError({ message: `--${flag}: give a comma-separated list` })
  return xs
}

/** The variants of a sweep: every policy × seed given (the experiment's own when a list is absent). */
export const variants = (
  policies: string | undefined,
  seeds: string | undefined
): Effect.Effect<Array<{ readonly policy: PolicyConfig.PolicyName | undefined; readonly seed: number | undefined }>, SweepError> =>
  Effect.try({
    try: () => {
      if (policies === undefined && seeds === undefined) throw new SweepError({ message: "give --policies and/or --seeds: a sweep needs something to vary" })
      const ps = policies === undefined ? [undefined] : listOf("policies", policies).map((p) => {
        if (!(PolicyConfig.PolicyName.literals as ReadonlyArray<string>).includes(p)) {
          throw new SweepError({ message: `--policies: "${p}" is not a policy; choose from ${PolicyConfig.PolicyName.literals.join(", ")}` })
        }
        return p as PolicyConfig.PolicyName
      })
      const ss = seeds === undefined ? [undefined] : listOf("seeds", seeds).map((x) => {
        if (!/^-?\d+$/.test(x)) throw new SweepError({ message: `--seeds: "${x}" is not an integer` })
        return Number(x)
      })
      return ps.flatMap((policy) => ss.map((seed) => ({ policy, seed })))
    },
    catch: (e) => (e instanceof SweepError ? e : new SweepError({ message: String(e) }))
  })

export const sweepCommand = Command.make(
  "sweep",
  {
    experiment: experimentArg,
    policies: Options.text("policies").pipe(Options.optional, Options.withDescription("comma-separated policies, e.g. greedy,roundrobin,powersave")),
    seeds: Options.text("seeds").pipe(Options.optional, Options.withDescription("comma-separated seeds, e.g. 1,2,3")),
    out: outOption,
    json: jsonOption,
    engine: engineOption,
    noEventsLog: noEventsOption
  },
  (a) =>
    Effect.gen(function* () {
      const vs = yield* variants(Option.getOrUndefined(a.policies), Option.getOrUndefined(a.seeds))
      const out = Option.getOrUndefined(a.out)
      const summaries: Array<Results.RunSummary> = []
      const stored: Array<Results.StoredRun> = []
      for (const v of vs) {
        const loaded0 = yield* Experiment.load(a.experiment, { policy: v.policy, seed: v.seed })
        const name = `${loaded0.setup.policy.name}-seed${loaded0.setup.seed}`
        const dir = out === undefined ? undefined : Path.join(out, name)
        const { summary, files } = yield* runOne(
          a.experiment,
          { engine: Option.getOrUndefined(a.engine), policy: v.policy, seed: v.seed },
          { out: dir, eventsLog: !a.noEventsLog, sqlite: false },
          `${Path.basename(a.experiment)} ${name}`
        )
        summaries.push(summary)
        stored.push({ summary, experimentFile: a.experiment, placementsCsv: files["placements.csv"], timeseriesCsv: files["timeseries.csv"] })
      }
      if (out !== undefined) {
        Fs.writeFileSync(Path.join(out, "sweep.json"), JSON.stringify(summaries, null, 2) + "\n")
        const db = Path.join(out, "results.sqlite")
        Fs.rmSync(db, { force: true })
        yield* Results.writeSqlite(db, stored)
      }
      if (a.json) return yield* Console.log(JSON.stringify(summaries, null, 2))
      yield* Console.log(table(summaries, summaries.map((s) => `${s.policy}/${s.seed}`)))
      if (out !== undefined) yield* Console.log(`\nwritten to ${out}: sweep.json, results.sqlite and one directory per variant`)
    })
).pipe(Command.withDescription("run an experiment once per policy and/or seed, side by side"))

export const simCommand = Command.make("sim").pipe(
  Command.withDescription("discrete-event simulation of the cloud over workload traces"),
  Command.withSubcommands([runCommand, sweepCommand])
)
