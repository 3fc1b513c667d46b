/** Experiment files: what a valid one compiles to, and errors that name the file and the field. */
import { describe, expect, it } from "@effect/vitest"
import * as Path from "node:path"
import { NodeContext } from "@effect/platform-node"
import { Effect, Either } from "effect"
import * as Experiment from "../../src/sim/Experiment.js"
import { runCli } from "./cli/harness.js"
import { withTempDir, writeFiles } from "./support.js"

const valid = {
  seed: 5,
  cloud: { zones: [{ name: "zone-1", nodes: [{ prefix: "n", count: 3, cores: 4, memoryMiB: 4096, diskGiB: 50, idleWatts: 90, peakWatts: 200 }] }] },
  policy: { name: "powersave", idleThresholdSeconds: 600, wakeDelaySeconds: 20 },
  network: { mode: "MANAGED", publicIps: ["198.51.100.1-198.51.100.9"] },
  backend: { bootDelay: { kind: "uniform", minMs: 1000, maxMs: 9000 }, failureProbability: 0.1, stopDelay: { kind: "constant", seconds: 1.5 } },
  tenants: { accounts: 3 },
  trace: { format: "csv", path: "t.csv" },
  horizonSeconds: 3600,
  metricsIntervalSeconds: 30
}

const load = (file: string) => Effect.runPromise(Effect.either(Experiment.load(file)).pipe(Effect.provide(NodeContext.layer)))

/** Writes `json` as bad.json, loads it, and returns the error message (failing the test if it loaded). */
const errorOf = (json: unknown) =>
  withTempDir(async (dir) => {
    const file = writeFiles(dir, { "bad.json": typeof json === "string" ? json : (json as object) })
    const r = await load(file)
    if (Either.isRight(r)) throw new Error("expected an error")
    expect(r.left.file).toBe(file)
    expect(r.left.message.startsWith(`${file}: `)).toBe(true)
    return { field: r.left.field, message: r.left.message.slice(file.length + 2) }
  })

const with_ = (patch: Record<string, unknown>) => ({ ...valid, ...patch })

