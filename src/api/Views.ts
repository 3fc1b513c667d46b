/** The core's records as EC2 shapes: instances, groups and addresses, as Describe* shows them. */
import * as Ebs from "../model/Ebs.js"
import * as Lifecycle from "../model/Lifecycle.js"
import * as Network from "../model/Network.js"
import type * as SecurityGroup from "../model/SecurityGroup.js"
import * as State from "../model/State.js"
import type * as Tags from "../store/Tags.js"
import type * as Shapes from "./protocol/Ec2Shapes.js"
import * as Vpc from "./Vpc.js"

export const tagList = (tags: ReadonlyArray<Tags.Tag> | undefined): ReadonlyArray<Shapes.Tag> | undefined =>
  tags === undefined || tags.length === 0 ? undefined : tags.map((t) => ({ Key: t.key, Value: t.value }))

const dns = (ip: string | undefined, region: string, kind: "private" | "public") =>
  ip === undefined ? "" : kind === "private" ? `ip-${ip.replaceAll(".", "-")}.${region}.compute.internal` : `euca-${ip.replaceAll(".", "-")}.${region}.eucalyptus.cloud`

export const instanceState = (s: Lifecycle.InstanceState): Shapes.InstanceState => ({ Code: Lifecycle.code[s], Name: s })

export const groupIdentifiers = (s: State.State, ids: ReadonlyArray<string>): Array<Shapes.GroupIdentifier> =>
  ids.map((id) => ({ GroupId: id, GroupName: State.group(s, id)?.name ?? id }))

// Describe* answers the same instances again and again: a view is kept while the instance record,
// its tags (the tag cache hands out the same array until they change) and the groups (for names)
// are the very same objects.
const views = new WeakMap<State.Instance, { readonly tags: unknown; readonly groups: unknown; readonly volumes: unknown; readonly region: string; readonly view: Shapes.Instance }>()

/** An instance as EC2 shows it (shared: do not change what it returns). */
export const instance = (s: State.State, i: State.Instance, region: string, tags: ReadonlyArray<Tags.Tag> | undefined): Shapes.Instance => {
  const hit = views.get(i)
  if (hit !== undefined && hit.tags === tags && hit.groups === s.groups && hit.volumes === s.storage.volumes && hit.region === region) return hit.view
  const view = instanceView(s, i, region, tags)
  views.set(i, { tags, groups: s.groups, volumes: s.storage.volumes, region, view })
  return view
}

const instanceView = (s: State.State, i: State.Instance, region: string, tags: ReadonlyArray<Tags.Tag> | undefined): Shapes.Instance => {
  const live = i.state === "pending" || i.state === "running"
  // A stopped or stopping (EBS) instance keeps its private address, as on EC2.
  const keepsPrivate = live || i.state === "stopping" || i.state === "stopped"
  const transition = i.state === "terminated" || i.state === "shutting-down" || i.state === "stopping" || i.state === "stopped" ? `${i.stateReason?.message ?? i.state}` : ""
  return {
    InstanceId: i.id,
    ImageId: i.imageId,
    State: instanceState(i.state),
    PrivateDnsName: keepsPrivate ? dns(i.net.privateIp, region, "private") : "",
    PublicDnsName: live ? dns(i.net.publicIp, region, "public") : "",
    StateTransitionReason: transition,
    ...(i.keyName !== undefined ? { KeyName: i.keyName } : {}),
    AmiLaunchIndex: i.launchIndex,
    InstanceType: i.vmType,
    LaunchTime: i.launchedAt,
    Placement: { AvailabilityZone: i.zone, GroupName: "", Tenancy: "default" },
    ...(i.kernelId !== undefined ? { KernelId: i.kernelId } : {}),
    ...(i.ramdiskId !== undefined ? { RamdiskId: i.ramdiskId } : {}),
    Monitoring: { State: "disabled" },
    ...(keepsPrivate && i.net.privateIp !== undefined ? { PrivateIpAddress: i.net.privateIp } : {}),
    ...(live && i.net.publicIp !== undefined ? { PublicIpAddress: i.net.publicIp } : {}),
    ...(i.stateReason !== undefined && i.state !== "running" && i.state !== "pending" ? { StateReason: { Code: i.stateReason.code, Message: i.stateReason.message } } : {}),
    Architecture: "x86_64",
    RootDeviceType: i.ebsRoot !== undefined ? "ebs" : "instance-store",
    RootDeviceName: i.ebsRoot ?? "/dev/sda1",
    BlockDeviceMappings: instanceBlockDevices(s, i),
    VirtualizationType: "paravirtual",
    Hypervisor: "xen",
    ...(i.clientToken !== undefined ? { ClientToken: i.clientToken } : {}),
    // What Terraform's aws_instance reads on every refresh (no EBS, no enclaves or hibernation here).
    EbsOptimized: false,
    EnaSupport: false,
    CpuOptions: { CoreCount: i.size.cores, ThreadsPerCore: 1 },
    EnclaveOptions: { Enabled: false },
    HibernationOptions: { Configured: false },
    MetadataOptions: { State: "applied", HttpTokens: "optional", HttpPutResponseHopLimit: 1, HttpEndpoint: "enabled", HttpProtocolIpv6: "disabled", InstanceMetadataTags: "disabled" },
    SecurityGroups: groupIdentifiers(s, i.groups),
    SourceDestCheck: true,
    // In the account's default VPC, in its zone's default subnet; the one NIC is its primary interface.
    VpcId: Vpc.vpcId(i.account),
    SubnetId: Vpc.subnetId(i.account, i.zone),
    ...(live ? { NetworkInterfaces: [networkInterface(s, i, region)] } : {}),
    ...(tagList(tags) ? { Tags: tagList(tags)! } : {})
  }
}

