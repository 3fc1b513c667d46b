import * as EC2 from "@aws-sdk/client-ec2"
import { describe, expect, it } from "@effect/vitest"
import * as Ec2Error from "../../../src/api/protocol/Ec2Error.js"
import type * as Shapes from "../../../src/api/protocol/Ec2Shapes.js"
import * as Xml from "../../../src/api/protocol/Xml.js"
import { answer } from "./sdk.js"
import { parse as parseXml } from "./xmlCheck.js"

const launch = Date.UTC(2026, 10, 26, 10, 0, 0, 123)

const instance: Shapes.Instance = {
  InstanceId: "i-0000000a",
  ImageId: "emi-00000001",
  State: { Code: 16, Name: "running" },
  PrivateDnsName: "euca-10-1-0-2.eucalyptus.internal",
  PublicDnsName: "",
  KeyName: "my key & <co>",
  AmiLaunchIndex: 0,
  InstanceType: "m1.small",
  LaunchTime: launch,
  Placement: { AvailabilityZone: "zone-1", Tenancy: "default" },
  KernelId: "eki-00000001",
  Monitoring: { State: "disabled" },
  PrivateIpAddress: "10.1.0.2",
  PublicIpAddress: "192.0.2.10",
  Architecture: "x86_64",
  RootDeviceType: "instance-store",
  SecurityGroups: [
    { GroupId: "sg-00000001", GroupName: "default" },
    { GroupId: "sg-00000002", GroupName: "web" }
  ],
  Tags: [
    { Key: "Name", Value: "web-1" },
    { Key: "empty", Value: "" }
  ],
  ProductCodes: [],
  BlockDeviceMappings: [],
  StateReason: { Code: "pending", Message: "pending" }
}

describe("response", () => {
  it("writes EC2's envelope: declaration, Operation + Response root, namespace, requestId", () => {
    const xml = Xml.response("DeleteSecurityGroup", { Return: true, GroupId: "sg-00000002" }, "req-1")
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteSecurityGroupResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId><return>true</return><groupId>sg-00000002</groupId></DeleteSecurityGroupResponse>'
    )
  })

  it("answers <return>true</return> for operations the model gives no output, and echoes the request's version", () => {
    expect(Xml.response("CreateTags", {}, "r", { version: "2009-11-30" })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<CreateTagsResponse xmlns="http://ec2.amazonaws.com/doc/2009-11-30/"><requestId>r</requestId><return>true</return></CreateTagsResponse>'
    )
  })

  it("names elements by locationName, wraps list entries in <item>, writes empty lists as empty elements", () => {
    const xml = Xml.response("DescribeInstances", { Reservations: [{ ReservationId: "r-1", OwnerId: "000000000001", Groups: [], Instances: [instance] }] }, "req")
    const root = parseXml(xml)
    expect(root.name).toBe("DescribeInstancesResponse")
    const reservation = root.child("reservationSet").children("item")[0]!
    expect(reservation.child("groupSet").elements).toEqual([])
    const i = reservation.child("instancesSet").child("item")
    expect(i.child("instanceState").child("name").text).toBe("running")
    expect(i.child("launchTime").text).toBe("2026-11-26T10:00:00.123Z")
    expect(i.child("keyName").text).toBe("my key & <co>")
    expect(i.child("ipAddress").text).toBe("192.0.2.10") // PublicIpAddress's locationName
    expect(i.child("groupSet").children("item").map((g) => g.child("groupName").text)).toEqual(["default", "web"])
    expect(i.child("tagSet").children("item").map((t) => [t.child("key").text, t.child("value").text])).toEqual([
      ["Name", "web-1"],
      ["empty", ""]
    ])
    expect(xml).toContain("<productCodes/>")
  })

  it("escapes markup and CR, and replaces what XML 1.0 cannot carry", () => {
    expect(Xml.escape("a<b>&c\r\nd\te")).toBe("a&lt;b&gt;&amp;c&#xD;\nd\te")
    expect(Xml.escape("nul\u0000 bell\u0007 ff\u000c \ufffe\uffff")).toBe("nul\ufffd bell\ufffd ff\ufffd \ufffd\ufffd")
    expect(Xml.escape("pair 🌍 lone \ud800 x \udc00")).toBe("pair 🌍 lone \ufffd x \ufffd")
    expect(Xml.escape("plain")).toBe("plain")
  })

  it("treats a value of the wrong type as a handler bug (throws), not a client error", () => {
    expect(() => Xml.response("DescribeInstances", { Reservations: [{ Instances: [{ LaunchTime: "yesterday" as never }] }] }, "r")).toThrow(
      /Reservations\[0\]\.Instances\[0\]\.LaunchTime must be epoch milliseconds/
    )
    expect(() => Xml.response("DescribeRegions", { Regions: [{ RegionName: "x", Typo: 1 } as never] }, "r")).toThrow(/Typo is not a member of Region/)
    expect(() => Xml.response("AllocateAddress", { PublicIp: 3 as never }, "r")).toThrow(/must be a string/)
  })
})

