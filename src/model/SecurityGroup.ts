/** Security groups and their ingress and egress rules, as EC2 and Eucalyptus's MANAGED mode know them. */
import { Schema } from "effect"
import * as Ids from "./Ids.js"

export const Protocol = Schema.Literal("tcp", "udp", "icmp", "all")
export type Protocol = typeof Protocol.Type

export const Source = Schema.Union(
  Schema.TaggedStruct("Cidr", { cidr: Schema.String }),
  Schema.TaggedStruct("Group", { groupId: Ids.GroupId })
)
export type Source = typeof Source.Type

/**
 * One ingress rule: traffic of `protocol` to ports fromPort…toPort (for icmp: type and code, −1 = any)
 * from one source. EC2's IpPermission with several sources becomes several rules.
 */
export const Rule = Schema.Struct({
  protocol: Protocol,
  fromPort: Schema.Int,
  toPort: Schema.Int,
  source: Source
})
export type Rule = typeof Rule.Type

export const Group = Schema.Struct({
  id: Ids.GroupId,
  account: Ids.AccountId,
  name: Schema.String,
  description: Schema.String,
  rules: Schema.Array(Rule),
  /**
   * Egress rules: traffic of `protocol` to ports fromPort…toPort of a peer (`source` names the
   * destination here). A new group holds ALLOW_ALL_EGRESS, as in EC2's VPCs.
   */
  egress: Schema.Array(Rule),
  /** While the group has live instances in a MANAGED mode: its VLAN (its network index in MANAGED-NOVLAN). */
  vlan: Schema.optional(Schema.Int)
})
export type Group = typeof Group.Type

export const DEFAULT_GROUP = "default"

export const sourceKey = (s: Source): string => (s._tag === "Cidr" ? `cidr:${s.cidr}` : `group:${s.groupId}`)
export const ruleKey = (r: Rule): string => `${r.protocol}:${r.fromPort}:${r.toPort}:${sourceKey(r.source)}`
export const sameRule = (a: Rule, b: Rule): boolean => ruleKey(a) === ruleKey(b)

/** EC2's default egress rule: all traffic to anywhere. */
export const ALLOW_ALL_EGRESS: Rule = { protocol: "all", fromPort: -1, toPort: -1, source: { _tag: "Cidr", cidr: "0.0.0.0/0" } }
export const isAllowAll = (r: Rule): boolean => ruleKey(r) === ruleKey(ALLOW_ALL_EGRESS)
/** Whether the group lets its members send anything anywhere (it holds the allow-all egress rule). */
export const egressOpen = (g: Group): boolean => g.egress.some(isAllowAll)
