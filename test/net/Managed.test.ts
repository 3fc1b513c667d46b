/**
 * MANAGED mode for real: a plan compiled from a cloud driven through the decider, applied by the
 * applier to a head and a node in namespaces (VXLAN segments), checked with real packets — then a
 * revoke, an elastic address move and a termination, each one atomic restore, and a teardown.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Ids from "../../src/model/Ids.js"
import * as NetworkPlan from "../../src/model/NetworkPlan.js"
import * as State from "../../src/model/State.js"
import { at } from "../support/cloud.js"
import { build, ZONE } from "../model/network/Scenario.js"
import { Cluster, DENY_SECONDS, HEAD, HEAD_PUBLIC } from "./support/Cluster.js"
import { checkTools, describeNet, Lab } from "./support/Lab.js"

const alice = Ids.accountId("alice")

describeNet("MANAGED mode in network namespaces (VXLAN segments)", () => {
  let lab: Lab
  let cluster: Cluster
  const b = build({
    groups: [
      { account: "alice", name: "web" },
      { account: "alice", name: "admin" },
      { account: "alice", name: "db" },
      { account: "bob", name: "app" }
    ],
    instances: [
      { groups: [0], addressing: "public" }, // web1
      { groups: [0], addressing: "public" }, // web2
      { groups: [1], addressing: "public" }, // admin1
      { groups: [2], addressing: "private" }, // db1
      { groups: [3], addressing: "public" } // bob1
    ],
    rules: [
      { group: 0, protocol: "tcp", fromPort: 80, toPort: 80, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } },
      { group: 0, protocol: "tcp", fromPort: 22, toPort: 22, source: { _tag: "Group", group: 1 } },
      { group: 2, protocol: "tcp", fromPort: 5432, toPort: 5432, source: { _tag: "Group", group: 0 } },
      { group: 2, protocol: "udp", fromPort: 53, toPort: 53, source: { _tag: "Group", group: 0 } },
      { group: 2, protocol: "icmp", fromPort: 8, toPort: -1, source: { _tag: "Group", group: 0 } },
      // bob admits alice's admin group on 8080: a cross-account group rule.
      { group: 3, protocol: "tcp", fromPort: 8080, toPort: 8080, source: { _tag: "Group", group: 1 } }
    ]
  })
  const c = b.cloud
  const [web1, web2, admin1, db1, bob1] = b.instanceIds as [Ids.InstanceId, Ids.InstanceId, Ids.InstanceId, Ids.InstanceId, Ids.InstanceId]
  const [webG, adminG] = b.groupIds
  let t = 1000
  const now = () => at(++t)
  const priv = (id: string) => State.instance(c.state, id)!.net.privateIp!
  const pub = (id: string) => State.instance(c.state, id)!.net.publicIp!
  const plan = () => Either.getOrThrow(NetworkPlan.compile(c.state, ZONE, HEAD))
  const ns = (id: string) => cluster.nsOf(id)
  let eip = ""

  /** Denied flows all at once: each waits DENY_SECONDS for an answer that must not come. */
  const denied = async (probes: ReadonlyArray<readonly [string, Promise<string | boolean | undefined>]>) => {
    const got = await Promise.all(probes.map(async ([what, p]) => [what, await p] as const))
    expect(got.filter(([, v]) => v !== undefined && v !== false)).toEqual([])
  }

  beforeAll(async () => {
    await checkTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab, { mode: "vxlan" })
    // Foreign rules the cloud must leave alone.
    await lab.x(cluster.head, ["iptables", "-N", "KEEP-ME"])
    await lab.x(cluster.head, ["iptables", "-A", "FORWARD", "-s", "203.0.113.7/32", "-j", "KEEP-ME"])
    await lab.x(cluster.head, ["iptables", "-t", "nat", "-A", "POSTROUTING", "-s", "203.0.113.0/24", "-j", "RETURN"])
    const e = c.ok({ _tag: "AllocateAddress", at: now(), account: alice })
    eip = (e[0] as { ip: string }).ip
    c.ok({ _tag: "AssociateAddress", at: now(), account: alice, publicIp: eip, instanceId: web1 })
    const p = plan()
    const applied = await cluster.apply(p)
    expect(applied.restores).toBe(1)
    await cluster.attach(p)
    await Promise.all([
      cluster.listen(web1, 22), cluster.listen(web1, 23), cluster.listen(web1, 80),
      cluster.listen(web2, 22), cluster.listen(web2, 80),
      cluster.listen(admin1, 22),
      cluster.listen(db1, 5432), cluster.listen(db1, 5433), cluster.listen(db1, 53, "udp"),
      cluster.listen(bob1, 22), cluster.listen(bob1, 8080)
    ])
  })
  afterAll(async () => {
    await lab?.destroy()
  })

  it("lets through exactly what the groups allow: same group, group rules, ports and protocols, across accounts", async () => {
    const got = await Promise.all([
      cluster.tcp(ns(web2), priv(web1), 23),
      cluster.tcp(ns(admin1), priv(web1), 22),
      cluster.tcp(ns(admin1), priv(web2), 22),
      cluster.tcp(ns(web1), priv(db1), 5432),
      cluster.udp(ns(web1), priv(db1), 53),
      cluster.ping(ns(web1), priv(db1)),
      cluster.tcp(ns(admin1), priv(bob1), 8080)
    ])
    expect(got).toEqual([`${web1}-23`, `${web1}-22`, `${web2}-22`, `${db1}-5432`, `${db1}-udp53`, true, `${bob1}-8080`])
    await denied([
      ["web → admin tcp/22: admin has no rules", cluster.tcp(ns(web1), priv(admin1), 22, DENY_SECONDS)],
      ["web → db tcp/5433: only 5432", cluster.tcp(ns(web1), priv(db1), 5433, DENY_SECONDS)],
      ["admin → db tcp/5432: only from web", cluster.tcp(ns(admin1), priv(db1), 5432, DENY_SECONDS)],
      ["admin → db udp/53", cluster.udp(ns(admin1), priv(db1), 53, DENY_SECONDS)],
      ["admin → db ping", cluster.ping(ns(admin1), priv(db1), DENY_SECONDS)],
      ["bob → alice admin tcp/22", cluster.tcp(ns(bob1), priv(admin1), 22, DENY_SECONDS)],
      ["bob → alice web tcp/22", cluster.tcp(ns(bob1), priv(web1), 22, DENY_SECONDS)],
      ["bob → alice db tcp/5432", cluster.tcp(ns(bob1), priv(db1), 5432, DENY_SECONDS)],
      ["alice admin → bob tcp/22: only 8080", cluster.tcp(ns(admin1), priv(bob1), 22, DENY_SECONDS)],
      ["alice db → bob tcp/8080: only admin", cluster.tcp(ns(db1), priv(bob1), 8080, DENY_SECONDS)]
    ])
  })

  it("translates public addresses: DNAT in (also for the head and for instances), SNAT or MASQUERADE out", async () => {
    const got = await Promise.all([
      cluster.tcp(cluster.ext, eip, 80),
      cluster.tcp(cluster.ext, pub(web2), 80),
      cluster.tcp(ns(web1), "192.0.2.100", 9000),
      cluster.tcp(ns(db1), "192.0.2.100", 9000),
      cluster.tcp(cluster.head, eip, 80),
      cluster.tcp(ns(web2), eip, 80),
      cluster.tcp(ns(admin1), eip, 80)
    ])
    expect(got).toEqual([
      `${web1}-80`,
      `${web2}-80`,
      `ext-sees-${eip}`,
      `ext-sees-${HEAD_PUBLIC}`,
      `${web1}-80`,
      `${web1}-80`,
      `${web1}-80`
    ])
    await denied([
      ["outside → web1's public tcp/22", cluster.tcp(cluster.ext, eip, 22, DENY_SECONDS)],
      ["outside → web1's private address, with a route", cluster.tcp(cluster.ext, priv(web1), 80, DENY_SECONDS)],
      ["outside → db1's private address", cluster.tcp(cluster.ext, priv(db1), 5432, DENY_SECONDS)]
    ])
  })

  it("redirects 169.254.169.254:80 to the metadata service, which sees the instance's private address", async () => {
    const got = await Promise.all([cluster.metadata(ns(web1)), cluster.metadata(ns(db1), "/latest/user-data")])
    expect(got).toEqual([`metadata-from-${priv(web1)} /latest/meta-data/instance-id`, `metadata-from-${priv(db1)} /latest/user-data`])
  })

  it("re-applying the same plan runs nothing", async () => {
    const before = cluster.headRunner.log.length
    const again = await cluster.apply(plan())
    expect(again).toMatchObject({ restores: 0, commands: [], observed: [] })
    expect(cluster.headRunner.log.length).toBe(before)
  })

  it("a revoked rule stops new connections after one restore, and nothing else changes", async () => {
    c.ok({
      _tag: "RevokeIngress",
      at: now(),
      account: alice,
      groupId: webG!,
      rules: [{ protocol: "tcp", fromPort: 22, toPort: 22, source: { _tag: "Group", groupId: adminG! } }]
    })
    const applied = await cluster.apply(plan())
    expect(applied).toMatchObject({ restores: 1, commands: [] })
    await denied([["admin → web tcp/22 after revoke", cluster.tcp(ns(admin1), priv(web1), 22, DENY_SECONDS)]])
    expect(await Promise.all([cluster.tcp(ns(web2), priv(web1), 23), cluster.tcp(cluster.ext, eip, 80)])).toEqual([`${web1}-23`, `${web1}-80`])
  })

  it("an elastic address moves to another instance in one restore: DNAT and SNAT follow it", async () => {
    const oldWeb2 = pub(web2)
    c.ok({ _tag: "AssociateAddress", at: now(), account: alice, publicIp: eip, instanceId: web2, allowReassociation: true })
    const web1New = pub(web1)
    expect(web1New).not.toBe(eip)
    const applied = await cluster.apply(plan())
    expect(applied.restores).toBe(1)
    // Only the /32s that changed: web2's old address goes, web1's replacement comes.
    expect(applied.commands.map((x) => x.argv.join(" ")).sort()).toEqual([
      `ip addr add ${web1New}/32 label pub0:eu dev pub0`,
      `ip addr del ${oldWeb2}/32 dev pub0`
    ].sort())
    const got = await Promise.all([
      cluster.tcp(cluster.ext, eip, 80),
      cluster.tcp(ns(web2), "192.0.2.100", 9000),
      cluster.tcp(cluster.ext, web1New, 80),
      cluster.tcp(ns(web1), "192.0.2.100", 9000)
    ])
    expect(got).toEqual([`${web2}-80`, `ext-sees-${eip}`, `${web1}-80`, `ext-sees-${web1New}`])
    await denied([["outside → web2's former address", cluster.tcp(cluster.ext, oldWeb2, 80, DENY_SECONDS)]])
  })

  it("terminating a group's last instance removes its segment on head and node, in one restore", async () => {
    const vlan = State.instance(c.state, db1)!.net.vlan!
    const dbIp = priv(db1)
    c.ok({ _tag: "TerminateInstances", at: now(), account: alice, instanceIds: [db1] })
    c.ok({ _tag: "InstanceStopped", at: now(), instanceId: db1 })
    const applied = await cluster.apply(plan())
    expect(applied.restores).toBe(1)
    expect(applied.commands.map((x) => [x.host.startsWith(`netns ${cluster.head}`) ? "head" : "node", x.argv.join(" ")])).toEqual([
      ["head", `ip link del eucavx${vlan}`],
      ["head", `ip link del eucabr${vlan}`],
      ["node", `ip link del eucavx${vlan}`],
      ["node", `ip link del eucabr${vlan}`]
    ])
    for (const host of [cluster.head, cluster.node]) {
      expect(await lab.x(host, ["ip", "-o", "link", "show"])).not.toMatch(new RegExp(`eucabr${vlan}[:@]`))
    }
    // The stopped VM's namespace (still there in this test) is cut off in both directions.
    await denied([
      ["web → former db address", cluster.tcp(ns(web1), dbIp, 5432, DENY_SECONDS)],
      ["former db → outside", cluster.tcp(ns(db1), "192.0.2.100", 9000, DENY_SECONDS)]
    ])
    await cluster.detach(db1)
  })

  it("leaves foreign rules alone and hooks each of its chains exactly once", async () => {
    const save = await cluster.save()
    expect(save).toContain("-A FORWARD -s 203.0.113.7/32 -j KEEP-ME")
    expect(save).toContain("-A POSTROUTING -s 203.0.113.0/24 -j RETURN")
    for (const hook of ["-A FORWARD -j EU-FORWARD", "-A PREROUTING -j EU-PREROUTING", "-A OUTPUT -j EU-OUTPUT", "-A POSTROUTING -j EU-POSTROUTING"]) {
      expect(save.split("\n").filter((l) => l === hook)).toHaveLength(1)
    }
    // Our jump comes first: foreign rules cannot open cloud traffic before the filter sees it.
    expect(save.split("\n").filter((l) => l.startsWith("-A FORWARD"))[0]).toBe("-A FORWARD -j EU-FORWARD")
  })

  it("a restarted applier reads the hosts, restores once and changes no device", async () => {
    const fresh = await cluster.freshApplier()
    const applied = await Effect.runPromise(fresh.applyState(c.state, ZONE))
    expect(applied.restores).toBe(1)
    expect(applied.observed).toHaveLength(2)
    expect(applied.commands.filter((x) => x.argv[0] === "ip")).toEqual([])
    expect(await cluster.tcp(cluster.ext, eip, 80)).toBe(`${web2}-80`)
  })

  it("an empty plan (the last instance gone, or SYSTEM mode) removes everything of ours and nothing else", async () => {
    const fresh = await cluster.freshApplier()
    const applied = await Effect.runPromise(fresh.apply(NetworkPlan.empty(ZONE, "MANAGED", HEAD, "172.31.0.0/24")))
    expect(applied.restores).toBe(1)
    const save = await cluster.save()
    expect(save).not.toContain("EU-")
    expect(save).toContain("-A FORWARD -s 203.0.113.7/32 -j KEEP-ME")
    expect(save).toContain("-A POSTROUTING -s 203.0.113.0/24 -j RETURN")
    for (const host of [cluster.head, cluster.node]) expect(await lab.x(host, ["ip", "-o", "link", "show"])).not.toMatch(/euca(br|vx)\d+/)
    expect(await lab.x(cluster.head, ["ip", "-o", "addr", "show", "dev", "pub0"])).not.toContain("pub0:eu")
    expect(await lab.x(cluster.head, ["ip", "-o", "addr", "show", "dev", "pub0"])).toContain(`${HEAD_PUBLIC}/24`)
    await denied([["outside → former public address", cluster.tcp(cluster.ext, eip, 80, DENY_SECONDS)]])
  })
})
