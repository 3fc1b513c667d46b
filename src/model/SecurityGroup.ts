/** Security groups and their ingress rules, as EC2 (classic) and Eucalyptus's MANAGED mode know them. */
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
  /** While the group has live instances in a MANAGED mode: its VLAN (its network index in MANAGED-NOVLAN). */
  vlan: Schema.optional(Schema.Int)
})
export type Group = typeof Group.Type

export const DEFAULT_GROUP = "default"

export const sourceKey = (s: Source): string => (s._tag === "Cidr" ? `cidr:${s.cidr}` : `group:${s.groupId}`)
export const ruleKey = (r: Rule): string => `${r.protocol}:${r.fromPort}:${r.toPort}:${sourceKey(r.source)}`
export const sameRule = (a: Rule, b: Rule): boolean => ruleKey(a) === ruleKey(b)
