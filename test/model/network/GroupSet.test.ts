/**
 * Moving an instance between security groups (ModifyInstanceAttribute groupSet) in the core: one
 * command, one event; the instance keeps its address in the network it sits in; the plan re-made
 * from the new groups (what reaches it, what it reaches, its segment standing for the old group no
 * longer); its old group stays in use while it sits in that group's network; and, for any scenario
 * and any moves, the plan agrees with what the groups say for traffic through the head.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc, Schema } from "effect"
import * as Effects from "../../../src/model/Effects.js"
import * as Events from "../../../src/model/Events.js"
import * as Ids from "../../../src/model/Ids.js"
import * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import * as State from "../../../src/model/State.js"
import { at } from "../../support/cloud.js"
import { planAllows } from "./Interpret.js"
import { allowed } from "./Oracle.js"
import { build, PORT, scenarioArb, settings, ZONE } from "./Scenario.js"

const head: NetworkPlan.Head = { privateInterface: "eth1", publicInterface: "eth0" }
const alice = Ids.accountId("alice")
const plan = (s: State.State) => Either.getOrThrow(NetworkPlan.compile(s, ZONE, head))

/** web (web1, web2), db (db1), admin (no instance yet); db admits web on 5432, admin admits nothing. */
const scenario = () =>
  build({
    groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }, { account: "alice", name: "admin" }, { account: "bob", name: "theirs" }],
    instances: [{ groups: [0], addressing: "public" }, { groups: [0], addressing: "public" }, { groups: [1], addressing: "private" }, { groups: [3], addressing: "public" }],
    rules: [{ group: 1, protocol: "tcp", fromPort: 5432, toPort: 5432, source: { _tag: "Group", group: 0 } }]
  })

describe("groupSet: decisions", () => {
  it("one command, one event; the address stays; EC2's refusals", () => {
    const b = scenario()
    const c = b.cloud
    const [web, db, admin, theirs] = b.groupIds as [Ids.GroupId, Ids.GroupId, Ids.GroupId, Ids.GroupId]
    const [web1, , db1] = b.instanceIds as [Ids.InstanceId, Ids.InstanceId, Ids.InstanceId]
    const net = State.instance(c.state, web1)!.net
    const before = c.state
    const events = c.ok({ _tag: "ModifyInstanceGroups", at: at(100), account: alice, instanceId: web1, groupIds: [admin, db, admin] })
    expect(events).toEqual([{ _tag: "InstanceGroupsChanged", at: at(100), instance: web1, groups: [admin, db], home: web }])
    expect(Schema.decodeUnknownSync(Events.Event)(JSON.parse(JSON.stringify(Schema.encodeSync(Events.Event)(events[0]!))))).toEqual(events[0])
    const moved = State.instance(c.state, web1)!
    expect(moved.groups).toEqual([admin, db])
    expect(State.homeGroup(moved)).toBe(web)
    expect(moved.net).toEqual(net)
    expect(Effects.of(before, events[0]!, c.state)).toEqual([{ _tag: "ApplyNetwork", zone: ZONE }])
    // The same set again changes nothing; a second move keeps the home.
    expect(c.ok({ _tag: "ModifyInstanceGroups", at: at(101), account: alice, instanceId: web1, groupIds: [admin, db] })).toEqual([])
    expect(c.ok({ _tag: "ModifyInstanceGroups", at: at(102), account: alice, instanceId: web1, groupIds: [db] })).toEqual([
      { _tag: "InstanceGroupsChanged", at: at(102), instance: web1, groups: [db], home: web }
    ])

    const run = (groupIds: ReadonlyArray<string>, instanceId: string = web1, account = alice) =>
      c.run({ _tag: "ModifyInstanceGroups", at: at(103), account, instanceId, groupIds })
    expect(run([theirs])).toMatchObject({ rejection: { _tag: "GroupNotFound", group: theirs } })
    expect(run(["sg-0badc0de"])).toMatchObject({ rejection: { _tag: "GroupNotFound" } })
    expect(run([])).toMatchObject({ rejection: { _tag: "InvalidRequest", field: "GroupId" } })
    expect(run([web], web1, Ids.accountId("bob"))).toMatchObject({ rejection: { _tag: "InstanceNotFound" } })
    for (let k = 0; k < 5; k++) c.ok({ _tag: "CreateSecurityGroup", at: at(104), account: alice, name: `x${k}`, description: "x" })
    const six = [web, ...[0, 1, 2, 3, 4].map((k) => State.groupByName(c.state, alice, `x${k}`)!.id)]
    expect(run(six)).toMatchObject({ rejection: { _tag: "InvalidRequest" } })
    c.ok({ _tag: "TerminateInstances", at: at(105), account: alice, instanceIds: [db1] })
    expect(run([web], db1)).toMatchObject({ rejection: { _tag: "IncorrectInstanceState" } })
  })

  it("the old group stays in use while the instance sits in its network; terminating it frees that network", () => {
    const b = build({ groups: [{ account: "alice", name: "a" }, { account: "alice", name: "b" }], instances: [{ groups: [0], addressing: "public" }], rules: [] })
    const c = b.cloud
    const [a, bb] = b.groupIds as [Ids.GroupId, Ids.GroupId]
    const [i1] = b.instanceIds as [Ids.InstanceId]
    c.ok({ _tag: "ModifyInstanceGroups", at: at(100), account: alice, instanceId: i1, groupIds: [bb] })
    expect(c.run({ _tag: "DeleteSecurityGroup", at: at(101), account: alice, groupId: a })).toMatchObject({ rejection: { _tag: "GroupInUse" } })
    expect(State.members(c.state, a).live).toBe(1)
    expect(State.group(c.state, a)!.vlan).toBeDefined()
    c.ok({ _tag: "TerminateInstances", at: at(102), account: undefined, instanceIds: [i1] })
    c.ok({ _tag: "InstanceStopped", at: at(103), instanceId: i1 })
    expect(State.members(c.state, a).live).toBe(0)
    expect(State.group(c.state, a)!.vlan).toBeUndefined()
    c.ok({ _tag: "DeleteSecurityGroup", at: at(104), account: alice, groupId: a })
  })
})

