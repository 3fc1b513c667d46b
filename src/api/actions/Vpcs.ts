/**
 * The default VPC (see ../Vpc.ts): DescribeVpcs, DescribeSubnets, DescribeAccountAttributes,
 * DescribeNetworkInterfaces (the instances' primary interfaces), CreateVpc refused with EC2's
 * UnsupportedOperation, and egress rules: a group starts with EC2's default allow-all egress rule;
 * Authorize/RevokeSecurityGroupEgress change its egress rules, which the network plan enforces.
 */
import { Effect } from "effect"
import type * as Ids from "../../model/Ids.js"
import * as State from "../../model/State.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as SecurityGroups from "./SecurityGroups.js"
import * as Vpc from "../Vpc.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"

const bool = (b: boolean | undefined): string | undefined => (b === undefined ? undefined : String(b))

export const DescribeVpcs: H.Handler<"DescribeVpcs"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    const s = yield* H.state
    const vpc = Vpc.vpc(s, rc.account.id)
    for (const id of input.VpcIds ?? []) {
      if (id !== vpc.VpcId) return yield* Ec2Error.make("InvalidVpcID.NotFound", `The vpc ID '${Ec2Error.quote(id)}' does not exist`)
    }
    const keep = yield* Filter.compile<Shapes.Vpc>(
      {
        "vpc-id": (v) => v.VpcId,
        "is-default": (v) => bool(v.IsDefault),
        isDefault: (v) => bool(v.IsDefault),
        "owner-id": (v) => v.OwnerId,
        state: (v) => v.State,
        cidr: (v) => v.CidrBlock,
        "cidr-block-association.cidr-block": (v) => v.CidrBlock,
        "cidr-block-association.state": () => "associated",
        "dhcp-options-id": (v) => v.DhcpOptionsId
      },
      input.Filters
    )
    return { Vpcs: keep(vpc) ? [vpc] : [] }
  })

export const DescribeSubnets: H.Handler<"DescribeSubnets"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    const s = yield* H.state
    const all = Vpc.subnets(s, rc.account.id)
    for (const id of input.SubnetIds ?? []) {
      if (!all.some((x) => x.SubnetId === id)) return yield* Ec2Error.make("InvalidSubnetID.NotFound", `The subnet ID '${Ec2Error.quote(id)}' does not exist`)
    }
    const keep = yield* Filter.compile<Shapes.Subnet>(
      {
        "subnet-id": (x) => x.SubnetId,
        subnetId: (x) => x.SubnetId,
        "vpc-id": (x) => x.VpcId,
        vpcId: (x) => x.VpcId,
        "availability-zone": (x) => x.AvailabilityZone,
        availabilityZone: (x) => x.AvailabilityZone,
        "availability-zone-id": (x) => x.AvailabilityZoneId,
        "default-for-az": (x) => bool(x.DefaultForAz),
        defaultForAz: (x) => bool(x.DefaultForAz),
        "cidr-block": (x) => x.CidrBlock,
        cidr: (x) => x.CidrBlock,
        cidrBlock: (x) => x.CidrBlock,
        "available-ip-address-count": (x) => String(x.AvailableIpAddressCount),
        "map-public-ip-on-launch": (x) => bool(x.MapPublicIpOnLaunch),
        "owner-id": (x) => x.OwnerId,
        state: (x) => x.State,
        "subnet-arn": (x) => x.SubnetArn
      },
      input.Filters
    )
    const ids = input.SubnetIds ?? []
    return { Subnets: all.filter((x) => (ids.length === 0 || ids.includes(x.SubnetId!)) && keep(x)) }
  })

const ACCOUNT_ATTRIBUTES = ["supported-platforms", "default-vpc", "max-instances", "vpc-max-security-groups-per-interface"] as const

export const DescribeAccountAttributes: H.Handler<"DescribeAccountAttributes"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    const s = yield* H.state
    const values: Record<(typeof ACCOUNT_ATTRIBUTES)[number], ReadonlyArray<string>> = {
      "supported-platforms": ["VPC"],
      "default-vpc": [Vpc.vpcId(rc.account.id)],
      "max-instances": [String(s.nodes.reduce((n, node) => n + node.capacity.cores, 0))],
      "vpc-max-security-groups-per-interface": ["5"]
    }
    const asked = input.AttributeNames ?? []
    for (const a of asked) {
      if (!(ACCOUNT_ATTRIBUTES as ReadonlyArray<string>).includes(a)) {
        return yield* Ec2Error.make("InvalidParameterValue", `Value (${Ec2Error.quote(a)}) for parameter attributeName is invalid: use ${ACCOUNT_ATTRIBUTES.join(", ")}`)
      }
    }
    const names = asked.length === 0 ? ACCOUNT_ATTRIBUTES : (asked as ReadonlyArray<(typeof ACCOUNT_ATTRIBUTES)[number]>)
    return { AccountAttributes: names.map((n) => ({ AttributeName: n, AttributeValues: values[n].map((v) => ({ AttributeValue: v })) })) }
  })

