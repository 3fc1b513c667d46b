/**
 * Egress rules, for any scenario: what the plan's outbound chains let an instance start (read from
 * the plan's data) agrees with what its groups' egress rules say (read from the state), for every
 * pair of instances the head sees (different segments), combined with the ingress side.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import type * as Commands from "../../../src/model/Commands.js"
import * as Ipv4 from "../../../src/model/Ipv4.js"
import * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import * as SecurityGroup from "../../../src/model/SecurityGroup.js"
import * as State from "../../../src/model/State.js"
import { at } from "../../support/cloud.js"
import { planAllows } from "./Interpret.js"
import { allowed, type Probe } from "./Oracle.js"
import { build, PORT, scenarioArb, settings, ZONE } from "./Scenario.js"

const head: NetworkPlan.Head = { privateInterface: "eth1", publicInterface: "eth0" }
const inCidr = (cidr: string, ip: string) => Ipv4.contains(Ipv4.parseCidr(cidr)!, Ipv4.parse(ip)!)

const matches = (r: { readonly protocol: SecurityGroup.Protocol; readonly fromPort: number; readonly toPort: number }, probe: Probe): boolean => {
  if (r.protocol === "all") return true
  if (r.protocol !== probe.protocol) return false
  if (probe.protocol === "icmp") return r.fromPort < 0 || r.fromPort === probe.type
  return probe.port >= r.fromPort && probe.port <= r.toPort
}

/** The state's word: may `from` start this traffic to `to`, by its groups' egress rules? */
const egressAllowed = (s: State.State, fromId: string, toId: string, probe: Probe): boolean => {
  const from = State.instance(s, fromId)!
  const to = State.instance(s, toId)!
  const groups = from.groups.map((g) => State.group(s, g)!)
  if (groups.some(SecurityGroup.egressOpen)) return true
  return groups.some((g) =>
    g.egress.some((r) => matches(r, probe) && (r.source._tag === "Cidr" ? inCidr(r.source.cidr, to.net.privateIp!) : to.groups.includes(r.source.groupId)))
  )
}

/** The plan's word, from its data: the outbound chains of a held instance. */
const planEgress = (plan: NetworkPlan.Plan, fromId: string, toId: string, probe: Probe): boolean => {
  const held = NetworkPlan.restricted(plan).find((h) => h.endpoint.instance === fromId)
  if (held === undefined) return true
  const to = plan.endpoints.find((e) => e.instance === toId)!
  return held.chains.some((name) => plan.outbound.find((o) => o.name === name)!.allows.some((a) => matches(a, probe) && inCidr(a.destination, to.privateIp)))
}

const egressArb = fc.array(
  fc.record({
    group: fc.nat(),
    revokeAll: fc.boolean(),
    rules: fc.array(
      fc.record({
        proto: fc.constantFrom(["tcp", PORT, PORT] as const, ["tcp", 1, 4999] as const, ["udp", PORT, PORT] as const, ["icmp", 8, -1] as const, ["all", -1, -1] as const),
        peer: fc.oneof(fc.constantFrom("0.0.0.0/0", "172.31.0.0/25", "10.99.0.0/16").map((cidr) => ({ cidr })), fc.nat().map((group) => ({ group })))
      }),
      { maxLength: 3 }
    )
  }),
  { minLength: 1, maxLength: 4 }
)

describe("egress rules: the plan means what the groups say", () => {
  it.prop(
    "for every pair of instances in different segments and tcp/udp/icmp: plan (ingress and egress) = groups (ingress and egress)",
    [scenarioArb({ minInstances: 2, maxInstances: 4 }), fc.constantFrom("MANAGED" as const, "MANAGED-NOVLAN" as const), egressArb],
    ([spec, mode, egress]) => {
      const b = build(spec, settings(mode))
      const c = b.cloud
      let t = 60_000
      for (const e of egress) {
        const gid = b.groupIds[e.group % b.groupIds.length]!
        const g = State.group(c.state, gid)!
        if (e.revokeAll && SecurityGroup.egressOpen(g)) {
          c.ok({ _tag: "RevokeEgress", at: at(++t), account: g.account, groupId: gid, rules: [{ protocol: "all", fromPort: -1, toPort: -1, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } }] })
        }
        for (const r of e.rules) {
          const peerGroup = "group" in r.peer ? State.group(c.state, b.groupIds[r.peer.group % b.groupIds.length]!)! : undefined
          const source: Commands.RuleInput["source"] = peerGroup !== undefined
            ? { _tag: "Group", groupId: peerGroup.id, account: peerGroup.account }
            : { _tag: "Cidr", cidr: (r.peer as { cidr: string }).cidr }
          const d = c.run({ _tag: "AuthorizeEgress", at: at(++t), account: g.account, groupId: gid, rules: [{ protocol: r.proto[0], fromPort: r.proto[1], toPort: r.proto[2], source }] })
          if (d._tag !== "Accepted") expect(d).toMatchObject({ rejection: { _tag: "DuplicateRule" } })
        }
      }
      const plan = Either.getOrThrow(NetworkPlan.compile(c.state, ZONE, head))
      const live = State.liveInstances(c.state)
      for (const from of live) {
        for (const to of live) {
          if (from.id === to.id || from.net.vlan === to.net.vlan) continue
          for (const probe of [{ protocol: "tcp", port: PORT }, { protocol: "udp", port: PORT }, { protocol: "icmp", type: 8 }] as const) {
            const want = allowed(c.state, from.id, to.id, probe) && egressAllowed(c.state, from.id, to.id, probe)
            const got = planAllows(plan, from.id, to.id, probe) && planEgress(plan, from.id, to.id, probe)
            expect({ from: from.id, to: to.id, probe, allowed: got }).toEqual({ from: from.id, to: to.id, probe, allowed: want })
          }
        }
      }
    },
    { fastCheck: { numRuns: 150 } }
  )
})
