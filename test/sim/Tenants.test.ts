/**
 * Tenants with several security groups (`tenants.groups`): requests spread over each account's
 * groups by the seeded RNG, each group its own network (its own VLAN in MANAGED), both engines
 * recording the same, and the field validated like the rest of an experiment file.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import * as Experiment from "../../src/sim/Experiment.js"
import type * as ReferenceEngine from "../../src/sim/ReferenceEngine.js"
import * as Random from "../../src/sim/Random.js"
import * as Setup from "../../src/sim/Setup.js"
import type * as TraceRequest from "../../src/sim/traces/TraceRequest.js"
import { run, setup, topology, typed } from "./support.js"

const lines = (log: string, word: string) => log.split("\n").filter((l) => l.split(" ")[1] === word).map((l) => l.split(" "))

const managed = (accounts: number, groups: number, seed = 7, extra: Partial<Setup.Input> = {}) =>
  setup({
    seed,
    topology: topology([[64, 65536, 1000]]),
    policy: Policy.greedy(),
    network: { mode: "MANAGED", vlanMin: 10, vlanMax: 99, addressesPerNetwork: 32 },
    addressing: "private",
    tenants: { accounts, groups },
    ...extra
  })

/** Both engines over the same requests: they must record the same log; returns the reference run. */
const both = (s: Setup.Setup, requests: ReadonlyArray<TraceRequest.TraceRequest>) => {
  const fast = run(s, requests, { engine: "fast" })
  const ref = run(s, requests, { engine: "reference" })
  expect(fast.log).toBe(ref.log)
  expect(fast.summary).toEqual(ref.summary)
  return ref
}

/** Each placed request's (account, group name), read from the reference engine's state. */
const tenantsOf = (out: ReturnType<typeof run>) => {
  const state = (out.engine as ReferenceEngine.ReferenceEngine).state
  const byRequest = new Map<number, string>()
  for (const p of lines(out.log, "place")) {
    const i = State.instance(state, p[3]!)!
    const g = State.group(state, i.groups[0]!)!
    byRequest.set(Number(p[2]!.slice(1)), `${i.account}/${g.name}`)
  }
  return byRequest
}

const forever = (n: number) => Array.from({ length: n }, (_, k) => typed(k, undefined))

