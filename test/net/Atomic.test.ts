/**
 * "No window where everything is open": while the head's rules are replaced again and again (one
 * iptables-restore per apply), a denied flow never gets through and an allowed one never stops.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Ids from "../../src/model/Ids.js"
import * as NetworkPlan from "../../src/model/NetworkPlan.js"
import * as State from "../../src/model/State.js"
import { at } from "../support/cloud.js"
import { build, ZONE } from "../model/network/Scenario.js"
import { Cluster, HEAD } from "./support/Cluster.js"
import { checkTools, describeNet, Lab } from "./support/Lab.js"

const ROUNDS = 20
/** Keep changing rules until the denied-flow watcher has tried at least this often. */
const MIN_DENIED_PROBES = 10

describeNet("atomic rule changes", () => {
  let lab: Lab
  let cluster: Cluster
  const b = build({
    groups: [{ account: "alice", name: "x" }, { account: "alice", name: "y" }],
    instances: [{ groups: [0], addressing: "private" }, { groups: [1], addressing: "private" }],
    rules: [{ group: 1, protocol: "tcp", fromPort: 80, toPort: 80, source: { _tag: "Group", group: 0 } }]
  })
  const [x1, y1] = b.instanceIds.map(String) as [string, string]
  const yIp = State.instance(b.cloud.state, y1)!.net.privateIp!
  const plan = () => Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, HEAD))

  beforeAll(async () => {
    await checkTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab)
    await cluster.apply(plan())
    await cluster.attach(plan())
    await Promise.all([cluster.listen(y1, 22), cluster.listen(y1, 80)])
  })
  afterAll(async () => {
    await lab?.destroy()
  })

  it(`≥ ${ROUNDS} rule changes, one restore each: tcp/22 never opens, tcp/80 never closes`, async () => {
    const probe = (port: number, seconds: number, ok: string, bad: string) =>
      `while :; do if timeout ${seconds} bash -c 'exec 3<>/dev/tcp/${yIp}/${port} && head -1 <&3' >/dev/null 2>&1; then echo ${ok}; else echo ${bad}; fi; done`
    const ns = cluster.nsOf(x1)
    const denied = lab.watch(ns, ["bash", "-c", probe(22, 0.3, "OPEN", "closed")])
    const allowed = lab.watch(ns, ["bash", "-c", probe(80, 3, "answered", "LOST")])
    const restoresBefore = cluster.restores()
    const y = b.groupIds[1]!
    const count = (s: string, w: string) => s.split("\n").filter((l) => l === w).length
    let k = 0
    for (; k < ROUNDS || count(denied.output(), "closed") < MIN_DENIED_PROBES; k++) {
      const rule = { protocol: "tcp" as const, fromPort: 8443, toPort: 8443, source: { _tag: "Cidr" as const, cidr: "0.0.0.0/0" } }
      b.cloud.ok({ _tag: k % 2 === 0 ? "AuthorizeIngress" : "RevokeIngress", at: at(10_000 + k), account: Ids.accountId("alice"), groupId: y, rules: [rule] })
      const applied = await cluster.apply(plan())
      expect(applied).toMatchObject({ restores: 1, commands: [] })
    }
    const [d, a] = await Promise.all([denied.stop(), allowed.stop()])
    expect(cluster.restores() - restoresBefore).toBe(k)
    expect(count(d, "OPEN")).toBe(0)
    expect(count(a, "LOST")).toBe(0)
    // The watchers did watch, throughout.
    expect(count(d, "closed")).toBeGreaterThanOrEqual(MIN_DENIED_PROBES)
    expect(count(a, "answered")).toBeGreaterThan(MIN_DENIED_PROBES)
  })
})
