/** results.sqlite: readable with the schema docs/results-schema.md documents, holding what the CSV files hold. */
import { describe, expect, it } from "@effect/vitest"
import * as Path from "node:path"
import { SqlClient } from "@effect/sql"
import * as SqliteClient from "@effect/sql-sqlite-node/SqliteClient"
import { Effect } from "effect"
import type * as Results from "../../src/sim/Results.js"
import { runCli } from "./cli/harness.js"
import { placementsCsv, read, withTempDir, writeFiles } from "./support.js"

/** The documented tables: `## name` sections, each with a `| column | type | meaning |` table. */
const documented = (): Map<string, Array<[string, string]>> => {
  const doc = read(Path.join(import.meta.dirname, "../../docs/results-schema.md"))
  const tables = new Map<string, Array<[string, string]>>()
  let current: Array<[string, string]> | undefined
  for (const line of doc.split("\n")) {
    const h = /^## (\w+)$/.exec(line)
    if (h) {
      current = /^[a-z_]+$/.test(h[1]!) ? [] : undefined
      if (current) tables.set(h[1]!, current)
      continue
    }
    const row = /^\| (\w+) \| (INTEGER|TEXT|REAL) \|/.exec(line)
    if (row && current) current.push([row[1]!, row[2]!])
  }
  return tables
}

const query = <A>(file: string, f: (sql: SqlClient.SqlClient) => Effect.Effect<A, unknown>) =>
  Effect.runPromise(
    Effect.gen(function* () {
      return yield* f(yield* SqlClient.SqlClient)
    }).pipe(Effect.provide(SqliteClient.layer({ filename: file, readonly: true, disableWAL: true })))
  )

const experiment = {
  seed: 2,
  cloud: { zones: [{ name: "zone-1", nodes: [{ prefix: "n", count: 2, cores: 2, memoryMiB: 2048, diskGiB: 40 }] }, { name: "zone-2", nodes: [{ prefix: "m", count: 1, cores: 2, memoryMiB: 2048, diskGiB: 40 }] }] },
  policy: { name: "greedy" },
  network: { mode: "MANAGED", publicIps: ["198.51.100.1-198.51.100.4"] },
  trace: { format: "csv", path: "t.csv" },
  metricsIntervalSeconds: 10
}
const csv = "arrival_ms,lifetime_ms,vm_type,count\n0,30000,m1.small,2\n1000,60000,m1.small,2\n2000,10000,m1.large,1\n3000,,m1.small,1\n4000,5000,x1.odd,1\n"

describe("results.sqlite", () => {
  it("has exactly the documented tables and columns, and the run's numbers", () =>
    withTempDir(async (dir) => {
      const exp = writeFiles(dir, { "exp.json": experiment, "t.csv": csv })
      const out = Path.join(dir, "out")
      const r = await runCli(["sim", "run", exp, "--out", out])
      expect(r.error).toBeUndefined()
      const db = Path.join(out, "results.sqlite")
      const docs = documented()
      expect([...docs.keys()].sort()).toEqual(["placements", "rejections", "runs", "skipped_rows", "timeseries"])
      const actual = await query(db, (sql) =>
        Effect.forEach([...docs.keys()], (t) =>
          sql<{ readonly name: string; readonly type: string }>`SELECT name, type FROM pragma_table_info(${t})`.pipe(Effect.map((cols) => [t, cols.map((c) => [c.name, c.type])] as const))
        )
      )
      for (const [t, cols] of actual) expect(cols, t).toEqual(docs.get(t))

      const summary = JSON.parse(read(Path.join(out, "summary.json"))) as Results.RunSummary
      const [run] = await query(db, (sql) => sql<Record<string, unknown>>`SELECT * FROM runs`)
      expect(run).toMatchObject({
        run_id: 1,
        name: "exp",
        policy: "greedy",
        seed: 2,
        requests: summary.requests.total,
        accepted: summary.requests.accepted,
        rejected: summary.requests.rejected,
        instances_placed: summary.instances.placed,
        energy_wh: summary.energyWh,
        peak_public_addresses: summary.network.peakPublicAddresses,
        trace_format: "csv",
        horizon_ms: null
      })
      expect(JSON.parse(run!.summary_json as string)).toEqual(summary)
      expect(summary.requests.rejected).toBeGreaterThan(0)

      const placements = await query(db, (sql) => sql<Record<string, unknown>>`SELECT time_ms, request_id, instance_id, zone, node, outcome, reason FROM placements ORDER BY rowid`)
      const fromCsv = placementsCsv(Path.join(out, "placements.csv")).map((p) => ({
        time_ms: Number(p.time_ms),
        request_id: Number(p.request_id),
        instance_id: p.instance_id || null,
        zone: p.zone || null,
        node: p.node || null,
        outcome: p.outcome,
        reason: p.reason || null
      }))
      expect(placements).toEqual(fromCsv)
      const rejections = await query(db, (sql) => sql<{ readonly reason: string; readonly requests: number }>`SELECT reason, requests FROM rejections ORDER BY reason`)
      expect(Object.fromEntries(rejections.map((x) => [x.reason, x.requests]))).toEqual(summary.requests.rejectedByReason)
      const ts = await query(db, (sql) => sql<{ readonly n: number; readonly zones: number }>`SELECT COUNT(*) AS n, COUNT(DISTINCT zone) AS zones FROM timeseries`)
      expect(ts[0]).toEqual({ n: read(Path.join(out, "timeseries.csv")).trim().split("\n").length - 1, zones: 2 })
    }))

  it("holds every variant of a sweep, keyed by run_id", () =>
    withTempDir(async (dir) => {
      const exp = writeFiles(dir, { "exp.json": experiment, "t.csv": csv })
      const out = Path.join(dir, "out")
      const r = await runCli(["sim", "sweep", exp, "--policies", "greedy,roundrobin", "--seeds", "1,2", "--out", out])
      expect(r.error).toBeUndefined()
      const runs = await query(Path.join(out, "results.sqlite"), (sql) => sql<{ readonly run_id: number; readonly policy: string; readonly seed: number }>`SELECT run_id, policy, seed FROM runs ORDER BY run_id`)
      expect(runs).toEqual([
        { run_id: 1, policy: "greedy", seed: 1 },
        { run_id: 2, policy: "greedy", seed: 2 },
        { run_id: 3, policy: "roundrobin", seed: 1 },
        { run_id: 4, policy: "roundrobin", seed: 2 }
      ])
      const per = await query(Path.join(out, "results.sqlite"), (sql) => sql<{ readonly run_id: number; readonly n: number }>`SELECT run_id, COUNT(*) AS n FROM placements GROUP BY run_id ORDER BY run_id`)
      expect(per.map((x) => x.run_id)).toEqual([1, 2, 3, 4])
      for (const v of ["greedy-seed1", "roundrobin-seed2"]) expect(read(Path.join(out, v, "summary.json"))).toContain(`"policy"`)
    }))
})
