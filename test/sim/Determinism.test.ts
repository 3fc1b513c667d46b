/**
 * Same experiment and seed ⇒ byte-identical result files; another seed ⇒ different sampled delays.
 * The experiment draws everything the simulator samples: boot and stop delays, failures, random
 * tenants and a synthetic workload, on MANAGED networking.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Path from "node:path"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import * as Experiment from "../../src/sim/Experiment.js"
import * as Run from "../../src/sim/Run.js"
import { read, withTempDir, writeFiles } from "./support.js"

const experiment = {
  seed: 11,
  cloud: {
    zones: [
      { name: "zone-1", nodes: [{ prefix: "a", count: 12, cores: 8, memoryMiB: 8192, diskGiB: 200 }] },
      { name: "zone-2", nodes: [{ prefix: "b", count: 12, cores: 8, memoryMiB: 8192, diskGiB: 200 }] }
    ]
  },
  policy: { name: "powersave", idleThresholdSeconds: 300, wakeDelaySeconds: 30 },
  network: { mode: "MANAGED", publicIps: ["198.51.100.0/25"], addressesPerNetwork: 64 },
  tenants: { accounts: 4, assign: "random" },
  backend: {
    bootDelay: { kind: "lognormal", medianSeconds: 30, sigma: 0.6 },
    stopDelay: { kind: "uniform", minSeconds: 1, maxSeconds: 5 },
    failureProbability: 0.05
  },
  trace: { format: "synthetic", requests: 1500, load: 0.9, meanLifetimeSeconds: 1200, cycleHours: 2 },
  metricsIntervalSeconds: 120
}

const FILES = ["events.log", "summary.json", "placements.csv", "timeseries.csv"] as const

const runTo = (file: string, out: string, overrides: Experiment.Overrides = {}) =>
  Effect.runPromise(
    Experiment.load(file, overrides).pipe(
      Effect.flatMap((loaded) => Run.run(loaded, { out })),
      Effect.provide(NodeContext.layer)
    )
  )

const boots = (log: string) => log.split("\n").filter((l) => l.includes(" boot "))

describe("determinism", () => {
  it("the same experiment and seed give byte-identical files; another seed gives other delays", () =>
    withTempDir(async (dir) => {
      const file = writeFiles(dir, { "exp.json": experiment })
      const a = Path.join(dir, "a")
      const b = Path.join(dir, "b")
      const c = Path.join(dir, "c")
      await runTo(file, a)
      await runTo(file, b)
      await runTo(file, c, { seed: 12 })
      for (const f of FILES) expect(read(Path.join(b, f)), f).toBe(read(Path.join(a, f)))
      const logA = read(Path.join(a, "events.log"))
      expect(boots(logA).length).toBeGreaterThan(1000)
      // The run did exercise failures, power-downs and VLANs (else the comparison proves little).
      expect(logA).toMatch(/ fail i-/)
      expect(logA).toMatch(/ sleep /)
      expect(logA).toMatch(/ vlan\+ /)
      const logC = read(Path.join(c, "events.log"))
      expect(boots(logC)).not.toEqual(boots(logA))
      expect(JSON.parse(read(Path.join(c, "summary.json"))).waitMs).not.toEqual(JSON.parse(read(Path.join(a, "summary.json"))).waitMs)
    }))

  it("the reference engine writes the same files as the fast engine", () =>
    withTempDir(async (dir) => {
      const small = { ...experiment, trace: { ...experiment.trace, requests: 150 } }
      const file = writeFiles(dir, { "exp.json": small })
      const fast = Path.join(dir, "fast")
      const ref = Path.join(dir, "ref")
      await runTo(file, fast)
      await runTo(file, ref, { engine: "reference" })
      for (const f of ["events.log", "placements.csv", "timeseries.csv"] as const) expect(read(Path.join(ref, f)), f).toBe(read(Path.join(fast, f)))
      const s = (p: string) => ({ ...JSON.parse(read(Path.join(p, "summary.json"))), engine: "-" })
      expect(s(ref)).toEqual(s(fast))
      expect(JSON.parse(read(Path.join(ref, "summary.json"))).engine).toBe("reference")
    }))
})
