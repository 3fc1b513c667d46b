/**
 * A stand-in Simulator for the builder's own tests: deterministic results derived from the
 * experiment (seed, node count, trace limit), and a count of the runs it was asked for — so tests
 * can see what the cache saved. The notebooks themselves are built with the real simulator
 * (browser.test.ts).
 */
import { Effect, Layer } from "effect"
import type * as RunResult from "../../src/notebook/RunResult.js"
import * as Simulator from "../../src/notebook/Simulator.js"

export interface Calls {
  runs: number
  measures: number
}

const num = (v: unknown, d: number) => (typeof v === "number" ? v : d)

export const result = (experiment: Readonly<Record<string, unknown>>): RunResult.RunResult => {
  const seed = num(experiment["seed"], 1)
  const trace = (experiment["trace"] ?? {}) as Record<string, unknown>
  const requests = num(trace["limit"], 10)
  const samples: Array<RunResult.Sample> = []
  for (let h = 0; h <= 5; h++) {
    for (const zone of ["zone-a", "zone-b"]) {
      samples.push({
        timeMs: h * 3_600_000,
        zone,
        usedVcpu: (h * seed) % 7,
        usedMiB: h * 1024,
        usedGiB: h,
        running: h,
        nodesOn: 2,
        energyWh: h * 50,
        publicAddresses: Math.min(h, 3),
        vlans: 1
      })
    }
  }
  const decisions: Array<RunResult.Decision> = []
  for (let r = 1; r <= requests; r++) {
    const rejected = (r + seed) % 4 === 0
    decisions.push({ timeMs: r * 1_000_000, requestId: r, outcome: rejected ? "rejected" : "placed", reason: rejected ? (r % 8 === 0 ? "NoPublicAddress" : "InsufficientCapacity") : undefined })
  }
  const rejected = decisions.filter((d) => d.outcome === "rejected").length
  return {
    summary: {
      events: requests * 3,
      requests: { total: requests, accepted: requests - rejected, rejected, rejectedByReason: {} },
      utilisation: { cores: 0.25, memory: 0.5, disk: 0.125 },
      energyWh: 600
    },
    samples,
    decisions,
    capacity: { nodes: 4, cores: 16, memoryMiB: 16384, diskGiB: 400 },
    trace: { requests, skipped: { "cancelled (status 5)": 2 }, untilHorizon: {} }
  }
}

export const make = (calls: Calls, options: { readonly fingerprint?: string; readonly fail?: string } = {}): Layer.Layer<Simulator.Simulator> =>
  Layer.succeed(Simulator.Simulator, {
    fingerprint: options.fingerprint ?? "fake-simulator-1",
    run: (experiment, _baseDir, onProgress) =>
      Effect.suspend(() => {
        calls.runs++
        if (options.fail !== undefined) return Effect.fail(new Simulator.RunError({ field: "policy", message: options.fail }))
        onProgress?.({ simulatedMs: 1, totalMs: 2 })
        return Effect.succeed(result(experiment))
      }),
    measure: (experiment) =>
      Effect.sync(() => {
        calls.measures++
        return {
          result: result(experiment),
          measurement: { wallMs: 12, events: 300, eventsPerSecond: 25_000, peakRssMiB: 80, baselineRssMiB: 40, requests: 100, hosts: 4 }
        }
      })
  })
