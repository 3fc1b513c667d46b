/**
 * Egress rules for real: a cloud driven through the decider, its plans applied to a head and a node
 * in namespaces, and real packets. Revoking a group's allow-all egress rule blocks its instances'
 * new outbound traffic (to the outside and to other instances) in one restore, while replies and
 * the metadata service still pass; an authorized port and an authorized group open exactly those;
 * the allow-all rule back removes the outbound chains.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Either } from "effect"
import type * as Commands from "../../src/model/Commands.js"
import * as Ids from "../../src/model/Ids.js"
import * as NetworkPlan from "../../src/model/NetworkPlan.js"
import * as State from "../../src/model/State.js"
import { at } from "../support/cloud.js"
import { build, settings, ZONE } from "../model/network/Scenario.js"
import { Cluster, DENY_SECONDS, EXT, HEAD, HEAD_PUBLIC } from "./support/Cluster.js"
import { checkTools, describeNet, Lab } from "./support/Lab.js"

const alice = Ids.accountId("alice")
const allowAll: Commands.RuleInput = { protocol: "all", fromPort: -1, toPort: -1, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } }

for (const mode of ["MANAGED", "MANAGED-NOVLAN"] as const) describeNet(`egress rules in network namespaces (${mode})`, () => {
  let lab: Lab
  let cluster: Cluster
  const b = build({
    groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }],
    instances: [
      { groups: [0], addressing: "public" }, // web1
      { groups: [1], addressing: "private" } // db1
    ],
    rules: [
      { group: 0, protocol: "tcp", fromPort: 80, toPort: 80, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } },
      { group: 1, protocol: "tcp", fromPort: 5432, toPort: 5433, source: { _tag: "Group", group: 0 } }
    ]
  }, settings(mode))
  const c = b.cloud
  const [web1, db1] = b.instanceIds as [Ids.InstanceId, Ids.InstanceId]
  const [webG, dbG] = b.groupIds as [Ids.GroupId, Ids.GroupId]
  let t = 1000
  const now = () => at(++t)
  const priv = (id: string) => State.instance(c.state, id)!.net.privateIp!
  const pub = (id: string) => State.instance(c.state, id)!.net.publicIp!
  const plan = () => Either.getOrThrow(NetworkPlan.compile(c.state, ZONE, HEAD))
  const ns = (id: string) => cluster.nsOf(id)
  const applyNow = async () => {
    const before = cluster.restores()
    await cluster.apply(plan())
    expect(cluster.restores() - before).toBe(1)
  }
  const denied = async (probes: ReadonlyArray<readonly [string, Promise<string | boolean | undefined>]>) => {
    const got = await Promise.all(probes.map(async ([what, p]) => [what, await p] as const))
    expect(got.filter(([, v]) => v !== undefined && v !== false)).toEqual([])
  }

  beforeAll(async () => {
    await checkTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab, mode === "MANAGED" ? { mode: "vxlan" } : { novlan: true })
    // A second service outside, for "this port but not that one".
    lab.spawn(cluster.ext, ["socat", "-T2", "TCP-LISTEN:9001,reuseaddr,fork", "SYSTEM:echo ext-9001"])
    await cluster.listening(cluster.ext, "tcp", 9001)
    const p = plan()
    await cluster.apply(p)
    await cluster.attach(p)
    await Promise.all([cluster.listen(web1, 80), cluster.listen(db1, 5432), cluster.listen(db1, 5433)])
  })
  afterAll(async () => {
    await lab?.destroy()
  })

  it("with the default allow-all rule, instances reach the outside and each other", async () => {
    expect(plan().outbound).toEqual([])
    const got = await Promise.all([cluster.tcp(ns(web1), EXT, 9000), cluster.tcp(ns(web1), EXT, 9001), cluster.tcp(ns(web1), priv(db1), 5432)])
    expect(got).toEqual([`ext-sees-${pub(web1)}`, "ext-9001", `${db1}-5432`])
  })

  it("revoking allow-all blocks the group's new outbound TCP; replies, metadata and other groups pass", async () => {
    c.ok({ _tag: "RevokeEgress", at: now(), account: alice, groupId: webG, rules: [allowAll] })
    await applyNow()
    await denied([
      ["web1 → outside tcp/9000", cluster.tcp(ns(web1), EXT, 9000, DENY_SECONDS)],
      ["web1 → outside tcp/9001", cluster.tcp(ns(web1), EXT, 9001, DENY_SECONDS)],
      ["web1 → db1 tcp/5432 (db admits it, web may not send it)", cluster.tcp(ns(web1), priv(db1), 5432, DENY_SECONDS)],
      ["web1 → outside ping", cluster.ping(ns(web1), EXT, DENY_SECONDS)]
    ])
    const got = await Promise.all([
      // Inbound to web1 (its ingress rule): the reply is not new traffic.
      cluster.tcp(cluster.ext, pub(web1), 80),
      cluster.metadata(ns(web1)),
      // db keeps its allow-all rule.
      cluster.tcp(ns(db1), EXT, 9000)
    ])
    expect(got).toEqual([`${web1}-80`, `metadata-from-${priv(web1)} /latest/meta-data/instance-id`, `ext-sees-${HEAD_PUBLIC}`])
  })

  it("an authorized port and an authorized group open exactly those", async () => {
    c.ok({
      _tag: "AuthorizeEgress",
      at: now(),
      account: alice,
      groupId: webG,
      rules: [
        { protocol: "tcp", fromPort: 9001, toPort: 9001, source: { _tag: "Cidr", cidr: `${EXT}/32` } },
        { protocol: "tcp", fromPort: 5432, toPort: 5432, source: { _tag: "Group", groupId: dbG } }
      ]
    })
    await applyNow()
    const got = await Promise.all([cluster.tcp(ns(web1), EXT, 9001), cluster.tcp(ns(web1), priv(db1), 5432)])
    expect(got).toEqual(["ext-9001", `${db1}-5432`])
    await denied([
      ["web1 → outside tcp/9000: only 9001", cluster.tcp(ns(web1), EXT, 9000, DENY_SECONDS)],
      ["web1 → db1 tcp/5433: only 5432 outbound", cluster.tcp(ns(web1), priv(db1), 5433, DENY_SECONDS)]
    ])
  })

  it("the allow-all rule back: everything passes again and the outbound chains are gone", async () => {
    c.ok({ _tag: "AuthorizeEgress", at: now(), account: alice, groupId: webG, rules: [allowAll] })
    await applyNow()
    const got = await Promise.all([cluster.tcp(ns(web1), EXT, 9000), cluster.tcp(ns(web1), priv(db1), 5433)])
    expect(got).toEqual([`ext-sees-${pub(web1)}`, `${db1}-5433`])
    expect(await cluster.save()).not.toMatch(/EU-OUTBOUND|EU-PASS|EU-O-sg-/)
  })
})
