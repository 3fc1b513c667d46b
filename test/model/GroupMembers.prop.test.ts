import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, HashMap } from "effect"
import type * as Commands from "../../src/model/Commands.js"
import * as Ipv4 from "../../src/model/Ipv4.js"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import { alice, at, bob, make, runCmd, topology } from "../support/cloud.js"

/** The per-group index `evolve` keeps, recomputed by scanning every instance. */
const scanned = (s: State.State): Map<string, { live: number; slots: Array<number> }> => {
  const out = new Map<string, { live: number; slots: Array<number> }>()
  for (const i of HashMap.values(s.instances)) {
    const g = i.groups[0]
    if (i.state === "terminated" || g === undefined) continue
    const m = out.get(g) ?? { live: 0, slots: [] }
    m.live++
    if (i.net.slot !== undefined) m.slots.push(i.net.slot)
    out.set(g, m)
  }
  for (const m of out.values()) m.slots.sort((a, b) => a - b)
  return out
}

const indexed = (s: State.State): Map<string, { live: number; slots: Array<number> }> =>
  new Map(Array.from(HashMap.entries(s.members), ([g, m]) => [g as string, { live: m.live, slots: [...m.slots] }]))

type Step =
  | { readonly kind: "run"; readonly account: 0 | 1; readonly group: number; readonly count: number; readonly priv: boolean }
  | { readonly kind: "end"; readonly pick: number; readonly how: "fail" | "terminate" | "stop" }
  | { readonly kind: "address"; readonly account: 0 | 1; readonly pick: number; readonly other: number; readonly how: "allocate" | "associate" | "disassociate" | "release" }

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("run" as const), account: fc.constantFrom(0 as const, 1 as const), group: fc.nat(2), count: fc.integer({ min: 1, max: 4 }), priv: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("end" as const), pick: fc.nat(), how: fc.constantFrom("fail" as const, "terminate" as const, "stop" as const) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant("address" as const),
      account: fc.constantFrom(0 as const, 1 as const),
      pick: fc.nat(),
      other: fc.nat(),
      how: fc.constantFrom("allocate" as const, "associate" as const, "associate" as const, "disassociate" as const, "release" as const)
    })
  }
)

/** The address commands of a step, against the current state (none when there is nothing to act on). */
const addressCommands = (s: State.State, t: number, step: Extract<Step, { kind: "address" }>): Array<Commands.Command> => {
  const account = step.account === 0 ? alice : bob
  if (step.how === "allocate") return [{ _tag: "AllocateAddress", at: at(t), account }]
  const mine = Array.from(HashMap.values(s.addresses)).filter((a) => a.kind === "elastic" && a.account === account).sort((a, b) => a.ip.localeCompare(b.ip))
  if (mine.length === 0) return []
  const a = mine[step.pick % mine.length]!
  if (step.how === "disassociate") return [{ _tag: "DisassociateAddress", at: at(t), account, publicIp: a.ip }]
  if (step.how === "release") return [{ _tag: "ReleaseAddress", at: at(t), account, publicIp: a.ip }]
  const live = State.liveInstances(s).filter((i) => i.account === account)
  if (live.length === 0) return []
  return [{ _tag: "AssociateAddress", at: at(t), account, publicIp: a.ip, instanceId: live[step.other % live.length]!.id }]
}

/** The public-pool index and the instance ⇄ address links, checked against the tables they are derived from. */
const checkAddresses = (s: State.State): void => {
  const pool = s.network.publicIps
  expect(s.publicHeld).toEqual(pool.flatMap((ip, k) => (HashMap.has(s.addresses, ip) ? [k] : [])))
  expect(State.freePublicIps(s)).toEqual(pool.filter((ip) => !HashMap.has(s.addresses, ip)))
  expect(State.freePublicCount(s)).toBe(pool.filter((ip) => !HashMap.has(s.addresses, ip)).length)
  // An address names the instance it is on exactly when that instance's publicIp names the address.
  for (const a of HashMap.values(s.addresses)) {
    if (a.instance !== undefined) expect(State.instance(s, a.instance)?.net.publicIp).toBe(a.ip)
  }
  for (const i of State.liveInstances(s)) {
    if (i.net.publicIp !== undefined) expect(State.address(s, i.net.publicIp)?.instance).toBe(i.id)
  }
}

describe("the indexes evolve keeps (per-group members, private addresses in use, public addresses held)", () => {
  for (const mode of ["MANAGED", "MANAGED-NOVLAN", "SYSTEM", "STATIC"] as const) {
    it(`equal a scan of the tables after any launches, terminations and address moves (${mode})`, () => {
      fc.assert(
        fc.property(fc.array(step, { minLength: 10, maxLength: 80 }), (steps) => {
          const c = make(Policy.greedy(), topology([[64, 65536, 2000], [64, 65536, 2000]]), {
            network: mode === "SYSTEM"
              ? { mode, subnet: "10.9.0.0/28" }
              : mode === "STATIC"
              ? { mode, subnet: "10.9.0.0/24", macMap: Array.from({ length: 12 }, (_, k) => ({ mac: `d0:0d:00:00:00:${(k + 16).toString(16)}`, ip: `10.9.0.${k + 10}` })) }
              : { mode, subnet: "172.31.0.0/16", addressesPerNetwork: 16, vlanMin: 10, vlanMax: 13, publicIps: ["192.0.2.10-192.0.2.17"], onPublicExhausted: "private" }
          })
          for (const a of [alice, bob]) for (const name of ["g1", "g2"]) c.run({ _tag: "CreateSecurityGroup", at: at(0), account: a, name, description: name })
          let t = 1
          for (const s of steps) {
            t++
            if (s.kind === "address") {
              if (mode === "MANAGED" || mode === "MANAGED-NOVLAN") for (const cmd of addressCommands(c.state, t, s)) c.run(cmd)
            } else if (s.kind === "run") {
              const account = s.account === 0 ? alice : bob
              c.run(runCmd({ at: at(t), account, minCount: 1, maxCount: s.count, addressing: s.priv ? "private" : "public", ...(s.group === 0 ? {} : { groupNames: [`g${s.group}`] }) }))
            } else {
              const live = State.liveInstances(c.state)
              if (live.length === 0) continue
              const inst = live[s.pick % live.length]!
              const cmds: Array<Commands.Command> = s.how === "fail"
                ? [{ _tag: "InstanceFailed", at: at(t), instanceId: inst.id, reason: "boot failed" }]
                : s.how === "terminate"
                ? [{ _tag: "TerminateInstances", at: at(t), account: inst.account, instanceIds: [inst.id] }]
                : [{ _tag: "TerminateInstances", at: at(t), account: inst.account, instanceIds: [inst.id] }, { _tag: "InstanceStopped", at: at(t), instanceId: inst.id }]
              for (const cmd of cmds) c.run(cmd)
            }
            expect(indexed(c.state)).toEqual(scanned(c.state))
            expect(c.state.privateIps).toEqual(
              State.liveInstances(c.state).flatMap((i) => (i.net.privateIp ? [Ipv4.parse(i.net.privateIp)!] : [])).sort((a, b) => a - b)
            )
            // A group's VLAN is held exactly while it has live members (MANAGED modes).
            if (mode === "MANAGED" || mode === "MANAGED-NOVLAN") {
              checkAddresses(c.state)
              for (const g of HashMap.values(c.state.groups)) {
                if (g.vlan !== undefined) expect(State.members(c.state, g.id).live).toBeGreaterThan(0)
              }
            }
          }
        }),
        { numRuns: 100 }
      )
    })
  }
})
