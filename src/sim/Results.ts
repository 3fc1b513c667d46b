/**
 * Results on disk: the run summary's shape, timeseries.csv, and results.sqlite (schema documented in
 * docs/results-schema.md — keep the two in step). The SQLite file holds one row per run in `runs`
 * and that run's placements, time series, rejections and skipped trace rows, keyed by run_id; a sweep
 * puts all its runs in one file.
 */
import * as Fs from "node:fs"
import * as Readline from "node:readline"
import { SqlClient } from "@effect/sql"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { Effect, Schema } from "effect"
import type * as Metrics from "./Metrics.js"
import * as Text from "./Text.js"

/** What `euca sim run` prints with --json and writes to summary.json. */
export interface RunSummary extends Metrics.Summary {
  readonly experiment: string
  readonly engine: "fast" | "reference"
  readonly seed: number
  readonly policy: string
  readonly networkMode: string
  /** null: no horizon (the run ended with its last event). */
  readonly horizonMs: number | null
  readonly trace: {
    readonly format: string
    readonly path: string | null
    /** Requests handed to the engine. */
    readonly requests: number
    /** Requests that arrived after later ones had been simulated (taken at the current time). */
    readonly late: number
    /** Reading stopped at the first request after the horizon. */
    readonly stoppedAtHorizon: boolean
    /** Trace rows not turned into requests, by reason. */
    readonly skipped: Readonly<Record<string, number>>
    /** Requests without a lifetime (they run until the horizon), by reason. */
    readonly untilHorizon: Readonly<Record<string, number>>
  }
}

export class ResultsError extends Schema.TaggedError<ResultsError>()("ResultsError", {
  file: Schema.String,
  message: Schema.String
}) {}

// ------------------------------------------------------------------------------------------------
// timeseries.csv

export const timeseriesHeader = "time_ms,zone,used_vcpu,used_mib,used_gib,running_instances,nodes_on,energy_wh,public_addresses,vlans"

export const timeseriesRow = (s: Metrics.Sample): string =>
  `${s.timeMs},${s.zone},${s.usedVcpu},${s.usedMiB},${s.usedGiB},${s.running},${s.nodesOn},${s.energyWh.toFixed(3)},${s.publicAddresses},${s.vlans}`

// ------------------------------------------------------------------------------------------------
// Files written while the engine runs: synchronous writes to a descriptor (the engine is synchronous).

export interface FileSink {
  readonly path: string
  /** Line by line, buffered. */
  readonly out: Text.Buffered
  /** Whole chunks, for writers that buffer themselves (the event log). */
  readonly write: (chunk: string) => void
  readonly close: () => void
}

export const fileSink = (path: string): FileSink => {
  const fd = Fs.openSync(path, "w")
  const write = (chunk: string): void => {
    Fs.writeSync(fd, chunk)
  }
  const out = new Text.Buffered(write)
  let open = true
  return {
    path,
    out,
    write,
    close: () => {
      if (!open) return
      open = false
      out.flush()
      Fs.closeSync(fd)
    }
  }
}

// ------------------------------------------------------------------------------------------------
// results.sqlite

