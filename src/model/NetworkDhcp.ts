/**
 * DHCP on the cluster head, as Eucalyptus's cluster controller ran dhcpd in the MANAGED modes: each
 * instance's MAC gets its private address, the segment's gateway as router, the configured DNS
 * server if there is one, a host name (EC2's `ip-a-b-c-d`) and a lease time. Stock disk images
 * (cloud-init) need it; kernel images also get `ip=` on their command line.
 *
 * Pure: from a NetworkPlan to one dnsmasq server per DHCP interface of the head: per bridge
 * (MANAGED: one segment each) or the private interface (MANAGED-NOVLAN: every segment shares it, and
 * two dnsmasqs cannot serve one interface). Each server is two files:
 * - `<name>.conf`: the interface it binds to, no DNS (`port=0`), one `dhcp-range=…,static` per
 *   segment (static: only known MACs get an address) and its options. dnsmasq reads it at start only,
 *   so a change here means a restart;
 * - `<name>.hosts` (`dhcp-hostsfile`): one `MAC,IP,hostname,lease` line per instance, the values of
 *   `dhcp-host=`. dnsmasq rereads it on SIGHUP, so instances coming only need a signal.
 * SYSTEM leaves DHCP to the site, and STATIC's plan holds no instances (nothing to hand out).
 */
import * as Ipv4 from "./Ipv4.js"
import type * as NetworkPlan from "./NetworkPlan.js"

export interface Options {
  /** Where the head keeps the servers' files (config, hosts, pid, leases). */
  readonly stateDir: string
  /** Eucalyptus's dhcpd.conf: `default-lease-time 1200`. */
  readonly leaseSeconds?: number | undefined
  /** Offered as the instances' DNS servers (Eucalyptus's VNET_DNS, e.g. the head's address); none when absent or empty. */
  readonly dns?: ReadonlyArray<string> | undefined
}

export const DEFAULT_LEASE_SECONDS = 1200

export interface Host {
  readonly mac: string
  readonly ip: string
  readonly hostname: string
}

export interface Range {
  /** dnsmasq tag of the range: `vlan<id>`. */
  readonly tag: string
  readonly network: string
  readonly netmask: string
  readonly router: string
}

export interface Server {
  /** The interface it binds to; also the name of its files. */
  readonly name: string
  readonly ranges: ReadonlyArray<Range>
  /** By address. */
  readonly hosts: ReadonlyArray<Host>
  readonly files: Files
  /** Rendered `<name>.conf`. */
  readonly config: string
  /** Rendered `<name>.hosts`. */
  readonly hostsFile: string
}

export interface Files {
  readonly config: string
  readonly hosts: string
  readonly pid: string
  readonly leases: string
}

/** EC2's private host name for an address: ip-10-0-0-5. */
export const hostnameOf = (ip: string): string => `ip-${ip.replaceAll(".", "-")}`

export const filesOf = (stateDir: string, name: string): Files => {
  const base = `${stateDir.replace(/\/+$/, "")}/${name}`
  return { config: `${base}.conf`, hosts: `${base}.hosts`, pid: `${base}.pid`, leases: `${base}.leases` }
}

/** A problem with the options, or undefined. */
export const checkOptions = (o: Options): string | undefined => {
  if (!o.stateDir.startsWith("/") || /[\s,'"\\]/.test(o.stateDir)) return `dhcp.stateDir "${o.stateDir}": expected an absolute path without spaces, commas or quotes`
  if (o.leaseSeconds !== undefined && !(Number.isSafeInteger(o.leaseSeconds) && o.leaseSeconds >= 120)) {
    return `dhcp.leaseSeconds ${o.leaseSeconds}: expected a whole number of seconds, at least 120 (dnsmasq's minimum)`
  }
  for (const d of o.dns ?? []) if (Ipv4.parse(d) === undefined) return `dhcp.dns "${d}": expected an IPv4 address`
  return undefined
}

const lease = (o: Options) => o.leaseSeconds ?? DEFAULT_LEASE_SECONDS

const renderConfig = (name: string, ranges: ReadonlyArray<Range>, files: Files, o: Options): string => {
  const out = [
    "# Written by eucalyptus: DHCP for the instances on this segment. Do not edit.",
    `interface=${name}`,
    // One interface per dnsmasq, bound to it alone, so one per segment can run side by side.
    "bind-interfaces",
    "port=0",
    "dhcp-authoritative",
    `dhcp-hostsfile=${files.hosts}`,
    `dhcp-leasefile=${files.leases}`,
    `pid-file=${files.pid}`
  ]
  for (const r of ranges) {
    out.push(`dhcp-range=set:${r.tag},${r.network},static,${r.netmask},${lease(o)}`)
    out.push(`dhcp-option=tag:${r.tag},option:router,${r.router}`)
  }
  if (o.dns !== undefined && o.dns.length > 0) out.push(`dhcp-option=option:dns-server,${o.dns.join(",")}`)
  return `${out.join("\n")}\n`
}

const renderHosts = (hosts: ReadonlyArray<Host>, o: Options): string =>
  hosts.map((h) => `${h.mac.toLowerCase()},${h.ip},${h.hostname},${lease(o)}\n`).join("")

/**
 * The head's DHCP servers for a plan, by name; none for an empty plan (SYSTEM, STATIC, or a zone
 * without instances) — the head then runs no dnsmasq of ours.
 */
export const servers = (plan: NetworkPlan.Plan, o: Options): ReadonlyArray<Server> => {
  if (plan.mode !== "MANAGED" && plan.mode !== "MANAGED-NOVLAN") return []
  const byName = new Map<string, { ranges: Array<Range>; vlans: Set<number> }>()
  for (const s of plan.segments) {
    const name = s.bridge ?? plan.head.privateInterface
    const entry = byName.get(name) ?? { ranges: [], vlans: new Set<number>() }
    entry.ranges.push({ tag: `vlan${s.vlan}`, network: s.network, netmask: Ipv4.format(Ipv4.prefixToMask(s.prefix)), router: s.gateway })
    entry.vlans.add(s.vlan)
    byName.set(name, entry)
  }
  const out: Array<Server> = []
  for (const name of [...byName.keys()].sort()) {
    const { ranges, vlans } = byName.get(name)!
    const hosts = plan.endpoints
      .filter((e) => vlans.has(e.vlan))
      .map((e) => ({ mac: e.mac, ip: e.privateIp, hostname: hostnameOf(e.privateIp) }))
      .sort((a, b) => Ipv4.parse(a.ip)! - Ipv4.parse(b.ip)!)
    const files = filesOf(o.stateDir, name)
    out.push({ name, ranges, hosts, files, config: renderConfig(name, ranges, files, o), hostsFile: renderHosts(hosts, o) })
  }
  return out
}

/** What the head must do to a running server to go from `before` to `after`. */
export type Change = "none" | "reload" | "restart"

/**
 * `reload` (SIGHUP: dnsmasq rereads the hosts file) when only instances came; `restart` with fresh
 * leases when the config changed or an instance went — dnsmasq keeps a departed MAC's lease until it
 * expires and would refuse its address to the next instance that gets it.
 */
export const change = (before: Server | undefined, after: Server): Change => {
  if (before === undefined || before.config !== after.config) return "restart"
  if (before.hostsFile === after.hostsFile) return "none"
  const now = new Set(after.hostsFile.split("\n"))
  return before.hostsFile.split("\n").every((l) => now.has(l)) ? "reload" : "restart"
}
