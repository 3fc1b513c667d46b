/**
 * Security groups: create, delete (DependencyViolation while in use), describe, and ingress rules
 * by CIDR or by source group — both the IpPermissions form and the old flat form.
 */
import { Effect } from "effect"
import type { Together, Unstamped } from "../../controller/Controller.js"
import type * as Commands from "../../model/Commands.js"
import type * as Ids from "../../model/Ids.js"
import * as SecurityGroup from "../../model/SecurityGroup.js"
import * as State from "../../model/State.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as Vpc from "../Vpc.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"

const account = (rc: H.RequestContext) => rc.account.id as Ids.AccountId

/**
 * EC2 accounts always have a "default" group; ours is made on first need, as a command decided with
 * the request's own (`together`, under the controller's lock, in its transaction): a failed request
 * changes nothing, and two first requests of an account make one group.
 */
const createDefault = (rc: H.RequestContext): Unstamped => ({
  _tag: "CreateSecurityGroup",
  account: account(rc),
  name: SecurityGroup.DEFAULT_GROUP,
  description: "default group"
})

/** The default group's creation, to go `where` a command goes, if the account has none yet. */
const withDefault = (rc: H.RequestContext, where: keyof Together) => (s: State.State): Together =>
  State.groupByName(s, rc.account.id, SecurityGroup.DEFAULT_GROUP) ? {} : { [where]: [createDefault(rc)] }

/** Makes the default group if the account has none (a request with no command of its own). */
const ensureDefault = (rc: H.RequestContext) =>
  Effect.gen(function* () {
    const s = yield* H.state
    if (State.groupByName(s, rc.account.id, SecurityGroup.DEFAULT_GROUP)) return
    // Another request may have made it meanwhile: the decider, under the lock, says so.
    yield* H.submit(createDefault(rc)).pipe(Effect.catchIf((e) => e.code === "InvalidGroup.Duplicate", () => Effect.void))
  })

export const CreateSecurityGroup: H.Handler<"CreateSecurityGroup"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.VpcId !== undefined && input.VpcId !== Vpc.vpcId(rc.account.id)) {
      return yield* Ec2Error.make("InvalidVpcID.NotFound", `The vpc ID '${Ec2Error.quote(input.VpcId)}' does not exist`)
    }
    if (input.GroupName.toLowerCase().startsWith("sg-")) return yield* Ec2Error.make("InvalidParameterValue", "Group names may not be in the format sg-*")
    // The default group exists for every account, made or not yet.
    if (input.GroupName === "default") return yield* Ec2Error.fromRejection({ _tag: "GroupExists", name: "default" })
    yield* H.dryRun(input)
    const done = yield* H.submit(
      { _tag: "CreateSecurityGroup", account: account(rc), name: input.GroupName, description: input.Description },
      { together: withDefault(rc, "after") }
    )
    const e = done.events[0]!
    return { GroupId: e._tag === "GroupCreated" ? e.group : "" }
  })

export const DeleteSecurityGroup: H.Handler<"DeleteSecurityGroup"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.GroupId === undefined && input.GroupName === undefined) return yield* Ec2Error.missingParameter("GroupId")
    if (input.GroupId !== undefined) yield* H.checkGroupIds([input.GroupId])
    yield* H.dryRun(input)
    const done = yield* H.submit({ _tag: "DeleteSecurityGroup", account: account(rc), groupId: input.GroupId, groupName: input.GroupName })
    const e = done.events[0]
    return { Return: true, ...(e && e._tag === "GroupDeleted" ? { GroupId: e.group } : {}) }
  })