export const reservation = (
  s: State.State,
  instances: ReadonlyArray<State.Instance>,
  region: string,
  tags: ReadonlyMap<string, ReadonlyArray<Tags.Tag>>
): Shapes.Reservation => ({
  ReservationId: instances[0]!.reservationId,
  OwnerId: instances[0]!.account,
  Groups: groupIdentifiers(s, instances[0]!.groups),
  Instances: instances.map((i) => instance(s, i, region, tags.get(i.id)))
})

export const networkInterface = (s: State.State, i: State.Instance, region: string): Shapes.InstanceNetworkInterface => {
  const association = i.net.publicIp !== undefined ? { PublicIp: i.net.publicIp, PublicDnsName: dns(i.net.publicIp, region, "public"), IpOwnerId: "eucalyptus" } : undefined
  return {
    NetworkInterfaceId: Vpc.interfaceId(i.id),
    MacAddress: i.net.mac,
    OwnerId: i.account,
    Status: "in-use",
    SourceDestCheck: true,
    Groups: groupIdentifiers(s, i.groups),
    Attachment: { AttachmentId: Vpc.attachmentId(i.id), DeviceIndex: 0, NetworkCardIndex: 0, Status: "attached", AttachTime: i.launchedAt, DeleteOnTermination: true },
    Description: "Primary network interface",
    InterfaceType: "interface",
    VpcId: Vpc.vpcId(i.account),
    SubnetId: Vpc.subnetId(i.account, i.zone),
    Ipv6Addresses: [],
    ...(i.net.privateIp !== undefined
      ? {
          PrivateIpAddress: i.net.privateIp,
          PrivateDnsName: dns(i.net.privateIp, region, "private"),
          PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: i.net.privateIp, PrivateDnsName: dns(i.net.privateIp, region, "private"), ...(association ? { Association: association } : {}) }]
        }
      : {}),
    ...(association ? { Association: association } : {})
  }
}

/** Instances grouped by reservation, in launch order. */
export const reservations = (
  s: State.State,
  instances: ReadonlyArray<State.Instance>,
  region: string,
  tags: ReadonlyMap<string, ReadonlyArray<Tags.Tag>>
): Array<Shapes.Reservation> => {
  const groups = new Map<string, Array<State.Instance>>()
  for (const i of instances) {
    const list = groups.get(i.reservationId) ?? []
    list.push(i)
    groups.set(i.reservationId, list)
  }
  return [...groups.values()].map((list) => reservation(s, list, region, tags))
}

const protocolName = (p: SecurityGroup.Protocol): string => (p === "all" ? "-1" : p)

