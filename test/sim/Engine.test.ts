/** The engine's semantics on small hand-made cases (both engines: they must agree, and be right). */
import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import * as Decide from "../../src/model/Decide.js"
import * as Policy from "../../src/model/Policy.js"
import * as Distribution from "../../src/sim/Distribution.js"
import type * as TraceRequest from "../../src/sim/traces/TraceRequest.js"
import { placementsCsv, read, run, setup, topology, typed, withTempDir, writeFiles } from "./support.js"
import { runCli } from "./cli/harness.js"

const both = (s: Parameters<typeof run>[0], requests: ReadonlyArray<TraceRequest.TraceRequest>, batch?: number) => {
  const fast = run(s, requests, { engine: "fast", ...(batch ? { batch } : {}) })
  const ref = run(s, requests, { engine: "reference", ...(batch ? { batch } : {}) })
  expect(fast.log).toBe(ref.log)
  return fast
}

const lines = (log: string, word: string) => log.split("\n").filter((l) => l.split(" ")[1] === word)

describe("engine", () => {
  it("runs an instance for its lifetime once it is running, then stops it", () => {
    const s = setup({
      topology: topology([[2, 1024, 20]]),
      policy: Policy.greedy(),
      backend: { boot: Distribution.constantMs(30_000), stop: Distribution.constantMs(2_000) }
    })
    const out = both(s, [typed(10, 60)])
    expect(out.log.split("\n").filter((l) => l !== "").map((l) => l.replace(/i-[0-9a-f]{8}/, "I"))).toEqual([
      "10000 launch r1 zone-1 1",
      "10000 place r1 I z1n1 172.31.0.2 172.31.0.2 -",
      "10000 start I",
      "40000 boot I 30000",
      "100000 stop I",
      "102000 end I",
      "102000 finish 4"
    ])
  })

  it("spreads requests over accounts, one VLAN per account's group, given back with its last instance", () => {
    const s = setup({
      topology: topology([[8, 8192, 100]]),
      policy: Policy.greedy(),
      network: { mode: "MANAGED", publicIps: ["198.51.100.1-198.51.100.20"] },
      tenants: { accounts: 3 }
    })
    const out = both(s, [typed(0, 100), typed(1, 200), typed(2, 300), typed(3, 50)])
    expect(out.summary.network.peakVlans).toBe(3)
    expect(lines(out.log, "vlan+").map((l) => l.split(" ")[2])).toEqual(["10", "11", "12"])
    // Account 1 has two instances (requests 1 and 4): its VLAN goes back only after the later one ends.
    const released = lines(out.log, "vlan-").map((l) => [Number(l.split(" ")[0]), l.split(" ")[2]])
    expect(released.map((r) => r[1])).toEqual(["10", "11", "12"])
    expect(released[0]![0]).toBeGreaterThan(100_000)
    // Each instance sits in its group's subnet — VLAN v's is 172.31.0.0 + (v − 2) × 32, slots from 2 —
    // and holds a public address.
    const places = lines(out.log, "place").map((l) => l.split(" "))
    expect(places.map((p) => p[5])).toEqual(["172.31.1.2", "172.31.1.34", "172.31.1.66", "172.31.1.3"])
    expect(places.map((p) => p[6])).toEqual(["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"])
    expect(out.summary.network.peakPublicAddresses).toBe(4)
  })

  it("rejects launches the network cannot take: no public address, no VLAN, a full subnet", () => {
    const base = { topology: topology([[8, 8192, 100]]), policy: Policy.greedy() }
    const noPublic = both(setup({ ...base, network: { mode: "MANAGED", publicIps: ["198.51.100.1-198.51.100.2"] } }), [typed(0, undefined, "m1.small", 2), typed(1, undefined)])
    expect(noPublic.summary.requests.rejectedByReason).toEqual({ NoPublicAddress: 1 })
    const privateToo = both(
      setup({ ...base, network: { mode: "MANAGED", publicIps: ["198.51.100.1-198.51.100.2"], onPublicExhausted: "private" } }),
      [typed(0, undefined, "m1.small", 2), typed(1, undefined)]
    )
    expect(privateToo.summary.requests.rejected).toBe(0)
    expect(lines(privateToo.log, "place").map((l) => l.split(" ")[6])).toEqual(["198.51.100.1", "198.51.100.2", "-"])
    const noVlan = both(setup({ ...base, network: { mode: "MANAGED", vlanMin: 10, vlanMax: 11 }, tenants: { accounts: 3 }, addressing: "private" }), [
      typed(0, undefined),
      typed(1, undefined),
      typed(2, undefined)
    ])
    expect(noVlan.summary.requests.rejectedByReason).toEqual({ NoVlanAvailable: 1 })
    // addressesPerNetwork 8: slots 2…6, five instances per group.
    const full = both(setup({ ...base, network: { mode: "MANAGED", addressesPerNetwork: 8 }, addressing: "private" }), [typed(0, undefined, "m1.small", 5), typed(1, undefined)])
    expect(full.summary.requests.rejectedByReason).toEqual({ SubnetFull: 1 })
  })

  it("takes requests that arrive out of order at the current time, and counts them", () => {
    const s = setup({ topology: topology([[8, 8192, 100]]), policy: Policy.greedy() })
    // Batches of two: [10 s, 5 s] is sorted within its batch; 1 s comes after 10 s was simulated.
    const out = both(s, [typed(10, 5), typed(5, 5), typed(1, 5)], 2)
    expect(out.feed.late).toBe(1)
    expect(lines(out.log, "launch").map((l) => l.split(" ").slice(0, 3).join(" "))).toEqual(["5000 launch r1", "10000 launch r2", "10000 launch r3"])
  })

  it("stops at the horizon: nothing later is simulated or read", () => {
    const s = setup({ topology: topology([[8, 8192, 100]]), policy: Policy.greedy(), horizonMs: 50_000 })
    const out = both(s, [typed(0, 100), typed(40, 100), typed(60, 100)])
    expect(out.feed).toEqual({ requests: 2, late: 0, stoppedAtHorizon: true })
    expect(out.summary.simulatedMs).toBe(50_000)
    expect(lines(out.log, "boot")).toHaveLength(1) // the second boots at 70 s
    expect(out.summary.instances.liveAtEnd).toBe(2)
  })

  it("stops with the decider's PolicyDefect when a policy picks a node it must not", () => {
    // Always node 0, fitting or not (not complete: the engine must ask it).
    const stubborn: Policy.Policy<null> = { ...Policy.greedy(), name: "stubborn", complete: false, place: (_v, _d, state) => ({ _tag: "Placed", node: 0, state }) }
    const s = setup({ topology: topology([[1, 1024, 20], [4, 4096, 40]]), policy: stubborn })
    const errors = (["fast", "reference"] as const).map((engine) => {
      try {
        run(s, [typed(0, undefined), typed(1, undefined)], { engine })
        return undefined
      } catch (e) {
        return e
      }
    })
    for (const e of errors) expect(e).toBeInstanceOf(Decide.PolicyDefect)
    expect((errors[0] as Error).message).toBe((errors[1] as Error).message)
    expect((errors[0] as Decide.PolicyDefect).rule).toBe("fits")
  })

  it("runs a real placement program for USER, with Eucalyptus's arguments", () =>
    withTempDir(async (dir) => {
      // Always the second node; records its arguments (resources file, instances file, mem disk cores id userdata platform).
      const program = Path.join(dir, "place.sh")
      Fs.writeFileSync(program, `#!/bin/sh\necho "$3 $4 $5 $6 $8" >> "${dir}/calls"\ngrep -c . "$1" >> "${dir}/calls"\nexit 2\n`, { mode: 0o755 })
      const exp = writeFiles(dir, {
        "exp.json": {
          seed: 1,
          cloud: { zones: [{ name: "zone-1", nodes: [{ prefix: "n", count: 3, cores: 4, memoryMiB: 4096, diskGiB: 40 }] }] },
          policy: { name: "user", program },
          trace: { format: "csv", path: "t.csv" }
        },
        "t.csv": "arrival_ms,lifetime_ms,vm_type,count\n0,,m1.small,2\n1000,,m1.large,1\n"
      })
      const out = Path.join(dir, "out")
      const r = await runCli(["sim", "run", exp, "--out", out])
      expect(r.error).toBeUndefined()
      expect(placementsCsv(Path.join(out, "placements.csv")).map((p) => p.node)).toEqual(["n2", "n2", "n2"])
      const calls = read(Path.join(dir, "calls")).trim().split("\n")
      expect(calls.filter((_, i) => i % 2 === 0).map((c) => c.replace(/i-[0-9a-f]{8}/, "I"))).toEqual(["128 2 1 I linux", "128 2 1 I linux", "512 10 2 I linux"])
      expect(calls.filter((_, i) => i % 2 === 1)).toEqual(["3", "3", "3"])
    }))
})
