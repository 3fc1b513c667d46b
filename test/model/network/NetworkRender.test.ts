import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import { readFileSync } from "node:fs"
import * as Network from "../../../src/model/Network.js"
import * as Devices from "../../../src/model/NetworkDevices.js"
import * as NetworkDiff from "../../../src/model/NetworkDiff.js"
import * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import * as NetworkRender from "../../../src/model/NetworkRender.js"
import { build, NODE, ZONE } from "./Scenario.js"

const head: NetworkPlan.Head = { privateInterface: "eth1", publicInterface: "eth0" }

/** The example of docs/network.md: default settings, web (two instances) and db (one, private). */
const example = () => {
  const b = build(
    {
      groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }],
      instances: [{ groups: [0], addressing: "public" }, { groups: [0], addressing: "public" }, { groups: [1], addressing: "private" }],
      rules: [
        { group: 0, protocol: "tcp", fromPort: 80, toPort: 80, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } },
        { group: 1, protocol: "tcp", fromPort: 5432, toPort: 5432, source: { _tag: "Group", group: 0 } }
      ]
    },
    { ...Network.defaultSettings, metadata: "10.0.0.5:8773" }
  )
  return Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, head))
}

const docBlock = (name: string): string => {
  const doc = readFileSync(new URL("../../../docs/network.md", import.meta.url), "utf8")
  const m = new RegExp(`<!-- example:${name} -->\\n\`\`\`[a-z]*\\n([\\s\\S]*?)\`\`\``).exec(doc)
  if (!m) throw new Error(`docs/network.md has no block <!-- example:${name} -->`)
  return m[1]!
}

const lines = (argvs: ReadonlyArray<ReadonlyArray<string>>) => argvs.map((a) => a.join(" ")).join("\n") + "\n"

describe("the rendered example in docs/network.md is what the renderer produces", () => {
  const p = example()
  it("plan", () => expect(docBlock("plan")).toBe(JSON.stringify(p, null, 2) + "\n"))
  it("ip commands on the head (802.1Q)", () =>
    expect(docBlock("ip-head")).toBe(lines(NetworkDiff.diff(undefined, p, { role: "head", kind: { _tag: "vlan", dev: "eth1" } }).ip)))
  it("ip commands on a node", () =>
    expect(docBlock("ip-node")).toBe(lines(NetworkDiff.diff(undefined, p, { role: "node", node: NODE, kind: { _tag: "vlan", dev: "eth0" } }).ip)))
  it("iptables-restore input", () => expect(docBlock("restore")).toBe(NetworkRender.restore(p, NetworkRender.nothing)))
})

describe("segment kinds", () => {
  const p = example()
  const creates = (kind: NetworkRender.SegmentKind, role: "head" | "node") =>
    (role === "head" ? NetworkRender.headDevices(p, kind) : NetworkRender.nodeDevices(p, NODE, kind)).links
      .filter((l) => l.kind !== "bridge")
      .map((l) => l.create?.join(" ") ?? `(made elsewhere) ${l.name}`)

  it("vlan: <dev>.<vlan> 802.1Q devices", () => {
    expect(creates({ _tag: "vlan", dev: "eth1" }, "head")).toEqual([
      "ip link add link eth1 name eth1.10 type vlan id 10",
      "ip link add link eth1 name eth1.11 type vlan id 11"
    ])
  })
  it("vxlan: VNI = VLAN id, to one peer over dev", () => {
    expect(creates({ _tag: "vxlan", dev: "trunk", local: "10.0.0.1", remote: "10.0.0.2" }, "head")).toEqual([
      "ip link add eucavx10 type vxlan id 10 local 10.0.0.1 remote 10.0.0.2 dstport 4789 dev trunk",
      "ip link add eucavx11 type vxlan id 11 local 10.0.0.1 remote 10.0.0.2 dstport 4789 dev trunk"
    ])
  })
  it("veth: the head makes the pair into the node's namespace; the node only attaches its end", () => {
    expect(creates({ _tag: "veth", peerNamespace: "nodens" }, "head")).toEqual([
      "ip link add eucave10 type veth peer name eucave10 netns nodens",
      "ip link add eucave11 type veth peer name eucave11 netns nodens"
    ])
    expect(creates({ _tag: "veth" }, "node")).toEqual(["(made elsewhere) eucave10", "(made elsewhere) eucave11"])
    const node = NetworkDiff.diff(undefined, p, { role: "node", node: NODE, kind: { _tag: "veth" } }).ip.map((a) => a.join(" "))
    expect(node.filter((c) => c.includes("eucave"))).toEqual([
      "ip link set eucave10 master eucabr10",
      "ip link set eucave11 master eucabr11",
      "ip link set eucave10 up",
      "ip link set eucave11 up"
    ])
  })
  it("refuses names Linux cannot take and a veth without the node's namespace", () => {
    expect(NetworkRender.checkKind({ _tag: "vlan", dev: "enp0s31f6abc" }, "head")).toMatch(/15 characters/)
    expect(NetworkRender.checkKind({ _tag: "veth" }, "head")).toMatch(/peerNamespace/)
    expect(NetworkRender.checkKind({ _tag: "veth" }, "node")).toBeUndefined()
  })
  it("MANAGED-NOVLAN: gateways on the private interface with our label, nothing on nodes", () => {
    const q: NetworkPlan.Plan = { ...p, mode: "MANAGED-NOVLAN", segments: p.segments.map((s) => ({ ...s, bridge: undefined })) }
    const d = NetworkRender.headDevices(q, { _tag: "vlan", dev: "eth1" })
    expect(d.links).toEqual([])
    expect(d.addresses.filter((a) => a.dev === "eth1")).toEqual([
      { dev: "eth1", cidr: "172.31.1.1/27", broadcast: "172.31.1.31", label: "eth1:eu" },
      { dev: "eth1", cidr: "172.31.1.33/27", broadcast: "172.31.1.63", label: "eth1:eu" }
    ])
    expect(NetworkRender.nodeDevices(q, NODE, { _tag: "vlan", dev: "eth0" })).toEqual(Devices.none)
    expect(NetworkRender.rules(q).filter.some((l) => l.includes("-i eucabr"))).toBe(false)
  })
  it("natMetadata: the metadata flow is NATed like any other (Eucalyptus's way)", () => {
    const nat = NetworkRender.rules({ ...p, head: { ...head, natMetadata: true } }).nat
    expect(nat.some((l) => l.includes("--ctorigdst 169.254.169.254/32 -j RETURN"))).toBe(false)
    expect(NetworkRender.rules(p).nat.some((l) => l.includes("--ctorigdst 169.254.169.254/32 -j RETURN"))).toBe(true)
  })
})

