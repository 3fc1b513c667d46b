import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc, HashMap } from "effect"
import type * as Commands from "../../src/model/Commands.js"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import { alice, at, bob, make, runCmd, topology } from "../support/cloud.js"

/** The index `evolve` keeps, recomputed by scanning every instance. */
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

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("run" as const), account: fc.constantFrom(0 as const, 1 as const), group: fc.nat(2), count: fc.integer({ min: 1, max: 4 }), priv: fc.boolean() }),
  fc.record({ kind: fc.constant("end" as const), pick: fc.nat(), how: fc.constantFrom("fail" as const, "terminate" as const, "stop" as const) })
)

describe("the per-group membership index", () => {
  for (const mode of ["MANAGED", "MANAGED-NOVLAN", "SYSTEM"] as const) {
    it(`equals a scan of the instances after any launches and terminations (${mode})`, () => {
      fc.assert(
        fc.property(fc.array(step, { maxLength: 60 }), (steps) => {
          const c = make(Policy.greedy(), topology([[64, 65536, 2000], [64, 65536, 2000]]), {
            network: mode === "SYSTEM"
              ? { mode }
              : { mode, subnet: "172.31.0.0/16", addressesPerNetwork: 16, vlanMin: 10, vlanMax: 13, publicIps: ["192.0.2.10-192.0.2.17"], onPublicExhausted: "private" }
          })
          for (const a of [alice, bob]) for (const name of ["g1", "g2"]) c.run({ _tag: "CreateSecurityGroup", at: at(0), account: a, name, description: name })
          let t = 1
          for (const s of steps) {
            t++
            if (s.kind === "run") {
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
            // A group's VLAN is held exactly while it has live members (MANAGED modes).
            if (mode !== "SYSTEM") {
              for (const g of HashMap.values(c.state.groups)) {
                if (g.vlan !== undefined) expect(State.members(c.state, g.id).live).toBeGreaterThan(0)
              }
            }
          }
        }),
        { numRuns: 60 }
      )
    })
  }
})
