/**
 * The HTML of a built notebook and of the index. A page is self-contained: d3, the chart helpers and
 * the data are inlined, nothing is fetched at view time, and it opens from file:// as well as from a
 * server. Exact values are in the page as HTML tables (they need no script), the charts as data
 * drawn by client/charts.js.
 */
import type * as ChartSpec from "./ChartSpec.js"
import * as Markdown from "./Markdown.js"

export type Section =
  | { readonly _tag: "Html"; readonly html: string }
  | { readonly _tag: "Chart"; readonly index: number; readonly figure: number; readonly chart: ChartSpec.ChartData; readonly caption: string }
  | { readonly _tag: "Custom"; readonly index: number; readonly figure: number; readonly title: string; readonly experiment: string; readonly code: string; readonly caption: string }
  | { readonly _tag: "Experiment"; readonly id: string; readonly title: string | undefined; readonly source: string; readonly runs: ReadonlyArray<RunRow> }

export interface RunRow {
  readonly label: string
  readonly status: string
  readonly requests: number | undefined
  /** Requests that arrived after later ones had been simulated (taken at the time reached). */
  readonly late: number | undefined
  readonly skipped: Readonly<Record<string, number>>
  readonly untilHorizon: Readonly<Record<string, number>>
}

export interface PageInput {
  readonly title: string
  readonly source: string
  readonly sections: ReadonlyArray<Section>
  readonly charts: ReadonlyArray<ChartSpec.ChartData>
  /** Per experiment id, the data a ```chart-js block receives. */
  readonly experiments: Readonly<Record<string, unknown>>
  readonly d3: string
  readonly chartsJs: string
  readonly footer: string
}

const e = Markdown.escape

const fmt = (v: unknown): string => {
  if (v === null || v === undefined || (typeof v === "number" && !Number.isFinite(v))) return "–"
  if (typeof v !== "number") return e(String(v))
  if (Number.isInteger(v)) return v.toLocaleString("en-US")
  return Number(v.toPrecision(6)).toLocaleString("en-US", { maximumFractionDigits: 6 })
}

/** "label (unit)", unless the label already names the unit ("running instances", not "running instances (instances)"). */
export const withUnit = (label: string, unit: string) =>
  !unit || new RegExp(`(^|\\W)${unit.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(\\W|$)`, "i").test(label) ? label : `${label} (${unit})`

/** Rows to show out of n: all up to `max`, else evenly spaced, first and last included. */
const pick = (n: number, max: number): Array<number> => {
  if (n <= max) return Array.from({ length: n }, (_v, i) => i)
  const out: Array<number> = []
  for (let k = 0; k < max; k++) out.push(Math.round((k * (n - 1)) / (max - 1)))
  return [...new Set(out)]
}

/** The exact values of a chart, as an HTML table (long time series evenly thinned, with a note). */
export const valuesTable = (c: ChartSpec.ChartData): string => {
  const table = (head: ReadonlyArray<string>, rows: ReadonlyArray<ReadonlyArray<unknown>>, note = "") =>
    `<table class="nb-table"><thead><tr>${head.map((h) => `<th>${e(h)}</th>`).join("")}</tr></thead><tbody>${rows
      .map((r) => `<tr>${r.map((v, i) => (i === 0 ? `<th scope="row">${fmt(v)}</th>` : `<td class="num">${fmt(v)}</td>`)).join("")}</tr>`)
      .join("")}</tbody></table>${note ? `<p class="nb-note">${e(note)}</p>` : ""}`
  switch (c.kind) {
    case "bar":
      return table([c.x.label || "", ...c.keys.map((k) => withUnit(k, c.y.unit))], c.groups.map((g, i) => [g, ...c.values[i]!]))
    case "table":
      return ""
    case "line": {
      const xs = [...new Set(c.series.flatMap((s) => s.x))].sort((a, b) => a - b)
      const lookup = c.series.map((s) => new Map(s.x.map((x, i) => [x, s.y[i]])))
      const idx = pick(xs.length, 40)
      const note = idx.length < xs.length ? `${idx.length} of ${xs.length} rows shown, evenly spaced; hover the chart for every value.` : ""
      return table(
        [withUnit(c.x.label, c.x.unit), ...c.series.map((s) => withUnit(s.name, c.y.unit))],
        idx.map((i) => [xs[i], ...lookup.map((m) => m.get(xs[i]!))]),
        note
      )
    }
    case "area":
      return c.panels
        .map((p) => {
          const idx = pick(p.x.length, 20)
          const note = idx.length < p.x.length ? `${idx.length} of ${p.x.length} rows shown, evenly spaced; hover the chart for every value.` : ""
          return `${c.panels.length > 1 ? `<h4>${e(p.name)}</h4>` : ""}${table(
            [withUnit(c.x.label, c.x.unit), ...p.series.map((s) => withUnit(s.name, c.y.unit)), withUnit("total", c.y.unit)],
            idx.map((i) => [p.x[i], ...p.series.map((s) => s.y[i]), p.series.reduce((a, s) => a + (s.y[i] ?? 0), 0)]),
            note
          )}`
        })
        .join("")
  }
}

