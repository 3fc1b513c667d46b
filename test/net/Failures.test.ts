/**
 * When a host refuses a command: the error names the host, the command and what it said; the rules
 * (applied first) are already in place, so nothing is left open; the applier forgets what it
 * believed and reads the host on the next apply, which then heals.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as NetworkApplier from "../../src/backends/net/NetworkApplier.js"
import * as Runner from "../../src/backends/net/Runner.js"
import * as NetworkPlan from "../../src/model/NetworkPlan.js"
import * as State from "../../src/model/State.js"
import { build, ZONE } from "../model/network/Scenario.js"
import { Cluster, DENY_SECONDS, HEAD } from "./support/Cluster.js"
import { checkTools, describeNet, Lab } from "./support/Lab.js"

/** Whether this kernel makes 802.1Q devices (the test machines' kernels do not). */
const supports8021q = async (lab: Lab): Promise<boolean> => {
  const ns = await lab.addNamespace("probe8021q")
  await lab.x(ns, ["ip", "link", "add", "p0", "type", "veth", "peer", "name", "p1"])
  const r = await lab.try(ns, ["ip", "link", "add", "link", "p0", "name", "p0.10", "type", "vlan", "id", "10"])
  await lab.removeNamespace(ns)
  return r.code === 0
}

describeNet("applier failures in network namespaces", () => {
  let lab: Lab
  let cluster: Cluster
  const b = build({
    groups: [{ account: "alice", name: "a" }, { account: "alice", name: "b" }],
    instances: [{ groups: [0], addressing: "private" }, { groups: [1], addressing: "private" }],
    rules: [{ group: 1, protocol: "tcp", fromPort: 22, toPort: 22, source: { _tag: "Group", group: 0 } }]
  })
  const [a1, b1] = b.instanceIds.map(String) as [string, string]
  const plan = Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, HEAD))
  const priv = (id: string) => State.instance(b.cloud.state, id)!.net.privateIp!

  beforeAll(async () => {
    await checkTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab)
  })
  afterAll(async () => {
    await lab?.destroy()
  })

  it("a missing iptables-restore fails before any device is touched", async () => {
    const applier = await Effect.runPromise(NetworkApplier.make({
      ...cluster.config,
      iptablesRestore: "iptables-restore-does-not-exist"
    }))
    const r = await Effect.runPromise(Effect.either(applier.apply(plan)))
    expect(r).toMatchObject({ _tag: "Left", left: { _tag: "NetworkApplyError", zone: ZONE, host: `netns ${cluster.head}` } })
    expect(Either.isLeft(r) && r.left.command).toBe("iptables-restore-does-not-exist --noflush")
    expect(await lab.x(cluster.head, ["ip", "-o", "link", "show"])).not.toMatch(/eucabr/)
    expect(await cluster.save()).not.toContain("EU-")
  })

  it("802.1Q segments: made where the kernel has them; where not, a clear error, rules in place, and the next apply heals", async () => {
    const vlanHead = { ...cluster.config.zones[ZONE]!, headHost: { runner: Runner.local({ netns: cluster.head }), segment: { _tag: "vlan" as const, dev: "trunk" } }, nodes: [] }
    const applier = await Effect.runPromise(NetworkApplier.make({ zones: { [ZONE]: vlanHead } }))
    const r = await Effect.runPromise(Effect.either(applier.apply(plan)))
    if (await supports8021q(lab)) {
      expect(Either.isRight(r)).toBe(true)
      expect(await lab.x(cluster.head, ["ip", "-o", "link", "show", "trunk.10"])).toContain("master eucabr10")
      // Back to nothing, for the VXLAN part below.
      await Effect.runPromise(applier.apply(NetworkPlan.empty(ZONE, "MANAGED", HEAD, plan.subnet)))
      return
    }
    expect(r).toMatchObject({ _tag: "Left", left: { _tag: "NetworkApplyError", host: `netns ${cluster.head}`, command: "ip link add link trunk name trunk.10 type vlan id 10" } })
    expect(Either.isLeft(r) && r.left.message).toMatch(/Unknown device type/)
    // The restore ran first: the filter is there although the segments are not.
    expect(await cluster.save()).toContain("-A FORWARD -j EU-FORWARD")
    // Asked again, it reads the host instead of trusting its memory, and fails the same clear way.
    const again = await Effect.runPromise(Effect.either(applier.apply(plan)))
    expect(again).toMatchObject({ _tag: "Left", left: { command: "ip link add link trunk name trunk.10 type vlan id 10" } })

    // The same hosts with VXLAN segments: the applier reads what the failure left (bridges) and completes it.
    const fixed = await cluster.freshApplier()
    const applied = await Effect.runPromise(fixed.apply(plan))
    expect(applied.observed).toHaveLength(2)
    const onHead = applied.commands.filter((c) => c.host === `netns ${cluster.head}`).map((c) => c.argv.join(" "))
    expect(onHead).not.toContain("ip link add eucabr10 type bridge")
    expect(onHead).toContain("ip link add eucavx10 type vxlan id 10 local 10.255.255.1 remote 10.255.255.2 dstport 4789 dev trunk")
    await cluster.attach(plan)
    await Promise.all([cluster.listen(b1, 22), cluster.listen(a1, 22)])
    expect(await cluster.tcp(cluster.nsOf(a1), priv(b1), 22)).toBe(`${b1}-22`)
    expect(await cluster.tcp(cluster.nsOf(b1), priv(a1), 22, DENY_SECONDS)).toBeUndefined()
  })

  it("a zone the applier has no hosts for is an error, not a silent no-op", async () => {
    const r = await Effect.runPromise(Effect.either(cluster.applier.apply({ ...plan, zone: "zone-9" as never })))
    expect(r).toMatchObject({ _tag: "Left", left: { _tag: "NetworkApplyError", zone: "zone-9", message: "no hosts are configured for zone zone-9" } })
  })

  it("bad host configuration is refused up front, naming the field", async () => {
    const r = await Effect.runPromise(Effect.either(NetworkApplier.make({
      zones: { z: { head: { privateInterface: "trunk", publicInterface: "pub0" }, headHost: { runner: Runner.local(), segment: { _tag: "veth" } } } }
    })))
    expect(r).toMatchObject({ _tag: "Left", left: { _tag: "NetworkConfigError", field: "zones.z.headHost" } })
  })
})