export const schema: ReadonlyArray<string> = [
  `CREATE TABLE IF NOT EXISTS runs (
    run_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    experiment TEXT NOT NULL,
    engine TEXT NOT NULL,
    policy TEXT NOT NULL,
    seed INTEGER NOT NULL,
    network_mode TEXT NOT NULL,
    horizon_ms INTEGER,
    simulated_ms INTEGER NOT NULL,
    events INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    accepted INTEGER NOT NULL,
    rejected INTEGER NOT NULL,
    late_requests INTEGER NOT NULL,
    instances_placed INTEGER NOT NULL,
    instances_started INTEGER NOT NULL,
    instances_failed INTEGER NOT NULL,
    instances_completed INTEGER NOT NULL,
    instances_live_at_end INTEGER NOT NULL,
    wait_mean_ms REAL NOT NULL,
    wait_p50_ms INTEGER NOT NULL,
    wait_p95_ms INTEGER NOT NULL,
    wait_max_ms INTEGER NOT NULL,
    util_cores REAL NOT NULL,
    util_memory REAL NOT NULL,
    util_disk REAL NOT NULL,
    nodes INTEGER NOT NULL,
    peak_nodes_on INTEGER NOT NULL,
    wake_ups INTEGER NOT NULL,
    power_downs INTEGER NOT NULL,
    energy_wh REAL NOT NULL,
    peak_public_addresses INTEGER NOT NULL,
    peak_vlans INTEGER NOT NULL,
    trace_format TEXT NOT NULL,
    trace_path TEXT,
    summary_json TEXT NOT NULL
  )`,
  `CREATE TABLE IF NOT EXISTS rejections (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    reason TEXT NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (run_id, reason)
  )`,
  `CREATE TABLE IF NOT EXISTS skipped_rows (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    reason TEXT NOT NULL,
    rows INTEGER NOT NULL,
    PRIMARY KEY (run_id, reason)
  )`,
  `CREATE TABLE IF NOT EXISTS placements (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    time_ms INTEGER NOT NULL,
    request_id INTEGER NOT NULL,
    instance_id TEXT,
    zone TEXT,
    node TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('placed', 'rejected')),
    reason TEXT
  )`,
  `CREATE INDEX IF NOT EXISTS placements_by_run ON placements (run_id, time_ms)`,
  `CREATE TABLE IF NOT EXISTS timeseries (
    run_id INTEGER NOT NULL REFERENCES runs(run_id),
    time_ms INTEGER NOT NULL,
    zone TEXT NOT NULL,
    used_vcpu INTEGER NOT NULL,
    used_mib INTEGER NOT NULL,
    used_gib INTEGER NOT NULL,
    running_instances INTEGER NOT NULL,
    nodes_on INTEGER NOT NULL,
    energy_wh REAL NOT NULL,
    public_addresses INTEGER NOT NULL,
    vlans INTEGER NOT NULL,
    PRIMARY KEY (run_id, time_ms, zone)
  )`
]

/** One run to store: its summary, the experiment file, and the CSV files it wrote (imported row by row). */
export interface StoredRun {
  readonly summary: RunSummary
  readonly experimentFile: string
  readonly placementsCsv: string | undefined
  readonly timeseriesCsv: string | undefined
}

/** Splits one line of our own CSV (fields quoted only when they hold a comma or a quote). */
export const splitCsv = (line: string): Array<string> => {
  if (!line.includes('"')) return line.split(",")
  const out: Array<string> = []
  let cur = ""
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"'
        i++
      } else if (ch === '"') quoted = false
      else cur += ch
    } else if (ch === '"') quoted = true
    else if (ch === ",") {
      out.push(cur)
      cur = ""
    } else cur += ch
  }
  out.push(cur)
  return out
}

const CHUNK = 400

/** Rows of a CSV file after its header, in chunks (never the whole file in memory). */
const importCsv = <A>(
  file: string,
  toRow: (fields: Array<string>) => A,
  insert: (rows: ReadonlyArray<A>) => Effect.Effect<unknown, unknown>
): Effect.Effect<void, unknown> =>
  Effect.gen(function* () {
    const rl = Readline.createInterface({ input: Fs.createReadStream(file), crlfDelay: Number.POSITIVE_INFINITY })
    const it = rl[Symbol.asyncIterator]()
    let header = true
    let rows: Array<A> = []
    try {
      for (;;) {
        const r = yield* Effect.promise(() => it.next())
        if (r.done) break
        if (header) {
          header = false
          continue
        }
        if (r.value === "") continue
        rows.push(toRow(splitCsv(r.value)))
        if (rows.length >= CHUNK) {
          yield* insert(rows)
          rows = []
        }
      }
      if (rows.length > 0) yield* insert(rows)
    } finally {
      rl.close()
    }
  })

const nullable = (s: string | undefined): string | null => (s === undefined || s === "" ? null : s)