describe("groupSet: the plan", () => {
  it("the moved instance is reached and reaches by its new groups; its old segment stands for the old group no longer", () => {
    const b = scenario()
    const c = b.cloud
    const [web, db, admin] = b.groupIds as [Ids.GroupId, Ids.GroupId, Ids.GroupId]
    const [web1, web2, db1] = b.instanceIds as [Ids.InstanceId, Ids.InstanceId, Ids.InstanceId]
    const ip = (id: string) => State.instance(c.state, id)!.net.privateIp!
    const webSeg = plan(c.state).segments.find((s) => s.group === web)!.cidr
    expect(planAllows(plan(c.state), web1, db1, { protocol: "tcp", port: 5432 })).toBe(true)

    c.ok({ _tag: "ModifyInstanceGroups", at: at(100), account: alice, instanceId: web1, groupIds: [admin] })
    const p = plan(c.state)
    // Still in web's segment (same VLAN, same address).
    expect(p.segments.find((s) => s.vlan === State.instance(c.state, web1)!.net.vlan)!.group).toBe(web)
    expect(p.endpoints.find((e) => e.instance === web1)!.groups).toEqual([admin])
    const chain = (g: Ids.GroupId) => p.chains.find((x) => x.group === g)
    expect(chain(web)!.destinations).toEqual([`${ip(web2)}/32`])
    expect(chain(web)!.accepts.map((a) => a.source)).toEqual([`${ip(web2)}/32`])
    expect(chain(admin)!.destinations).toEqual([`${ip(web1)}/32`])
    expect(chain(db)!.accepts.map((a) => a.source)).not.toContain(webSeg)
    // No longer in web: db does not admit it; web2 still is.
    expect(planAllows(p, web1, db1, { protocol: "tcp", port: 5432 })).toBe(false)
    expect(planAllows(p, web2, db1, { protocol: "tcp", port: 5432 })).toBe(true)
    expect(planAllows(p, db1, web1, { protocol: "tcp", port: PORT })).toBe(false)

    // Into db as well: db's members admit it, and db's rule admits nothing new for it.
    c.ok({ _tag: "ModifyInstanceGroups", at: at(101), account: alice, instanceId: web1, groupIds: [admin, db] })
    const q = plan(c.state)
    expect(planAllows(q, web1, db1, { protocol: "tcp", port: 9 })).toBe(true)
    expect(planAllows(q, db1, web1, { protocol: "tcp", port: 9 })).toBe(true)
    // Back into web: its segment stands for it whole again.
    c.ok({ _tag: "ModifyInstanceGroups", at: at(102), account: alice, instanceId: web1, groupIds: [web] })
    expect(plan(c.state).chains.find((x) => x.group === web)!.destinations).toEqual([webSeg])
  })

  it.prop(
    "after any moves, the plan agrees with the groups for every pair the head sees (different segments)",
    [
      fc.tuple(
        scenarioArb({ minInstances: 2, maxInstances: 4 }),
        fc.constantFrom("MANAGED" as const, "MANAGED-NOVLAN" as const),
        fc.array(fc.record({ instance: fc.nat(), groups: fc.array(fc.nat(), { minLength: 1, maxLength: 3 }) }), { minLength: 1, maxLength: 4 })
      )
    ],
    ([[spec, mode, moves]]) => {
      const b = build(spec, settings(mode))
      const c = b.cloud
      let t = 50_000
      for (const m of moves) {
        const id = b.instanceIds[m.instance % b.instanceIds.length]!
        const i = State.instance(c.state, id)!
        if (i.state === "terminated") continue
        // Groups of the instance's own account.
        const own = b.groupIds.filter((g) => State.group(c.state, g)!.account === i.account)
        c.ok({ _tag: "ModifyInstanceGroups", at: at(++t), account: i.account, instanceId: id, groupIds: m.groups.map((k) => own[k % own.length]!) })
      }
      const p = plan(c.state)
      const live = State.liveInstances(c.state)
      for (const from of live) {
        for (const to of live) {
          if (from.id === to.id || from.net.vlan === to.net.vlan) continue
          for (const probe of [{ protocol: "tcp", port: PORT }, { protocol: "udp", port: PORT }, { protocol: "icmp", type: 8 }] as const) {
            expect({ from: from.id, to: to.id, probe, allowed: planAllows(p, from.id, to.id, probe) }).toEqual({
              from: from.id,
              to: to.id,
              probe,
              allowed: allowed(c.state, from.id, to.id, probe)
            })
          }
        }
      }
    },
    { fastCheck: { numRuns: 100 } }
  )
})
