import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Dataset from "../../src/notebook/Dataset.js"
import * as SimRunner from "../../src/notebook/SimRunner.js"
import * as Simulator from "../../src/notebook/Simulator.js"

const traces = fileURLToPath(new URL("../../traces", import.meta.url))

const experiment = {
  seed: 7,
  metricsIntervalSeconds: 5,
  cloud: { zones: [{ name: "zone-a", nodes: [{ prefix: "n", count: 2, cores: 4, memoryMiB: 4096, diskGiB: 100 }] }] },
  policy: { name: "greedy" },
  trace: { format: "csv", path: "csv/sized.csv" }
}

const run = (e: Record<string, unknown>) =>
  Effect.gen(function* () {
    const sim = yield* Simulator.Simulator
    return yield* Effect.either(sim.run(e, traces))
  }).pipe(Effect.provide(SimRunner.layer))

describe("SimRunner (the real simulator)", () => {
  it.effect("runs a bundled trace in-process: summary, per-zone samples, one decision per request", () =>
    Effect.gen(function* () {
      const r = yield* run(experiment)
      if (Either.isLeft(r)) throw new Error(r.left.message)
      const { summary, samples, decisions, capacity, trace } = r.right
      const requests = summary["requests"] as { total: number; accepted: number; rejected: number }
      expect(requests.total).toBe(12)
      expect(requests.accepted + requests.rejected).toBe(12)
      expect(new Set(decisions.map((d) => d.requestId)).size).toBe(12)
      expect(decisions.length).toBe(12)
      expect(decisions.filter((d) => d.outcome === "rejected").length).toBe(requests.rejected)
      expect(capacity).toEqual({ nodes: 2, cores: 8, memoryMiB: 8192, diskGiB: 200 })
      expect(samples.length).toBeGreaterThan(1)
      expect(samples.every((s) => s.zone === "zone-a" && s.timeMs % 5000 === 0)).toBe(true)
      expect(trace["requests"]).toBe(12)
      // And what the charts read from it.
      const d = Dataset.derive(r.right)
      expect(d.timeseries["requests"]!.at(-1)).toBe(12)
      expect(d.summary["acceptance_pct"]).toBeCloseTo((100 * requests.accepted) / 12)
    })
  )

  it.effect("is deterministic: the same experiment and seed give the same results", () =>
    Effect.gen(function* () {
      const a = yield* run(experiment)
      const b = yield* run(experiment)
      expect(Either.isRight(a) && Either.isRight(b)).toBe(true)
      expect(JSON.stringify(a)).toBe(JSON.stringify(b))
    })
  )

  it.effect("reports a misspelt field and a missing trace with the field", () =>
    Effect.gen(function* () {
      const bad = yield* run({ ...experiment, polcy: { name: "greedy" } })
      expect(Either.isLeft(bad) && bad.left.field).toBe("polcy")
      expect(Either.isLeft(bad) && bad.left.message).toMatch(/is unexpected, expected: .*"policy"/)
      const missing = yield* run({ ...experiment, trace: { format: "csv", path: "csv/nope.csv" } })
      expect(Either.isLeft(missing) && missing.left.field).toBe("trace")
      expect(Either.isLeft(missing) && missing.left.message).toContain(Path.join(traces, "csv", "nope.csv"))
    })
  )
})