describe("tenants with several security groups", () => {
  it("spread each account's requests over its groups, deterministically by the seed", () => {
    const requests = forever(60)
    const a = tenantsOf(both(managed(2, 3), requests))
    expect(a.size).toBe(60)
    // Accounts still go round robin; the group is a seeded draw among the account's three.
    for (const [req, t] of a) expect(t.startsWith(`sim-${((req - 1) % 2) + 1}/`)).toBe(true)
    const used = new Set(a.values())
    expect([...used].sort()).toEqual(["sim-1/default", "sim-1/group-2", "sim-1/group-3", "sim-2/default", "sim-2/group-2", "sim-2/group-3"])
    for (const t of used) expect([...a.values()].filter((x) => x === t).length).toBeGreaterThanOrEqual(3)
    // The same seed draws the same groups; another seed draws others.
    expect(tenantsOf(both(managed(2, 3), requests))).toEqual(a)
    expect(tenantsOf(both(managed(2, 3, 8), requests))).not.toEqual(a)
  })

  it("draw the account (random assignment only), then the group (several groups only), from the one seeded RNG", () => {
    const one = both(managed(3, 1), forever(12))
    expect(new Set(tenantsOf(one).values())).toEqual(new Set(["sim-1/default", "sim-2/default", "sim-3/default"]))
    // Draws spent per request: none for round robin over one group, so existing experiments keep their streams.
    const spent = (tenants: Partial<Setup.Tenants>) => {
      const s = managed(tenants.accounts ?? 1, tenants.groups ?? 1, 9, { tenants })
      const rng = Random.make(9)
      const t = Setup.tenantOf(s, rng, 5)
      // The generator's next value is the fresh stream's value number `draws`.
      const next = rng.next()
      const probe = Random.make(9)
      for (let k = 0; k < 4; k++) if (probe.next() === next) return { tenant: t, draws: k }
      return { tenant: t, draws: -1 }
    }
    expect(spent({ accounts: 3, assign: "roundrobin", groups: 1 })).toEqual({ tenant: 1, draws: 0 })
    expect(spent({ accounts: 3, assign: "random", groups: 1 }).draws).toBe(1)
    expect(spent({ accounts: 3, assign: "roundrobin", groups: 4 })).toMatchObject({ draws: 1 })
    expect(spent({ accounts: 3, assign: "random", groups: 4 }).draws).toBe(2)
    // Round robin over accounts, a draw among the groups: request 5 of 3 accounts is account 2's (index 1).
    expect(Math.floor(spent({ accounts: 3, assign: "roundrobin", groups: 4 }).tenant / 4)).toBe(1)
    const s = managed(3, 4)
    expect([0, 1, 2, 3, 4, 7].map((t) => `${Setup.tenantAccount(s, t)}/${Setup.tenantGroup(s, t)}`)).toEqual([
      "sim-1/default", "sim-1/group-2", "sim-1/group-3", "sim-1/group-4", "sim-2/default", "sim-2/group-4"
    ])
  })

  it("give each group its own VLAN and subnet, and a group's VLAN back with its own last instance", () => {
    const out = both(managed(2, 3), forever(40))
    const tenants = tenantsOf(out)
    const vlanOf = new Map<string, Set<string>>()
    const subnetOf = new Map<string, Set<string>>()
    for (const p of lines(out.log, "place")) {
      const t = tenants.get(Number(p[2]!.slice(1)))!
      const ip = p[5]!.split(".").map(Number)
      ;(vlanOf.get(t) ?? vlanOf.set(t, new Set()).get(t)!).add(p[7]!)
      // addressesPerNetwork 32: a group's subnet is a /27.
      ;(subnetOf.get(t) ?? subnetOf.set(t, new Set()).get(t)!).add(`${ip[2]}.${ip[3]! & ~31}`)
    }
    expect(vlanOf.size).toBe(6)
    for (const v of vlanOf.values()) expect(v.size).toBe(1)
    for (const v of subnetOf.values()) expect(v.size).toBe(1)
    const vlans = [...vlanOf.values()].map((v) => [...v][0])
    expect(new Set(vlans).size).toBe(6)
    expect(new Set([...subnetOf.values()].map((v) => [...v][0])).size).toBe(6)
    expect(lines(out.log, "vlan+")).toHaveLength(6)
    expect(out.summary.network.peakVlans).toBe(6)

    // One account, two groups, lifetimes growing: each group's VLAN goes back when its own last
    // instance ends, whatever the account's other group still runs.
    const r = both(managed(1, 2, 3), Array.from({ length: 8 }, (_, k) => typed(k, 50 + 30 * k)))
    const groupOf = tenantsOf(r)
    expect(new Set(groupOf.values())).toEqual(new Set(["sim/default", "sim/group-2"]))
    const vlanOfGroup = new Map<string, string>()
    const groupOfInstance = new Map<string, string>()
    for (const p of lines(r.log, "place")) {
      const g = groupOf.get(Number(p[2]!.slice(1)))!
      vlanOfGroup.set(g, p[7]!)
      groupOfInstance.set(p[3]!, g)
    }
    const lastEnd = new Map<string, number>()
    for (const e of lines(r.log, "end")) lastEnd.set(groupOfInstance.get(e[2]!)!, Number(e[0]))
    const released = new Map(lines(r.log, "vlan-").map((l) => [l[2]!, Number(l[0])]))
    expect(released.size).toBe(2)
    for (const [g, vlan] of vlanOfGroup) expect(released.get(vlan)).toBe(lastEnd.get(g))
    expect(lastEnd.get("sim/default")).not.toBe(lastEnd.get("sim/group-2"))
  })

  it("run out of VLANs by group, not by account", () => {
    // One account with three groups and only two VLANs: the third group to launch is refused.
    const s = managed(1, 3, 5, { network: { mode: "MANAGED", vlanMin: 10, vlanMax: 11 } })
    const out = both(s, forever(30))
    expect(out.summary.network.peakVlans).toBe(2)
    const refused = out.summary.requests.rejectedByReason.NoVlanAvailable ?? 0
    expect(refused).toBeGreaterThan(0)
    expect(refused + lines(out.log, "place").length).toBe(30)
    expect(new Set(tenantsOf(out).values()).size).toBe(2)
  })

  it("agree between the engines in every network mode", () => {
    const requests = Array.from({ length: 50 }, (_, k) => typed(k * 3, (k * 37) % 200, k % 3 === 0 ? "c1.medium" : "m1.small", 1 + (k % 3)))
    for (const network of [
      { mode: "SYSTEM" as const },
      { mode: "MANAGED-NOVLAN" as const, publicIps: ["198.51.100.1-198.51.100.60"] },
      { mode: "MANAGED" as const, publicIps: ["198.51.100.1-198.51.100.60"], addressesPerNetwork: 8, vlanMin: 10, vlanMax: 14 }
    ]) {
      for (const assign of ["roundrobin", "random"] as const) {
        const s = setup({ seed: 11, topology: topology([[16, 16384, 200], [16, 16384, 200]], [[8, 8192, 100]]), policy: Policy.greedy(), network, tenants: { accounts: 3, groups: 3, assign } })
        const out = both(s, requests)
        expect(lines(out.log, "place").length).toBeGreaterThan(0)
      }
    }
  })

  it("show the USER placement program the same instances file in both engines (each group's VLAN)", () => {
    const requests = Array.from({ length: 30 }, (_, k) => typed(k * 5, 60 + (k % 4) * 40, "m1.small", 1 + (k % 2)))
    const s = setup({
      seed: 3,
      topology: topology([[4, 4096, 100], [4, 4096, 100], [4, 4096, 100]]),
      policy: Policy.user("/opt/place"),
      network: { mode: "MANAGED", publicIps: ["198.51.100.1-198.51.100.8"], onPublicExhausted: "private", vlanMin: 10, vlanMax: 20 },
      tenants: { accounts: 2, groups: 3, assign: "random" }
    })
    const seen = { fast: [] as Array<string>, reference: [] as Array<string> }
    for (const engine of ["fast", "reference"] as const) {
      run(s, requests, {
        engine,
        consult: (q) => {
          seen[engine].push(q.instances)
          // The last node that has a core free, by the resources file.
          let answer = 0
          for (const line of q.resources.trim().split("\n")) {
            const f = Object.fromEntries(line.split(",").map((kv) => kv.split("=") as [string, string]))
            if (f.state === "1" && +f.availcores! >= 1) answer = +f.idx! + 1
          }
          return answer
        }
      })
    }
    expect(seen.fast).toEqual(seen.reference)
    // Several groups' VLANs and public addresses, and private-only ones once the pool ran out, appear.
    const vlans = new Set(seen.fast.flatMap((f) => f.trim().split("\n").filter((l) => l !== "").map((l) => l.split(",")[6])))
    expect(vlans.size).toBeGreaterThan(2)
    expect(seen.fast.some((f) => f.includes(",0.0.0.0,172."))).toBe(true)
  })
})

