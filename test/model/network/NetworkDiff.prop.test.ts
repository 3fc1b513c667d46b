import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as Devices from "../../../src/model/NetworkDevices.js"
import * as NetworkDiff from "../../../src/model/NetworkDiff.js"
import * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import * as NetworkRender from "../../../src/model/NetworkRender.js"
import * as State from "../../../src/model/State.js"
import { IpModel, planAllows } from "./Interpret.js"
import { allowed } from "./Oracle.js"
import { build, NODE, PORT, scenarioArb, type ScenarioSpec, settings, ZONE } from "./Scenario.js"

const head: NetworkPlan.Head = { privateInterface: "eth1", publicInterface: "eth0" }
const modeArb = fc.constantFrom("MANAGED" as const, "MANAGED-NOVLAN" as const)
// Scenarios are generated as data (readable counterexamples) and built by the real decider.
const planArb = fc.tuple(scenarioArb(), modeArb)
const compiled = ([spec, mode]: readonly [ScenarioSpec, "MANAGED" | "MANAGED-NOVLAN"]) => {
  const b = build(spec, settings(mode))
  return { b, plan: Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, head)) }
}

const targets: ReadonlyArray<NetworkRender.Target> = [
  { role: "head", kind: { _tag: "vlan", dev: "eth1" } },
  { role: "head", kind: { _tag: "vxlan", dev: "eth1", local: "10.0.0.1", remote: "10.0.0.2" } },
  { role: "head", kind: { _tag: "veth", peerNamespace: "node" } },
  { role: "node", node: NODE, kind: { _tag: "vlan", dev: "eth0" } },
  { role: "node", node: NODE, kind: { _tag: "vxlan", dev: "eth0", local: "10.0.0.2", remote: "10.0.0.1" } }
]
const FOREIGN = ["eth0", "eth1"]

describe("NetworkDiff", () => {
  it.prop("re-applying a plan changes nothing: diff(p, p) is empty", [planArb], ([x]) => {
    const { plan } = compiled(x)
    for (const t of targets) expect(NetworkDiff.diff(plan, plan, t)).toEqual({ ip: [], iptables: false })
  }, { fastCheck: { numRuns: 40 } })

  it.prop("applying diff(a, b) to a host holding a's devices leaves exactly b's", [planArb, planArb], ([x, y]) => {
    const a = compiled(x)
    const b = compiled(y)
    for (const t of targets) {
      const from = NetworkRender.devicesFor(a.plan, t)
      const to = NetworkRender.devicesFor(b.plan, t)
      const host = new IpModel(from, FOREIGN)
      for (const argv of NetworkDiff.devices(from, to)) host.run(argv)
      expect(Devices.describe(host.devices())).toEqual(Devices.describe(to))
      // And from a bare host (first apply), and back to nothing (teardown).
      const bare = new IpModel(Devices.none, FOREIGN)
      for (const argv of NetworkDiff.devices(Devices.none, to)) bare.run(argv)
      expect(Devices.describe(bare.devices())).toEqual(Devices.describe(to))
      const down = new IpModel(to, FOREIGN)
      for (const argv of NetworkDiff.devices(to, Devices.none)) down.run(argv)
      expect(Devices.describe(down.devices())).toEqual(Devices.describe(Devices.none))
    }
  }, { fastCheck: { numRuns: 60 } })

  it.prop("only what changed: a plan change that keeps the segments keeps every link", [planArb], ([x]) => {
    const { b, plan } = compiled(x)
    // Revoking every rule changes the filter, never a device.
    const c = b.cloud
    for (const g of State.groups(c.state)) {
      if (g.rules.length === 0) continue
      c.ok({
        _tag: "RevokeIngress",
        at: 10_000 as never,
        account: g.account,
        groupId: g.id,
        // A source group of another account is named with its owner, as EC2's UserIdGroupPairs do.
        rules: g.rules.map((r) => ({
          ...r,
          source: r.source._tag === "Cidr" ? r.source : { _tag: "Group" as const, groupId: r.source.groupId, account: State.group(c.state, r.source.groupId)!.account }
        }))
      })
    }
    const after = Either.getOrThrow(NetworkPlan.compile(c.state, ZONE, head))
    for (const t of targets) expect(NetworkDiff.diff(plan, after, t).ip).toEqual([])
  }, { fastCheck: { numRuns: 30 } })
})

describe("the plan means what the security groups say", () => {
  it.prop("for every ordered pair of instances and tcp/udp/icmp, the plan's filter agrees with the oracle", [planArb], ([x]) => {
    const { b, plan } = compiled(x)
    const ids = State.liveInstances(b.cloud.state).map((i) => i.id)
    for (const from of ids) {
      for (const to of ids) {
        if (from === to) continue
        for (const probe of [{ protocol: "tcp", port: PORT }, { protocol: "udp", port: PORT }, { protocol: "icmp", type: 8 }] as const) {
          expect({ from, to, probe, allowed: planAllows(plan, from, to, probe) }).toEqual({ from, to, probe, allowed: allowed(b.cloud.state, from, to, probe) })
        }
      }
    }
  }, { fastCheck: { numRuns: 100 } })
})

describe("iptables-restore input", () => {
  it.prop("declares every chain it fills; hooks only when missing; stale chains flushed and deleted", [planArb, planArb], ([x, y]) => {
    const a = compiled(x)
    const b = compiled(y)
    const text = NetworkRender.restore(b.plan, NetworkRender.existingAfter(a.plan))
    const r = NetworkRender.rules(b.plan)
    if (NetworkPlan.isEmpty(b.plan) && NetworkPlan.isEmpty(a.plan)) {
      expect(text).toBeUndefined()
      return
    }
    const lines = text!.split("\n")
    const declared = lines.filter((l) => l.startsWith(":")).map((l) => l.slice(1).split(" ")[0])
    for (const line of [...r.filter, ...r.nat]) {
      expect(lines).toContain(line)
      expect(declared).toContain(line.split(" ")[1])
    }
    const before = NetworkRender.existingAfter(a.plan)
    const after = NetworkRender.existingAfter(b.plan)
    for (const c of before.chains) {
      const name = c.split(":")[1]!
      expect(lines.includes(`-X ${name}`)).toBe(!after.chains.includes(c))
    }
    const inserts = lines.filter((l) => l.startsWith("-I "))
    const deletes = lines.filter((l) => l.startsWith("-D "))
    expect(inserts.length).toBe(NetworkPlan.isEmpty(a.plan) && !NetworkPlan.isEmpty(b.plan) ? 4 : 0)
    expect(deletes.length).toBe(!NetworkPlan.isEmpty(a.plan) && NetworkPlan.isEmpty(b.plan) ? 4 : 0)
    expect(lines.filter((l) => l === "COMMIT")).toHaveLength(2)
    for (const l of lines) expect(l.startsWith(":FORWARD") || l.startsWith(":PREROUTING") || l.startsWith(":POSTROUTING") || l.startsWith(":OUTPUT")).toBe(false)
  }, { fastCheck: { numRuns: 60 } })
})