describe("iptables-restore input against what a host holds", () => {
  const p = example()
  const save = `# Generated by iptables-save v1.8.9 (nf_tables)
*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER-USER - [0:0]
:EU-EGRESS - [0:0]
:EU-FORWARD - [0:0]
:EU-INGRESS - [0:0]
:EU-sg-00000001 - [0:0]
-A FORWARD -j EU-FORWARD
-A FORWARD -j DOCKER-USER
-A EU-FORWARD -d 172.31.0.0/16 -j EU-INGRESS
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:EU-PREROUTING - [0:0]
-A PREROUTING -j EU-PREROUTING
COMMIT
`
  it("reads our chains and hooks from iptables-save, ignoring foreign ones", () => {
    expect(NetworkRender.parseSave(save)).toEqual({
      chains: ["filter:EU-EGRESS", "filter:EU-FORWARD", "filter:EU-INGRESS", "filter:EU-sg-00000001", "nat:EU-PREROUTING"],
      hooks: ["filter:FORWARD", "nat:PREROUTING"]
    })
  })
  it("inserts only missing hooks and removes stale chains in the same input", () => {
    const text = NetworkRender.restore(p, NetworkRender.parseSave(save))!
    const ls = text.split("\n")
    expect(ls.filter((l) => l.startsWith("-I "))).toEqual(["-I OUTPUT 1 -j EU-OUTPUT", "-I POSTROUTING 1 -j EU-POSTROUTING"])
    expect(ls).toContain(":EU-sg-00000001 - [0:0]")
    expect(ls.filter((l) => l.startsWith("-X "))).toEqual(["-X EU-sg-00000001"])
    expect(ls.indexOf("-X EU-sg-00000001")).toBeGreaterThan(ls.indexOf("-A EU-INGRESS -j DROP"))
    expect(text).not.toContain("DOCKER")
  })
  it("an empty plan removes hooks and chains; on a clean host it is nothing at all", () => {
    const empty = NetworkPlan.empty(ZONE, "MANAGED", head, "172.31.0.0/16")
    expect(NetworkRender.restore(empty, NetworkRender.parseSave(save))).toBe(
      "*filter\n:EU-EGRESS - [0:0]\n:EU-FORWARD - [0:0]\n:EU-INGRESS - [0:0]\n:EU-sg-00000001 - [0:0]\n-D FORWARD -j EU-FORWARD\n" +
        "-X EU-EGRESS\n-X EU-FORWARD\n-X EU-INGRESS\n-X EU-sg-00000001\nCOMMIT\n" +
        "*nat\n:EU-PREROUTING - [0:0]\n-D PREROUTING -j EU-PREROUTING\n-X EU-PREROUTING\nCOMMIT\n"
    )
    expect(NetworkRender.restore(empty, NetworkRender.nothing)).toBeUndefined()
    expect(NetworkRender.headSetup(empty)).toEqual([])
  })
  it("icmp type/code and port ranges", () => {
    const q: NetworkPlan.Plan = {
      ...p,
      chains: [{
        ...p.chains[0]!,
        accepts: [
          { source: "10.0.0.0/8", protocol: "icmp", fromPort: 8, toPort: 0, note: "n" },
          { source: "10.0.0.0/8", protocol: "icmp", fromPort: -1, toPort: -1, note: "n" },
          { source: "10.0.0.0/8", protocol: "udp", fromPort: 1000, toPort: 2000, note: "n" },
          { source: "10.0.0.0/8", protocol: "tcp", fromPort: 0, toPort: 65535, note: "n" }
        ]
      }]
    }
    expect(NetworkRender.rules(q).filter.filter((l) => l.startsWith(`-A ${p.chains[0]!.name}`))).toEqual([
      `-A ${p.chains[0]!.name} -s 10.0.0.0/8 -p icmp -m icmp --icmp-type 8/0 -m comment --comment "n" -j ACCEPT`,
      `-A ${p.chains[0]!.name} -s 10.0.0.0/8 -p icmp -m comment --comment "n" -j ACCEPT`,
      `-A ${p.chains[0]!.name} -s 10.0.0.0/8 -p udp -m udp --dport 1000:2000 -m comment --comment "n" -j ACCEPT`,
      `-A ${p.chains[0]!.name} -s 10.0.0.0/8 -p tcp -m comment --comment "n" -j ACCEPT`
    ])
  })
})

