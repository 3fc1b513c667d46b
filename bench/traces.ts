/**
 * Trace reading speed: records/s for every bundled trace, and the line splitter against node:readline.
 * Run: npx vite-node bench/traces.ts [-- --json]
 */
import * as Path from "node:path"
import * as Readline from "node:readline"
import * as LineSource from "../src/sim/traces/LineSource.js"
import * as TraceSpec from "../src/sim/traces/TraceSpec.js"

const root = Path.resolve(import.meta.dirname ?? ".", "..")
const json = process.argv.includes("--json")

const traces: ReadonlyArray<TraceSpec.TraceSpec> = [
  { format: "swf", path: "traces/swf/KTH-SP2-1996-2.1-cln.swf.gz" },
  { format: "swf", path: "traces/swf/NASA-iPSC-1993-3.1-cln.swf.gz" },
  { format: "swf", path: "traces/swf/LLNL-Thunder-2007-1.1-cln.swf.gz" },
  { format: "swf", path: "traces/swf/HPC2N-2002-2.1-cln.first20000.swf.gz" },
  { format: "azure", path: "traces/azure-v1/v1.dev.txt.gz", durations: "traces/azure-v1/v1.dev.c2100000.txt.gz" },
  { format: "azure", path: "traces/azure-v1/v1.test.txt.gz", durations: "traces/azure-v1/v1.test.c2591400.txt.gz" },
  { format: "azure", path: "traces/azure-v1/v1.test.txt.gz", durations: "traces/azure-v1/v1.test.c2591400.txt.gz", batches: "vm" },
  { format: "alibaba", path: "traces/alibaba-gpu-v2023/openb_pod_list_default.csv" },
  { format: "google", path: "traces/google-2011/task-events-sample-1.csv" },
  { format: "csv", path: "traces/csv/sized.csv" },
  { format: "csv", path: "traces/csv/typed.csv" }
]

const best = async (runs: number, f: () => Promise<number>): Promise<{ n: number; s: number }> => {
  let s = Number.POSITIVE_INFINITY
  let n = 0
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint()
    n = await f()
    s = Math.min(s, Number(process.hrtime.bigint() - t0) / 1e9)
  }
  return { n, s }
}

const readTrace = async (spec: TraceSpec.TraceSpec): Promise<number> => {
  const reader = await TraceSpec.openPromise(spec, root)
  let n = 0
  try {
    for (;;) {
      const b = await reader.nextPromise()
      if (b === undefined) break
      n += b.length
    }
  } finally {
    reader.close()
  }
  return n
}

const splitter = async (file: string): Promise<number> => {
  const src = await LineSource.LineSource.open(file)
  let n = 0
  for (;;) {
    const s = src.take()
    if (s === undefined) {
      if (await src.fill()) continue
      break
    }
    n += s.length > 0 ? 1 : 1
  }
  return n
}

const readline = async (file: string): Promise<number> => {
  const { stream } = await LineSource.openBytes(file)
  const rl = Readline.createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY })
  let n = 0
  for await (const s of rl) n += s.length > 0 ? 1 : 1
  return n
}

const rows: Array<Record<string, string | number>> = []
for (const spec of traces) {
  const { n, s } = await best(5, () => readTrace(spec))
  rows.push({
    trace: `${spec.format} ${Path.basename(spec.path)}${spec.format === "azure" && spec.batches === "vm" ? " (vm)" : ""}`,
    requests: n,
    seconds: Number(s.toFixed(4)),
    recordsPerSecond: Math.round(n / s)
  })
}
const lineFiles = ["traces/swf/LLNL-Thunder-2007-1.1-cln.swf.gz", "traces/alibaba-gpu-v2023/openb_pod_list_default.csv"]
const lines: Array<Record<string, string | number>> = []
for (const f of lineFiles) {
  const file = Path.join(root, f)
  const a = await best(5, () => splitter(file))
  const b = await best(5, () => readline(file))
  lines.push({
    file: Path.basename(f),
    lines: a.n,
    splitterLinesPerSecond: Math.round(a.n / a.s),
    readlineLinesPerSecond: Math.round(b.n / b.s)
  })
}
if (json) console.log(JSON.stringify({ traces: rows, lines }, null, 2))
else {
  console.table(rows)
  console.table(lines)
}