describe("errors", () => {
  it("writes EC2's error document", () => {
    expect(Xml.errorBody("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist", "r-9")).toBe(
      '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code><Message>The instance ID \'i-1\' does not exist</Message></Error></Errors><RequestID>r-9</RequestID></Response>'
    )
  })

  it("reaches SDK callers as the named exception with EC2's status", async () => {
    for (const e of [
      Ec2Error.dryRunOperation(),
      Ec2Error.make("InvalidInstanceID.NotFound", "The instance ID 'i-1' does not exist"),
      Ec2Error.authFailure(),
      Ec2Error.make("InvalidParameterValue", "bad <value> & more")
    ]) {
      const { status, body } = Xml.error(e, "req-42")
      const { error } = await answer(new EC2.DescribeInstancesCommand({}), status, Xml.headers("req-42"), body)
      expect(error?.name).toBe(e.code)
      expect(error?.message).toBe(e.message)
      expect(error?.$metadata?.httpStatusCode).toBe(e.status)
      expect(error?.$metadata?.requestId).toBe("req-42")
    }
  })
})

// Each output, serialized by us and parsed by @aws-sdk/client-ec2, comes back as what we wrote
// (timestamps as Dates): the element names and wrappers are the ones the SDK expects from EC2.
describe("the SDK reads our responses as it reads EC2's", () => {
  const withDates = (v: unknown, dateKeys: ReadonlySet<string>): unknown => {
    if (Array.isArray(v)) return v.map((x) => withDates(x, dateKeys))
    if (v instanceof Uint8Array) return v
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, dateKeys.has(k) && typeof x === "number" ? new Date(x) : withDates(x, dateKeys)]))
    }
    return v
  }
  const dates = new Set(["LaunchTime", "Timestamp", "CreateTime", "AttachTime", "NotBefore", "NotAfter", "CreationDate", "StartTime"])

  const cases: ReadonlyArray<{ readonly op: Shapes.OperationName; readonly command: unknown; readonly output: unknown }> = [
    { op: "DescribeRegions", command: new EC2.DescribeRegionsCommand({}), output: { Regions: [{ RegionName: "eucalyptus", Endpoint: "127.0.0.1:8773", OptInStatus: "opt-in-not-required" }] } },
    {
      op: "DescribeAvailabilityZones",
      command: new EC2.DescribeAvailabilityZonesCommand({}),
      output: {
        AvailabilityZones: [
          { ZoneName: "zone-1", State: "available", RegionName: "eucalyptus", Messages: [] },
          { ZoneName: "|- m1.small", State: "0012 / 0024   1    128     2", RegionName: "eucalyptus", Messages: [{ Message: "free / max" }] }
        ]
      }
    },
    {
      op: "DescribeImages",
      command: new EC2.DescribeImagesCommand({}),
      output: {
        Images: [
          {
            ImageId: "emi-00000001",
            ImageLocation: "images/ubuntu.manifest.xml",
            State: "available",
            OwnerId: "000000000001",
            Public: true,
            Architecture: "x86_64",
            ImageType: "machine",
            KernelId: "eki-00000001",
            Name: "ubuntu",
            RootDeviceType: "instance-store",
            Hypervisor: "xen",
            VirtualizationType: "paravirtual",
            BlockDeviceMappings: [],
            Tags: [{ Key: "os", Value: "linux" }]
          }
        ]
      }
    },
    { op: "RegisterImage", command: new EC2.RegisterImageCommand({ Name: "x" }), output: { ImageId: "emi-00000002" } },
    { op: "DeregisterImage", command: new EC2.DeregisterImageCommand({ ImageId: "emi-1" }), output: { Return: true } },
    {
      op: "DescribeImageAttribute",
      command: new EC2.DescribeImageAttributeCommand({ ImageId: "emi-1", Attribute: "launchPermission" }),
      output: { ImageId: "emi-00000001", LaunchPermissions: [{ Group: "all" }, { UserId: "000000000002" }], KernelId: { Value: "eki-00000001" } }
    },
    {
      op: "CreateKeyPair",
      command: new EC2.CreateKeyPairCommand({ KeyName: "k" }),
      output: { KeyName: "k", KeyFingerprint: "1f:51:ae:28:bf:89:e9:d8:1f:25:5d:37:2d:7d:b8:ca:9f:f5:f1:6f", KeyMaterial: "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----", KeyPairId: "key-00000001" }
    },
    { op: "ImportKeyPair", command: new EC2.ImportKeyPairCommand({ KeyName: "k", PublicKeyMaterial: new Uint8Array([1]) }), output: { KeyName: "k", KeyFingerprint: "ab:cd", KeyPairId: "key-00000002" } },
    {
      op: "DescribeKeyPairs",
      command: new EC2.DescribeKeyPairsCommand({}),
      output: { KeyPairs: [{ KeyName: "k", KeyFingerprint: "ab:cd", KeyPairId: "key-1", KeyType: "rsa", CreateTime: launch, Tags: [] }] }
    },
    { op: "DeleteKeyPair", command: new EC2.DeleteKeyPairCommand({ KeyName: "k" }), output: { Return: true, KeyPairId: "key-1" } },
    { op: "CreateSecurityGroup", command: new EC2.CreateSecurityGroupCommand({ GroupName: "g", Description: "d" }), output: { GroupId: "sg-00000003", Tags: [] } },
    { op: "DeleteSecurityGroup", command: new EC2.DeleteSecurityGroupCommand({ GroupName: "g" }), output: { Return: true, GroupId: "sg-00000003" } },
    {
      op: "DescribeSecurityGroups",
      command: new EC2.DescribeSecurityGroupsCommand({}),
      output: {
        SecurityGroups: [
          {
            OwnerId: "000000000001",
            GroupName: "web",
            GroupId: "sg-00000002",
            Description: "web servers",
            IpPermissions: [
              { IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }], UserIdGroupPairs: [], Ipv6Ranges: [], PrefixListIds: [] },
              { IpProtocol: "-1", IpRanges: [], UserIdGroupPairs: [{ UserId: "000000000001", GroupId: "sg-00000001", GroupName: "default" }] }
            ],
            IpPermissionsEgress: [],
            Tags: []
          }
        ]
      }
    },
    { op: "AuthorizeSecurityGroupIngress", command: new EC2.AuthorizeSecurityGroupIngressCommand({ GroupName: "g" }), output: { Return: true, SecurityGroupRules: [] } },
    { op: "RevokeSecurityGroupIngress", command: new EC2.RevokeSecurityGroupIngressCommand({ GroupName: "g" }), output: { Return: true } },
    {
      op: "RunInstances",
      command: new EC2.RunInstancesCommand({ ImageId: "emi-1", MinCount: 1, MaxCount: 1 }),
      output: { ReservationId: "r-00000001", OwnerId: "000000000001", Groups: [{ GroupId: "sg-00000001", GroupName: "default" }], Instances: [instance] }
    },
    {
      op: "DescribeInstances",
      command: new EC2.DescribeInstancesCommand({}),
      output: { Reservations: [{ ReservationId: "r-00000001", OwnerId: "000000000001", Groups: [], Instances: [instance, { ...instance, InstanceId: "i-0000000b", Tags: [] }] }], NextToken: "next" }
    },
    {
      op: "DescribeInstanceStatus",
      command: new EC2.DescribeInstanceStatusCommand({}),
      output: {
        InstanceStatuses: [
          {
            InstanceId: "i-0000000a",
            AvailabilityZone: "zone-1",
            InstanceState: { Code: 16, Name: "running" },
            InstanceStatus: { Status: "ok", Details: [{ Name: "reachability", Status: "passed" }] },
            SystemStatus: { Status: "ok", Details: [{ Name: "reachability", Status: "passed" }] },
            Events: []
          }
        ]
      }
    },
    {
      op: "TerminateInstances",
      command: new EC2.TerminateInstancesCommand({ InstanceIds: ["i-1"] }),
      output: { TerminatingInstances: [{ InstanceId: "i-0000000a", CurrentState: { Code: 32, Name: "shutting-down" }, PreviousState: { Code: 16, Name: "running" } }] }
    },
    { op: "RebootInstances", command: new EC2.RebootInstancesCommand({ InstanceIds: ["i-1"] }), output: {} },
    {
      op: "GetConsoleOutput",
      command: new EC2.GetConsoleOutputCommand({ InstanceId: "i-1" }),
      output: { InstanceId: "i-0000000a", Timestamp: launch, Output: Buffer.from("Linux version 2.6.27\r\nboot ok\n").toString("base64") }
    },
    {
      op: "DescribeInstanceTypes",
      command: new EC2.DescribeInstanceTypesCommand({}),
      output: {
        InstanceTypes: [
          {
            InstanceType: "m1.small",
            CurrentGeneration: false,
            SupportedUsageClasses: ["on-demand"],
            SupportedRootDeviceTypes: ["instance-store"],
            SupportedVirtualizationTypes: ["paravirtual"],
            BareMetal: false,
            Hypervisor: "xen",
            ProcessorInfo: { SupportedArchitectures: ["i386", "x86_64"], SustainedClockSpeedInGhz: 2.5 },
            VCpuInfo: { DefaultVCpus: 1, DefaultCores: 1, DefaultThreadsPerCore: 1 },
            MemoryInfo: { SizeInMiB: 128 },
            InstanceStorageSupported: true,
            InstanceStorageInfo: { TotalSizeInGB: 2, Disks: [{ SizeInGB: 2, Count: 1, Type: "hdd" }] },
            NetworkInfo: { NetworkPerformance: "Low", MaximumNetworkInterfaces: 1, Ipv4AddressesPerInterface: 1, Ipv6Supported: false },
            PlacementGroupInfo: { SupportedStrategies: [] }
          }
        ]
      }
    },
    { op: "CreateTags", command: new EC2.CreateTagsCommand({ Resources: ["i-1"], Tags: [] }), output: {} },
    { op: "DeleteTags", command: new EC2.DeleteTagsCommand({ Resources: ["i-1"] }), output: {} },
    {
      op: "DescribeTags",
      command: new EC2.DescribeTagsCommand({}),
      output: { Tags: [{ ResourceId: "i-0000000a", ResourceType: "instance", Key: "Name", Value: "web-1" }] }
    },
    { op: "AllocateAddress", command: new EC2.AllocateAddressCommand({}), output: { PublicIp: "192.0.2.10", AllocationId: "eipalloc-00000001", Domain: "standard" } },
    { op: "AssociateAddress", command: new EC2.AssociateAddressCommand({}), output: { AssociationId: "eipassoc-00000001" } },
    { op: "DisassociateAddress", command: new EC2.DisassociateAddressCommand({}), output: {} },
    { op: "ReleaseAddress", command: new EC2.ReleaseAddressCommand({}), output: {} },
    {
      op: "DescribeAddresses",
      command: new EC2.DescribeAddressesCommand({}),
      output: { Addresses: [{ PublicIp: "192.0.2.10", AllocationId: "eipalloc-00000001", Domain: "standard", InstanceId: "i-0000000a", AssociationId: "eipassoc-00000001", Tags: [] }] }
    },
    { op: "CreateVolume", command: new EC2.CreateVolumeCommand({ AvailabilityZone: "zone-1", Size: 8 }), output: { VolumeId: "vol-00000001", Size: 8, SnapshotId: "", AvailabilityZone: "zone-1", State: "creating", CreateTime: launch, VolumeType: "standard", Encrypted: false, Tags: [] } },
    { op: "DescribeVolumes", command: new EC2.DescribeVolumesCommand({}), output: { Volumes: [{ VolumeId: "vol-00000001", Size: 8, SnapshotId: "", AvailabilityZone: "zone-1", State: "in-use", CreateTime: launch, Attachments: [{ VolumeId: "vol-00000001", InstanceId: "i-0000000a", Device: "/dev/sdf", State: "attached", AttachTime: launch, DeleteOnTermination: false }], Tags: [{ Key: "Name", Value: "data" }], VolumeType: "standard", Encrypted: false }], NextToken: "next" } },
    { op: "DeleteVolume", command: new EC2.DeleteVolumeCommand({ VolumeId: "vol-1" }), output: {} },
    { op: "AttachVolume", command: new EC2.AttachVolumeCommand({ VolumeId: "vol-1", InstanceId: "i-1", Device: "/dev/sdf" }), output: { VolumeId: "vol-00000001", InstanceId: "i-0000000a", Device: "/dev/sdf", State: "attaching", AttachTime: launch } },
    { op: "DetachVolume", command: new EC2.DetachVolumeCommand({ VolumeId: "vol-1" }), output: { ...{ VolumeId: "vol-00000001", InstanceId: "i-0000000a", Device: "/dev/sdf", State: "attaching", AttachTime: launch }, State: "detaching" } },
    {
      op: "DescribeVolumeStatus",
      command: new EC2.DescribeVolumeStatusCommand({}),
      output: { VolumeStatuses: [{ VolumeId: "vol-00000001", AvailabilityZone: "zone-1", VolumeStatus: { Status: "ok", Details: [{ Name: "io-enabled", Status: "passed" }] }, Events: [], Actions: [] }] }
    },
    { op: "CreateSnapshot", command: new EC2.CreateSnapshotCommand({ VolumeId: "vol-1" }), output: { ...{ SnapshotId: "snap-00000001", VolumeId: "vol-00000001", State: "completed", StartTime: launch, Progress: "100%", OwnerId: "000000000001", Description: "nightly", VolumeSize: 8, Encrypted: false, Tags: [] }, State: "pending", Progress: "0%" } },
    { op: "DescribeSnapshots", command: new EC2.DescribeSnapshotsCommand({}), output: { Snapshots: [{ SnapshotId: "snap-00000001", VolumeId: "vol-00000001", State: "completed", StartTime: launch, Progress: "100%", OwnerId: "000000000001", Description: "nightly", VolumeSize: 8, Encrypted: false, Tags: [] }] } },
    { op: "DeleteSnapshot", command: new EC2.DeleteSnapshotCommand({ SnapshotId: "snap-1" }), output: {} },
    {
      op: "DescribeSnapshotAttribute",
      command: new EC2.DescribeSnapshotAttributeCommand({ SnapshotId: "snap-1", Attribute: "createVolumePermission" }),
      output: { SnapshotId: "snap-00000001", CreateVolumePermissions: [{ UserId: "000000000002" }, { Group: "all" }] }
    },
    { op: "ModifySnapshotAttribute", command: new EC2.ModifySnapshotAttributeCommand({ SnapshotId: "snap-1" }), output: {} },
    {
      op: "StopInstances",
      command: new EC2.StopInstancesCommand({ InstanceIds: ["i-1"] }),
      output: { StoppingInstances: [{ InstanceId: "i-0000000a", CurrentState: { Code: 64, Name: "stopping" }, PreviousState: { Code: 16, Name: "running" } }] }
    },
    {
      op: "StartInstances",
      command: new EC2.StartInstancesCommand({ InstanceIds: ["i-1"] }),
      output: { StartingInstances: [{ InstanceId: "i-0000000a", CurrentState: { Code: 0, Name: "pending" }, PreviousState: { Code: 80, Name: "stopped" } }] }
    },
    {
      op: "DescribeVpcs",
      command: new EC2.DescribeVpcsCommand({}),
      output: { Vpcs: [{ VpcId: "vpc-1234abcd", OwnerId: "123456789012", State: "available", CidrBlock: "172.31.0.0/16", IsDefault: true, DhcpOptionsId: "dopt-1", InstanceTenancy: "default", CidrBlockAssociationSet: [{ AssociationId: "a", CidrBlock: "172.31.0.0/16", CidrBlockState: { State: "associated" } }], Ipv6CidrBlockAssociationSet: [] }] }
    },
    {
      op: "DescribeSubnets",
      command: new EC2.DescribeSubnetsCommand({}),
      output: { Subnets: [{ SubnetId: "subnet-1", VpcId: "vpc-1", State: "available", CidrBlock: "172.31.0.0/16", AvailableIpAddressCount: 65531, AvailabilityZone: "euca-1a", DefaultForAz: true, MapPublicIpOnLaunch: true, Ipv6CidrBlockAssociationSet: [] }] }
    },
    {
      op: "DescribeAccountAttributes",
      command: new EC2.DescribeAccountAttributesCommand({}),
      output: { AccountAttributes: [{ AttributeName: "supported-platforms", AttributeValues: [{ AttributeValue: "VPC" }] }] }
    },
    {
      op: "DescribeNetworkInterfaces",
      command: new EC2.DescribeNetworkInterfacesCommand({}),
      output: {
        NetworkInterfaces: [
          {
            NetworkInterfaceId: "eni-1",
            SubnetId: "subnet-1",
            VpcId: "vpc-1",
            AvailabilityZone: "euca-1a",
            Status: "in-use",
            Groups: [{ GroupId: "sg-1", GroupName: "default" }],
            Attachment: { AttachmentId: "eni-attach-1", DeviceIndex: 0, Status: "attached", InstanceId: "i-1", DeleteOnTermination: true },
            Ipv6Addresses: []
          }
        ]
      }
    },
    { op: "CreateVpc", command: new EC2.CreateVpcCommand({}), output: { Vpc: { VpcId: "vpc-1" } } },
    { op: "AuthorizeSecurityGroupEgress", command: new EC2.AuthorizeSecurityGroupEgressCommand({ GroupId: "sg-1" }), output: { Return: true } },
    { op: "RevokeSecurityGroupEgress", command: new EC2.RevokeSecurityGroupEgressCommand({ GroupId: "sg-1" }), output: { Return: true } },
    {
      op: "DescribeInstanceAttribute",
      command: new EC2.DescribeInstanceAttributeCommand({ InstanceId: "i-1", Attribute: "disableApiTermination" }),
      output: { InstanceId: "i-1", DisableApiTermination: { Value: true } }
    },
    { op: "ModifyInstanceAttribute", command: new EC2.ModifyInstanceAttributeCommand({ InstanceId: "i-1" }), output: {} },
    { op: "ResetInstanceAttribute", command: new EC2.ResetInstanceAttributeCommand({ InstanceId: "i-1", Attribute: "kernel" }), output: {} },
    { op: "ModifyImageAttribute", command: new EC2.ModifyImageAttributeCommand({ ImageId: "emi-1" }), output: {} },
    { op: "ResetImageAttribute", command: new EC2.ResetImageAttributeCommand({ ImageId: "emi-1", Attribute: "launchPermission" }), output: {} },
    { op: "DescribeReservedInstances", command: new EC2.DescribeReservedInstancesCommand({}), output: { ReservedInstances: [] } },
    { op: "DescribeReservedInstancesOfferings", command: new EC2.DescribeReservedInstancesOfferingsCommand({}), output: { ReservedInstancesOfferings: [] } },
    { op: "CreateLaunchTemplate", command: new EC2.CreateLaunchTemplateCommand({} as never), output: { LaunchTemplate: { LaunchTemplateId: "lt-1", LaunchTemplateName: "web", DefaultVersionNumber: 1, LatestVersionNumber: 1 } } },
    { op: "DescribeLaunchTemplates", command: new EC2.DescribeLaunchTemplatesCommand({}), output: { LaunchTemplates: [{ LaunchTemplateId: "lt-1", LaunchTemplateName: "web", DefaultVersionNumber: 1, LatestVersionNumber: 2 }] } },
    { op: "DeleteLaunchTemplate", command: new EC2.DeleteLaunchTemplateCommand({}), output: { LaunchTemplate: { LaunchTemplateId: "lt-1" } } },
    {
      op: "CreateLaunchTemplateVersion",
      command: new EC2.CreateLaunchTemplateVersionCommand({} as never),
      output: { LaunchTemplateVersion: { LaunchTemplateId: "lt-1", VersionNumber: 2, DefaultVersion: false, LaunchTemplateData: { ImageId: "emi-1", SecurityGroupIds: ["sg-1"] } } }
    },
    {
      op: "DescribeLaunchTemplateVersions",
      command: new EC2.DescribeLaunchTemplateVersionsCommand({}),
      output: { LaunchTemplateVersions: [{ LaunchTemplateId: "lt-1", VersionNumber: 1, DefaultVersion: true, LaunchTemplateData: { InstanceType: "m1.small", TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "k", Value: "v" }] }] } }] }
    },
    { op: "ModifyLaunchTemplate", command: new EC2.ModifyLaunchTemplateCommand({}), output: { LaunchTemplate: { LaunchTemplateId: "lt-1", DefaultVersionNumber: 2 } } }
  ]

  for (const c of cases) {
    it(c.op, async () => {
      const xml = Xml.response(c.op, c.output as never, "req-7")
      parseXml(xml) // well-formed
      const { output, error } = await answer(c.command as never, 200, Xml.headers("req-7"), xml)
      expect(error).toBeUndefined()
      const { $metadata, ...rest } = output as { $metadata: { requestId?: string } }
      expect($metadata.requestId).toBe("req-7")
      expect(rest).toEqual(withDates(c.output, dates))
    })
  }

  it("covers every operation we serve", async () => {
    const { operationNames } = await import("../../../src/api/protocol/Ec2Shapes.js")
    expect(cases.map((c) => c.op).sort()).toEqual([...operationNames].sort())
  })
})
