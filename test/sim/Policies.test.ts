/**
 * Each policy's behaviour, as a researcher sees it: small hand-made experiments run with
 * `euca sim run`, read back from placements.csv and events.log.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Path from "node:path"
import type * as Results from "../../src/sim/Results.js"
import { runCli } from "./cli/harness.js"
import { placementsCsv, read, withTempDir, writeFiles } from "./support.js"

const nodes = (specs: ReadonlyArray<readonly [string, number, number]>) => ({
  zones: [{ name: "zone-1", nodes: specs.map(([prefix, cores, memoryMiB]) => ({ prefix, count: 1, cores, memoryMiB, diskGiB: 100 })) }]
})

/** Five m1.small requests one second apart that never end. */
const fiveSmall = "arrival_ms,lifetime_ms,vm_type\n" + [0, 1000, 2000, 3000, 4000].map((t) => `${t},,m1.small`).join("\n") + "\n"

const placedNodes = async (policy: object, cloud: object, csv: string): Promise<Array<string>> =>
  withTempDir(async (dir) => {
    const exp = writeFiles(dir, {
      "exp.json": { seed: 1, cloud, policy, trace: { format: "csv", path: "requests.csv" }, horizonSeconds: 60 },
      "requests.csv": csv
    })
    const out = Path.join(dir, "out")
    const r = await runCli(["sim", "run", exp, "--out", out])
    expect(r.error).toBeUndefined()
    return placementsCsv(Path.join(out, "placements.csv")).map((row) => `${row.outcome === "placed" ? row.node : `rejected:${row.reason}`}`)
  })

const threeTwoCore = nodes([["n1", 2, 1024], ["n2", 2, 1024], ["n3", 2, 1024]])

describe("policies, seen in placements.csv", () => {
  it("GREEDY fills the first node before the next", async () => {
    expect(await placedNodes({ name: "greedy" }, threeTwoCore, fiveSmall)).toEqual(["n1", "n1", "n2", "n2", "n3"])
  })

  it("ROUNDROBIN moves on after every placement", async () => {
    expect(await placedNodes({ name: "roundrobin" }, threeTwoCore, fiveSmall)).toEqual(["n1", "n2", "n3", "n1", "n2"])
  })

  it("best fit takes the node left with the least free memory, worst fit the one with the most", async () => {
    // n1: 4096 MiB, n2: 1024, n3: 2048; every node has cores for all five.
    const cloud = nodes([["n1", 8, 4096], ["n2", 8, 1024], ["n3", 8, 2048]])
    const requests = "arrival_ms,lifetime_ms,cores,memory_mib,disk_gib\n" + [0, 1, 2, 3, 4].map((k) => `${k * 1000},,1,512,1`).join("\n") + "\n"
    // best fit: n2 (1024 → 512 → 0), then n3 (2048 → 1536 …).
    expect(await placedNodes({ name: "bestfit" }, cloud, requests)).toEqual(["n2", "n2", "n3", "n3", "n3"])
    // worst fit: n1 (4096 → 3584 → 3072 → 2560 → 2048); then n1 and n3 tie on memory (2048) and n3
    // has more free cores (8 against 4).
    expect(await placedNodes({ name: "worstfit" }, cloud, requests)).toEqual(["n1", "n1", "n1", "n1", "n3"])
  })

  it("rejects a request that does not fit whole, with the reason's tag", async () => {
    const csv = "arrival_ms,lifetime_ms,vm_type,count\n0,,m1.small,5\n1000,,m1.small,7\n2000,,x9.huge,1\n"
    expect(await placedNodes({ name: "greedy" }, threeTwoCore, csv)).toEqual([
      "n1", "n1", "n2", "n2", "n3",
      "rejected:InsufficientCapacity",
      "rejected:UnknownVmType"
    ])
  })

  it("POWERSAVE powers idle nodes down and wakes them for a burst, using less energy than GREEDY", async () =>
    withTempDir(async (dir) => {
      // Bursts an hour apart on eight nodes: in between, every node is idle.
      const burst = (t: number) => [0, 1, 2, 3, 4, 5].map((k) => `${t + k * 1000},600000,c1.xlarge`).join("\n")
      const exp = writeFiles(dir, {
        "bursty.json": {
          seed: 3,
          cloud: { zones: [{ name: "zone-1", nodes: [{ prefix: "n", count: 8, cores: 4, memoryMiB: 4096, diskGiB: 100, idleWatts: 100, peakWatts: 250 }] }] },
          policy: { name: "powersave", idleThresholdSeconds: 300, wakeDelaySeconds: 60 },
          trace: { format: "csv", path: "bursty.csv" }
        },
        "bursty.csv": `arrival_ms,lifetime_ms,vm_type\n${burst(0)}\n${burst(3_600_000)}\n${burst(7_200_000)}\n`
      })
      const out = Path.join(dir, "out")
      const r = await runCli(["sim", "sweep", exp, "--policies", "greedy,powersave", "--out", out, "--json"])
      expect(r.error).toBeUndefined()
      const [greedy, powersave] = JSON.parse(r.stdout) as Array<Results.RunSummary>
      expect(greedy!.policy).toBe("greedy")
      expect(powersave!.policy).toBe("powersave")
      expect(powersave!.nodes.powerDowns).toBeGreaterThan(0)
      expect(powersave!.nodes.wakeUps).toBeGreaterThan(0)
      expect(powersave!.energyWh).toBeLessThan(greedy!.energyWh)
      expect(greedy!.nodes.powerDowns).toBe(0)
      // Same placements are kept (every request accepted); waking costs wait time.
      expect(powersave!.requests.accepted).toBe(18)
      expect(powersave!.waitMs.max).toBeGreaterThan(greedy!.waitMs.max)
      // In the log: idle nodes sleep after the threshold (+1 ms), and are woken for the second burst.
      const log = read(Path.join(out, "powersave-seed3", "events.log")).split("\n")
      expect(log).toContain("300001 sleep n7")
      expect(log.some((l) => l.startsWith("3600000 wake "))).toBe(true)
      expect(log.some((l) => / up n\d$/.test(l))).toBe(true)
      // An instance on a woken node starts only once the node is up, 60 s later.
      const woken = log.find((l) => l.startsWith("3600000 wake "))!.split(" ")[2]
      expect(log).toContain(`3660000 up ${woken}`)
    }))
})
