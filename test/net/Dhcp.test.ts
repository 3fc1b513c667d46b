/**
 * DHCP from the cluster head, for real: the applier starts one dnsmasq per segment in the head's
 * namespace (MANAGED, VXLAN segments to a node namespace); a client namespace on the node's bridge
 * asks with busybox's `udhcpc` and gets exactly its instance's address, router, mask, host name and
 * lease, while a MAC the plan does not know gets nothing. Then the changes: an instance coming is a
 * SIGHUP, one going a restart (its address handed to the next MAC at once), a segment going stops
 * its server, an empty plan stops them all; re-applying, and a fresh applier (a restarted
 * controller), change nothing.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import * as NetworkApplier from "../../src/backends/net/NetworkApplier.js"
import * as Ids from "../../src/model/Ids.js"
import * as NetworkPlan from "../../src/model/NetworkPlan.js"
import * as State from "../../src/model/State.js"
import { at, launchedIds, runCmd } from "../support/cloud.js"
import { build, settings, ZONE } from "../model/network/Scenario.js"
import { Cluster, HEAD, SHARED_BRIDGE } from "./support/Cluster.js"
import { checkTools, describeNet, Lab, must, run } from "./support/Lab.js"

const alice = Ids.accountId("alice")

/** Prints what udhcpc got when bound (busybox passes the lease in the environment). */
const SCRIPT = `#!/bin/sh
[ "$1" = bound ] && echo "BOUND ip=$ip subnet=$subnet router=$router hostname=$hostname lease=$lease dns=$dns"
exit 0
`

let clients = 0

/** A fresh client namespace with `mac` on `bridge` of the node; what udhcpc got, or undefined. */
const askOn = async (lab: Lab, node: string, bridge: string, script: string, mac: string): Promise<string | undefined> => {
  const n = ++clients
  const ns = await lab.addNamespace(`c${n}`)
  const vif = `d${n}`
  try {
    await must(["ip", "-n", node, "link", "add", vif, "type", "veth", "peer", "name", "eth0", "netns", ns])
    await lab.x(node, ["ip", "link", "set", vif, "master", bridge])
    await lab.x(node, ["ip", "link", "set", vif, "up"])
    await lab.x(ns, ["ip", "link", "set", "eth0", "address", mac])
    await lab.x(ns, ["ip", "link", "set", "eth0", "mtu", "1450"])
    await lab.x(ns, ["ip", "link", "set", "eth0", "up"])
    const r = await lab.try(ns, ["busybox", "udhcpc", "-f", "-q", "-n", "-i", "eth0", "-t", "4", "-T", "1", "-A", "1", "-s", script])
    const line = r.stdout.split("\n").find((l) => l.startsWith("BOUND "))
    return r.code === 0 && line !== undefined ? line : undefined
  } finally {
    await lab.removeNamespace(ns)
  }
}

const checkDhcpTools = async () => {
  await checkTools()
  for (const tool of ["dnsmasq", "busybox"]) {
    if ((await run(["sh", "-c", `command -v ${tool}`])).code !== 0) throw new Error(`missing ${tool}: apt-get install -y dnsmasq-base busybox-static`)
  }
}

/** A state directory for the head's servers, and the udhcpc script; removed with the returned function. */
const workDir = () => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-dhcp-"))
  // dnsmasq rereads the hosts file as its unprivileged user (nobody).
  Fs.chmodSync(dir, 0o755)
  const script = Path.join(dir, "udhcpc.sh")
  Fs.writeFileSync(script, SCRIPT, { mode: 0o755 })
  return { stateDir: Path.join(dir, "head"), script, remove: () => Fs.rmSync(dir, { recursive: true, force: true }) }
}

