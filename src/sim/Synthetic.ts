/**
 * A synthetic, seeded workload: VM requests arriving as a Poisson process whose rate follows a daily
 * cycle (rate × (1 + amplitude · sin 2πt/cycle)), sized from a mix of VM types, living a log-normal
 * time. The mean rate is set from the cloud so that the offered load on cores is `load` (0.85: busy;
 * with the cycle's peaks above 1 some requests are turned away, as on a real busy cloud).
 *
 * Experiments use it as `"trace": { "format": "synthetic", "requests": 100000, … }`; the benchmark
 * (bench/sim.ts) uses it for its 1,000- and 10,000-host runs.
 */
import { Schema } from "effect"
import * as VmType from "../model/VmType.js"
import type * as Engine from "./Engine.js"
import * as Random from "./Random.js"
import * as TraceRequest from "./traces/TraceRequest.js"

export const SyntheticSpec = Schema.Struct({
  format: Schema.Literal("synthetic"),
  /** How many requests (RunInstances) to generate. */
  requests: Schema.Int.pipe(Schema.positive()),
  /** Offered load: mean cores requested by live instances ÷ the cloud's physical cores (default 0.85). */
  load: Schema.optional(Schema.Number.pipe(Schema.positive(), Schema.lessThanOrEqualTo(100))),
  /** Mean instance lifetime (default 3000 s); lifetimes are log-normal with this mean. */
  meanLifetimeSeconds: Schema.optional(Schema.Number.pipe(Schema.positive())),
  /** Sigma of the log-normal lifetime (default 1). */
  lifetimeSigma: Schema.optional(Schema.Number.pipe(Schema.nonNegative(), Schema.lessThanOrEqualTo(5))),
  /** Period of the arrival-rate cycle (default 24 h) and its relative amplitude (default 0.3). */
  cycleHours: Schema.optional(Schema.Number.pipe(Schema.positive())),
  amplitude: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  /** VM type names and their weights (default: m1.small 40, c1.medium 25, m1.large 20, m1.xlarge 10, c1.xlarge 5). */
  mix: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Number.pipe(Schema.nonNegative()) })),
  /** Share of requests for more than one instance (default 0.2), each for 2…maxCount (default 4). */
  multiShare: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  maxCount: Schema.optional(Schema.Int.pipe(Schema.between(1, 1000))),
  /** Seed of the workload (default: the experiment's seed); the engine's own draws use the experiment's. */
  seed: Schema.optional(Schema.Int),
  /** Requests per batch handed to the engine (default 4096). */
  batchSize: Schema.optional(Schema.Int.pipe(Schema.between(1, 1 << 20)))
})
export type SyntheticSpec = typeof SyntheticSpec.Type

export const defaultMix: Readonly<Record<string, number>> = {
  "m1.small": 40,
  "c1.medium": 25,
  "m1.large": 20,
  "m1.xlarge": 10,
  "c1.xlarge": 5
}

export interface Plan {
  readonly names: ReadonlyArray<string>
  /** Cumulative weights, normalised to 1. */
  readonly cumulative: ReadonlyArray<number>
  /** Mean arrival rate, requests per ms. */
  readonly ratePerMs: number
  readonly meanLifetimeMs: number
  readonly mu: number
  readonly sigma: number
  readonly cycleMs: number
  readonly amplitude: number
  readonly multiShare: number
  readonly maxCount: number
}

/** Works out the arrival rate for the target load on a cloud of `totalCores`. Throws on a mix naming unknown types. */
export const plan = (spec: SyntheticSpec, totalCores: number, vmTypes: VmType.VmTypeTable): Plan => {
  const mix = spec.mix ?? defaultMix
  const names = Object.keys(mix).filter((k) => mix[k]! > 0)
  if (names.length === 0) throw new Error(`the mix gives no VM type a positive weight`)
  let total = 0
  for (const k of names) total += mix[k]!
  let meanCores = 0
  const cumulative: Array<number> = []
  let acc = 0
  for (const k of names) {
    const t = VmType.find(vmTypes, k)
    if (t === undefined) throw new Error(`the mix names VM type "${k}", which is not in the experiment's VM types`)
    acc += mix[k]! / total
    cumulative.push(acc)
    meanCores += (mix[k]! / total) * t.cores
  }
  const multiShare = spec.multiShare ?? 0.2
  const maxCount = spec.maxCount ?? 4
  const meanCount = maxCount >= 2 ? 1 - multiShare + multiShare * ((2 + maxCount) / 2) : 1
  const meanLifetimeMs = (spec.meanLifetimeSeconds ?? 3000) * 1000
  const sigma = spec.lifetimeSigma ?? 1
  const load = spec.load ?? 0.85
  return {
    names,
    cumulative,
    ratePerMs: (load * totalCores) / (meanLifetimeMs * meanCores * meanCount),
    meanLifetimeMs,
    // A log-normal with this mean: median = mean / e^{σ²/2}.
    mu: Math.log(meanLifetimeMs) - (sigma * sigma) / 2,
    sigma,
    cycleMs: (spec.cycleHours ?? 24) * 3_600_000,
    amplitude: spec.amplitude ?? 0.3,
    multiShare,
    maxCount
  }
}

/** The requests, in batches, generated as they are asked for (never all in memory). */
export function* batches(spec: SyntheticSpec, p: Plan, defaultSeed: number): Generator<ReadonlyArray<TraceRequest.TraceRequest>> {
  const rng = Random.make(spec.seed ?? defaultSeed)
  const size = spec.batchSize ?? 4096
  const peak = p.ratePerMs * (1 + p.amplitude)
  const w = (2 * Math.PI) / p.cycleMs
  let t = 0
  let made = 0
  while (made < spec.requests) {
    const n = Math.min(size, spec.requests - made)
    const batch: Array<TraceRequest.TraceRequest> = new Array(n)
    for (let k = 0; k < n; k++) {
      // Thinning: candidates at the peak rate, kept with probability rate(t) / peak.
      for (;;) {
        t += -Math.log(1 - rng.next()) / peak
        if (rng.next() * peak <= p.ratePerMs * (1 + p.amplitude * Math.sin(w * t))) break
      }
      const u = rng.next()
      let j = 0
      while (j < p.cumulative.length - 1 && u >= p.cumulative[j]!) j++
      const count = p.maxCount >= 2 && rng.next() < p.multiShare ? 2 + rng.int(p.maxCount - 1) : 1
      const life = Math.round(Math.exp(p.mu + p.sigma * rng.normal()))
      batch[k] = TraceRequest.typed(made + k + 1, Math.round(t), life, p.names[j]!, count)
    }
    made += n
    yield batch
  }
}

/** The same as a BatchSource for the async driver. */
export const source = (spec: SyntheticSpec, p: Plan, defaultSeed: number): Engine.BatchSource & { readonly generated: () => number } => {
  const it = batches(spec, p, defaultSeed)
  let generated = 0
  return {
    nextPromise: () => {
      const r = it.next()
      if (r.done) return Promise.resolve(undefined)
      generated += r.value.length
      return Promise.resolve(r.value)
    },
    close: () => void it.return(undefined),
    generated: () => generated
  }
}
