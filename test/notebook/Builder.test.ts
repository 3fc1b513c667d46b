import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Builder from "../../src/notebook/Builder.js"
import * as Dataset from "../../src/notebook/Dataset.js"
import * as NotebookError from "../../src/notebook/NotebookError.js"
import * as Fake from "./FakeSimulator.js"

const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) Fs.rmSync(d, { recursive: true, force: true })
})
const tmp = () => {
  const d = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-nb-"))
  dirs.push(d)
  return d
}

const fence = "```"
const notebook = (charts: string) => `# A small study

Compares two policies on a tiny trace.

${fence}experiment
{
  "id": "pol",
  "base": { "seed": 3, "policy": { "name": "greedy" }, "trace": { "format": "csv", "path": "trace.csv", "limit": 12 } },
  "variants": [
    { "label": "GREEDY", "set": { "policy.name": "greedy" } },
    { "label": "BEST", "set": { "policy.name": "bestfit" } }
  ]
}
${fence}

${charts}
`

const lineChart = `${fence}chart
{ "type": "line", "title": "Accepted so far", "y": "acceptance_pct" }
${fence}`
const barChart = `${fence}chart
{ "type": "bar", "title": "Rejections", "data": "rejections" }
${fence}`

const setup = (charts = `${lineChart}\n\n${barChart}`) => {
  const dir = tmp()
  Fs.writeFileSync(Path.join(dir, "trace.csv"), "arrival_ms,lifetime_ms,vm_type\n0,1000,m1.small\n")
  const file = Path.join(dir, "study.md")
  Fs.writeFileSync(file, notebook(charts))
  return { dir, file, out: Path.join(dir, "_site") }
}

const build = (file: string, out: string, calls: Fake.Calls, options: Partial<Builder.Options> = {}) =>
  Builder.build(file, { outDir: out, ...options }).pipe(Effect.provide(Fake.make(calls)))

const errorOf = <A>(e: Either.Either<A, NotebookError.NotebookError>): NotebookError.NotebookError => {
  if (Either.isRight(e)) throw new Error("expected the build to fail")
  return e.left
}

