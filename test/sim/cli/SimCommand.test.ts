/** `euca sim run` and `euca sim sweep` as a user calls them. */
import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import type * as Results from "../../../src/sim/Results.js"
import { read, withTempDir, writeFiles } from "../support.js"
import { runCli } from "./harness.js"

const experiment = {
  seed: 4,
  cloud: { zones: [{ name: "zone-1", nodes: [{ prefix: "n", count: 2, cores: 4, memoryMiB: 4096, diskGiB: 40 }] }] },
  policy: { name: "greedy" },
  trace: { format: "csv", path: "t.csv" }
}
const csv = "arrival_ms,lifetime_ms,vm_type,count\n0,60000,m1.small,2\n500,30000,m1.large,1\n900,,c1.xlarge,3\n"

describe("euca sim", () => {
  it("run prints a summary table, or with --json the summary it writes to summary.json", () =>
    withTempDir(async (dir) => {
      const exp = writeFiles(dir, { "exp.json": experiment, "t.csv": csv })
      const table = await runCli(["sim", "run", exp])
      expect(table.error).toBeUndefined()
      expect(table.stdout).toMatch(/^requests +3$/m)
      expect(table.stdout).toMatch(/^ {4}InsufficientCapacity +1$/m)
      expect(table.stdout).toMatch(/^instances placed +3$/m)
      const out = Path.join(dir, "out")
      const json = await runCli(["sim", "run", exp, "--json", "--out", out, "--no-events-log"])
      const printed = JSON.parse(json.stdout) as Results.RunSummary
      expect(printed).toEqual(JSON.parse(read(Path.join(out, "summary.json"))))
      expect(printed).toMatchObject({ experiment: "exp", engine: "fast", seed: 4, policy: "greedy", requests: { total: 3, accepted: 2, rejected: 1 } })
      expect(Fs.readdirSync(out).sort()).toEqual(["placements.csv", "results.sqlite", "summary.json", "timeseries.csv"])
    }))

  it("run takes --engine and --seed", () =>
    withTempDir(async (dir) => {
      const exp = writeFiles(dir, { "exp.json": { ...experiment, backend: { bootDelay: { kind: "uniform", minSeconds: 1, maxSeconds: 100 } } }, "t.csv": csv })
      const a = JSON.parse((await runCli(["sim", "run", exp, "--json", "--engine", "reference", "--seed", "99"])).stdout) as Results.RunSummary
      const b = JSON.parse((await runCli(["sim", "run", exp, "--json", "--seed", "99"])).stdout) as Results.RunSummary
      expect(a.engine).toBe("reference")
      expect(a.seed).toBe(99)
      expect({ ...a, engine: "" }).toEqual({ ...b, engine: "" })
      const c = JSON.parse((await runCli(["sim", "run", exp, "--json"])).stdout) as Results.RunSummary
      expect(c.waitMs).not.toEqual(b.waitMs)
    }))

  it("sweep prints the variants side by side", () =>
    withTempDir(async (dir) => {
      const exp = writeFiles(dir, { "exp.json": experiment, "t.csv": csv })
      const r = await runCli(["sim", "sweep", exp, "--policies", "greedy,roundrobin,bestfit"])
      expect(r.error).toBeUndefined()
      const [header] = r.stdout.split("\n")
      expect(header).toMatch(/greedy\/4 +roundrobin\/4 +bestfit\/4$/)
      expect(r.stdout).toMatch(/^policy +greedy +roundrobin +bestfit$/m)
      const json = JSON.parse((await runCli(["sim", "sweep", exp, "--seeds", "1,2", "--json"])).stdout) as Array<Results.RunSummary>
      expect(json.map((s) => [s.policy, s.seed])).toEqual([["greedy", 1], ["greedy", 2]])
    }))

  it("sweep refuses lists it cannot use", () =>
    withTempDir(async (dir) => {
      const exp = writeFiles(dir, { "exp.json": experiment, "t.csv": csv })
      expect((await runCli(["sim", "sweep", exp])).error).toMatchObject({ _tag: "SweepError", message: expect.stringContaining("--policies and/or --seeds") })
      expect((await runCli(["sim", "sweep", exp, "--policies", "greedy,fastest"])).error).toMatchObject({
        _tag: "SweepError",
        message: expect.stringContaining(`"fastest" is not a policy`)
      })
      expect((await runCli(["sim", "sweep", exp, "--seeds", "1,x"])).error).toMatchObject({ _tag: "SweepError", message: expect.stringContaining(`"x" is not an integer`) })
    }))
})
