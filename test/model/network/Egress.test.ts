/**
 * Egress rules in the core: decided (duplicates, unknown rules, the allow-all rule revoked and
 * restored), journaled (the events round-trip through their schema and replay to the same groups),
 * compiled into the plan's outbound chains and rendered as iptables.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, Schema } from "effect"
import * as Cloud from "../../../src/model/Cloud.js"
import type * as Commands from "../../../src/model/Commands.js"
import * as Effects from "../../../src/model/Effects.js"
import * as Events from "../../../src/model/Events.js"
import { evolveAll } from "../../../src/model/Evolve.js"
import * as Ids from "../../../src/model/Ids.js"
import * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import * as NetworkRender from "../../../src/model/NetworkRender.js"
import * as Policy from "../../../src/model/Policy.js"
import * as SecurityGroup from "../../../src/model/SecurityGroup.js"
import * as State from "../../../src/model/State.js"
import { at, topology } from "../../support/cloud.js"
import { build, settings, ZONE } from "./Scenario.js"

const head: NetworkPlan.Head = { privateInterface: "eth1", publicInterface: "eth0" }
const alice = Ids.accountId("alice")
const allowAll: Commands.RuleInput = { protocol: "all", fromPort: 0, toPort: 0, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } }
const https: Commands.RuleInput = { protocol: "tcp", fromPort: 443, toPort: 443, source: { _tag: "Cidr", cidr: "203.0.113.0/24" } }

/** web (two instances, one also in db) and db (one instance); rules added by the caller. */
const scenario = () => build({
  groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }],
  instances: [{ groups: [0], addressing: "public" }, { groups: [0, 1], addressing: "public" }, { groups: [1], addressing: "private" }],
  rules: []
}, settings())

const plan = (s: State.State) => Either.getOrThrow(NetworkPlan.compile(s, ZONE, head))