const figure = (s: Extract<Section, { _tag: "Chart" }>): string => {
  const c = s.chart
  const id = `figure-${s.figure}`
  if (c.kind === "table") {
    return `<figure class="nb-figure" id="${id}"><figcaption class="nb-title"><a href="#${id}">Table ${s.figure}.</a> ${e(c.title)}</figcaption>
<table class="nb-table"><thead><tr>${c.columns.map((h, i) => `<th>${e(withUnit(h, c.units[i] ?? ""))}</th>`).join("")}</tr></thead><tbody>${c.rows
      .map((r) => `<tr>${r.map((v, i) => (i === 0 ? `<th scope="row">${fmt(v)}</th>` : `<td class="num">${fmt(v)}</td>`)).join("")}</tr>`)
      .join("")}</tbody></table>
<p class="nb-caption">${e(s.caption)}</p></figure>`
  }
  return `<figure class="nb-figure" id="${id}"><figcaption class="nb-title"><a href="#${id}">Figure ${s.figure}.</a> ${e(c.title)}</figcaption>
<div class="nb-chart" data-nb-chart="${s.index}"></div>
<p class="nb-caption">${e(s.caption)}${c.note ? ` <span class="nb-note">(${e(c.note)})</span>` : ""}</p>
<details class="nb-values"><summary>Exact values</summary>${valuesTable(c)}</details></figure>`
}

const custom = (s: Extract<Section, { _tag: "Custom" }>): string => {
  const id = `figure-${s.figure}`
  return `<figure class="nb-figure" id="${id}"><figcaption class="nb-title"><a href="#${id}">Figure ${s.figure}.</a> ${e(s.title)}</figcaption>
<div class="nb-chart nb-custom" data-nb-custom="${s.index}"></div>
<p class="nb-caption">${e(s.caption)}</p></figure>`
}

const counts = (o: Readonly<Record<string, number>>) =>
  Object.entries(o)
    .map(([k, v]) => `${v.toLocaleString("en-US")} ${e(k)}`)
    .join("; ") || "none"

const experiment = (s: Extract<Section, { _tag: "Experiment" }>): string =>
  `<section class="nb-experiment" id="experiment-${e(s.id)}"><details><summary>Experiment <code>${e(s.id)}</code>${s.title ? ` — ${e(s.title)}` : ""}: ${s.runs.length} run${s.runs.length === 1 ? "" : "s"}</summary>
<pre><code>${e(s.source)}</code></pre>
<table class="nb-table"><thead><tr><th>run</th><th>requests simulated</th><th>late arrivals</th><th>trace rows skipped (why)</th><th>requests without lifetime (run to the horizon)</th><th>results</th></tr></thead><tbody>${s.runs
    .map(
      (r) =>
        `<tr><th scope="row">${e(r.label)}</th><td class="num">${fmt(r.requests)}</td><td class="num">${fmt(r.late)}</td><td>${counts(r.skipped)}</td><td>${counts(r.untilHorizon)}</td><td>${e(r.status)}</td></tr>`
    )
    .join("")}</tbody></table></details></section>`

/** `</script` and `<!--` cannot appear inside an inline script. */
const scriptSafe = (s: string) => s.replace(/<\/(script)/gi, "<\\/$1").replace(/<!--/g, "<\\!--")
const jsonSafe = (v: unknown) => JSON.stringify(v).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(/\u2029/g, "\\u2029")

