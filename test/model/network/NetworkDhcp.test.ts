import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as NetworkDhcp from "../../../src/model/NetworkDhcp.js"
import * as NetworkPlan from "../../../src/model/NetworkPlan.js"
import * as State from "../../../src/model/State.js"
import * as Dhcp from "../../../src/backends/net/Dhcp.js"
import { build, settings, ZONE } from "./Scenario.js"

const head: NetworkPlan.Head = { privateInterface: "eth1", publicInterface: "eth0" }
const options: NetworkDhcp.Options = { stateDir: "/run/eucalyptus/dhcp" }

/** Two groups of alice: web (two instances), db (one). */
const spec = {
  groups: [{ account: "alice", name: "web" }, { account: "alice", name: "db" }],
  instances: [{ groups: [0], addressing: "public" as const }, { groups: [0], addressing: "public" as const }, { groups: [1], addressing: "private" as const }],
  rules: []
}

const planOf = (mode: "MANAGED" | "MANAGED-NOVLAN" | "SYSTEM" | "STATIC" = "MANAGED", terminate: ReadonlyArray<number> = []) => {
  const b = build({ ...spec, terminate }, mode === "SYSTEM" ? { mode: "SYSTEM" } : mode === "STATIC" ? { ...settings(), mode: "STATIC", macMap: [{ mac: "d0:0d:00:00:00:01", ip: "10.1.0.5" }, { mac: "d0:0d:00:00:00:02", ip: "10.1.0.6" }, { mac: "d0:0d:00:00:00:03", ip: "10.1.0.7" }] } : settings(mode))
  return { b, plan: Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, head)) }
}

const macOf = (b: ReturnType<typeof build>, k: number) => State.instance(b.cloud.state, b.instanceIds[k]!)!.net.mac.toLowerCase()

describe("DHCP on the head: one dnsmasq per segment", () => {
  it("MANAGED: per bridge, a static range with the gateway as router and each instance's MAC → private address", () => {
    const { b, plan } = planOf()
    const s = NetworkDhcp.servers(plan, options)
    expect(s.map((x) => x.name)).toEqual(["eucabr10", "eucabr11"])
    expect(s[0]!.config).toBe([
      "# Written by eucalyptus: DHCP for the instances on this segment. Do not edit.",
      "interface=eucabr10",
      "bind-interfaces",
      "port=0",
      "dhcp-authoritative",
      "dhcp-hostsfile=/run/eucalyptus/dhcp/eucabr10.hosts",
      "dhcp-leasefile=/run/eucalyptus/dhcp/eucabr10.leases",
      "pid-file=/run/eucalyptus/dhcp/eucabr10.pid",
      "dhcp-range=set:vlan10,172.31.0.128,static,255.255.255.240,1200",
      "dhcp-option=tag:vlan10,option:router,172.31.0.129",
      ""
    ].join("\n"))
    expect(s[0]!.hostsFile).toBe(`${macOf(b, 0)},172.31.0.130,ip-172-31-0-130,1200\n${macOf(b, 1)},172.31.0.131,ip-172-31-0-131,1200\n`)
    expect(s[1]!.config).toContain("dhcp-range=set:vlan11,172.31.0.144,static,255.255.255.240,1200\n")
    expect(s[1]!.config).toContain("dhcp-option=tag:vlan11,option:router,172.31.0.145\n")
    expect(s[1]!.hostsFile).toBe(`${macOf(b, 2)},172.31.0.146,ip-172-31-0-146,1200\n`)
    expect(s[1]!.files).toEqual({
      config: "/run/eucalyptus/dhcp/eucabr11.conf",
      hosts: "/run/eucalyptus/dhcp/eucabr11.hosts",
      pid: "/run/eucalyptus/dhcp/eucabr11.pid",
      leases: "/run/eucalyptus/dhcp/eucabr11.leases"
    })
  })

  it("no DNS server unless configured; lease time and DNS servers from the options", () => {
    const { plan } = planOf()
    expect(NetworkDhcp.servers(plan, options)[0]!.config).not.toContain("dns-server")
    const s = NetworkDhcp.servers(plan, { stateDir: "/var/lib/euca/", leaseSeconds: 600, dns: ["172.31.0.1", "8.8.8.8"] })[0]!
    expect(s.config).toContain("dhcp-option=option:dns-server,172.31.0.1,8.8.8.8\n")
    expect(s.config).toContain("dhcp-range=set:vlan10,172.31.0.128,static,255.255.255.240,600\n")
    expect(s.config).toContain("dhcp-hostsfile=/var/lib/euca/eucabr10.hosts\n")
    expect(s.hostsFile).toMatch(/,ip-172-31-0-130,600\n/)
  })

  it("MANAGED-NOVLAN: one server on the private interface with every segment's range", () => {
    const { plan } = planOf("MANAGED-NOVLAN")
    const s = NetworkDhcp.servers(plan, options)
    expect(s.map((x) => x.name)).toEqual(["eth1"])
    expect(s[0]!.config).toContain("interface=eth1\n")
    expect(s[0]!.config).toContain("dhcp-range=set:vlan10,172.31.0.128,static,255.255.255.240,1200\ndhcp-option=tag:vlan10,option:router,172.31.0.129\n")
    expect(s[0]!.config).toContain("dhcp-range=set:vlan11,172.31.0.144,static,255.255.255.240,1200\ndhcp-option=tag:vlan11,option:router,172.31.0.145\n")
    expect(s[0]!.hosts.map((h) => h.ip)).toEqual(["172.31.0.130", "172.31.0.131", "172.31.0.146"])
  })

  it("SYSTEM and STATIC: no server (the site's DHCP, or a plan without instances)", () => {
    expect(NetworkDhcp.servers(planOf("SYSTEM").plan, options)).toEqual([])
    expect(NetworkDhcp.servers(planOf("STATIC").plan, options)).toEqual([])
  })

  it("a segment whose instances are gone has no server", () => {
    const { plan } = planOf("MANAGED", [2])
    expect(NetworkDhcp.servers(plan, options).map((x) => x.name)).toEqual(["eucabr10"])
  })

  it("options are checked", () => {
    expect(NetworkDhcp.checkOptions(options)).toBeUndefined()
    expect(NetworkDhcp.checkOptions({ stateDir: "relative" })).toMatch(/absolute path/)
    expect(NetworkDhcp.checkOptions({ stateDir: "/a b" })).toMatch(/without spaces/)
    expect(NetworkDhcp.checkOptions({ stateDir: "/x", leaseSeconds: 60 })).toMatch(/at least 120/)
    expect(NetworkDhcp.checkOptions({ stateDir: "/x", dns: ["nope"] })).toMatch(/"nope": expected an IPv4 address/)
  })
})