describe("egress rules: decisions", () => {
  it("a new group holds the allow-all rule; authorize, duplicate, revoke, not found", () => {
    const b = scenario()
    const c = b.cloud
    const web = b.groupIds[0]!
    expect(State.group(c.state, web)!.egress).toEqual([SecurityGroup.ALLOW_ALL_EGRESS])
    expect(SecurityGroup.egressOpen(State.group(c.state, web)!)).toBe(true)

    // The allow-all rule is already there (EC2: InvalidPermission.Duplicate).
    expect(c.run({ _tag: "AuthorizeEgress", at: at(100), account: alice, groupId: web, rules: [allowAll] })).toMatchObject({ rejection: { _tag: "DuplicateRule" } })
    const added = c.ok({ _tag: "AuthorizeEgress", at: at(101), account: alice, groupId: web, rules: [https] })
    expect(added).toEqual([{ _tag: "EgressAuthorized", at: at(101), group: web, rules: [{ protocol: "tcp", fromPort: 443, toPort: 443, source: { _tag: "Cidr", cidr: "203.0.113.0/24" } }] }])
    expect(c.run({ _tag: "AuthorizeEgress", at: at(102), account: alice, groupId: web, rules: [https] })).toMatchObject({ rejection: { _tag: "DuplicateRule" } })
    // Ingress is a separate list: the same rule is not a duplicate there.
    c.ok({ _tag: "AuthorizeIngress", at: at(103), account: alice, groupId: web, rules: [https] })

    c.ok({ _tag: "RevokeEgress", at: at(104), account: alice, groupId: web, rules: [allowAll] })
    const g = State.group(c.state, web)!
    expect(g.egress.map(SecurityGroup.ruleKey)).toEqual(["tcp:443:443:cidr:203.0.113.0/24"])
    expect(SecurityGroup.egressOpen(g)).toBe(false)
    expect(c.run({ _tag: "RevokeEgress", at: at(105), account: alice, groupId: web, rules: [allowAll] })).toMatchObject({ rejection: { _tag: "RuleNotFound" } })

    // Bad ports, an unknown or foreign group, a bad CIDR.
    expect(c.run({ _tag: "AuthorizeEgress", at: at(106), account: alice, groupId: web, rules: [{ ...https, fromPort: 500, toPort: 400 }] })).toMatchObject({
      rejection: { _tag: "InvalidRequest" }
    })
    expect(c.run({ _tag: "AuthorizeEgress", at: at(106), account: Ids.accountId("bob"), groupId: web, rules: [https] })).toMatchObject({ rejection: { _tag: "GroupNotFound" } })
    expect(c.run({ _tag: "AuthorizeEgress", at: at(106), account: alice, groupId: web, rules: [{ ...https, source: { _tag: "Cidr", cidr: "300.1.1.1/8" } }] })).toMatchObject({
      rejection: { _tag: "InvalidRequest" }
    })
  })

  it("a rule to a group; that group cannot be deleted while the rule names it", () => {
    const b = scenario()
    const c = b.cloud
    c.ok({ _tag: "CreateSecurityGroup", at: at(100), account: alice, name: "target", description: "t" })
    const target = State.groupByName(c.state, alice, "target")!.id
    const rule: Commands.RuleInput = { protocol: "tcp", fromPort: 5432, toPort: 5432, source: { _tag: "Group", groupId: target } }
    c.ok({ _tag: "AuthorizeEgress", at: at(101), account: alice, groupId: b.groupIds[0]!, rules: [rule] })
    expect(c.run({ _tag: "DeleteSecurityGroup", at: at(102), account: alice, groupId: target })).toMatchObject({ rejection: { _tag: "GroupInUse" } })
    c.ok({ _tag: "RevokeEgress", at: at(103), account: alice, groupId: b.groupIds[0]!, rules: [rule] })
    c.ok({ _tag: "DeleteSecurityGroup", at: at(104), account: alice, groupId: target })
  })

  it("the events are the journal: they round-trip through their schema and replay to the same groups; they re-plan the group's zones", () => {
    const b = scenario()
    const c = b.cloud
    const web = b.groupIds[0]!
    for (const command of [
      { _tag: "AuthorizeEgress", at: at(100), account: alice, groupId: web, rules: [https] },
      { _tag: "RevokeEgress", at: at(101), account: alice, groupId: web, rules: [allowAll] }
    ] as const) {
      const before = c.state
      const [e] = c.ok(command)
      expect(Effects.of(before, e!, c.state)).toEqual([{ _tag: "ApplyNetwork", zone: ZONE }])
    }
    const json = JSON.stringify(c.log.map((e) => Schema.encodeSync(Events.Event)(e)))
    const decoded = (JSON.parse(json) as Array<unknown>).map((e) => Schema.decodeUnknownSync(Events.Event)(e))
    const initial = Either.getOrThrow(Cloud.make({ topology: topology([[64, 65536, 1000]]), network: settings() }, Policy.greedy()))
    const replayed = evolveAll(initial, decoded)
    expect(State.groups(replayed)).toEqual(State.groups(c.state))
    expect(State.group(replayed, web)!.egress.map(SecurityGroup.ruleKey)).toEqual(["tcp:443:443:cidr:203.0.113.0/24"])
  })
})