/** Writes runs into an SQLite file (created if need be; run ids continue after those already there). */
export const writeSqlite = (file: string, runs: ReadonlyArray<StoredRun>): Effect.Effect<ReadonlyArray<number>, ResultsError> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    for (const stmt of schema) yield* sql.unsafe(stmt)
    const ids: Array<number> = []
    for (const run of runs) {
      const id = yield* sql.withTransaction(
        Effect.gen(function* () {
          const s = run.summary
          const last = yield* sql<{ readonly id: number | null }>`SELECT MAX(run_id) AS id FROM runs`
          const runId = (last[0]?.id ?? 0) + 1
          yield* sql`INSERT INTO runs ${sql.insert({
            run_id: runId,
            name: s.experiment,
            experiment: run.experimentFile,
            engine: s.engine,
            policy: s.policy,
            seed: s.seed,
            network_mode: s.networkMode,
            horizon_ms: s.horizonMs,
            simulated_ms: s.simulatedMs,
            events: s.events,
            requests: s.requests.total,
            accepted: s.requests.accepted,
            rejected: s.requests.rejected,
            late_requests: s.trace.late,
            instances_placed: s.instances.placed,
            instances_started: s.instances.started,
            instances_failed: s.instances.failed,
            instances_completed: s.instances.completed,
            instances_live_at_end: s.instances.liveAtEnd,
            wait_mean_ms: s.waitMs.mean,
            wait_p50_ms: s.waitMs.p50,
            wait_p95_ms: s.waitMs.p95,
            wait_max_ms: s.waitMs.max,
            util_cores: s.utilisation.cores,
            util_memory: s.utilisation.memory,
            util_disk: s.utilisation.disk,
            nodes: s.nodes.total,
            peak_nodes_on: s.nodes.peakOn,
            wake_ups: s.nodes.wakeUps,
            power_downs: s.nodes.powerDowns,
            energy_wh: s.energyWh,
            peak_public_addresses: s.network.peakPublicAddresses,
            peak_vlans: s.network.peakVlans,
            trace_format: s.trace.format,
            trace_path: s.trace.path,
            summary_json: JSON.stringify(s)
          })}`
          for (const [reason, n] of Object.entries(s.requests.rejectedByReason)) {
            yield* sql`INSERT INTO rejections ${sql.insert({ run_id: runId, reason, requests: n })}`
          }
          for (const [reason, n] of Object.entries(s.trace.skipped)) {
            yield* sql`INSERT INTO skipped_rows ${sql.insert({ run_id: runId, reason, rows: n })}`
          }
          if (run.placementsCsv !== undefined) {
            yield* importCsv(
              run.placementsCsv,
              (f) => ({
                run_id: runId,
                time_ms: Number(f[0]),
                request_id: Number(f[1]),
                instance_id: nullable(f[2]),
                zone: nullable(f[3]),
                node: nullable(f[4]),
                outcome: f[5]!,
                reason: nullable(f[6])
              }),
              (rows) => sql`INSERT INTO placements ${sql.insert(rows)}`
            )
          }
          if (run.timeseriesCsv !== undefined) {
            yield* importCsv(
              run.timeseriesCsv,
              (f) => ({
                run_id: runId,
                time_ms: Number(f[0]),
                zone: f[1]!,
                used_vcpu: Number(f[2]),
                used_mib: Number(f[3]),
                used_gib: Number(f[4]),
                running_instances: Number(f[5]),
                nodes_on: Number(f[6]),
                energy_wh: Number(f[7]),
                public_addresses: Number(f[8]),
                vlans: Number(f[9])
              }),
              (rows) => sql`INSERT INTO timeseries ${sql.insert(rows)}`
            )
          }
          return runId
        })
      )
      ids.push(id)
    }
    return ids
  }).pipe(
    Effect.provide(SqliteClient.layer({ filename: file, disableWAL: true })),
    Effect.catchAll((e) => Effect.fail(new ResultsError({ file, message: `cannot write the results: ${e instanceof Error ? e.message : String((e as { message?: unknown }).message ?? e)}` })))
  )
