import * as EC2 from "@aws-sdk/client-ec2"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Ec2Error from "../../../src/api/protocol/Ec2Error.js"
import * as Query from "../../../src/api/protocol/Query.js"
import { capture } from "./sdk.js"

const form = (text: string): Query.Params => Either.getOrThrow(Query.params({ body: text }))

const parse = (text: string) => Query.parseRequest(form(text))

const input = (text: string) => {
  const r = parse(text)
  if (Either.isLeft(r)) throw new Error(`expected a parsed request, got ${r.left.code}: ${r.left.message}`)
  return r.right.input as Record<string, unknown>
}

const failure = (r: Either.Either<unknown, Ec2Error.Ec2Error>): { code: string; message: string } => {
  if (Either.isRight(r)) throw new Error(`expected an error, got ${JSON.stringify(r.right)}`)
  return { code: r.left.code, message: r.left.message }
}

const V = "Version=2016-11-15"

describe("decodeForm", () => {
  it("decodes + and %20 as spaces, keeps empty values, skips empty names", () => {
    expect(Either.getOrThrow(Query.decodeForm("a=x+y&b=x%20y&c=&d&&=ignored&e=%2B%26%3D"))).toEqual([
      ["a", "x y"],
      ["b", "x y"],
      ["c", ""],
      ["d", ""],
      ["e", "+&="]
    ])
  })

  it("decodes UTF-8 percent escapes and raw UTF-8 bytes in a body", () => {
    expect(Either.getOrThrow(Query.decodeForm("k=%C3%A9t%C3%A9%F0%9F%8C%8D"))).toEqual([["k", "été🌍"]])
    expect(Either.getOrThrow(Query.decodeForm(new TextEncoder().encode("k=été")))).toEqual([["k", "été"]])
  })

  it("answers MalformedQueryString for bad escapes and bytes that are not UTF-8", () => {
    for (const bad of ["a=%zz", "a=%4", "%=1", "a=%FF", "a=%C3", "a=%ED%A0%80"]) {
      const e = failure(Query.decodeForm(bad))
      expect(e.code).toBe("MalformedQueryString")
      expect(e.message).toContain("percent-encoding")
    }
    expect(failure(Query.decodeForm(new Uint8Array([0x61, 0x3d, 0xff]))).code).toBe("MalformedQueryString")
  })
})

describe("params", () => {
  it("merges the query string and the body; a repeated name must repeat its value", () => {
    const p = Either.getOrThrow(Query.params({ query: "Action=DescribeRegions&X=1", body: "Version=2016-11-15&X=1" }))
    expect([...p]).toEqual([
      ["Action", "DescribeRegions"],
      ["X", "1"],
      ["Version", "2016-11-15"]
    ])
    const e = failure(Query.params({ query: "X=1", body: "X=2" }))
    expect(e.code).toBe("InvalidParameterValue")
    expect(e.message).toContain("X")
  })
})

