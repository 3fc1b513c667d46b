/**
 * The "veth" segment kind (tests only): one veth pair per segment, made by the head with its other
 * end in the node's namespace; the node only attaches its end to the bridge.
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

describeNet("veth segments in network namespaces", () => {
  let lab: Lab
  let cluster: Cluster
  const b = build({
    groups: [{ account: "alice", name: "a" }, { account: "alice", name: "b" }],
    instances: [{ groups: [0], addressing: "public" }, { groups: [1], addressing: "public" }],
    rules: [{ group: 1, protocol: "tcp", fromPort: 22, toPort: 22, source: { _tag: "Group", group: 0 } }]
  })
  const [a1, b1] = b.instanceIds.map(String) as [string, string]
  const priv = (id: string) => State.instance(b.cloud.state, id)!.net.privateIp!
  const plan = () => Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, HEAD))

  beforeAll(async () => {
    await checkTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab, { mode: "veth" })
    await cluster.apply(plan())
    await cluster.attach(plan())
    await Promise.all([cluster.listen(a1, 22), cluster.listen(b1, 22)])
  })
  afterAll(async () => {
    await lab?.destroy()
  })

  it("carries each segment over its own veth pair, filtered by the head", async () => {
    expect(await cluster.tcp(cluster.nsOf(a1), priv(b1), 22)).toBe(`${b1}-22`)
    expect(await cluster.tcp(cluster.nsOf(b1), priv(a1), 22, DENY_SECONDS)).toBeUndefined()
    const vlans = plan().segments.map((s) => s.vlan)
    for (const v of vlans) {
      expect(await lab.x(cluster.head, ["ip", "-o", "link", "show", `eucave${v}`])).toContain(`master eucabr${v}`)
      expect(await lab.x(cluster.node, ["ip", "-o", "link", "show", `eucave${v}`])).toContain(`master eucabr${v}`)
    }
  })

  it("a segment that goes takes its pair with it (the head deletes it; the node never does)", async () => {
    const v = State.instance(b.cloud.state, b1)!.net.vlan!
    const pub = State.instance(b.cloud.state, b1)!.net.publicIp!
    b.cloud.ok({ _tag: "TerminateInstances", at: at(9000), account: Ids.accountId("alice"), instanceIds: [b1] })
    b.cloud.ok({ _tag: "InstanceStopped", at: at(9001), instanceId: b1 })
    await cluster.detach(b1)
    const applied = await cluster.apply(plan())
    expect(applied.commands.map((c) => [c.host === `netns ${cluster.head}` ? "head" : "node", c.argv.join(" ")])).toEqual([
      ["head", `ip addr del ${pub}/32 dev pub0`],
      ["head", `ip link del eucave${v}`],
      ["head", `ip link del eucabr${v}`],
      ["node", `ip link del eucabr${v}`]
    ])
    for (const host of [cluster.head, cluster.node]) expect(await lab.x(host, ["ip", "-o", "link", "show"])).not.toContain(`eucave${v}`)
  })
})