export const DescribeSecurityGroups: H.Handler<"DescribeSecurityGroups"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* H.checkGroupIds(input.GroupIds)
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    let s = yield* H.state
    const tags = yield* H.db(Tags.byResource(rc.account.id))
    const before = State.groups(s).filter((g) => g.account === rc.account.id)
    for (const id of input.GroupIds ?? []) if (!before.some((g) => g.id === id)) return yield* Ec2Error.fromRejection({ _tag: "GroupNotFound", group: id })
    for (const n of input.GroupNames ?? []) if (n !== "default" && !before.some((g) => g.name === n)) return yield* Ec2Error.fromRejection({ _tag: "GroupNotFound", group: n })
    const perms = (g: SecurityGroup.Group) => Views.permissions(s, g.rules)
    const egress = (g: SecurityGroup.Group) => Views.permissions(s, g.egress)
    const keep = yield* Filter.compile<SecurityGroup.Group>(
      {
        "group-id": (g) => g.id,
        "group-name": (g) => g.name,
        description: (g) => g.description,
        "owner-id": (g) => g.account,
        "vpc-id": (g) => Vpc.vpcId(g.account),
        "egress.ip-permission.protocol": (g) => egress(g).map((p) => p.IpProtocol ?? ""),
        "egress.ip-permission.from-port": (g) => egress(g).flatMap((p) => (p.FromPort !== undefined ? [String(p.FromPort)] : [])),
        "egress.ip-permission.to-port": (g) => egress(g).flatMap((p) => (p.ToPort !== undefined ? [String(p.ToPort)] : [])),
        "egress.ip-permission.cidr": (g) => g.egress.flatMap((r) => (r.source._tag === "Cidr" ? [r.source.cidr] : [])),
        "egress.ip-permission.group-id": (g) => g.egress.flatMap((r) => (r.source._tag === "Group" ? [r.source.groupId] : [])),
        "egress.ip-permission.group-name": (g) => g.egress.flatMap((r) => (r.source._tag === "Group" ? [State.group(s, r.source.groupId)?.name ?? ""] : [])),
        "ip-permission.protocol": (g) => perms(g).map((p) => p.IpProtocol ?? ""),
        "ip-permission.from-port": (g) => perms(g).flatMap((p) => (p.FromPort !== undefined ? [String(p.FromPort)] : [])),
        "ip-permission.to-port": (g) => perms(g).flatMap((p) => (p.ToPort !== undefined ? [String(p.ToPort)] : [])),
        "ip-permission.cidr": (g) => g.rules.flatMap((r) => (r.source._tag === "Cidr" ? [r.source.cidr] : [])),
        "ip-permission.group-id": (g) => g.rules.flatMap((r) => (r.source._tag === "Group" ? [r.source.groupId] : [])),
        "ip-permission.group-name": (g) => g.rules.flatMap((r) => (r.source._tag === "Group" ? [State.group(s, r.source.groupId)?.name ?? ""] : []))
      },
      input.Filters,
      { tags: (g) => (tags.get(g.id) ?? []).map((t) => ({ key: t.key, value: t.value })) }
    )
    // Only now, with the request known to be good, is the default group made (if not yet).
    yield* ensureDefault(rc)
    s = yield* H.state
    const mine = State.groups(s).filter((g) => g.account === rc.account.id)
    const ids = input.GroupIds ?? []
    const names = input.GroupNames ?? []
    const chosen = mine.filter((g) => (ids.length === 0 || ids.includes(g.id)) && (names.length === 0 || names.includes(g.name)) && keep(g))
    return { SecurityGroups: chosen.map((g) => Views.securityGroup(s, g, tags.get(g.id))) }
  })

const PROTOCOLS: Record<string, SecurityGroup.Protocol> = { tcp: "tcp", "6": "tcp", udp: "udp", "17": "udp", icmp: "icmp", "1": "icmp", "-1": "all", all: "all" }

type RuleRequest =
  | Shapes.AuthorizeSecurityGroupIngressRequest
  | Shapes.RevokeSecurityGroupIngressRequest
  | Shapes.AuthorizeSecurityGroupEgressRequest
  | Shapes.RevokeSecurityGroupEgressRequest