describe("what a change needs: nothing, a SIGHUP, or a restart with fresh leases", () => {
  const { plan: full } = planOf()
  const { plan: fewer } = planOf("MANAGED", [1])
  const [a] = NetworkDhcp.servers(full, options)
  const [b] = NetworkDhcp.servers(fewer, options)

  it("same config and hosts: none; a new server: restart", () => {
    expect(NetworkDhcp.change(a, a!)).toBe("none")
    expect(NetworkDhcp.change(undefined, a!)).toBe("restart")
  })
  it("an instance came: reload; one went: restart (its lease would keep its address from the next MAC)", () => {
    expect(NetworkDhcp.change(b, a!)).toBe("reload")
    expect(NetworkDhcp.change(a, b!)).toBe("restart")
  })
  it("the config changed (lease time): restart", () => {
    const [c] = NetworkDhcp.servers(full, { ...options, leaseSeconds: 300 })
    expect(NetworkDhcp.change(a, c!)).toBe("restart")
  })

  it("the head's commands: stop what is not wanted, start the dead, reload the grown, leave the rest", () => {
    const all = NetworkDhcp.servers(full, options)
    const running: Array<Dhcp.Running> = [
      { name: "eucabr10", alive: true, config: all[0]!.config, hostsFile: b!.hostsFile },
      { name: "eucabr11", alive: false, config: all[1]!.config, hostsFile: all[1]!.hostsFile },
      { name: "eucabr12", alive: true, config: "x", hostsFile: "" }
    ]
    const cmds = Dhcp.commands(options, running, all).map((argv) => `${argv[3]} ${argv[6]}`)
    expect(cmds).toEqual([
      "eucadhcp-stop /run/eucalyptus/dhcp/eucabr12.conf",
      "eucadhcp-reload /run/eucalyptus/dhcp/eucabr10.conf",
      "eucadhcp-restart /run/eucalyptus/dhcp/eucabr11.conf"
    ])
    expect(Dhcp.commands(options, Dhcp.runningAfter(all), all)).toEqual([])
  })

  it("the head's list output is read back", () => {
    const b64 = (s: string) => Buffer.from(s).toString("base64")
    const text = `eucabr10 alive ${b64("conf\n")} ${b64("h1\nh2\n")}\neucabr11 dead ${b64("c")} \ngarbage\n`
    expect(Dhcp.parseList(text)).toEqual([
      { name: "eucabr10", alive: true, config: "conf\n", hostsFile: "h1\nh2\n" },
      { name: "eucabr11", alive: false, config: "c", hostsFile: "" }
    ])
  })
})
