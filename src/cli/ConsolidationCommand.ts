/**
 * `euca sim run` on a consolidation experiment (`"kind": "consolidation"`): every day × policy,
 * printed as CloudSim prints it (or as JSON with --json), a progress bar on stderr on a terminal.
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Console, Effect } from "effect"
import * as Experiment from "../sim/consolidation/Experiment.js"
import * as Run from "../sim/consolidation/Run.js"

export const isConsolidationFile = Experiment.isConsolidationFile

const bar = () => {
  const tty = process.stderr.isTTY === true
  let last = 0
  let drawn = false
  return {
    draw: (p: Run.Progress) => {
      if (!tty) return
      const now = Date.now()
      if (now - last < 100) return
      last = now
      drawn = true
      const frac = (p.run + Math.min(1, p.simulated / p.limit)) / p.runs
      const width = 24
      process.stderr.write(`\r\x1b[K[${"#".repeat(Math.round(frac * width)).padEnd(width, ".")}] ${(100 * frac).toFixed(0)}% run ${p.run + 1}/${p.runs} ${p.label}`)
    },
    done: () => {
      if (tty && drawn) process.stderr.write("\r\x1b[K")
    }
  }
}

export const run = (file: string, options: { readonly json: boolean; readonly out: string | undefined }) =>
  Effect.gen(function* () {
    const exp = yield* Effect.try({ try: () => Experiment.load(file), catch: (e) => e as Error })
    const b = bar()
    const runs = yield* Effect.tryPromise({ try: () => Run.runExperiment(exp, { onProgress: b.draw }), catch: (e) => e as Error }).pipe(
      Effect.ensuring(Effect.sync(b.done))
    )
    const json = runs.map((r) => ({ day: r.day, policy: r.policy, metrics: r.result.metrics, executionTimes: r.result.executionTimes, wallMs: r.wallMs }))
    if (options.out !== undefined) {
      Fs.mkdirSync(options.out, { recursive: true })
      Fs.writeFileSync(Path.join(options.out, "consolidation.json"), JSON.stringify(json, null, 2) + "\n")
    }
    if (options.json) return yield* Console.log(JSON.stringify(json, null, 2))
    yield* Console.log(runs.map(Run.printCloudSim).join("\n\n"))
  })