describe("parseRequest", () => {
  it("needs an Action we serve and a Version", () => {
    expect(failure(parse(V)).code).toBe("MissingAction")
    const unknown = failure(parse(`Action=LaunchMissiles&${V}`))
    expect(unknown).toEqual({ code: "InvalidAction", message: "The action LaunchMissiles is not valid for this web service." })
    expect(failure(parse("Action=describeRegions&" + V)).code).toBe("InvalidAction") // case-sensitive, as EC2
    expect(failure(parse("Action=DescribeRegions"))).toEqual({ code: "MissingParameter", message: "The request must contain the parameter Version" })
    expect(failure(parse("Action=DescribeRegions&Version=yesterday")).code).toBe("InvalidParameterValue")
  })

  it("narrows the input by action, typed by the model", () => {
    const r = Either.getOrThrow(parse(`Action=RunInstances&${V}&MinCount=2&MaxCount=3&ImageId=emi-1`))
    if (r.action !== "RunInstances") throw new Error(`parsed ${r.action}`)
    const counts: readonly [number, number] = [r.input.MinCount, r.input.MaxCount] // required members are not optional
    expect(counts).toEqual([2, 3])
    expect(r.input.ImageId satisfies string | undefined).toBe("emi-1")
  })

  it("accepts older API versions and reports the one asked for", () => {
    const r = Either.getOrThrow(parse("Action=DescribeRegions&Version=2009-11-30"))
    expect(r).toEqual({ action: "DescribeRegions", version: "2009-11-30", input: {} })
  })

  it("reads lists as Name.N and structures as Name.Member (InstanceId.1, Filter.1.Value.2)", () => {
    expect(
      input(`Action=DescribeInstances&${V}&InstanceId.1=i-1&InstanceId.2=i-2&Filter.1.Name=tag%3AName&Filter.1.Value.1=web&Filter.1.Value.2=db*&Filter.2.Name=instance-state-name&Filter.2.Value.1=running&MaxResults=10&DryRun=false`)
    ).toEqual({
      InstanceIds: ["i-1", "i-2"],
      Filters: [
        { Name: "tag:Name", Values: ["web", "db*"] },
        { Name: "instance-state-name", Values: ["running"] }
      ],
      MaxResults: 10,
      DryRun: false
    })
  })

  it("uses the ec2 protocol's names: locationName capitalised, queryName, nested lists", () => {
    expect(
      input(
        `Action=AuthorizeSecurityGroupIngress&${V}&GroupName=web&IpPermissions.1.IpProtocol=tcp&IpPermissions.1.FromPort=22&IpPermissions.1.ToPort=22&IpPermissions.1.IpRanges.1.CidrIp=10.0.0.0%2F8&IpPermissions.1.IpRanges.2.CidrIp=192.168.0.0%2F16&IpPermissions.2.IpProtocol=-1&IpPermissions.2.Groups.1.GroupName=db&IpPermissions.2.Groups.1.UserId=123`
      )
    ).toEqual({
      GroupName: "web",
      IpPermissions: [
        { IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "10.0.0.0/8" }, { CidrIp: "192.168.0.0/16" }] },
        { IpProtocol: "-1", UserIdGroupPairs: [{ GroupName: "db", UserId: "123" }] }
      ]
    })
    expect(
      input(
        `Action=RunInstances&${V}&ImageId=emi-1&MinCount=1&MaxCount=2&InstanceType=m1.small&KeyName=k&SecurityGroup.1=default&SecurityGroupId.1=sg-1&Placement.AvailabilityZone=zone-1&UserData=aGk%3D&ClientToken=t1&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=&NetworkInterface.1.DeviceIndex=0&NetworkInterface.1.Ipv6Addresses.1.Ipv6Address=%3A%3A1`
      )
    ).toEqual({
      ImageId: "emi-1",
      MinCount: 1,
      MaxCount: 2,
      InstanceType: "m1.small",
      KeyName: "k",
      SecurityGroups: ["default"],
      SecurityGroupIds: ["sg-1"],
      Placement: { AvailabilityZone: "zone-1" },
      UserData: "aGk=",
      ClientToken: "t1",
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "" }] }],
      NetworkInterfaces: [{ DeviceIndex: 0, Ipv6Addresses: [{ Ipv6Address: "::1" }] }]
    })
  })

  it("keeps list entries in index order across gaps, accepts lists from 0, and rejects other indexes", () => {
    expect(input(`Action=TerminateInstances&${V}&InstanceId.3=c&InstanceId.1=a&InstanceId.10=j`)).toEqual({ InstanceIds: ["a", "c", "j"] })
    // Libcloud numbers from 0: `ResourceId.0`, `Tag.0.Key`.
    expect(input(`Action=CreateTags&${V}&ResourceId.0=i-1&ResourceId.1=i-2&Tag.0.Key=k&Tag.0.Value=v`)).toEqual({ Resources: ["i-1", "i-2"], Tags: [{ Key: "k", Value: "v" }] })
    for (const bad of ["InstanceId.00=a", "InstanceId.01=a", "InstanceId.x=a", "InstanceId.-1=a", "InstanceId.1000000000=a", "InstanceId..1=a"]) {
      const e = failure(parse(`Action=TerminateInstances&${V}&${bad}`))
      expect(e.code).toBe("InvalidParameterValue")
      expect(e.message).toContain(bad.slice(0, bad.indexOf("=")))
    }
  })

  it("reads a bare empty list name as an empty list, a flat name as a one-element list, and a `.1` on a single value as that value", () => {
    expect(input(`Action=DescribeInstances&${V}&InstanceId=`)).toEqual({ InstanceIds: [] })
    expect(input(`Action=DescribeKeyPairs&${V}&KeyName=mine`)).toEqual({ KeyNames: ["mine"] })
    expect(input(`Action=DescribeInstances&${V}&InstanceId=i-1`)).toEqual({ InstanceIds: ["i-1"] })
    // A list of structures has no flat form.
    const e = failure(parse(`Action=DescribeInstances&${V}&Filter=x`))
    expect(e.code).toBe("InvalidParameterValue")
    expect(e.message).toContain("Filter.1")
    // boto 2's GetConsoleOutput sends `InstanceId.1` where the model has one InstanceId.
    expect(input(`Action=GetConsoleOutput&${V}&InstanceId.1=i-1`)).toEqual({ InstanceId: "i-1" })
    expect(input(`Action=GetConsoleOutput&${V}&InstanceId=i-1&InstanceId.1=i-1`)).toEqual({ InstanceId: "i-1" })
    expect(failure(parse(`Action=GetConsoleOutput&${V}&InstanceId=i-1&InstanceId.1=i-2`)).code).toBe("InvalidParameterValue")
  })

  it("refuses control characters XML cannot carry, in names and values, before anything else", () => {
    for (const bad of ["Tag.1.Key=a%00b", "Tag.1.Value=%01", "ClientToken=%1F", "Description=x%EF%BF%BE", "Tag%00.1.Key=k"]) {
      const r = Query.params({ query: `Action=CreateTags&${V}&ResourceId.1=i-1&${bad}` })
      expect(Either.isLeft(r) && r.left.code).toBe("InvalidParameterValue")
      expect(Either.isLeft(r) && r.left.message).toMatch(/control character \(U\+[0-9A-F]{4}\)/)
    }
    // Tab, LF and CR are XML 1.0 characters: kept.
    const ok = Query.params({ query: `Description=a%09b%0Ac%0Dd` })
    expect(Either.isRight(ok) && ok.right.get("Description")).toBe("a\tb\nc\rd")
  })

  it("answers MissingParameter with the query name of an absent or empty required member", () => {
    expect(failure(parse(`Action=TerminateInstances&${V}`))).toEqual({ code: "MissingParameter", message: "The request must contain the parameter InstanceId" })
    expect(failure(parse(`Action=TerminateInstances&${V}&InstanceId=`)).code).toBe("MissingParameter")
    expect(failure(parse(`Action=CreateSecurityGroup&${V}&GroupName=g`)).message).toBe("The request must contain the parameter GroupDescription")
    expect(failure(parse(`Action=CreateKeyPair&${V}&KeyName=`)).code).toBe("MissingParameter")
    expect(failure(parse(`Action=RunInstances&${V}&ImageId=emi-1&MinCount=1`)).message).toBe("The request must contain the parameter MaxCount")
  })

  it("coerces integers, booleans and blobs, naming the parameter when a value is wrong", () => {
    const bad = (text: string, name: string) => {
      const e = failure(parse(`${V}&${text}`))
      expect(e.code).toBe("InvalidParameterValue")
      expect(e.message).toContain(name)
    }
    bad("Action=RunInstances&MinCount=one&MaxCount=1", "MinCount")
    bad("Action=RunInstances&MinCount=1&MaxCount=1.5", "MaxCount")
    bad("Action=RunInstances&MinCount=1&MaxCount=2147483648", "MaxCount")
    bad("Action=RunInstances&MinCount=1&MaxCount=1&DryRun=yes", "DryRun")
    bad("Action=DescribeSecurityGroups&MaxResults=4", "MaxResults") // the model says 5…1000
    bad("Action=DescribeInstanceTypes&MaxResults=101", "MaxResults")
    bad("Action=AuthorizeSecurityGroupIngress&IpPermissions.2.FromPort=x", "IpPermissions.2.FromPort")
    bad("Action=ImportKeyPair&KeyName=k&PublicKeyMaterial=ssh-rsa%20AAAA", "PublicKeyMaterial")
    expect(input(`Action=RunInstances&${V}&MinCount=%2B1&MaxCount=-0&DryRun=TRUE`)).toMatchObject({ MinCount: 1, MaxCount: 0, DryRun: true })
    const key = input(`Action=ImportKeyPair&${V}&KeyName=k&PublicKeyMaterial=c3NoLXJzYSBBQUFB`)
    expect(Buffer.from(key["PublicKeyMaterial"] as Uint8Array).toString()).toBe("ssh-rsa AAAA")
  })

  it("ignores parameters the operation does not have, and children of single values", () => {
    expect(input(`Action=DescribeRegions&${V}&Foo=1&Bar.1.Baz=2&X-Amz-Date=20260101T000000Z&DryRun.x=1&RegionName.1=eucalyptus`)).toEqual({
      RegionNames: ["eucalyptus"]
    })
  })

  it("rejects a value given to a structure", () => {
    const e = failure(parse(`Action=RunInstances&${V}&MinCount=1&MaxCount=1&Placement=zone-1`))
    expect(e.code).toBe("InvalidParameterValue")
    expect(e.message).toContain("Placement.Member")
  })
})

