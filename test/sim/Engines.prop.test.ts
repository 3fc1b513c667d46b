/**
 * The claim that lets the fast engine speak for the pure core: on random small experiments it records
 * exactly what the reference engine (Decide → Evolve → Effects) records — the same event log line for
 * line (placements, rejections with their reason tag, boots, failures, stops, wake-ups, power-downs,
 * addresses and VLANs, all at the same times) and the same summary — for every shipped policy and for
 * the SYSTEM, STATIC, MANAGED and MANAGED-NOVLAN network modes, with 1–3 accounts of 1–3 security
 * groups each.
 */
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import type * as Network from "../../src/model/Network.js"
import * as PolicyConfig from "../../src/model/PolicyConfig.js"
import type * as Policy from "../../src/model/Policy.js"
import type * as Topology from "../../src/model/Topology.js"
import * as Distribution from "../../src/sim/Distribution.js"
import type * as TraceRequest from "../../src/sim/traces/TraceRequest.js"
import { lastFitProgram, run, setup, sized, topology, typed } from "./support.js"

const nodeArb = fc.tuple(fc.integer({ min: 1, max: 8 }), fc.constantFrom(512, 1024, 2048, 4096), fc.constantFrom(20, 40, 60))
const zonesArb = fc.array(fc.array(nodeArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 3 })

const networkArb: fc.Arbitrary<Network.NetworkSettings> = fc.oneof(
  fc.constant({ mode: "SYSTEM" as const }),
  // A subnet small enough to run out of addresses (29 hosts; a /28 would trip the default addressesPerNetwork of 32).
  fc.constant({ mode: "SYSTEM" as const, subnet: "10.9.0.0/27" }),
  fc.record({
    mode: fc.constantFrom("MANAGED" as const, "MANAGED-NOVLAN" as const),
    subnet: fc.constant("172.31.0.0/24"),
    addressesPerNetwork: fc.constantFrom(4, 8, 16),
    publicIps: fc.constantFrom(["198.51.100.10-198.51.100.13"], ["198.51.100.10-198.51.100.30"], []),
    vlanMin: fc.constant(10),
    vlanMax: fc.constantFrom(10, 11, 12, 40),
    onPublicExhausted: fc.constantFrom("reject" as const, "private" as const)
  }),
  fc.constant({
    mode: "STATIC" as const,
    macMap: [
      { mac: "d0:0d:00:00:00:01", ip: "10.1.0.11" },
      { mac: "d0:0d:00:00:00:02", ip: "10.1.0.12" },
      { mac: "d0:0d:00:00:00:03", ip: "10.1.0.13" },
      { mac: "d0:0d:00:00:00:04", ip: "10.1.0.14" },
      { mac: "d0:0d:00:00:00:05", ip: "10.1.0.15" }
    ]
  })
)

const bootArb = fc.constantFrom<Distribution.Distribution>(
  { kind: "constant", seconds: 30 },
  { kind: "constant", ms: 0 },
  { kind: "uniform", minSeconds: 5, maxSeconds: 90 },
  { kind: "exponential", meanSeconds: 40 },
  { kind: "lognormal", medianSeconds: 20, sigma: 0.8 }
)
const stopArb = fc.constantFrom<Distribution.Distribution>({ kind: "constant", seconds: 2 }, { kind: "uniform", minMs: 0, maxMs: 5000 })

const compile = (d: Distribution.Distribution): Distribution.Sampler => {
  const s = Distribution.compile(d)
  if (s._tag === "Left") throw new Error(s.left.message)
  return s.right
}

// Requests: arrival gaps of 0 (ties), seconds, or long enough for POWERSAVE's 300 s threshold.
const requestArb = fc.record({
  gap: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 120 }), fc.integer({ min: 250, max: 1200 })),
  lifetime: fc.option(fc.integer({ min: 0, max: 1500 }), { freq: 5 }),
  what: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("m1.small", "c1.medium", "m1.large", "m1.xlarge", "c1.xlarge") },
    { weight: 1, arbitrary: fc.constant("x9.huge") },
    { weight: 1, arbitrary: fc.constant([0, 0, 0] as [number, number, number]) },
    { weight: 4, arbitrary: fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 3000 }), fc.integer({ min: 0, max: 30 })) }
  ),
  count: fc.integer({ min: 1, max: 4 }),
  // EBS: a root volume per instance, now and then.
  rootGiB: fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.integer({ min: 1, max: 40 }) }),
  zone: fc.oneof({ weight: 8, arbitrary: fc.constant(undefined) }, { weight: 2, arbitrary: fc.constantFrom("zone-1", "zone-2", "nowhere", "") })
})