/** EC2 groups a group's rules into IpPermissions by (protocol, ports), with the sources listed inside. */
export const permissions = (s: State.State, rules: ReadonlyArray<SecurityGroup.Rule>): Array<Shapes.IpPermission> => {
  const byKey = new Map<string, { p: SecurityGroup.Rule; cidrs: Array<string>; groups: Array<string> }>()
  for (const r of rules) {
    const k = `${r.protocol}:${r.fromPort}:${r.toPort}`
    const e = byKey.get(k) ?? { p: r, cidrs: [], groups: [] }
    if (r.source._tag === "Cidr") e.cidrs.push(r.source.cidr)
    else e.groups.push(r.source.groupId)
    byKey.set(k, e)
  }
  return [...byKey.values()].map(({ p, cidrs, groups }) => ({
    IpProtocol: protocolName(p.protocol),
    ...(p.protocol === "all" ? {} : { FromPort: p.fromPort, ToPort: p.toPort }),
    IpRanges: cidrs.map((c) => ({ CidrIp: c })),
    UserIdGroupPairs: groups.map((g) => {
      const grp = State.group(s, g)
      return { GroupId: g, ...(grp ? { GroupName: grp.name, UserId: grp.account } : {}) }
    }),
    Ipv6Ranges: [],
    PrefixListIds: []
  }))
}

export const securityGroup = (s: State.State, g: SecurityGroup.Group, tags: ReadonlyArray<Tags.Tag> | undefined): Shapes.SecurityGroup => ({
  GroupId: g.id,
  GroupName: g.name,
  Description: g.description,
  OwnerId: g.account,
  IpPermissions: permissions(s, g.rules),
  IpPermissionsEgress: permissions(s, g.egress),
  VpcId: Vpc.vpcId(g.account),
  ...(tagList(tags) ? { Tags: tagList(tags)! } : {})
})

export const address = (s: State.State, a: State.Address, tags: ReadonlyArray<Tags.Tag> | undefined): Shapes.Address => {
  const inst = a.instance !== undefined ? State.instance(s, a.instance) : undefined
  return {
    PublicIp: a.ip,
    ...(a.allocationId !== undefined ? { AllocationId: a.allocationId } : {}),
    Domain: "standard",
    ...(a.instance !== undefined ? { InstanceId: a.instance } : {}),
    ...(a.associationId !== undefined ? { AssociationId: a.associationId } : {}),
    ...(inst?.net.privateIp !== undefined ? { PrivateIpAddress: inst.net.privateIp } : {}),
    PublicIpv4Pool: "eucalyptus",
    NetworkBorderGroup: "",
    ...(tagList(tags) ? { Tags: tagList(tags)! } : {})
  }
}

/** The volumes attached to an instance, by device name (DescribeInstances' blockDeviceMapping). */
export const instanceBlockDevices = (s: State.State, i: State.Instance): Array<Shapes.InstanceBlockDeviceMapping> =>
  s.storage.seq.volume === 0
    ? []
    : Ebs.attachedTo(s.storage, i.id).map((v) => ({
        DeviceName: v.attachment!.device,
        Ebs: { VolumeId: v.id, Status: v.attachment!.state, AttachTime: v.attachment!.since, DeleteOnTermination: v.attachment!.deleteOnTermination }
      }))

export const attachment = (v: Ebs.Volume): Shapes.VolumeAttachment => ({
  VolumeId: v.id,
  ...(v.attachment
    ? { InstanceId: v.attachment.instance, Device: v.attachment.device, State: v.attachment.state, AttachTime: v.attachment.since, DeleteOnTermination: v.attachment.deleteOnTermination }
    : {})
})

export const volume = (v: Ebs.Volume, tags: ReadonlyArray<Tags.Tag> | undefined, volumeType = "standard"): Shapes.Volume => ({
  VolumeId: v.id,
  Size: v.sizeGiB,
  SnapshotId: v.snapshotId ?? "",
  AvailabilityZone: v.zone,
  State: v.state,
  CreateTime: v.createdAt,
  Attachments: v.attachment ? [attachment(v)] : [],
  VolumeType: volumeType,
  Encrypted: false,
  MultiAttachEnabled: false,
  ...(tagList(tags) ? { Tags: tagList(tags)! } : {})
})

export const snapshot = (x: Ebs.Snapshot, tags: ReadonlyArray<Tags.Tag> | undefined): Shapes.Snapshot => ({
  SnapshotId: x.id,
  VolumeId: x.volumeId,
  State: x.state,
  ...(x.reason !== undefined ? { StateMessage: x.reason } : {}),
  StartTime: x.startedAt,
  Progress: `${x.progress}%`,
  OwnerId: x.account,
  Description: x.description,
  VolumeSize: x.volumeSizeGiB,
  Encrypted: false,
  StorageTier: "standard",
  ...(tagList(tags) ? { Tags: tagList(tags)! } : {})
})

export { Network }