describeNet("DHCP from the head: one dnsmasq per segment, in network namespaces", () => {
  let lab: Lab
  let cluster: Cluster
  let applier: NetworkApplier.NetworkApplierShape
  let config: NetworkApplier.Options
  let stateDir = ""
  let script = ""
  let remove = () => {}
  const b = build({
    groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }],
    instances: [{ groups: [0], addressing: "public" }, { groups: [0], addressing: "public" }, { groups: [1], addressing: "private" }],
    rules: []
  })
  const c = b.cloud
  const [web1, web2, db1] = b.instanceIds as [Ids.InstanceId, Ids.InstanceId, Ids.InstanceId]
  let t = 1000
  const now = () => at(++t)
  const inst = (id: string) => State.instance(c.state, id)!
  const plan = () => Either.getOrThrow(NetworkPlan.compile(c.state, ZONE, HEAD))
  const apply = () => Effect.runPromise(applier.apply(plan()))
  const dhcpCommands = (a: NetworkApplier.Applied) => a.commands.filter((x) => x.argv[0] === "sh").map((x) => `${x.argv[3]} ${Path.basename(x.argv[6] ?? "")}`)

  const ask = (mac: string, vlan: number) => askOn(lab, cluster.node, `eucabr${vlan}`, script, mac)
  const expected = (id: string) => {
    const i = inst(id)
    const seg = plan().segments.find((s) => s.vlan === i.net.vlan)!
    return `BOUND ip=${i.net.privateIp} subnet=255.255.255.240 router=${seg.gateway} hostname=ip-${i.net.privateIp!.replaceAll(".", "-")} lease=1200 dns=`
  }
  const alive = async (name: string) => {
    const pid = Path.join(stateDir, `${name}.pid`)
    if (!Fs.existsSync(pid)) return false
    const p = Fs.readFileSync(pid, "utf8").trim()
    return Fs.existsSync(`/proc/${p}`) && Fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(`--conf-file=${stateDir}/${name}.conf`)
  }

  beforeAll(async () => {
    await checkDhcpTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab, { mode: "vxlan" })
    ;({ stateDir, script, remove } = workDir())
    const z = cluster.config.zones[ZONE]!
    config = { ...cluster.config, zones: { [ZONE]: { ...z, dhcp: { stateDir } } } }
    applier = await Effect.runPromise(NetworkApplier.make(config))
  }, 60_000)

  afterAll(async () => {
    if (lab) await lab.destroy()
    remove()
  }, 60_000)

  it("the first apply starts one dnsmasq per segment, bound to its bridge", async () => {
    const a = await apply()
    expect(dhcpCommands(a)).toEqual(["eucadhcp-restart eucabr10.conf", "eucadhcp-restart eucabr11.conf"])
    expect(await alive("eucabr10")).toBe(true)
    expect(await alive("eucabr11")).toBe(true)
    expect(Fs.readFileSync(Path.join(stateDir, "eucabr10.conf"), "utf8")).toContain("interface=eucabr10\n")
    expect(Fs.readFileSync(Path.join(stateDir, "eucabr10.hosts"), "utf8")).toContain(`${inst(web1).net.mac.toLowerCase()},${inst(web1).net.privateIp},`)
  }, 30_000)

  it("each instance's MAC gets exactly its address, router, mask, host name and lease; another MAC gets none", async () => {
    const [g1, g2, g3, stranger] = await Promise.all([
      ask(inst(web1).net.mac, inst(web1).net.vlan!),
      ask(inst(web2).net.mac, inst(web2).net.vlan!),
      ask(inst(db1).net.mac, inst(db1).net.vlan!),
      ask("d0:0d:12:34:56:78", inst(web1).net.vlan!)
    ])
    expect(g1).toBe(expected(web1))
    expect(g2).toBe(expected(web2))
    expect(g3).toBe(expected(db1))
    expect(stranger).toBeUndefined()
    // web1's MAC on db's segment: the wrong network, no address.
    expect(await ask(inst(web1).net.mac, inst(db1).net.vlan!)).toBeUndefined()
  }, 60_000)

  it("applying again, or from a fresh applier (a restarted controller), changes nothing", async () => {
    expect(dhcpCommands(await apply())).toEqual([])
    const fresh = await Effect.runPromise(NetworkApplier.make(config))
    const a = await Effect.runPromise(fresh.apply(plan()))
    expect(a.observed.some((o) => o.endsWith("(dhcp)"))).toBe(true)
    expect(dhcpCommands(a)).toEqual([])
  }, 30_000)

  it("an instance going restarts its segment's server, so the next instance gets the freed address at once; one coming is a SIGHUP", async () => {
    const oldMac = inst(web2).net.mac
    const freed = inst(web2).net.privateIp
    c.ok({ _tag: "TerminateInstances", at: now(), account: undefined, instanceIds: [web2] })
    c.ok({ _tag: "InstanceStopped", at: now(), instanceId: web2 })
    expect(dhcpCommands(await apply())).toEqual(["eucadhcp-restart eucabr10.conf"])
    expect(await ask(oldMac, inst(web1).net.vlan!)).toBeUndefined()
    const [web3] = launchedIds(c.ok(runCmd({ at: now(), account: alice, groupIds: [b.groupIds[0]!], addressing: "public" })))
    c.ok({ _tag: "InstanceBooted", at: now(), instanceId: web3! })
    expect(inst(web3!).net.privateIp).toBe(freed)
    expect(inst(web3!).net.mac).not.toBe(oldMac)
    expect(dhcpCommands(await apply())).toEqual(["eucadhcp-reload eucabr10.conf"])
    expect(await ask(inst(web3!).net.mac, inst(web3!).net.vlan!)).toBe(expected(web3!))
    expect(await ask(inst(web1).net.mac, inst(web1).net.vlan!)).toBe(expected(web1))
  }, 60_000)

  it("a segment going stops its server and removes its files; an empty plan stops them all", async () => {
    const pid11 = Fs.readFileSync(Path.join(stateDir, "eucabr11.pid"), "utf8").trim()
    c.ok({ _tag: "TerminateInstances", at: now(), account: undefined, instanceIds: [db1] })
    c.ok({ _tag: "InstanceStopped", at: now(), instanceId: db1 })
    expect(dhcpCommands(await apply())).toEqual(["eucadhcp-stop eucabr11.conf"])
    expect(Fs.existsSync(`/proc/${pid11}`)).toBe(false)
    expect(Fs.readdirSync(stateDir).filter((f) => f.startsWith("eucabr11"))).toEqual([])
    expect(await alive("eucabr10")).toBe(true)
    const live = State.liveInstances(c.state).map((i) => i.id)
    c.ok({ _tag: "TerminateInstances", at: now(), account: undefined, instanceIds: live })
    for (const id of live) c.ok({ _tag: "InstanceStopped", at: now(), instanceId: id })
    expect(NetworkPlan.isEmpty(plan())).toBe(true)
    expect(dhcpCommands(await apply())).toEqual(["eucadhcp-stop eucabr10.conf"])
    expect(await alive("eucabr10")).toBe(false)
    expect(Fs.readdirSync(stateDir)).toEqual([])
  }, 30_000)
})

