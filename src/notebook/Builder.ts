/**
 * Builds notebooks into self-contained pages. Three phases, so that a mistake fails before any long
 * run: (1) parse every block and validate experiments and chart specs; (2) run each experiment's
 * runs through the Simulator, or take them from the cache; (3) compile the charts against the
 * results and write the page. Writes are atomic (temp file + rename): a failed build leaves the
 * previous page in place, never half of a new one.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect } from "effect"
import * as Cache from "./Cache.js"
import * as ChartSpec from "./ChartSpec.js"
import type * as Dataset from "./Dataset.js"
import * as DatasetM from "./Dataset.js"
import * as ExperimentBlock from "./ExperimentBlock.js"
import * as Markdown from "./Markdown.js"
import * as Notebook from "./Notebook.js"
import * as NotebookError from "./NotebookError.js"
import * as Page from "./Page.js"
import type * as RunResult from "./RunResult.js"
import * as Simulator from "./Simulator.js"

export interface Options {
  /** Where pages go (created). */
  readonly outDir: string
  /** Where results are cached; default `.cache` beside the notebook. */
  readonly cacheDir?: string | undefined
  /** Measure the `measure: true` experiments again instead of using cached measurements. */
  readonly remeasure?: boolean | undefined
  /** Ignore every cached result (they are still rewritten). */
  readonly fresh?: boolean | undefined
  /** Progress: `final` false for a transient status (a terminal overwrites it), true for a line to keep. */
  readonly progress?: ((line: string, final: boolean) => void) | undefined
}

export interface Built {
  readonly file: string
  readonly page: string
  readonly title: string
  readonly description: string
  readonly figures: number
  readonly runs: number
  readonly cached: number
  readonly seconds: number
}

type Parsed =
  | { readonly _tag: "Prose"; readonly html: string }
  | { readonly _tag: "Experiment"; readonly exp: ExperimentBlock.Experiment; readonly source: string }
  | { readonly _tag: "Chart"; readonly line: number; readonly spec: ChartSpec.ChartSpec; readonly experiment: string }
  | { readonly _tag: "ChartJs"; readonly line: number; readonly title: string; readonly experiment: string; readonly code: string }

const fail = (e: unknown, file: string): NotebookError.NotebookError =>
  NotebookError.is(e) ? e : NotebookError.make(file, undefined, undefined, e instanceof Error ? e.message : String(e))

/** Phase 1: every block parsed and checked; experiments expanded into runs. */
export const parse = (file: string): Effect.Effect<{ readonly notebook: Notebook.Notebook; readonly parsed: ReadonlyArray<Parsed> }, NotebookError.NotebookError> =>
  Effect.try({
    try: () => {
      let text: string
      try {
        text = Fs.readFileSync(file, "utf8")
      } catch (e) {
        throw NotebookError.make(file, undefined, undefined, `cannot read the notebook: ${(e as Error).message}`)
      }
      const notebook = Notebook.parse(file, text)
      const parsed: Array<Parsed> = []
      const ids = new Map<string, number>()
      let last: string | undefined
      const target = (line: number, id: string | undefined, field: string): string => {
        const t = id ?? last
        if (t === undefined) throw NotebookError.make(file, line, field, "no experiment to draw: put an ```experiment block above this chart, or name one")
        if (!ids.has(t)) throw NotebookError.make(file, line, field, `no experiment "${t}" above this chart; defined so far: ${[...ids.keys()].join(", ") || "none"}`)
        return t
      }
      for (const b of notebook.blocks) {
        switch (b._tag) {
          case "Prose":
            parsed.push({ _tag: "Prose", html: Markdown.render(b.text) })
            break
          case "Experiment": {
            const exp = ExperimentBlock.expand(file, b.line, b.source)
            if (ids.has(exp.id)) throw NotebookError.make(file, b.line, "id", `experiment "${exp.id}" is already defined at line ${ids.get(exp.id)}`)
            ids.set(exp.id, b.line)
            last = exp.id
            parsed.push({ _tag: "Experiment", exp, source: b.source })
            break
          }
          case "Chart": {
            const spec = ChartSpec.decode(file, b.line, b.source)
            parsed.push({ _tag: "Chart", line: b.line, spec, experiment: target(b.line, spec.experiment, "experiment") })
            break
          }
          case "ChartJs": {
            const [id, ...words] = b.args
            const experiment = target(b.line, id, "chart-js")
            try {
              new Function("el", "data", "NB", "d3", b.source)
            } catch (e) {
              throw NotebookError.make(file, b.line, undefined, `the \`\`\`chart-js block does not parse: ${(e as Error).message}`)
            }
            parsed.push({ _tag: "ChartJs", line: b.line, title: words.join(" ") || `Custom chart of ${experiment}`, experiment, code: b.source })
            break
          }
        }
      }
      return { notebook, parsed }
    },
    catch: (e) => fail(e, file)
  })