describe("tenants.groups in an experiment file", () => {
  const base = {
    seed: 1,
    cloud: { zones: [{ name: "zone-1", nodes: [{ prefix: "n", count: 2, cores: 4, memoryMiB: 4096, diskGiB: 50 }] }] },
    policy: { name: "greedy" },
    network: { mode: "MANAGED" },
    trace: { format: "csv", path: "t.csv" }
  }
  const compile = (tenants: unknown) => Experiment.compile("exp.json", { ...base, tenants })

  it("compiles, default 1", () => {
    const three = compile({ accounts: 2, groups: 3 })
    if (Either.isLeft(three)) throw new Error(three.left.message)
    expect(three.right.setup.tenants).toEqual({ accounts: 2, assign: "roundrobin", groups: 3 })
    const dflt = compile({ accounts: 2 })
    if (Either.isLeft(dflt)) throw new Error(dflt.left.message)
    expect(dflt.right.setup.tenants.groups).toBe(1)
  })

  it("names the file and the field of a wrong value", () => {
    for (const groups of [0, 1.5, "3", -1, 10_001]) {
      const r = compile({ accounts: 2, groups })
      if (Either.isRight(r)) throw new Error(`groups ${groups} was accepted`)
      expect(r.left.field).toBe("tenants.groups")
      expect(r.left.message.startsWith("exp.json: tenants.groups: ")).toBe(true)
    }
    const tooMany = compile({ accounts: 1000, groups: 2000 })
    if (Either.isRight(tooMany)) throw new Error("2,000,000 groups were accepted")
    expect(tooMany.left).toMatchObject({ field: "tenants.groups", message: expect.stringContaining("at most 1000000 in all") })
    const typo = compile({ accounts: 2, group: 3 })
    if (Either.isRight(typo)) throw new Error("a misspelt field was accepted")
    expect(typo.left.field).toBe("tenants.group")
  })
})