describe("experiment files", () => {
  it("compile to a setup with every field applied, paths relative to the file", () =>
    withTempDir(async (dir) => {
      const file = writeFiles(dir, { "sub/exp.json": valid })
      const r = await load(file)
      if (Either.isLeft(r)) throw new Error(r.left.message)
      const l = r.right
      expect(l.dir).toBe(Path.join(dir, "sub"))
      expect(l.engine).toBe("fast")
      expect(l.setup.name).toBe("exp")
      expect(l.setup.seed).toBe(5)
      expect(l.setup.horizonMs).toBe(3_600_000)
      expect(l.setup.metricsIntervalMs).toBe(30_000)
      expect(l.setup.policy.power).toEqual({ idleThresholdMs: 600_000, wakeDelayMs: 20_000 })
      expect(l.setup.network.publicIps).toHaveLength(9)
      expect(l.setup.backend.failureProbability).toBe(0.1)
      expect(l.setup.backend.stop.meanMs).toBe(1500)
      expect(l.setup.backend.boot.meanMs).toBe(5000)
      expect(l.setup.tenants).toEqual({ accounts: 3, assign: "roundrobin", groups: 1 })
      expect(l.setup.nodes.map((n) => n.id)).toEqual(["n1", "n2", "n3"])
      expect(l.setup.nodes[0]!.idleWatts).toBe(90)
    }))

  it("name the file and the field of a wrong value", async () => {
    const bad = { ...valid, cloud: { zones: [{ name: "zone-1", nodes: [{ prefix: "n", count: 3, cores: -2, memoryMiB: 4096, diskGiB: 50 }] }] } }
    expect(await errorOf(bad)).toMatchObject({ field: "cloud.zones[0].nodes[0].cores", message: expect.stringMatching(/^cloud\.zones\[0\]\.nodes\[0\]\.cores: .*-2/) })
    expect(await errorOf(with_({ policy: { name: "greedyy" } }))).toMatchObject({
      field: "policy.name",
      message: expect.stringContaining(`"greedy" | "roundrobin" | "powersave" | "bestfit" | "worstfit" | "user", actual "greedyy"`)
    })
    expect(await errorOf(with_({ seed: 1.5 }))).toMatchObject({ field: "seed" })
    expect(await errorOf(with_({ backend: { failureProbability: 2 } }))).toMatchObject({ field: "backend.failureProbability" })
    expect(await errorOf(with_({ metricsIntervalSeconds: 0 }))).toMatchObject({ field: "metricsIntervalSeconds" })
  })

  it("name unknown and missing fields, and wrong choices inside unions", async () => {
    expect(await errorOf(with_({ horizon: 5 }))).toMatchObject({ field: "horizon", message: expect.stringContaining("is unexpected") })
    expect(await errorOf(with_({ trace: { format: "swf", path: "x.swf", coresPerVM: 4 } }))).toMatchObject({ field: "trace.coresPerVM" })
    expect(await errorOf(with_({ trace: { format: "swff", path: "x" } }))).toMatchObject({ field: "trace.format" })
    expect(await errorOf(with_({ trace: { format: "swf" } }))).toMatchObject({ field: "trace.path", message: "trace.path: is missing" })
    const { cloud: _cloud, ...noCloud } = valid
    expect(await errorOf(noCloud)).toMatchObject({ field: "cloud", message: "cloud: is missing" })
    expect(await errorOf(with_({ backend: { bootDelay: { kind: "gaussian" } } }))).toMatchObject({ field: "backend.bootDelay.kind" })
  })

  it("catch what only makes sense together: units, orders, networks, policies", async () => {
    expect(await errorOf(with_({ backend: { bootDelay: { kind: "constant", seconds: 3, ms: 3000 } } }))).toMatchObject({
      field: "backend.bootDelay.seconds",
      message: expect.stringContaining(`either "seconds" or "ms"`)
    })
    expect(await errorOf(with_({ backend: { bootDelay: { kind: "uniform", minSeconds: 9, maxSeconds: 3 } } }))).toMatchObject({ field: "backend.bootDelay.maxSeconds" })
    expect(await errorOf(with_({ horizonMs: 10 }))).toMatchObject({ field: "horizonMs" })
    expect(await errorOf(with_({ network: { mode: "MANAGED", subnet: "10.0.0.0/33" } }))).toMatchObject({ field: "network.subnet" })
    expect(await errorOf(with_({ policy: { name: "user" } }))).toMatchObject({ field: "policy", message: expect.stringContaining("program") })
    const unordered = [
      { name: "a", cores: 1, memoryMiB: 512, diskGiB: 10 },
      { name: "b", cores: 2, memoryMiB: 256, diskGiB: 10 }
    ]
    expect(await errorOf(with_({ policy: { name: "greedy" }, vmTypes: unordered }))).toMatchObject({ field: "vmTypes" })
    expect(await errorOf(with_({ trace: { format: "synthetic", requests: 10, mix: { "m9.big": 1 } } }))).toMatchObject({ field: "trace.mix" })
    expect(
      await errorOf(with_({ cloud: { zones: [{ name: "z", nodes: [{ prefix: "n", count: 1, cores: 1, memoryMiB: 1, diskGiB: 1 }] }, { name: "z", nodes: [{ prefix: "m", count: 1, cores: 1, memoryMiB: 1, diskGiB: 1 }] }] } }))
    ).toMatchObject({ field: "cloud", message: expect.stringContaining("defined twice") })
  })

  it("say where a JSON syntax error is, and when the file cannot be read", async () => {
    const e = await errorOf('{\n  "seed": 1,\n  "cloud": {,\n}')
    expect(e.field).toBeUndefined()
    expect(e.message).toMatch(/^not valid JSON: .*\(line 3, column \d+\)/)
    const missing = await load("/nonexistent/exp.json")
    expect(Either.isLeft(missing) && missing.left.message).toMatch(/^\/nonexistent\/exp\.json: cannot read the file/)
  })

  it("stop `euca sim run` with the error, and a missing trace with the trace's error naming its file", () =>
    withTempDir(async (dir) => {
      const bad = writeFiles(dir, { "bad.json": with_({ policy: { name: "nope" } }) })
      const r = await runCli(["sim", "run", bad])
      expect(r.error).toMatchObject({ _tag: "ExperimentError", message: expect.stringContaining(`${bad}: policy.name`) })
      const noTrace = writeFiles(dir, { "notrace.json": with_({ trace: { format: "csv", path: "missing.csv" } }) })
      const t = await runCli(["sim", "run", noTrace])
      expect(t.error).toMatchObject({ _tag: "TraceError", message: expect.stringContaining(Path.join(dir, "missing.csv")) })
      const badRow = writeFiles(dir, { "badrow.json": with_({ trace: { format: "csv", path: "bad.csv" } }), "bad.csv": "arrival_ms,lifetime_ms,vm_type\n0,ten,m1.small\n" })
      const b = await runCli(["sim", "run", badRow])
      expect(b.error).toMatchObject({ _tag: "TraceError", message: expect.stringMatching(/bad\.csv:2: .*lifetime_ms/) })
    }))
})