/** IpPermissions (or the flat legacy parameters) → the core's rule inputs, one per source (for egress: per destination). */
export const rulesOf = (input: RuleRequest) =>
  Effect.gen(function* () {
    const perms: Array<Shapes.IpPermission> = [...(input.IpPermissions ?? [])]
    if (input.IpProtocol !== undefined || input.CidrIp !== undefined || input.SourceSecurityGroupName !== undefined) {
      perms.push({
        IpProtocol: input.IpProtocol ?? (input.SourceSecurityGroupName !== undefined ? "-1" : ""),
        ...(input.FromPort !== undefined ? { FromPort: input.FromPort } : {}),
        ...(input.ToPort !== undefined ? { ToPort: input.ToPort } : {}),
        ...(input.CidrIp !== undefined ? { IpRanges: [{ CidrIp: input.CidrIp }] } : {}),
        ...(input.SourceSecurityGroupName !== undefined
          ? { UserIdGroupPairs: [{ GroupName: input.SourceSecurityGroupName, ...(input.SourceSecurityGroupOwnerId !== undefined ? { UserId: input.SourceSecurityGroupOwnerId } : {}) }] }
          : {})
      })
    }
    if (perms.length === 0) return yield* Ec2Error.missingParameter("IpPermissions")
    const out: Array<Commands.RuleInput> = []
    for (const [i, p] of perms.entries()) {
      const protocol = PROTOCOLS[(p.IpProtocol ?? "").toLowerCase()]
      if (protocol === undefined) {
        return yield* Ec2Error.make("InvalidParameterValue", `Invalid value '${Ec2Error.quote(p.IpProtocol ?? "")}' for IP protocol (IpPermissions.${i + 1}): use tcp, udp, icmp or -1`)
      }
      const ported = protocol === "tcp" || protocol === "udp"
      if (ported && (p.FromPort === undefined || p.ToPort === undefined)) {
        return yield* Ec2Error.make("InvalidParameterValue", `IpPermissions.${i + 1}: ${protocol} rules need FromPort and ToPort`)
      }
      const fromPort = p.FromPort ?? -1
      const toPort = p.ToPort ?? -1
      const sources: Array<Commands.RuleInput["source"]> = [
        ...(p.IpRanges ?? []).map((r) => ({ _tag: "Cidr" as const, cidr: r.CidrIp ?? "" })),
        ...(p.UserIdGroupPairs ?? []).map((g) => ({ _tag: "Group" as const, groupId: g.GroupId, groupName: g.GroupName, account: g.UserId }))
      ]
      if ((p.Ipv6Ranges ?? []).length > 0 || (p.PrefixListIds ?? []).length > 0) {
        return yield* Ec2Error.make("InvalidParameterValue", "IPv6 ranges and prefix lists are not supported")
      }
      if (sources.length === 0) return yield* Ec2Error.make("InvalidParameterValue", `IpPermissions.${i + 1}: name at least one CIDR range or source group`)
      for (const source of sources) out.push({ protocol, fromPort, toPort, source })
    }
    return out
  })

export const AuthorizeSecurityGroupIngress: H.Handler<"AuthorizeSecurityGroupIngress"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.GroupId === undefined && input.GroupName === undefined) return yield* Ec2Error.missingParameter("GroupId")
    if (input.GroupId !== undefined) yield* H.checkGroupIds([input.GroupId])
    const rules = yield* rulesOf(input)
    yield* H.dryRun(input)
    const command: Unstamped = { _tag: "AuthorizeIngress", account: account(rc), groupId: input.GroupId, groupName: input.GroupName, rules }
    const named = input.GroupName === SecurityGroup.DEFAULT_GROUP && input.GroupId === undefined
    yield* H.submit(command, named ? { together: withDefault(rc, "before") } : undefined)
    return { Return: true }
  })

export const RevokeSecurityGroupIngress: H.Handler<"RevokeSecurityGroupIngress"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.GroupId === undefined && input.GroupName === undefined) return yield* Ec2Error.missingParameter("GroupId")
    if (input.GroupId !== undefined) yield* H.checkGroupIds([input.GroupId])
    const rules = yield* rulesOf(input)
    yield* H.dryRun(input)
    yield* H.submit({ _tag: "RevokeIngress", account: account(rc), groupId: input.GroupId, groupName: input.GroupName, rules })
    return { Return: true }
  })