/** The instance's primary interface in DescribeNetworkInterfaces' shape (the instance view's, plus its zone and attachment owner). */
const eni = (s: State.State, i: State.Instance, region: string, tags: ReadonlyArray<Tags.Tag> | undefined): Shapes.NetworkInterface => {
  const v = Views.networkInterface(s, i, region)
  return {
    NetworkInterfaceId: Vpc.interfaceId(i.id),
    AvailabilityZone: i.zone,
    Description: "Primary network interface",
    Groups: Views.groupIdentifiers(s, i.groups),
    InterfaceType: "interface",
    MacAddress: i.net.mac,
    OwnerId: i.account,
    RequesterManaged: false,
    SourceDestCheck: true,
    Status: "in-use",
    SubnetId: Vpc.subnetId(i.account, i.zone),
    VpcId: Vpc.vpcId(i.account),
    Ipv6Addresses: [],
    ...(v.PrivateIpAddress !== undefined ? { PrivateIpAddress: v.PrivateIpAddress, PrivateDnsName: v.PrivateDnsName } : {}),
    ...(v.PrivateIpAddresses !== undefined ? { PrivateIpAddresses: v.PrivateIpAddresses } : {}),
    ...(v.Association !== undefined ? { Association: v.Association } : {}),
    Attachment: { AttachmentId: Vpc.attachmentId(i.id), DeviceIndex: 0, NetworkCardIndex: 0, Status: "attached", AttachTime: i.launchedAt, DeleteOnTermination: true, InstanceId: i.id, InstanceOwnerId: i.account },
    ...(Views.tagList(tags) ? { TagSet: Views.tagList(tags)! } : {})
  }
}

export const DescribeNetworkInterfaces: H.Handler<"DescribeNetworkInterfaces"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    const s = yield* H.state
    const tags = yield* H.db(Tags.byResource(rc.account.id))
    const live = State.instances(s).filter((i) => i.account === rc.account.id && (i.state === "pending" || i.state === "running"))
    const all = live.map((i) => eni(s, i, rc.region, tags.get(Vpc.interfaceId(i.id))))
    const ids = input.NetworkInterfaceIds ?? []
    for (const id of ids) {
      if (!all.some((n) => n.NetworkInterfaceId === id)) return yield* Ec2Error.make("InvalidNetworkInterfaceID.NotFound", `The networkInterface ID '${Ec2Error.quote(id)}' does not exist`)
    }
    const keep = yield* Filter.compile<Shapes.NetworkInterface>(
      {
        "network-interface-id": (n) => n.NetworkInterfaceId,
        "attachment.instance-id": (n) => n.Attachment?.InstanceId,
        "attachment.device-index": (n) => String(n.Attachment?.DeviceIndex ?? ""),
        "attachment.status": (n) => n.Attachment?.Status,
        "attachment.attachment-id": (n) => n.Attachment?.AttachmentId,
        "availability-zone": (n) => n.AvailabilityZone,
        "group-id": (n) => (n.Groups ?? []).map((g) => g.GroupId ?? ""),
        "group-name": (n) => (n.Groups ?? []).map((g) => g.GroupName ?? ""),
        "mac-address": (n) => n.MacAddress,
        "owner-id": (n) => n.OwnerId,
        "private-ip-address": (n) => n.PrivateIpAddress,
        "addresses.private-ip-address": (n) => n.PrivateIpAddress,
        "association.public-ip": (n) => n.Association?.PublicIp,
        status: (n) => n.Status,
        "subnet-id": (n) => n.SubnetId,
        "vpc-id": (n) => n.VpcId,
        "interface-type": (n) => n.InterfaceType
      },
      input.Filters,
      { tags: (n) => tags.get(n.NetworkInterfaceId!) ?? [] }
    )
    return { NetworkInterfaces: all.filter((n) => (ids.length === 0 || ids.includes(n.NetworkInterfaceId!)) && keep(n)) }
  })

export const CreateVpc: H.Handler<"CreateVpc"> = (input) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    return yield* Ec2Error.make("UnsupportedOperation", "This cloud has one VPC per account, the default VPC over the cloud's network; further VPCs cannot be created.")
  })

const account = (rc: H.RequestContext) => rc.account.id as Ids.AccountId

export const AuthorizeSecurityGroupEgress: H.Handler<"AuthorizeSecurityGroupEgress"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.checkGroupIds([input.GroupId])
    const rules = yield* SecurityGroups.rulesOf(input)
    yield* H.dryRun(input)
    yield* H.submit({ _tag: "AuthorizeEgress", account: account(rc), groupId: input.GroupId, rules })
    return { Return: true }
  })

export const RevokeSecurityGroupEgress: H.Handler<"RevokeSecurityGroupEgress"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.checkGroupIds([input.GroupId])
    if ((input.SecurityGroupRuleIds ?? []).length > 0) {
      return yield* Ec2Error.make("UnsupportedOperation", "Security group rule ids are not supported: name the rules by IpPermissions")
    }
    const rules = yield* SecurityGroups.rulesOf(input)
    yield* H.dryRun(input)
    yield* H.submit({ _tag: "RevokeEgress", account: account(rc), groupId: input.GroupId, rules })
    return { Return: true }
  })