describe("what @aws-sdk/client-ec2 sends parses back to the SDK's input", () => {
  const key = new TextEncoder().encode("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH example")
  const cases: ReadonlyArray<readonly [string, { input: unknown }]> = [
    ["DescribeRegions", new EC2.DescribeRegionsCommand({ RegionNames: ["eucalyptus"], AllRegions: true })],
    ["DescribeAvailabilityZones", new EC2.DescribeAvailabilityZonesCommand({ ZoneNames: ["verbose"], Filters: [{ Name: "state", Values: ["available"] }] })],
    ["DescribeImages", new EC2.DescribeImagesCommand({ Owners: ["self", "amazon"], ImageIds: ["emi-1"], ExecutableUsers: ["all"], Filters: [{ Name: "name", Values: ["ubuntu*"] }] })],
    ["RegisterImage", new EC2.RegisterImageCommand({ Name: "img", ImageLocation: "bucket/img.manifest.xml", Architecture: "x86_64", KernelId: "eki-1", RamdiskId: "eri-1" })],
    ["DeregisterImage", new EC2.DeregisterImageCommand({ ImageId: "emi-1" })],
    ["DescribeImageAttribute", new EC2.DescribeImageAttributeCommand({ ImageId: "emi-1", Attribute: "launchPermission" })],
    ["CreateKeyPair", new EC2.CreateKeyPairCommand({ KeyName: "k", KeyType: "ed25519", KeyFormat: "pem" })],
    ["ImportKeyPair", new EC2.ImportKeyPairCommand({ KeyName: "k", PublicKeyMaterial: key })],
    ["DescribeKeyPairs", new EC2.DescribeKeyPairsCommand({ KeyNames: ["a", "b"], IncludePublicKey: true })],
    ["DeleteKeyPair", new EC2.DeleteKeyPairCommand({ KeyName: "k" })],
    ["CreateSecurityGroup", new EC2.CreateSecurityGroupCommand({ GroupName: "web", Description: "web & <friends>" })],
    ["DeleteSecurityGroup", new EC2.DeleteSecurityGroupCommand({ GroupId: "sg-00000001" })],
    ["DescribeSecurityGroups", new EC2.DescribeSecurityGroupsCommand({ GroupNames: ["web"], GroupIds: ["sg-1"], MaxResults: 5 })],
    [
      "AuthorizeSecurityGroupIngress",
      new EC2.AuthorizeSecurityGroupIngressCommand({
        GroupName: "web",
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 80, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0", Description: "world" }] },
          { IpProtocol: "icmp", FromPort: -1, ToPort: -1, UserIdGroupPairs: [{ GroupName: "db", UserId: "000000000001" }] }
        ]
      })
    ],
    ["RevokeSecurityGroupIngress", new EC2.RevokeSecurityGroupIngressCommand({ GroupName: "web", IpProtocol: "udp", FromPort: 53, ToPort: 53, CidrIp: "10.0.0.0/8" })],
    [
      "RunInstances",
      new EC2.RunInstancesCommand({
        ImageId: "emi-1",
        MinCount: 1,
        MaxCount: 3,
        InstanceType: "m1.small",
        KeyName: "k",
        SecurityGroups: ["web", "db"],
        UserData: Buffer.from("#!/bin/sh\necho hi").toString("base64"),
        Placement: { AvailabilityZone: "zone-1" },
        ClientToken: "token-1",
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "a b+c" }] }],
        BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { VolumeSize: 8, DeleteOnTermination: true } }],
        DryRun: true
      })
    ],
    ["DescribeInstances", new EC2.DescribeInstancesCommand({ InstanceIds: ["i-1"], Filters: [{ Name: "tag:Name", Values: ["*", "a\\*b"] }], MaxResults: 5, NextToken: "n" })],
    ["DescribeInstanceStatus", new EC2.DescribeInstanceStatusCommand({ InstanceIds: ["i-1"], IncludeAllInstances: true })],
    ["TerminateInstances", new EC2.TerminateInstancesCommand({ InstanceIds: ["i-1", "i-2"] })],
    ["RebootInstances", new EC2.RebootInstancesCommand({ InstanceIds: ["i-1"] })],
    ["GetConsoleOutput", new EC2.GetConsoleOutputCommand({ InstanceId: "i-1", Latest: true })],
    ["DescribeInstanceTypes", new EC2.DescribeInstanceTypesCommand({ InstanceTypes: ["m1.small", "c1.medium"], MaxResults: 5 })],
    ["CreateTags", new EC2.CreateTagsCommand({ Resources: ["i-1", "sg-1"], Tags: [{ Key: "k", Value: "v" }, { Key: "empty", Value: "" }] })],
    ["DeleteTags", new EC2.DeleteTagsCommand({ Resources: ["i-1"], Tags: [{ Key: "k" }] })],
    ["DescribeTags", new EC2.DescribeTagsCommand({ Filters: [{ Name: "resource-type", Values: ["instance"] }], MaxResults: 10 })],
    ["AllocateAddress", new EC2.AllocateAddressCommand({ Domain: "standard" })],
    ["AssociateAddress", new EC2.AssociateAddressCommand({ PublicIp: "192.0.2.1", InstanceId: "i-1", AllowReassociation: false })],
    ["DisassociateAddress", new EC2.DisassociateAddressCommand({ AssociationId: "eipassoc-1" })],
    ["ReleaseAddress", new EC2.ReleaseAddressCommand({ AllocationId: "eipalloc-1" })],
    ["DescribeAddresses", new EC2.DescribeAddressesCommand({ PublicIps: ["192.0.2.1"], AllocationIds: ["eipalloc-1"] })],
    ["CreateVolume", new EC2.CreateVolumeCommand({ AvailabilityZone: "zone-1", Size: 8, ClientToken: "token-1", VolumeType: "standard", TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "Name", Value: "data" }] }] })],
    ["DescribeVolumes", new EC2.DescribeVolumesCommand({ VolumeIds: ["vol-1"], Filters: [{ Name: "status", Values: ["available"] }], MaxResults: 5 })],
    ["DeleteVolume", new EC2.DeleteVolumeCommand({ VolumeId: "vol-1" })],
    ["AttachVolume", new EC2.AttachVolumeCommand({ VolumeId: "vol-1", InstanceId: "i-1", Device: "/dev/sdf" })],
    ["DetachVolume", new EC2.DetachVolumeCommand({ VolumeId: "vol-1", InstanceId: "i-1", Force: true })],
    ["DescribeVolumeStatus", new EC2.DescribeVolumeStatusCommand({ VolumeIds: ["vol-1"] })],
    ["CreateSnapshot", new EC2.CreateSnapshotCommand({ VolumeId: "vol-1", Description: "nightly" })],
    ["DescribeSnapshots", new EC2.DescribeSnapshotsCommand({ OwnerIds: ["self"], RestorableByUserIds: ["000000000002"], SnapshotIds: ["snap-1"] })],
    ["DeleteSnapshot", new EC2.DeleteSnapshotCommand({ SnapshotId: "snap-1" })],
    ["DescribeSnapshotAttribute", new EC2.DescribeSnapshotAttributeCommand({ SnapshotId: "snap-1", Attribute: "createVolumePermission" })],
    ["ModifySnapshotAttribute", new EC2.ModifySnapshotAttributeCommand({ SnapshotId: "snap-1", Attribute: "createVolumePermission", OperationType: "add", UserIds: ["000000000002"], GroupNames: ["all"] })],
    ["StopInstances", new EC2.StopInstancesCommand({ InstanceIds: ["i-1", "i-2"], Force: true })],
    ["StartInstances", new EC2.StartInstancesCommand({ InstanceIds: ["i-1"] })],
    ["DescribeVpcs", new EC2.DescribeVpcsCommand({ VpcIds: ["vpc-1"], Filters: [{ Name: "isDefault", Values: ["true"] }] })],
    ["DescribeSubnets", new EC2.DescribeSubnetsCommand({ SubnetIds: ["subnet-1"], Filters: [{ Name: "default-for-az", Values: ["true"] }] })],
    ["DescribeAccountAttributes", new EC2.DescribeAccountAttributesCommand({ AttributeNames: ["supported-platforms", "default-vpc"] })],
    ["DescribeNetworkInterfaces", new EC2.DescribeNetworkInterfacesCommand({ NetworkInterfaceIds: ["eni-1"], Filters: [{ Name: "attachment.instance-id", Values: ["i-1"] }] })],
    ["CreateVpc", new EC2.CreateVpcCommand({ CidrBlock: "10.0.0.0/16" })],
    ["AuthorizeSecurityGroupEgress", new EC2.AuthorizeSecurityGroupEgressCommand({ GroupId: "sg-1", IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })],
    ["RevokeSecurityGroupEgress", new EC2.RevokeSecurityGroupEgressCommand({ GroupId: "sg-1", IpPermissions: [{ IpProtocol: "tcp", FromPort: 25, ToPort: 25, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })],
    ["DescribeInstanceAttribute", new EC2.DescribeInstanceAttributeCommand({ InstanceId: "i-1", Attribute: "disableApiTermination" })],
    ["ModifyInstanceAttribute", new EC2.ModifyInstanceAttributeCommand({ InstanceId: "i-1", DisableApiTermination: { Value: true } })],
    ["ResetInstanceAttribute", new EC2.ResetInstanceAttributeCommand({ InstanceId: "i-1", Attribute: "sourceDestCheck" })],
    ["ModifyImageAttribute", new EC2.ModifyImageAttributeCommand({ ImageId: "emi-1", LaunchPermission: { Add: [{ Group: "all" }, { UserId: "123456789012" }], Remove: [{ UserId: "210987654321" }] } })],
    ["ResetImageAttribute", new EC2.ResetImageAttributeCommand({ ImageId: "emi-1", Attribute: "launchPermission" })],
    ["DescribeReservedInstances", new EC2.DescribeReservedInstancesCommand({ OfferingClass: "standard" })],
    ["DescribeReservedInstancesOfferings", new EC2.DescribeReservedInstancesOfferingsCommand({ InstanceType: "m1.small", MaxResults: 10 })],
    [
      "CreateLaunchTemplate",
      new EC2.CreateLaunchTemplateCommand({
        LaunchTemplateName: "web",
        ClientToken: "t-1",
        VersionDescription: "v1",
        LaunchTemplateData: { ImageId: "emi-1", InstanceType: "m1.small", SecurityGroupIds: ["sg-1"], TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "k", Value: "v" }] }] }
      })
    ],
    ["DescribeLaunchTemplates", new EC2.DescribeLaunchTemplatesCommand({ LaunchTemplateNames: ["web"] })],
    ["DeleteLaunchTemplate", new EC2.DeleteLaunchTemplateCommand({ LaunchTemplateId: "lt-1" })],
    ["CreateLaunchTemplateVersion", new EC2.CreateLaunchTemplateVersionCommand({ ClientToken: "t-2", LaunchTemplateName: "web", SourceVersion: "1", LaunchTemplateData: { InstanceType: "c1.medium" } })],
    ["DescribeLaunchTemplateVersions", new EC2.DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: "lt-1", Versions: ["$Latest", "1"] })],
    ["ModifyLaunchTemplate", new EC2.ModifyLaunchTemplateCommand({ ClientToken: "t-3", LaunchTemplateId: "lt-1", DefaultVersion: "2" })]
  ]

  for (const [action, command] of cases) {
    it(action, async () => {
      const sent = await capture(command as never)
      const request = Either.getOrThrow(parse(String(sent.body)))
      expect(request.action).toBe(action)
      expect(request.version).toBe("2016-11-15")
      expect(request.input).toEqual(command.input)
    })
  }

  it("covers every operation we serve", async () => {
    const { operationNames } = await import("../../../src/api/protocol/Ec2Shapes.js")
    expect(cases.map(([a]) => a).sort()).toEqual([...operationNames].sort())
  })
})
