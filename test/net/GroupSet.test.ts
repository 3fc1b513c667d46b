/**
 * groupSet for real: an instance moved between groups (one decision in the core) gets the new
 * groups' rules and loses the old ones after one restore, with real packets through the head —
 * it keeps its address and its namespace.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Ids from "../../src/model/Ids.js"
import * as NetworkPlan from "../../src/model/NetworkPlan.js"
import * as State from "../../src/model/State.js"
import { at } from "../support/cloud.js"
import { build, ZONE } from "../model/network/Scenario.js"
import { Cluster, DENY_SECONDS, HEAD } from "./support/Cluster.js"
import { checkTools, describeNet, Lab } from "./support/Lab.js"

const alice = Ids.accountId("alice")

describeNet("groupSet in network namespaces", () => {
  let lab: Lab
  let cluster: Cluster
  const b = build({
    groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }, { account: "alice", name: "admin" }],
    instances: [
      { groups: [0], addressing: "public" }, // web1
      { groups: [0], addressing: "public" }, // web2
      { groups: [1], addressing: "private" } // db1
    ],
    rules: [
      { group: 1, protocol: "tcp", fromPort: 5432, toPort: 5432, source: { _tag: "Group", group: 0 } },
      { group: 2, protocol: "tcp", fromPort: 22, toPort: 22, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } }
    ]
  })
  const c = b.cloud
  const [web1, web2, db1] = b.instanceIds as [Ids.InstanceId, Ids.InstanceId, Ids.InstanceId]
  const [webG, , adminG] = b.groupIds as [Ids.GroupId, Ids.GroupId, Ids.GroupId]
  let t = 1000
  const priv = (id: string) => State.instance(c.state, id)!.net.privateIp!
  const pub = (id: string) => State.instance(c.state, id)!.net.publicIp!
  const plan = () => Either.getOrThrow(NetworkPlan.compile(c.state, ZONE, HEAD))
  const ns = (id: string) => cluster.nsOf(id)
  const move = async (groupIds: ReadonlyArray<Ids.GroupId>) => {
    c.ok({ _tag: "ModifyInstanceGroups", at: at(++t), account: alice, instanceId: web1, groupIds })
    const before = cluster.restores()
    await cluster.apply(plan())
    expect(cluster.restores() - before).toBe(1)
  }

  beforeAll(async () => {
    await checkTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab, { mode: "vxlan" })
    const p = plan()
    await cluster.apply(p)
    await cluster.attach(p)
    await Promise.all([cluster.listen(web1, 22), cluster.listen(web2, 22), cluster.listen(db1, 5432)])
  })
  afterAll(async () => {
    await lab?.destroy()
  })

  it("in web: db admits it, the outside does not reach its tcp/22", async () => {
    expect(await cluster.tcp(ns(web1), priv(db1), 5432)).toBe(`${db1}-5432`)
    expect(await cluster.tcp(cluster.ext, pub(web1), 22, DENY_SECONDS)).toBeUndefined()
  })

  it("moved to admin: admin's rule admits the outside on tcp/22, db no longer admits it; web2 is unchanged", async () => {
    const address = priv(web1)
    await move([adminG])
    expect(priv(web1)).toBe(address)
    const got = await Promise.all([cluster.tcp(cluster.ext, pub(web1), 22), cluster.tcp(ns(web2), priv(db1), 5432)])
    expect(got).toEqual([`${web1}-22`, `${db1}-5432`])
    const denied = await Promise.all([cluster.tcp(ns(web1), priv(db1), 5432, DENY_SECONDS), cluster.tcp(cluster.ext, pub(web2), 22, DENY_SECONDS)])
    expect(denied).toEqual([undefined, undefined])
  })

  it("back to web: as at first", async () => {
    await move([webG])
    expect(await cluster.tcp(ns(web1), priv(db1), 5432)).toBe(`${db1}-5432`)
    expect(await cluster.tcp(cluster.ext, pub(web1), 22, DENY_SECONDS)).toBeUndefined()
  })
})
