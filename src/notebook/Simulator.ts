/**
 * The notebooks' port to the simulator: run one experiment (in-process), or measure one (in a fresh
 * process, for scale studies). `fingerprint` identifies the simulator's code, so that cached results
 * are dropped when the simulator changes. SimRunner.ts provides the layer over src/sim.
 */
import { Context, Schema } from "effect"
import type { Effect } from "effect"
import type * as RunResult from "./RunResult.js"

export class RunError extends Schema.TaggedError<RunError>()("RunError", {
  /** Which field of the experiment is wrong, when the simulator says. */
  field: Schema.optional(Schema.String),
  message: Schema.String
}) {}

export interface Progress {
  /** Simulated time reached, and the horizon or last arrival when known. */
  readonly simulatedMs: number
  readonly totalMs: number | undefined
}

export interface Service {
  readonly fingerprint: string
  /** Runs `experiment` (paths relative to `baseDir`). */
  readonly run: (
    experiment: Readonly<Record<string, unknown>>,
    baseDir: string,
    onProgress?: (p: Progress) => void
  ) => Effect.Effect<RunResult.RunResult, RunError>
  /** Runs it in a fresh process and reports wall time, events/s and peak RSS along with the results. */
  readonly measure: (
    experiment: Readonly<Record<string, unknown>>,
    baseDir: string
  ) => Effect.Effect<{ readonly result: RunResult.RunResult; readonly measurement: RunResult.Measurement }, RunError>
}

export class Simulator extends Context.Tag("eucalyptus/notebook/Simulator")<Simulator, Service>() {}