/** The machine measurements are taken on (part of a measured run's cache key, shown in captions). */
export const machine = (): RunResult.Machine => {
  const cpus = Os.cpus()
  return {
    cpu: (cpus[0]?.model ?? "unknown CPU").replace(/\s+/g, " ").trim(),
    cpus: cpus.length,
    memoryGiB: Math.round(Os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    measuredAt: new Date().toISOString().slice(0, 10)
  }
}

interface RunOutcome {
  readonly data: ChartSpec.RunData
  readonly status: string
  readonly cached: boolean
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`

/** Phase 2 for one experiment: each run from the cache or the simulator. */
const runExperiment = (
  file: string,
  exp: ExperimentBlock.Experiment,
  cache: Cache.Cache,
  options: Options
): Effect.Effect<ReadonlyArray<RunOutcome>, NotebookError.NotebookError, Simulator.Simulator> =>
  Effect.gen(function* () {
    const sim = yield* Simulator.Simulator
    const name = Path.basename(file)
    const here = machine()
    const out: Array<RunOutcome> = []
    const total = exp.runs.length
    for (const [i, run] of exp.runs.entries()) {
      const where = `${name} · ${exp.id} · run ${i + 1}/${total} "${run.label}"`
      const key = yield* Effect.try({
        try: () =>
          Cache.key(run.experiment, run.baseDir, sim.fingerprint, exp.measure ? "measure" : "run", exp.measure ? { cpu: here.cpu, cpus: here.cpus, node: here.node } : {}),
        catch: (e) =>
          e instanceof Cache.MissingFile
            ? NotebookError.make(file, exp.line, e.field, `run "${run.label}": no such file ${e.file}`)
            : fail(e, file)
      })
      const skipCache = options.fresh === true || (exp.measure && options.remeasure === true)
      const hit = skipCache ? undefined : cache.get(key)
      if (hit !== undefined) {
        options.progress?.(`${where}: cached`, true)
        out.push({ data: { label: run.label, params: run.params, experiment: run.experiment, dataset: hit }, status: "cached", cached: true })
        continue
      }
      const started = performance.now()
      const wrap = (e: Simulator.RunError) => NotebookError.make(file, exp.line, e.field, `run "${run.label}": ${e.message}`)
      let dataset: Dataset.Dataset
      if (exp.measure) {
        options.progress?.(`${where}: measuring in a fresh process …`, false)
        const m = yield* sim.measure(run.experiment, run.baseDir).pipe(Effect.mapError(wrap))
        dataset = DatasetM.derive(m.result, { measurement: m.measurement, machine: here })
      } else {
        options.progress?.(`${where}: running …`, false)
        const r = yield* sim
          .run(run.experiment, run.baseDir, (p) => {
            const pct = p.totalMs !== undefined && p.totalMs > 0 ? ` ${Math.min(100, Math.floor((100 * p.simulatedMs) / p.totalMs))}%` : ""
            options.progress?.(`${where}: running …${pct} (simulated ${(p.simulatedMs / 3_600_000).toFixed(1)} h)`, false)
          })
          .pipe(Effect.mapError(wrap))
        dataset = DatasetM.derive(r)
      }
      yield* Effect.try({ try: () => cache.put(key, dataset), catch: (e) => fail(e, file) })
      const took = performance.now() - started
      const status = exp.measure ? `measured in ${seconds(took)}` : `ran in ${seconds(took)}`
      options.progress?.(`${where}: ${status}`, true)
      out.push({ data: { label: run.label, params: run.params, experiment: run.experiment, dataset }, status, cached: false })
    }
    return out
  })

const root = (() => {
  // The package root: the first directory above this module that holds src/notebook/client/charts.js.
  let d = Path.dirname(fileURLToPath(import.meta.url))
  for (;;) {
    if (Fs.existsSync(Path.join(d, "src", "notebook", "client", "charts.js"))) return d
    const up = Path.dirname(d)
    if (up === d) throw new Error("cannot find src/notebook/client/charts.js above " + fileURLToPath(import.meta.url))
    d = up
  }
})()

let assets: { d3: string; chartsJs: string } | undefined
const loadAssets = () => {
  if (assets === undefined) {
    const d3 = Path.join(root, "node_modules", "d3", "dist", "d3.min.js")
    assets = { d3: Fs.readFileSync(d3, "utf8"), chartsJs: Fs.readFileSync(Path.join(root, "src", "notebook", "client", "charts.js"), "utf8") }
  }
  return assets
}

export const writeAtomic = (file: string, text: string): void => {
  Fs.mkdirSync(Path.dirname(file), { recursive: true })
  const tmp = `${file}.${process.pid}.tmp`
  Fs.writeFileSync(tmp, text)
  Fs.renameSync(tmp, file)
}

/** What a ```chart-js block receives for its experiment: every run's params, summary, rejections and (thinned) time series. */
const customData = (runs: ReadonlyArray<RunOutcome>) => ({
  runs: runs.map((r) => {
    const ts = r.data.dataset.timeseries
    const n = ts["time_ms"]?.length ?? 0
    const step = Math.max(1, Math.ceil(n / 1000))
    const thin: Record<string, Array<number | null>> = {}
    for (const [k, v] of Object.entries(ts)) thin[k] = v.filter((_x, i) => i % step === 0 || i === n - 1)
    return { label: r.data.label, params: r.data.params, summary: r.data.dataset.summary, rejections: r.data.dataset.rejections, timeseries: thin }
  })
})

/** Builds one notebook into `options.outDir/<name>.html`. */
export const build = (file: string, options: Options): Effect.Effect<Built, NotebookError.NotebookError, Simulator.Simulator> =>
  Effect.gen(function* () {
    const started = performance.now()
    const sim = yield* Simulator.Simulator
    const { notebook, parsed } = yield* parse(file)
    const cache = Cache.make(options.cacheDir ?? Path.join(Path.dirname(Path.resolve(file)), ".cache"))

    // Phase 2: run (or recall) every experiment.
    const results = new Map<string, { readonly exp: ExperimentBlock.Experiment; readonly runs: ReadonlyArray<RunOutcome> }>()
    for (const p of parsed) {
      if (p._tag !== "Experiment") continue
      results.set(p.exp.id, { exp: p.exp, runs: yield* runExperiment(file, p.exp, cache, options) })
    }
    const dataOf = (id: string): ChartSpec.ExperimentData => {
      const r = results.get(id)!
      return { id, title: r.exp.title, measure: r.exp.measure, runs: r.runs.map((o) => o.data) }
    }

    // Phase 3: charts and page.
    const sections: Array<Page.Section> = []
    const charts: Array<ChartSpec.ChartData> = []
    const experiments: Record<string, unknown> = {}
    let figure = 0
    let customIndex = 0
    for (const p of parsed) {
      switch (p._tag) {
        case "Prose":
          sections.push({ _tag: "Html", html: p.html })
          break
        case "Experiment": {
          const r = results.get(p.exp.id)!
          sections.push({
            _tag: "Experiment",
            id: p.exp.id,
            title: p.exp.title,
            source: p.source,
            runs: r.runs.map((o) => ({
              label: o.data.label,
              status: o.status,
              requests: numberOr(o.data.dataset.trace["requests"]),
              late: numberOr(o.data.dataset.trace["late"]),
              skipped: record(o.data.dataset.trace["skipped"]),
              untilHorizon: record(o.data.dataset.trace["untilHorizon"])
            }))
          })
          break
        }
        case "Chart": {
          const exp = dataOf(p.experiment)
          const chart = yield* Effect.try({ try: () => ChartSpec.compile(file, p.line, p.spec, exp), catch: (e) => fail(e, file) })
          const caption = [ChartSpec.caption(exp, p.spec.variants), p.spec.caption ?? ""].filter((s) => s !== "").join(" ")
          sections.push({ _tag: "Chart", index: charts.length, figure: ++figure, chart, caption })
          charts.push(chart)
          break
        }
        case "ChartJs": {
          const exp = dataOf(p.experiment)
          experiments[p.experiment] ??= customData(results.get(p.experiment)!.runs)
          sections.push({ _tag: "Custom", index: customIndex++, figure: ++figure, title: p.title, experiment: p.experiment, code: p.code, caption: ChartSpec.caption(exp) })
          break
        }
      }
    }
    const { d3, chartsJs } = yield* Effect.try({ try: loadAssets, catch: (e) => fail(e, file) })
    const name = Path.basename(file).replace(/\.md$/i, "")
    const pageFile = Path.join(options.outDir, `${name}.html`)
    const source = Path.relative(process.cwd(), Path.resolve(file)) || file
    const html = Page.page({
      title: notebook.title,
      source,
      sections,
      charts,
      experiments,
      d3,
      chartsJs,
      footer: `Built with \`euca notebook build ${source}\`. Simulator code fingerprint ${sim.fingerprint.slice(0, 12)}. Figures from simulated runs are deterministic (same experiment and seed, same figure).`
    })
    yield* Effect.try({ try: () => writeAtomic(pageFile, html), catch: (e) => fail(e, file) })
    const all = [...results.values()].flatMap((r) => r.runs)
    const built: Built = {
      file,
      page: pageFile,
      title: notebook.title,
      description: notebook.description,
      figures: figure,
      runs: all.length,
      cached: all.filter((r) => r.cached).length,
      seconds: (performance.now() - started) / 1000
    }
    yield* Effect.try({ try: () => updateIndex(options.outDir, built), catch: (e) => fail(e, file) })
    return built
  })

const numberOr = (v: unknown): number | undefined => (typeof v === "number" ? v : undefined)
const record = (v: unknown): Record<string, number> =>
  typeof v === "object" && v !== null ? Object.fromEntries(Object.entries(v).filter((e): e is [string, number] => typeof e[1] === "number")) : {}

const manifestName = "notebooks.json"

/** Adds (or replaces) a notebook in the out directory's manifest and rewrites index.html from it. */
export const updateIndex = (outDir: string, built: Built): void => {
  const manifest = Path.join(outDir, manifestName)
  let entries: Array<Page.IndexEntry> = []
  if (Fs.existsSync(manifest)) {
    try {
      entries = JSON.parse(Fs.readFileSync(manifest, "utf8")) as Array<Page.IndexEntry>
    } catch {
      entries = []
    }
  }
  const href = Path.basename(built.page)
  const entry: Page.IndexEntry = {
    href,
    title: built.title,
    description: built.description,
    source: Path.relative(process.cwd(), Path.resolve(built.file)) || built.file,
    figures: built.figures
  }
  entries = [...entries.filter((e) => e.href !== href && Fs.existsSync(Path.join(outDir, e.href))), entry].sort((a, b) => a.href.localeCompare(b.href))
  writeAtomic(manifest, JSON.stringify(entries, null, 2) + "\n")
  writeAtomic(Path.join(outDir, "index.html"), Page.index(entries, "Built with `npm run notebooks` (all) or `euca notebook build FILE` (one)."))
}

/** The notebooks of a folder: every `*.md` except README.md, in name order. */
export const notebooksIn = (dir: string): Array<string> =>
  Fs.readdirSync(dir)
    .filter((f) => f.toLowerCase().endsWith(".md") && f.toLowerCase() !== "readme.md")
    .sort()
    .map((f) => Path.join(dir, f))

/** Builds every notebook of `dir`; stops at the first failure (its message names the file and line). */
export const buildAll = (dir: string, options: Options): Effect.Effect<ReadonlyArray<Built>, NotebookError.NotebookError, Simulator.Simulator> =>
  Effect.gen(function* () {
    const files = yield* Effect.try({ try: () => notebooksIn(dir), catch: (e) => fail(e, dir) })
    if (files.length === 0) return yield* Effect.fail(NotebookError.make(dir, undefined, undefined, "no notebooks (*.md other than README.md) in this folder"))
    const out: Array<Built> = []
    for (const f of files) out.push(yield* build(f, { ...options, cacheDir: options.cacheDir ?? Path.join(dir, ".cache") }))
    return out
  })