describe("egress rules: the plan and its iptables", () => {
  it("open groups hold no outbound chain: the rules are what they were", () => {
    const p = plan(scenario().cloud.state)
    expect(p.outbound).toEqual([])
    const r = NetworkRender.rules(p)
    expect(r.chains.filter.some((c) => c.startsWith("EU-O"))).toBe(false)
    expect(r.filter.some((l) => l.includes(NetworkRender.OUTBOUND))).toBe(false)
  })

  it("a restricted group: its members start only what its rules allow; a member of an open group as well is not held", () => {
    const b = scenario()
    const c = b.cloud
    const [web, db] = b.groupIds as [Ids.GroupId, Ids.GroupId]
    c.ok({ _tag: "RevokeEgress", at: at(100), account: alice, groupId: web, rules: [allowAll] })
    c.ok({ _tag: "AuthorizeEgress", at: at(101), account: alice, groupId: web, rules: [https, { protocol: "tcp", fromPort: 5432, toPort: 5432, source: { _tag: "Group", groupId: db } }] })
    const p = plan(c.state)
    const dbCidr = State.group(c.state, db)!.vlan
    expect(dbCidr).toBeDefined()
    const dbMembers = [p.segments.find((s) => s.group === db)!.cidr, `${State.instance(c.state, b.instanceIds[1]!)!.net.privateIp}/32`]
    expect(p.outbound).toEqual([{
      name: `EU-O-${web}`,
      group: web,
      account: alice,
      allows: [
        { destination: "203.0.113.0/24", protocol: "tcp", fromPort: 443, toPort: 443, note: `${web} tcp 443-443 to 203.0.113.0/24` },
        ...dbMembers.map((d) => ({ destination: d, protocol: "tcp", fromPort: 5432, toPort: 5432, note: `${web} tcp 5432-5432 to ${db}` }))
      ]
    }])
    // Instance 0 is only in web (held); instance 1 is in web and db (db is open: not held).
    const held = NetworkPlan.restricted(p)
    expect(held.map((h) => h.endpoint.instance)).toEqual([b.instanceIds[0]])
    const ip0 = State.instance(c.state, b.instanceIds[0]!)!.net.privateIp!
    const r = NetworkRender.rules(p)
    expect(r.chains.filter).toEqual(["EU-FORWARD", "EU-INGRESS", "EU-EGRESS", ...p.chains.map((x) => x.name), "EU-OUTBOUND", "EU-PASS", `EU-O-${web}`])
    const f = r.filter
    // The outbound check comes before what the destination admits.
    expect(f.indexOf(`-A EU-FORWARD -s ${p.subnet} -j EU-OUTBOUND`)).toBeLessThan(f.indexOf(`-A EU-FORWARD -d ${p.subnet} -j EU-INGRESS`))
    expect(f.filter((l) => l.startsWith("-A EU-OUTBOUND") || l.startsWith("-A EU-PASS") || l.startsWith("-A EU-O-"))).toEqual([
      "-A EU-OUTBOUND -m conntrack --ctstate RELATED,ESTABLISHED -j RETURN",
      "-A EU-OUTBOUND -d 192.0.2.100/32 -p tcp -m tcp --dport 8773 -m conntrack --ctstate DNAT --ctorigdst 169.254.169.254/32 -j RETURN",
      `-A EU-OUTBOUND -s ${ip0}/32 -j EU-O-${web}`,
      `-A EU-OUTBOUND -s ${ip0}/32 -j DROP`,
      `-A EU-PASS -d ${p.subnet} -j EU-INGRESS`,
      "-A EU-PASS -j EU-EGRESS",
      `-A EU-O-${web} -d 203.0.113.0/24 -p tcp -m tcp --dport 443 -m comment --comment "${web} tcp 443-443 to 203.0.113.0/24" -j EU-PASS`,
      ...dbMembers.map((d) => `-A EU-O-${web} -d ${d} -p tcp -m tcp --dport 5432 -m comment --comment "${web} tcp 5432-5432 to ${db}" -j EU-PASS`)
    ])
    // One restore declares the new chains; restoring the allow-all rule removes them in one go.
    const before = NetworkRender.existingAfter(p)
    expect(before.chains).toContain(`filter:EU-O-${web}`)
    c.ok({ _tag: "AuthorizeEgress", at: at(102), account: alice, groupId: web, rules: [allowAll] })
    const open = plan(c.state)
    expect(open.outbound).toEqual([])
    const text = NetworkRender.restore(open, before)!
    expect(text.split("\n").filter((l) => l.startsWith("-X "))).toEqual(["-X EU-OUTBOUND", "-X EU-PASS", `-X EU-O-${web}`].sort())
  })

  it("a restricted group without rules: its members start nothing", () => {
    const b = scenario()
    const c = b.cloud
    const db = b.groupIds[1]!
    c.ok({ _tag: "RevokeEgress", at: at(100), account: alice, groupId: db, rules: [allowAll] })
    const p = plan(c.state)
    expect(p.outbound).toEqual([{ name: `EU-O-${db}`, group: db, account: alice, allows: [] }])
    const ip2 = State.instance(c.state, b.instanceIds[2]!)!.net.privateIp!
    expect(NetworkPlan.restricted(p).map((h) => h.endpoint.privateIp)).toEqual([ip2])
    expect(NetworkRender.rules(p).filter).toContain(`-A EU-OUTBOUND -s ${ip2}/32 -j DROP`)
  })
})
