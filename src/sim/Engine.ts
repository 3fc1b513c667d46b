/**
 * What both engines offer, and the driver that feeds them a trace. The driver is shared so that
 * both engines see exactly the same arrivals at the same times.
 *
 * Order of things at one millisecond: scheduled events first, by kind (a woken node coming up, a VM
 * stopped, a start failed, a VM booted, an instance's lifetime over, a power tick), each kind in the
 * order it was scheduled; then the requests arriving at that millisecond, in trace order.
 *
 * Arrivals: a trace's records are not promised to be sorted. Within a batch the driver sorts them by
 * arrival (stably, so equal times keep trace order); a record that arrives earlier than something
 * already simulated (an earlier batch) is taken at the current time and counted as late — never dropped.
 * Reading stops at the first record that arrives after the horizon.
 */
import type * as TraceRequest from "./traces/TraceRequest.js"

/** Event kinds, in the order they are processed at equal times. */
export const NODE_UP = 0
export const STOPPED = 1
export const FAILED = 2
export const BOOTED = 3
export const DEPART = 4
export const TICK = 5

/** The reason recorded for an instance terminated at the end of its trace lifetime. */
export const LIFETIME_OVER = {
  code: "Client.InstanceInitiatedShutdown",
  message: "Client.InstanceInitiatedShutdown: Instance initiated shutdown"
} as const

export interface Engine {
  /** Time of the last thing processed (ms). */
  readonly now: number
  /** Events processed so far (arrivals and scheduled events). */
  readonly events: number
  /** Processes every scheduled event at a time ≤ t (and ≤ the horizon). */
  runUntil(t: number): void
  /** Request number `req` (1-based) arrives at t ≥ now. */
  arrive(r: TraceRequest.TraceRequest, req: number, t: number): void
  /** Runs what is left up to the horizon (or until nothing is scheduled), finishes the recorders; returns the end time. */
  finish(): number
}

export interface FeedStats {
  /** Requests handed to the engine. */
  readonly requests: number
  /** Requests that arrived after something later had been simulated (taken at the current time). */
  readonly late: number
  /** Reading stopped at a request after the horizon. */
  readonly stoppedAtHorizon: boolean
}

export class Feeder {
  requests = 0
  late = 0
  stoppedAtHorizon = false
  private order = new Int32Array(0)

  constructor(
    private readonly engine: Engine,
    private readonly horizonMs: number | undefined
  ) {}

  /** Feeds one batch; false once the horizon is passed (the rest of the trace is not wanted). */
  feed(batch: ReadonlyArray<TraceRequest.TraceRequest>): boolean {
    const n = batch.length
    let sorted = true
    for (let i = 1; i < n; i++) {
      if (batch[i]!.arrivalMs < batch[i - 1]!.arrivalMs) {
        sorted = false
        break
      }
    }
    let order: Int32Array | undefined
    if (!sorted) {
      if (this.order.length < n) this.order = new Int32Array(n)
      order = this.order.subarray(0, n)
      for (let i = 0; i < n; i++) order[i] = i
      // Stable: equal arrival times keep trace order.
      order.sort((a, b) => batch[a]!.arrivalMs - batch[b]!.arrivalMs || a - b)
    }
    const e = this.engine
    const horizon = this.horizonMs
    for (let k = 0; k < n; k++) {
      const r = batch[order === undefined ? k : order[k]!]!
      const a = r.arrivalMs
      if (horizon !== undefined && a > horizon) {
        this.stoppedAtHorizon = true
        return false
      }
      let t: number = a
      if (a < e.now) {
        t = e.now
        this.late++
      }
      e.runUntil(t)
      e.arrive(r, ++this.requests, t)
    }
    return true
  }

  stats(): FeedStats {
    return { requests: this.requests, late: this.late, stoppedAtHorizon: this.stoppedAtHorizon }
  }
}

/** Where batches come from: a trace reader (src/sim/traces) or a synthetic workload. */
export interface BatchSource {
  /** The next batch, undefined at the end. Calls may overlap (the next is asked for before the current is simulated). */
  readonly nextPromise: () => Promise<ReadonlyArray<TraceRequest.TraceRequest> | undefined>
  readonly close: () => void
}

/** Runs an engine over an async source to the end; `onBatch` sees progress after each batch. */
export const runAsync = async (
  engine: Engine,
  source: BatchSource,
  horizonMs: number | undefined,
  onBatch?: (feeder: Feeder, engine: Engine) => void
): Promise<{ readonly endMs: number; readonly feed: FeedStats }> => {
  const feeder = new Feeder(engine, horizonMs)
  let next = source.nextPromise()
  try {
    for (;;) {
      const batch = await next
      if (batch === undefined) break
      // Ask for the next batch now: its reading and gunzip overlap with this batch's simulation.
      next = source.nextPromise()
      next.catch(() => undefined)
      const more = feeder.feed(batch)
      onBatch?.(feeder, engine)
      if (!more) break
    }
  } finally {
    source.close()
  }
  const endMs = engine.finish()
  return { endMs, feed: feeder.stats() }
}

/** Runs an engine over batches at hand (synthetic workloads, tests, benchmarks). */
export const runSync = (
  engine: Engine,
  batches: Iterable<ReadonlyArray<TraceRequest.TraceRequest>>,
  horizonMs: number | undefined
): { readonly endMs: number; readonly feed: FeedStats } => {
  const feeder = new Feeder(engine, horizonMs)
  for (const b of batches) if (!feeder.feed(b)) break
  const endMs = engine.finish()
  return { endMs, feed: feeder.stats() }
}