export const page = (p: PageInput): string => {
  const body = p.sections
    .map((s) => (s._tag === "Html" ? s.html : s._tag === "Chart" ? figure(s) : s._tag === "Custom" ? custom(s) : experiment(s)))
    .join("\n")
  const blocks = p.sections.filter((s): s is Extract<Section, { _tag: "Custom" }> => s._tag === "Custom")
  const blockJs = `window.NB_BLOCKS = [${blocks
    .map((b) => `{ experiment: ${JSON.stringify(b.experiment)}, fn: function (el, data, NB, d3) {\n${b.code}\n} }`)
    .join(",\n")}];`
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="euca notebook build">
<title>${e(p.title)}</title>
<style>${css}</style>
</head>
<body>
<header class="nb-header"><a href="index.html">← All notebooks</a><span class="nb-source">source: ${e(p.source)}</span></header>
<main class="nb-main">
${body}
</main>
<footer class="nb-footer">${Markdown.inline(p.footer)}</footer>
<script>${scriptSafe(p.d3)}</script>
<script type="application/json" id="nb-data">${jsonSafe({ charts: p.charts, experiments: p.experiments })}</script>
<script>${scriptSafe(blockJs)}</script>
<script>${scriptSafe(p.chartsJs)}</script>
</body>
</html>
`
}

export interface IndexEntry {
  readonly href: string
  readonly title: string
  readonly description: string
  readonly source: string
  readonly figures: number
}

export const index = (entries: ReadonlyArray<IndexEntry>, footer: string): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="euca notebook build">
<title>Eucalyptus notebooks</title>
<style>${css}</style>
</head>
<body>
<main class="nb-main">
<h1>Eucalyptus notebooks</h1>
<p>Trace-driven experiments on the Eucalyptus simulator. Each page is built from a Markdown notebook in <code>notebooks/</code>:
its experiments are re-run by the simulator (results cached by content) and drawn with d3. Pages work offline.</p>
<ul class="nb-index">
${entries
  .map(
    (x) =>
      `<li><a href="${e(x.href)}">${e(x.title)}</a> <span class="nb-note">(${x.figures} figure${x.figures === 1 ? "" : "s"}; ${e(x.source)})</span><br>${e(x.description)}</li>`
  )
  .join("\n")}
</ul>
</main>
<footer class="nb-footer">${Markdown.inline(footer)}</footer>
</body>
</html>
`

const css = `
:root { --fg: #1d2327; --muted: #5f6b73; --line: #d8dee2; --bg: #fff; --accent: #2060a0; }
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.nb-header { display: flex; justify-content: space-between; gap: 1em; padding: .6em 1.2em; border-bottom: 1px solid var(--line); font-size: .9em; }
.nb-header a, .nb-main a { color: var(--accent); }
.nb-source { color: var(--muted); font-family: ui-monospace, monospace; }
.nb-main { max-width: 1000px; margin: 0 auto; padding: 1em 1.2em 3em; }
h1 { font-size: 1.9em; line-height: 1.2; }
h2 { margin-top: 2em; border-bottom: 1px solid var(--line); padding-bottom: .2em; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9em; background: #f3f5f6; padding: .05em .3em; border-radius: 3px; }
pre { background: #f6f8f9; border: 1px solid var(--line); border-radius: 4px; padding: .8em; overflow: auto; font-size: .85em; line-height: 1.4; }
pre code { background: none; padding: 0; }
blockquote { margin: 1em 0; padding: .1em 1em; border-left: 4px solid var(--line); color: var(--muted); }
table.md, .nb-table { border-collapse: collapse; margin: .6em 0; font-size: .88em; }
table.md th, table.md td, .nb-table th, .nb-table td { border: 1px solid var(--line); padding: .25em .55em; text-align: left; vertical-align: top; }
.nb-table thead th { background: #f3f5f6; }
.nb-table td.num, .nb-tip td.num { text-align: right; font-variant-numeric: tabular-nums; }
.nb-figure { margin: 1.8em 0; padding: 1em 1em .6em; border: 1px solid var(--line); border-radius: 6px; }
.nb-title { font-weight: 600; margin-bottom: .4em; }
.nb-title a { color: inherit; text-decoration: none; }
.nb-chart { width: 100%; overflow-x: auto; }
.nb-svg { display: block; max-width: 100%; height: auto; font: 12px system-ui, sans-serif; }
.nb-axis-title { fill: var(--fg); font-size: 12.5px; }
.nb-axis text { fill: #3d474d; }
.nb-grid line { stroke: #e9edef; }
.nb-rule { stroke: #7d8a92; stroke-dasharray: 3 3; }
.nb-legend { display: flex; flex-wrap: wrap; gap: .3em 1.1em; font-size: .88em; margin: .2em 0 .4em; }
.nb-legend-item { display: inline-flex; align-items: center; gap: .35em; }
.nb-swatch { display: inline-block; width: .9em; height: .9em; border-radius: 2px; margin-right: .35em; vertical-align: -.1em; }
.nb-caption { color: var(--muted); font-size: .88em; margin: .5em 0 .3em; }
.nb-note { color: var(--muted); font-size: .9em; }
.nb-values summary, .nb-experiment summary { cursor: pointer; color: var(--accent); font-size: .9em; }
.nb-values { margin-top: .3em; overflow-x: auto; }
.nb-experiment { margin: 1em 0; }
.nb-panels { display: grid; grid-template-columns: repeat(auto-fill, minmax(420px, 1fr)); gap: .5em 1em; }
.nb-panel-title { font-size: .9em; font-weight: 600; margin-top: .3em; }
.nb-tip { position: absolute; z-index: 10; pointer-events: none; background: rgba(255,255,255,.97); border: 1px solid #aab4ba; border-radius: 4px; padding: .35em .55em; font-size: 12.5px; box-shadow: 0 2px 8px rgba(0,0,0,.12); max-width: 420px; }
.nb-tip table { border-collapse: collapse; }
.nb-tip td { padding: .05em .4em; }
.nb-tip-head { font-weight: 600; margin-bottom: .2em; }
.nb-total td { border-top: 1px solid var(--line); font-weight: 600; }
.nb-error { color: #a00; background: #fff4f4; border-color: #e6b8b8; }
.nb-footer { max-width: 1000px; margin: 0 auto; padding: 1em 1.2em 2em; color: var(--muted); font-size: .82em; border-top: 1px solid var(--line); }
.nb-index li { margin: .8em 0; }
`