describeNet("DHCP from the head in MANAGED-NOVLAN: one dnsmasq on the private interface serves every segment", () => {
  let lab: Lab
  let cluster: Cluster
  let work: ReturnType<typeof workDir> | undefined
  const b = build({
    groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }],
    instances: [{ groups: [0], addressing: "public" }, { groups: [1], addressing: "private" }],
    rules: []
  }, settings("MANAGED-NOVLAN"))
  const inst = (id: string) => State.instance(b.cloud.state, id)!
  const plan = () => Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, HEAD))

  beforeAll(async () => {
    await checkDhcpTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab, { mode: "vxlan", novlan: true })
    work = workDir()
    const z = cluster.config.zones[ZONE]!
    const applier = await Effect.runPromise(NetworkApplier.make({ ...cluster.config, zones: { [ZONE]: { ...z, dhcp: { stateDir: work.stateDir, dns: ["192.0.2.53"] } } } }))
    const a = await Effect.runPromise(applier.apply(plan()))
    expect(a.commands.filter((x) => x.argv[0] === "sh").map((x) => Path.basename(x.argv[6] ?? ""))).toEqual(["trunk.conf"])
  }, 60_000)

  afterAll(async () => {
    if (lab) await lab.destroy()
    work?.remove()
  }, 60_000)

  it("each MAC gets its own segment's address and router (and the configured DNS) over the shared bridge; a stranger none", async () => {
    const [web1, db1] = b.instanceIds as [Ids.InstanceId, Ids.InstanceId]
    const segOf = (id: string) => plan().segments.find((s) => s.vlan === inst(id).net.vlan)!
    const [g1, g2, stranger] = await Promise.all([
      askOn(lab, cluster.node, SHARED_BRIDGE, work!.script, inst(web1).net.mac),
      askOn(lab, cluster.node, SHARED_BRIDGE, work!.script, inst(db1).net.mac),
      askOn(lab, cluster.node, SHARED_BRIDGE, work!.script, "d0:0d:12:34:56:79")
    ])
    for (const [id, got] of [[web1, g1], [db1, g2]] as const) {
      const ip = inst(id).net.privateIp!
      expect(got).toBe(`BOUND ip=${ip} subnet=255.255.255.240 router=${segOf(id).gateway} hostname=ip-${ip.replaceAll(".", "-")} lease=1200 dns=192.0.2.53`)
    }
    expect(segOf(web1).gateway).not.toBe(segOf(db1).gateway)
    expect(stranger).toBeUndefined()
  }, 60_000)
})
