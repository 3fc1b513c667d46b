/**
 * What the notebooks need from one simulation run — the small interface the builder is written
 * against, so that it does not depend on the simulator's internal API (SimRunner.ts binds the two).
 */

/** One time-series sample of one zone: the simulator's own type (a type-only import: no runtime dependency). */
export type { Sample } from "../sim/Metrics.js"
import type { Sample } from "../sim/Metrics.js"

/** One decision: a request rejected, or one of its instances placed (placements.csv). */
export interface Decision {
  readonly timeMs: number
  readonly requestId: number
  readonly outcome: "placed" | "rejected"
  /** The rejection's tag; undefined when placed. */
  readonly reason: string | undefined
}

export interface Capacity {
  readonly nodes: number
  readonly cores: number
  readonly memoryMiB: number
  readonly diskGiB: number
}

export interface RunResult {
  /** The simulator's summary (summary.json), any JSON. */
  readonly summary: Readonly<Record<string, unknown>>
  readonly samples: ReadonlyArray<Sample>
  readonly decisions: ReadonlyArray<Decision>
  /** Physical capacity of the whole cloud, for utilisation in percent. */
  readonly capacity: Capacity
  /** What the trace reader read (requests, skipped rows by reason …), any JSON. */
  readonly trace: Readonly<Record<string, unknown>>
}

/** A run timed in a fresh process (scale studies); machine-dependent. */
export interface Measurement {
  readonly wallMs: number
  readonly events: number
  readonly eventsPerSecond: number
  /** Peak resident set of the measuring process, and its resident set before the run started. */
  readonly peakRssMiB: number
  readonly baselineRssMiB: number
  readonly requests: number
  readonly hosts: number
}

/** Where and when measurements were taken (shown next to every measured chart). */
export interface Machine {
  readonly cpu: string
  readonly cpus: number
  readonly memoryGiB: number
  readonly node: string
  readonly platform: string
  readonly measuredAt: string
}