describe("reading a host's devices", () => {
  const links = JSON.stringify([
    { ifname: "lo", flags: ["LOOPBACK", "UP"] },
    { ifname: "eth1", flags: ["UP"], linkinfo: { info_kind: "veth" } },
    { ifname: "eucabr10", flags: ["BROADCAST", "UP"], linkinfo: { info_kind: "bridge" } },
    { ifname: "eucavx10", flags: ["BROADCAST"], master: "eucabr10", linkinfo: { info_kind: "vxlan", info_data: { id: 99 } } },
    { ifname: "docker0", flags: ["UP"], linkinfo: { info_kind: "bridge" } }
  ])
  const addrs = JSON.stringify([
    { ifname: "eth0", addr_info: [
      { family: "inet", local: "192.0.2.1", prefixlen: 24, label: "eth0" },
      { family: "inet", local: "192.0.2.10", prefixlen: 32, label: "eth0:eu" },
      { family: "inet6", local: "fe80::1", prefixlen: 64 }
    ] },
    { ifname: "eucabr10", addr_info: [{ family: "inet", local: "172.31.1.1", prefixlen: 27, broadcast: "172.31.1.31", label: "eucabr10" }] },
    { ifname: "docker0", addr_info: [{ family: "inet", local: "172.17.0.1", prefixlen: 16, label: "docker0" }] }
  ])
  const kind: NetworkRender.SegmentKind = { _tag: "vxlan", dev: "eth1", local: "10.0.0.1", remote: "10.0.0.2" }

  it("keeps only what is ours: our links, addresses on them, and labelled addresses", () => {
    expect(Devices.observe(links, addrs, NetworkRender.ownership(kind, "head"))).toEqual(Either.right({
      links: [
        { name: "eucabr10", kind: "bridge", up: true },
        { name: "eucavx10", kind: "vxlan", id: 99, master: "eucabr10", up: false }
      ],
      addresses: [
        { dev: "eth0", cidr: "192.0.2.10/32", label: "eth0:eu" },
        { dev: "eucabr10", cidr: "172.31.1.1/27", broadcast: "172.31.1.31" }
      ]
    }))
    expect(Devices.observe("not json", addrs, NetworkRender.ownership(kind, "head"))).toMatchObject({ _tag: "Left", left: { source: "ip -d -j link show" } })
  })

  it("re-makes a device that is not what its name promises, raises what is down, drops what is stale", () => {
    const observed = Either.getOrThrow(Devices.observe(links, addrs, NetworkRender.ownership(kind, "head")))
    const p = example()
    const target = NetworkRender.headDevices(p, kind)
    const cmds = NetworkDiff.devices(observed, target).map((a) => a.join(" "))
    expect(cmds).toEqual([
      "ip addr del 192.0.2.10/32 dev eth0",
      "ip link del eucavx10",
      "ip link add eucabr11 type bridge",
      "ip link add eucavx10 type vxlan id 10 local 10.0.0.1 remote 10.0.0.2 dstport 4789 dev eth1",
      "ip link add eucavx11 type vxlan id 11 local 10.0.0.1 remote 10.0.0.2 dstport 4789 dev eth1",
      "ip link set eucavx10 master eucabr10",
      "ip link set eucavx11 master eucabr11",
      "ip link set eucabr11 up",
      "ip link set eucavx10 up",
      "ip link set eucavx11 up",
      "ip addr add 198.51.100.10/32 label eth0:eu dev eth0",
      "ip addr add 198.51.100.11/32 label eth0:eu dev eth0",
      "ip addr add 172.31.1.33/27 broadcast 172.31.1.63 dev eucabr11"
    ])
  })
})