const experimentArb = fc.record({
  zones: zonesArb,
  // The storage controller's GiB per zone (undefined: unlimited), small enough to fill up.
  storage: fc.array(fc.option(fc.integer({ min: 0, max: 120 }), { nil: undefined }), { minLength: 3, maxLength: 3 }),
  network: networkArb,
  boot: bootArb,
  stop: stopArb,
  failureProbability: fc.constantFrom(0, 0, 0.25),
  accounts: fc.integer({ min: 1, max: 3 }),
  // Security groups per account: each its own network (VLAN), as in the real cloud.
  groups: fc.integer({ min: 1, max: 3 }),
  assign: fc.constantFrom("roundrobin" as const, "random" as const),
  overcommit: fc.constantFrom(undefined, { cores: 2 }, { cores: 1.5, memory: 1.25 }),
  seed: fc.integer({ min: 0, max: 2 ** 31 }),
  horizon: fc.option(fc.integer({ min: 100, max: 20_000 }), { freq: 3 }),
  requests: fc.array(requestArb, { minLength: 1, maxLength: 35 }),
  batch: fc.integer({ min: 1, max: 12 }),
  shuffle: fc.boolean()
})

type Experiment = typeof experimentArb extends fc.Arbitrary<infer A> ? A : never

const requestsOf = (x: Experiment): Array<TraceRequest.TraceRequest> => {
  let t = 0
  const out = x.requests.map((r) => {
    t += r.gap
    const life = r.lifetime ?? undefined
    const q = typeof r.what === "string" ? typed(t, life, r.what, r.count, r.zone) : sized(t, life, r.what, r.count, r.zone)
    return r.rootGiB === undefined ? q : { ...q, rootVolumeGiB: r.rootGiB }
  })
  // Out-of-order traces: swap neighbours now and then (the driver sorts within a batch, clamps across).
  if (x.shuffle) for (let i = 1; i < out.length; i += 3) [out[i - 1], out[i]] = [out[i]!, out[i - 1]!]
  return out
}

const withStorage = (t: Topology.Topology, storage: ReadonlyArray<number | undefined>): Topology.Topology => ({
  zones: t.zones.map((z, k) => (storage[k] === undefined ? z : { ...z, storageGiB: storage[k] as never }))
})

const policyOf = (name: PolicyConfig.PolicyName, x: Experiment): Policy.Policy<any> => {
  const made = PolicyConfig.make({
    name,
    ...(x.overcommit ? { overcommit: x.overcommit } : {}),
    ...(name === "powersave" ? { idleThresholdSeconds: 300, wakeDelaySeconds: 45 } : {}),
    ...(name === "user" ? { program: "/opt/placement" } : {})
  })
  if (made._tag === "Left") throw new Error(made.left)
  return made.right
}

const compare = (name: PolicyConfig.PolicyName, numRuns: number) =>
  fc.assert(
    fc.property(experimentArb, (x) => {
      const s = setup({
        seed: x.seed,
        topology: withStorage(topology(...x.zones), x.storage),
        network: x.network,
        policy: policyOf(name, x),
        backend: { boot: compile(x.boot), stop: compile(x.stop), failureProbability: x.failureProbability, wakeDelayMs: 30_000 },
        horizonMs: x.horizon === null ? undefined : x.horizon * 1000,
        tenants: { accounts: x.accounts, assign: x.assign, groups: x.groups },
        metricsIntervalMs: 300_000
      })
      const requests = requestsOf(x)
      const options = { consult: lastFitProgram, batch: x.batch }
      const fast = run(s, requests, { ...options, engine: "fast" })
      const ref = run(s, requests, { ...options, engine: "reference" })
      expect(fast.log).toBe(ref.log)
      expect(fast.summary).toEqual(ref.summary)
      expect(fast.placements).toEqual(ref.placements)
      expect(fast.feed).toEqual(ref.feed)
    }),
    { numRuns }
  )

describe("the fast engine records exactly what the reference engine records", () => {
  for (const name of PolicyConfig.PolicyName.literals) {
    it(`on random experiments with policy ${name}`, () => compare(name, 120))
  }

  it("and the random experiments do reach the interesting cases", () => {
    // Not a law: a check that the generator exercises what the laws are about.
    const seen = new Set<string>()
    fc.assert(
      fc.property(experimentArb, fc.constantFrom<PolicyConfig.PolicyName>("powersave", "greedy", "roundrobin"), (x, name) => {
        const s = setup({
          seed: x.seed,
          topology: withStorage(topology(...x.zones), x.storage),
          network: x.network,
          policy: policyOf(name, x),
          backend: { boot: compile(x.boot), stop: compile(x.stop), failureProbability: x.failureProbability },
          horizonMs: x.horizon === null ? undefined : x.horizon * 1000,
          tenants: { accounts: x.accounts, assign: x.assign, groups: x.groups }
        })
        const out = run(s, requestsOf(x), { consult: lastFitProgram, batch: x.batch })
        for (const line of out.log.split("\n")) {
          const w = line.split(" ")
          if (w[1] === "reject") seen.add(`reject ${w[3]}`)
          else if (w[1] !== undefined) seen.add(w[1])
        }
        if (out.feed.late > 0) seen.add("late")
      }),
      { numRuns: 300, seed: 42 }
    )
    for (const k of [
      "place", "boot", "stop", "end", "fail", "wake", "up", "sleep", "vlan+", "vlan-", "late",
      "reject InsufficientCapacity", "reject UnknownVmType", "reject UnknownZone", "reject InvalidRequest",
      "reject NoStaticAddress", "reject NoVlanAvailable", "reject NoPublicAddress", "reject SubnetFull", "reject StorageFull"
    ]) expect(seen).toContain(k)
  })
})
