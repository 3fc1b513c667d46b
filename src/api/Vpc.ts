/**
 * The default VPC every account has, mapped onto the cloud's own network as Eucalyptus 4's VPC
 * mode presented it: one VPC whose CIDR is the cloud's private network, and one default subnet per
 * availability zone. What a subnet is in each networking mode is in docs/network.md: the address an
 * instance gets still comes from the mode (its security group's network in MANAGED, the MAC map in
 * STATIC, the site's DHCP in SYSTEM); the subnet names its zone.
 *
 * Ids are derived from the account (and zone), so they are stable across restarts and never stored:
 * `vpc-` and `subnet-` with 8 hex digits of SHA-256, as Eucalyptus's 8-digit ids.
 */
import { createHash } from "node:crypto"
import * as Ipv4 from "../model/Ipv4.js"
import type * as State from "../model/State.js"
import type * as Shapes from "./protocol/Ec2Shapes.js"

const hex8 = (text: string): string => createHash("sha256").update(text).digest("hex").slice(0, 8)

export const vpcId = (account: string): string => `vpc-${hex8(`vpc:${account}`)}`
export const subnetId = (account: string, zone: string): string => `subnet-${hex8(`subnet:${account}:${zone}`)}`
export const dhcpOptionsId = (account: string): string => `dopt-${hex8(`dopt:${account}`)}`

export const cidr = (s: State.State): string => Ipv4.formatCidr(s.network.subnet)

/** The zone of one of the account's default subnets, if `id` is one. */
export const zoneOfSubnet = (s: State.State, account: string, id: string): string | undefined => s.zones.find((z) => subnetId(account, z.name) === id)?.name

export const vpc = (s: State.State, account: string): Shapes.Vpc => ({
  VpcId: vpcId(account),
  OwnerId: account,
  State: "available",
  CidrBlock: cidr(s),
  CidrBlockAssociationSet: [{ AssociationId: `vpc-cidr-assoc-${hex8(`cidr:${account}`)}`, CidrBlock: cidr(s), CidrBlockState: { State: "associated" } }],
  DhcpOptionsId: dhcpOptionsId(account),
  InstanceTenancy: "default",
  IsDefault: true,
  Ipv6CidrBlockAssociationSet: []
})

/**
 * Free private addresses in the cloud's network: its size less network, broadcast and the three
 * addresses EC2 reserves in a subnet, less the addresses instances hold. Every zone's subnet draws
 * on the same network, so every subnet shows the same count.
 */
export const availableAddresses = (s: State.State): number => Math.max(0, Ipv4.size(s.network.subnet) - 5 - s.privateIps.length)

export const subnet = (s: State.State, account: string, zone: string): Shapes.Subnet => ({
  SubnetId: subnetId(account, zone),
  SubnetArn: `arn:aws:ec2:${zone.replace(/[a-z]$/, "")}:${account}:subnet/${subnetId(account, zone)}`,
  OwnerId: account,
  State: "available",
  VpcId: vpcId(account),
  CidrBlock: cidr(s),
  AvailableIpAddressCount: availableAddresses(s),
  AvailabilityZone: zone,
  AvailabilityZoneId: zone,
  DefaultForAz: true,
  MapPublicIpOnLaunch: true,
  AssignIpv6AddressOnCreation: false,
  Ipv6CidrBlockAssociationSet: [],
  MapCustomerOwnedIpOnLaunch: false,
  EnableDns64: false,
  Ipv6Native: false
})

export const subnets = (s: State.State, account: string): Array<Shapes.Subnet> => s.zones.map((z) => subnet(s, account, z.name))

/** The instance's one interface, as `eni-` + the instance's digits (it lives and dies with the instance). */
export const interfaceId = (instanceId: string): string => `eni-${instanceId.slice(2)}`
export const attachmentId = (instanceId: string): string => `eni-attach-${instanceId.slice(2)}`

/** The default egress rule of every group: all traffic to anywhere. */
export const allowAllEgress: Shapes.IpPermission = { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], UserIdGroupPairs: [], Ipv6Ranges: [], PrefixListIds: [] }
