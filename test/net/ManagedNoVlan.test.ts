/**
 * MANAGED-NOVLAN for real: one shared bridge on the node, the gateways on the head's private
 * interface, the same subnets and rules; isolation is by the head's filter (L3) only.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as NetworkPlan from "../../src/model/NetworkPlan.js"
import * as State from "../../src/model/State.js"
import { build, settings, ZONE } from "../model/network/Scenario.js"
import { Cluster, DENY_SECONDS, HEAD, HEAD_PUBLIC } from "./support/Cluster.js"
import { checkTools, describeNet, Lab } from "./support/Lab.js"

describeNet("MANAGED-NOVLAN in network namespaces (one shared bridge)", () => {
  let lab: Lab
  let cluster: Cluster
  const b = build(
    {
      groups: [{ account: "alice", name: "a" }, { account: "alice", name: "b" }, { account: "bob", name: "c" }],
      instances: [
        { groups: [0], addressing: "public" },
        { groups: [0], addressing: "private" },
        { groups: [1], addressing: "public" },
        { groups: [2], addressing: "public" }
      ],
      rules: [{ group: 1, protocol: "tcp", fromPort: 22, toPort: 22, source: { _tag: "Group", group: 0 } }]
    },
    settings("MANAGED-NOVLAN")
  )
  const [a1, a2, b1, c1] = b.instanceIds.map(String) as [string, string, string, string]
  const priv = (id: string) => State.instance(b.cloud.state, id)!.net.privateIp!
  const pub = (id: string) => State.instance(b.cloud.state, id)!.net.publicIp!
  const ns = (id: string) => cluster.nsOf(id)
  const plan = Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, HEAD))

  beforeAll(async () => {
    await checkTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab, { novlan: true })
    await cluster.apply(plan)
    await cluster.attach(plan)
    await Promise.all([cluster.listen(a1, 22), cluster.listen(a2, 23), cluster.listen(b1, 22), cluster.listen(b1, 80), cluster.listen(c1, 22)])
  })
  afterAll(async () => {
    await lab?.destroy()
  })

  it("puts the gateways on the head's private interface, labelled as ours, and makes no bridge", async () => {
    const addrs = await lab.x(cluster.head, ["ip", "-o", "addr", "show", "dev", "trunk"])
    for (const s of plan.segments) expect(addrs).toContain(`${s.gateway}/${s.prefix} brd ${s.broadcast} scope global trunk:eu`)
    for (const host of [cluster.head, cluster.node]) expect(await lab.x(host, ["ip", "-o", "link", "show"])).not.toMatch(/euca(br|vx)\d+/)
  })

  it("enforces the same rules at L3 through the head", async () => {
    const got = await Promise.all([
      cluster.tcp(ns(a1), priv(a2), 23),
      cluster.tcp(ns(a2), priv(b1), 22),
      cluster.tcp(ns(a2), "192.0.2.100", 9000),
      cluster.tcp(ns(b1), "192.0.2.100", 9000),
      cluster.metadata(ns(c1))
    ])
    expect(got).toEqual([`${a2}-23`, `${b1}-22`, `ext-sees-${HEAD_PUBLIC}`, `ext-sees-${pub(b1)}`, `metadata-from-${priv(c1)} /latest/meta-data/instance-id`])
    const denied = await Promise.all([
      cluster.tcp(ns(b1), priv(a1), 22, DENY_SECONDS),
      cluster.tcp(ns(a1), priv(b1), 80, DENY_SECONDS),
      cluster.tcp(ns(c1), priv(b1), 22, DENY_SECONDS),
      cluster.tcp(ns(a1), priv(c1), 22, DENY_SECONDS),
      cluster.tcp(cluster.ext, pub(b1), 22, DENY_SECONDS),
      cluster.tcp(cluster.ext, pub(a1), 22, DENY_SECONDS)
    ])
    expect(denied).toEqual([undefined, undefined, undefined, undefined, undefined, undefined])
  })
})
