import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Ids from "../../../src/model/Ids.js"
import * as Network from "../../../src/model/Network.js"
import * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import * as State from "../../../src/model/State.js"
import { at } from "../../support/cloud.js"
import { build, settings, ZONE } from "./Scenario.js"

const head: NetworkPlan.Head = { privateInterface: "eth1", publicInterface: "eth0" }
const plan = (s: State.State, zone = ZONE) => {
  const p = NetworkPlan.compile(s, zone, head)
  if (Either.isLeft(p)) throw new Error(p.left.message)
  return p.right
}

describe("NetworkPlan.compile (MANAGED)", () => {
  const b = build({
    groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }],
    instances: [{ groups: [0], addressing: "public" }, { groups: [0], addressing: "public" }, { groups: [1], addressing: "private" }],
    rules: [
      { group: 0, protocol: "tcp", fromPort: 80, toPort: 80, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } },
      { group: 1, protocol: "tcp", fromPort: 5432, toPort: 5432, source: { _tag: "Group", group: 0 } },
      { group: 1, protocol: "icmp", fromPort: 8, toPort: -1, source: { _tag: "Group", group: 0 } }
    ]
  })
  const p = plan(b.cloud.state)
  const [web, db] = b.groupIds
  const [w1, w2, d1] = b.instanceIds.map((id) => State.instance(b.cloud.state, id)!)

  it("gives each group with instances a segment: VLAN, subnet SUBNET + (v−2)·n, gateway .1, broadcast, eucabr<vlan>", () => {
    // 172.31.0.0/24 in /28s: VLAN 10 → 172.31.0.128/28, VLAN 11 → 172.31.0.144/28.
    expect(p.segments).toEqual([
      { vlan: 10, group: web, account: "alice", cidr: "172.31.0.128/28", prefix: 28, network: "172.31.0.128", gateway: "172.31.0.129", broadcast: "172.31.0.143", bridge: "eucabr10" },
      { vlan: 11, group: db, account: "alice", cidr: "172.31.0.144/28", prefix: 28, network: "172.31.0.144", gateway: "172.31.0.145", broadcast: "172.31.0.159", bridge: "eucabr11" }
    ])
    expect(p.endpoints.map((e) => [e.instance, e.privateIp, e.vlan, e.mac])).toEqual([
      [w1!.id, "172.31.0.130", 10, Ids.macOf(w1!.id)],
      [w2!.id, "172.31.0.131", 10, Ids.macOf(w2!.id)],
      [d1!.id, "172.31.0.146", 11, Ids.macOf(d1!.id)]
    ])
  })

  it("makes one chain per group: intra-group first, then one ACCEPT per rule and source (a group source is its whole subnet)", () => {
    expect(p.chains.map((c) => c.name).sort()).toEqual([`EU-${web}`, `EU-${db}`].sort())
    const dbChain = p.chains.find((c) => c.group === db)!
    expect(dbChain.destinations).toEqual(["172.31.0.144/28"])
    expect(dbChain.accepts.map((a) => [a.source, a.protocol, a.fromPort, a.toPort])).toEqual([
      ["172.31.0.144/28", "all", -1, -1],
      ["172.31.0.128/28", "tcp", 5432, 5432],
      ["172.31.0.128/28", "icmp", 8, -1]
    ])
    const webChain = p.chains.find((c) => c.group === web)!
    expect(webChain.accepts.map((a) => [a.source, a.protocol, a.fromPort])).toEqual([
      ["172.31.0.128/28", "all", -1],
      ["0.0.0.0/0", "tcp", 80]
    ])
    for (const c of p.chains) expect(c.name.length).toBeLessThanOrEqual(28)
  })

  it("translates each public address, not those of private-addressed instances, and redirects metadata", () => {
    expect(p.publicAddresses).toEqual([
      { publicIp: "192.0.2.10", privateIp: "172.31.0.130", instance: w1!.id, kind: "system" },
      { publicIp: "192.0.2.11", privateIp: "172.31.0.131", instance: w2!.id, kind: "system" }
    ])
    expect(p.metadata).toEqual({ host: "192.0.2.100", port: 8773 })
  })

  it("follows elastic addresses: an associated one replaces the system address", () => {
    const c = build({ groups: [{ account: "alice", name: "web" }], instances: [{ groups: [0], addressing: "public" }], rules: [] })
    const id = c.instanceIds[0]!
    const e = c.cloud.ok({ _tag: "AllocateAddress", at: at(100), account: Ids.accountId("alice") })
    const ip = (e[0] as { ip: string }).ip
    c.cloud.ok({ _tag: "AssociateAddress", at: at(101), account: Ids.accountId("alice"), publicIp: ip, instanceId: id })
    expect(plan(c.cloud.state).publicAddresses).toEqual([{ publicIp: ip, privateIp: "172.31.0.130", instance: id, kind: "elastic" }])
  })

  it("drops terminated instances, and a group's segment and chain with its last instance", () => {
    const c = build({
      groups: [{ account: "alice", name: "a" }, { account: "alice", name: "b" }],
      instances: [{ groups: [0], addressing: "public" }, { groups: [1], addressing: "public" }],
      rules: [],
      terminate: [1]
    })
    const q = plan(c.cloud.state)
    expect(q.segments.map((s) => s.vlan)).toEqual([10])
    expect(q.chains.map((x) => x.group)).toEqual([c.groupIds[0]])
    expect(q.publicAddresses).toHaveLength(1)
  })

  it("an instance in several groups sits in its first group's segment and is a /32 member of the others", () => {
    const c = build({
      groups: [{ account: "alice", name: "a" }, { account: "alice", name: "b" }],
      instances: [{ groups: [0, 1], addressing: "private" }, { groups: [1], addressing: "private" }],
      rules: [{ group: 0, protocol: "tcp", fromPort: 22, toPort: 22, source: { _tag: "Group", group: 1 } }]
    })
    const q = plan(c.cloud.state)
    const [a, b2] = c.groupIds
    const ca = q.chains.find((x) => x.group === a)!
    const cb = q.chains.find((x) => x.group === b2)!
    // x (a, b) at 172.31.0.130 in VLAN 10; y (b) at 172.31.0.146 in VLAN 11.
    expect(cb.destinations).toEqual(["172.31.0.144/28", "172.31.0.130/32"])
    expect(cb.accepts.map((x) => x.source)).toEqual(["172.31.0.144/28", "172.31.0.130/32"])
    expect(ca.accepts.map((x) => [x.source, x.protocol])).toEqual([
      ["172.31.0.128/28", "all"],
      ["172.31.0.144/28", "tcp"],
      ["172.31.0.130/32", "tcp"]
    ])
  })

  it("isolates accounts: only a rule naming another account's group admits it", () => {
    const c = build({
      groups: [{ account: "alice", name: "web" }, { account: "bob", name: "web" }, { account: "bob", name: "app" }],
      instances: [{ groups: [0], addressing: "private" }, { groups: [1], addressing: "private" }, { groups: [2], addressing: "private" }],
      rules: [{ group: 2, protocol: "tcp", fromPort: 8080, toPort: 8080, source: { _tag: "Group", group: 0 } }]
    })
    const q = plan(c.cloud.state)
    const [aliceWeb, bobWeb, bobApp] = c.groupIds
    const seg = (g: Ids.GroupId) => q.segments.find((s) => s.group === g)!.cidr
    expect(q.chains.find((x) => x.group === bobApp)!.accepts.map((a) => a.source)).toEqual([seg(bobApp!), seg(aliceWeb!)])
    expect(q.chains.find((x) => x.group === aliceWeb)!.accepts.map((a) => a.source)).toEqual([seg(aliceWeb!)])
    expect(q.chains.find((x) => x.group === bobWeb)!.accepts.map((a) => a.source)).toEqual([seg(bobWeb!)])
  })

  it("compiles only the zone asked for", () => {
    const c = build({ groups: [{ account: "alice", name: "a" }], instances: [{ groups: [0], addressing: "public" }], rules: [] }, settings(), 1)
    const other = NetworkPlan.compile(c.cloud.state, Ids.zoneName("zone-9"), head)
    expect(Either.isRight(other) && NetworkPlan.isEmpty(other.right)).toBe(true)
  })
})