describe("Builder.build", () => {
  it.effect("writes a self-contained page with the charts' data, and an index", () =>
    Effect.gen(function* () {
      const { file, out } = setup()
      const calls = { runs: 0, measures: 0 }
      const built = yield* build(file, out, calls)
      expect(calls.runs).toBe(2)
      expect(built).toMatchObject({ title: "A small study", figures: 2, runs: 2, cached: 0 })
      const html = Fs.readFileSync(built.page, "utf8")
      expect(html).toContain("Figure 1.</a> Accepted so far")
      expect(html).toContain('data-nb-chart="0"')
      expect(html).toContain('data-nb-chart="1"')
      // d3 and the helpers inlined; nothing fetched.
      expect(html).toContain("https://d3js.org v7")
      expect(html).toContain("window.NB = NB")
      expect(html).not.toMatch(/<script[^>]+src=/)
      expect(html).not.toMatch(/<link[^>]+href=/)
      // Caption: trace, seed, policies; rows skipped are reported with the experiment.
      expect(html).toContain("Trace: trace.csv (CSV, first 12 requests, 12 requests simulated, 2 rows skipped).")
      expect(html).toContain("Seed: 3.")
      expect(html).toContain("Policies: GREEDY, BESTFIT.")
      expect(html).toContain("2 cancelled (status 5)")
      // Exact values table under the chart.
      expect(html).toMatch(/<details class="nb-values"><summary>Exact values<\/summary><table/)
      const index = Fs.readFileSync(Path.join(out, "index.html"), "utf8")
      expect(index).toContain('<a href="study.html">A small study</a>')
      expect(index).toContain("Compares two policies on a tiny trace.")
    })
  )

  it.effect("reuses cached results until the trace's content changes", () =>
    Effect.gen(function* () {
      const { dir, file, out } = setup()
      const calls = { runs: 0, measures: 0 }
      yield* build(file, out, calls)
      const again = yield* build(file, out, calls)
      expect(calls.runs).toBe(2)
      expect(again.cached).toBe(2)
      // A copy of the notebook elsewhere, same trace content, same cache: still cached.
      const copy = Path.join(dir, "copy")
      Fs.mkdirSync(copy)
      Fs.copyFileSync(Path.join(dir, "trace.csv"), Path.join(copy, "trace.csv"))
      Fs.copyFileSync(file, Path.join(copy, "study.md"))
      yield* build(Path.join(copy, "study.md"), out, calls, { cacheDir: Path.join(dir, ".cache") })
      expect(calls.runs).toBe(2)
      // Same name, new content: both runs again.
      Fs.appendFileSync(Path.join(dir, "trace.csv"), "5,1000,m1.small\n")
      yield* build(file, out, calls)
      expect(calls.runs).toBe(4)
      // A changed seed is a different experiment; --fresh ignores the cache.
      Fs.writeFileSync(file, Fs.readFileSync(file, "utf8").replace('"seed": 3', '"seed": 4'))
      yield* build(file, out, calls)
      expect(calls.runs).toBe(6)
      yield* build(file, out, calls, { fresh: true })
      expect(calls.runs).toBe(8)
    })
  )

  it.effect("names the notebook line and field of a chart that asks for a field that does not exist", () =>
    Effect.gen(function* () {
      const { file, out } = setup(`${fence}chart\n{ "type": "line", "title": "T", "y": "acceptance_pc" }\n${fence}`)
      const e = errorOf(yield* Effect.either(build(file, out, { runs: 0, measures: 0 })))
      expect(e.line).toBe(16)
      expect(e.field).toBe("y")
      expect(e.message).toContain(`${file}:16: field "y": chart "T": no timeseries field "acceptance_pc"`)
      expect(e.message).toContain("acceptance_pct")
      expect(Fs.existsSync(Path.join(out, "study.html"))).toBe(false)
    })
  )

  it.effect("fails before running anything when a chart block is malformed", () =>
    Effect.gen(function* () {
      const { file, out } = setup(`${fence}chart\n{ "type": "pie", "title": "T" }\n${fence}`)
      const calls = { runs: 0, measures: 0 }
      const e = errorOf(yield* Effect.either(build(file, out, calls)))
      expect(e.message).toMatch(/:16: chart block: .*"pie"/s)
      expect(calls.runs).toBe(0)
    })
  )

  it.effect("reports a simulator error with the experiment's line and the run", () =>
    Effect.gen(function* () {
      const { file, out } = setup()
      const e = errorOf(yield* Effect.either(Builder.build(file, { outDir: out }).pipe(Effect.provide(Fake.make({ runs: 0, measures: 0 }, { fail: "unknown policy" })))))
      expect(e.message).toBe(`${file}:5: field "policy": run "GREEDY": unknown policy`)
    })
  )

  it.effect("rejects a chart-js block that does not parse, naming its line", () =>
    Effect.gen(function* () {
      const { file, out } = setup(`${fence}chart-js pol Broken\nel.append(\n${fence}`)
      const e = errorOf(yield* Effect.either(build(file, out, { runs: 0, measures: 0 })))
      expect(e.line).toBe(16)
      expect(e.message).toContain("chart-js block does not parse")
    })
  )

  it.effect("caches measured runs with the machine they ran on, and measures again on request", () =>
    Effect.gen(function* () {
      const { file, out } = setup()
      Fs.writeFileSync(file, Fs.readFileSync(file, "utf8").replace('"id": "pol",', '"id": "pol", "measure": true,'))
      const calls = { runs: 0, measures: 0 }
      yield* build(file, out, calls)
      yield* build(file, out, calls)
      expect(calls).toEqual({ runs: 0, measures: 2 })
      yield* build(file, out, calls, { remeasure: true })
      expect(calls.measures).toBe(4)
      const html = Fs.readFileSync(Path.join(out, "study.html"), "utf8")
      expect(html).toMatch(/Measured \d{4}-\d\d-\d\d on .+ machine-dependent figures/)
    })
  )
})

describe("Dataset.derive", () => {
  it("counts requests accepted and rejected so far at each sample, once per request", () => {
    const r = Fake.result({ seed: 1, trace: { limit: 10 } })
    const d = Dataset.derive({
      ...r,
      decisions: [
        { timeMs: 0, requestId: 1, outcome: "placed", reason: undefined },
        { timeMs: 0, requestId: 1, outcome: "placed", reason: undefined },
        { timeMs: 3_600_000, requestId: 2, outcome: "rejected", reason: "NoPublicAddress" },
        { timeMs: 3_600_001, requestId: 3, outcome: "placed", reason: undefined }
      ]
    })
    expect(d.timeseries["requests"]!.slice(0, 3)).toEqual([1, 2, 3])
    expect(d.timeseries["accepted"]!.slice(0, 3)).toEqual([1, 1, 2])
    expect(d.timeseries["acceptance_pct"]!.slice(0, 3)).toEqual([100, 50, (2 / 3) * 100])
    expect(d.timeseries["rejected.NoPublicAddress"]!.slice(0, 3)).toEqual([0, 1, 1])
    expect(d.timeseries["used_vcpu"]![1]).toBe(2)
    expect(d.timeseries["zone.zone-a.used_vcpu"]![1]).toBe(1)
    expect(d.timeseries["util_cores_pct"]![1]).toBe(12.5)
    expect(d.rejections).toEqual({ NoPublicAddress: 1 })
    expect(d.summary["acceptance_pct"]).toBeCloseTo(80)
    expect(d.summary["util_cores_pct"]).toBe(25)
  })
})
