/**
 * What the security groups mean, straight from the state and independent of the plan compiler: may
 * a new connection from one live instance reach another's private address on this protocol/port?
 * EC2-classic semantics as the plan documents them: members of a common group always; otherwise any
 * rule of any of the target's groups whose source contains the sender (a CIDR holding its private
 * address, or a group it is a member of) and whose protocol and ports match.
 */
import * as Ipv4 from "../../../src/model/Ipv4.js"
import * as State from "../../../src/model/State.js"

export type Probe = { readonly protocol: "tcp" | "udp"; readonly port: number } | { readonly protocol: "icmp"; readonly type: number }

export const allowed = (s: State.State, fromId: string, toId: string, probe: Probe): boolean => {
  const from = State.instance(s, fromId)
  const to = State.instance(s, toId)
  if (!from || !to || from.id === to.id) return false
  if (from.state === "terminated" || to.state === "terminated") return false
  if (from.zone !== to.zone) return false
  if (from.groups.some((g) => to.groups.includes(g))) return true
  const ip = Ipv4.parse(from.net.privateIp!)!
  for (const gid of to.groups) {
    const g = State.group(s, gid)
    for (const r of g?.rules ?? []) {
      const source = r.source._tag === "Cidr" ? Ipv4.contains(Ipv4.parseCidr(r.source.cidr)!, ip) : from.groups.includes(r.source.groupId)
      if (!source) continue
      if (r.protocol === "all") return true
      if (r.protocol !== probe.protocol) continue
      if (probe.protocol === "icmp") {
        if (r.fromPort === -1 || r.fromPort === probe.type) return true
      } else if (probe.port >= r.fromPort && probe.port <= r.toPort) return true
    }
  }
  return false
}