describe("NetworkPlan.compile (other modes and errors)", () => {
  it("MANAGED-NOVLAN: the same subnets and rules, no per-group bridge", () => {
    const c = build({ groups: [{ account: "alice", name: "a" }], instances: [{ groups: [0], addressing: "public" }], rules: [] }, settings("MANAGED-NOVLAN"))
    const q = plan(c.cloud.state)
    expect(q.segments).toMatchObject([{ vlan: 10, cidr: "172.31.0.128/28", gateway: "172.31.0.129", bridge: undefined }])
    expect(q.chains).toHaveLength(1)
    expect(q.publicAddresses).toHaveLength(1)
  })

  it("SYSTEM and STATIC: an empty plan — the site's network, no groups to enforce, public = private", () => {
    const sys = build({ groups: [{ account: "alice", name: "a" }], instances: [{ groups: [0], addressing: "public" }], rules: [] }, { mode: "SYSTEM", subnet: "10.1.0.0/24" })
    expect(NetworkPlan.isEmpty(plan(sys.cloud.state))).toBe(true)
    const st = build(
      { groups: [{ account: "alice", name: "a" }], instances: [{ groups: [0], addressing: "public" }], rules: [] },
      { mode: "STATIC", subnet: "10.1.0.0/24", macMap: [{ mac: "d0:0d:00:00:00:01", ip: "10.1.0.5" }] }
    )
    expect(NetworkPlan.isEmpty(plan(st.cloud.state))).toBe(true)
  })

  it("a zone without instances holds nothing", () => {
    const c = build({ groups: [{ account: "alice", name: "a" }], instances: [{ groups: [0], addressing: "public" }], rules: [], terminate: [] })
    c.cloud.ok({ _tag: "TerminateInstances", at: at(500), account: undefined, instanceIds: [c.instanceIds[0]!] })
    c.cloud.ok({ _tag: "InstanceStopped", at: at(501), instanceId: c.instanceIds[0]! })
    expect(NetworkPlan.isEmpty(plan(c.cloud.state))).toBe(true)
  })

  it("rejects a metadata setting that is not IPv4:port, naming the field, before any cloud is made", () => {
    expect(Network.validate(settings("MANAGED", { metadata: "clc.example:8773" }))).toMatchObject({
      _tag: "Left",
      left: { _tag: "NetworkSettingsError", field: "metadata" }
    })
  })

  it("rejects interface names Linux (or our address label) cannot take", () => {
    const c = build({ groups: [{ account: "alice", name: "a" }], instances: [{ groups: [0], addressing: "public" }], rules: [] })
    expect(NetworkPlan.compile(c.cloud.state, ZONE, { ...head, publicInterface: "a-very-long-name0" })).toMatchObject({
      _tag: "Left",
      left: { field: "head.publicInterface" }
    })
    expect(NetworkPlan.compile(c.cloud.state, ZONE, { ...head, privateInterface: "eth 1" })).toMatchObject({ _tag: "Left", left: { field: "head.privateInterface" } })
  })
})
