/**
 * The default VPC and instance attributes, with the AWS SDK as the client: one VPC and a default
 * subnet per zone, account attributes, SubnetId/NetworkInterface placement, vpc-id/subnet-id
 * filters, interfaces with their attachment, the default egress rule, and the owner's instance
 * settings (termination protection enforced by the core).
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  RevokeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  CreateVpcCommand,
  DescribeAccountAttributesCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSubnetsCommand,
  DescribeVpcsCommand,
  EC2Client,
  ModifyInstanceAttributeCommand,
  ResetInstanceAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client
let emi: string

beforeAll(async () => {
  server = await TestServer.start()
  ec2 = server.client()
  emi = await machineImage(ec2)
})
afterAll(async () => {
  await server?.stop()
})

describe("default VPC", () => {
  it("one default VPC over the cloud's network, a default subnet per zone, and the account attributes", async () => {
    const vpcs = (await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "isDefault", Values: ["true"] }] }))).Vpcs!
    expect(vpcs).toHaveLength(1)
    const vpc = vpcs[0]!
    expect(vpc).toMatchObject({ IsDefault: true, State: "available", CidrBlock: "172.31.0.0/16" })
    expect(vpc.VpcId).toMatch(/^vpc-[0-9a-f]{8}$/)
    expect((await ec2.send(new DescribeVpcsCommand({ Filters: [{ Name: "is-default", Values: ["false"] }] }))).Vpcs).toEqual([])
    expect(await codeOf(ec2.send(new DescribeVpcsCommand({ VpcIds: ["vpc-12345678"] })))).toBe("InvalidVpcID.NotFound 400")
    expect(await codeOf(ec2.send(new CreateVpcCommand({ CidrBlock: "10.0.0.0/16" })))).toBe("UnsupportedOperation 400")

    const subnets = (await ec2.send(new DescribeSubnetsCommand({ Filters: [{ Name: "vpc-id", Values: [vpc.VpcId!] }, { Name: "default-for-az", Values: ["true"] }] }))).Subnets!
    expect(subnets.map((s) => s.AvailabilityZone)).toEqual(["euca-1a", "euca-1b"])
    for (const s of subnets) {
      expect(s).toMatchObject({ VpcId: vpc.VpcId, DefaultForAz: true, MapPublicIpOnLaunch: true, State: "available", CidrBlock: "172.31.0.0/16" })
      expect(s.AvailableIpAddressCount).toBe(65536 - 5)
    }
    expect(new Set(subnets.map((s) => s.SubnetId)).size).toBe(2)
    const byId = (await ec2.send(new DescribeSubnetsCommand({ SubnetIds: [subnets[1]!.SubnetId!] }))).Subnets!
    expect(byId.map((s) => s.AvailabilityZone)).toEqual(["euca-1b"])
    expect(await codeOf(ec2.send(new DescribeSubnetsCommand({ SubnetIds: ["subnet-00000000"] })))).toBe("InvalidSubnetID.NotFound 400")

    const attrs = (await ec2.send(new DescribeAccountAttributesCommand({}))).AccountAttributes!
    const get = (n: string) => attrs.find((a) => a.AttributeName === n)?.AttributeValues?.map((v) => v.AttributeValue)
    expect(get("supported-platforms")).toEqual(["VPC"])
    expect(get("default-vpc")).toEqual([vpc.VpcId])
    const one = (await ec2.send(new DescribeAccountAttributesCommand({ AttributeNames: ["default-vpc"] }))).AccountAttributes!
    expect(one.map((a) => a.AttributeName)).toEqual(["default-vpc"])

    // Another account has its own default VPC.
    const other = await import("../support/db.js").then((m) => m.Database.createAccount(server.dataDir, "vpc-other"))
    const theirs = (await server.client(other.credentials).send(new DescribeVpcsCommand({}))).Vpcs!
    expect(theirs).toHaveLength(1)
    expect(theirs[0]!.VpcId).not.toBe(vpc.VpcId)
  })

  it("groups are in the VPC with the default allow-all egress rule; launches go to the subnet's zone; instances show their interface and attachment", async () => {
    const vpcId = (await ec2.send(new DescribeVpcsCommand({}))).Vpcs![0]!.VpcId!
    const subnets = (await ec2.send(new DescribeSubnetsCommand({}))).Subnets!
    const inB = subnets.find((s) => s.AvailabilityZone === "euca-1b")!.SubnetId!
    const g = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "vpc-web", Description: "web", VpcId: vpcId }))
    expect(await codeOf(ec2.send(new CreateSecurityGroupCommand({ GroupName: "elsewhere", Description: "x", VpcId: "vpc-99999999" })))).toBe("InvalidVpcID.NotFound 400")
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "vpc-id", Values: [vpcId] }] }))).SecurityGroups!
    expect(groups.map((x) => x.GroupName).sort()).toEqual(["default", "vpc-web"])
    for (const x of groups) {
      expect(x.VpcId).toBe(vpcId)
      expect(x.IpPermissionsEgress).toEqual([{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }], UserIdGroupPairs: [], Ipv6Ranges: [], PrefixListIds: [] }])
    }
    const allowAll = { GroupId: g.GroupId!, IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupEgressCommand(allowAll)))).toBe("InvalidPermission.Duplicate 400")
    // Further egress rules are held (and enforced: test/api/Egress.test.ts, test/net/Egress.test.ts).
    const smtp = { GroupId: g.GroupId!, IpPermissions: [{ IpProtocol: "tcp", FromPort: 25, ToPort: 25, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }
    expect((await ec2.send(new AuthorizeSecurityGroupEgressCommand(smtp))).Return).toBe(true)
    expect((await ec2.send(new RevokeSecurityGroupEgressCommand(smtp))).Return).toBe(true)

    const bySubnet = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, SubnetId: inB, SecurityGroupIds: [g.GroupId!] }))).Instances![0]!
    expect(bySubnet).toMatchObject({ SubnetId: inB, VpcId: vpcId, Placement: { AvailabilityZone: "euca-1b" } })
    const byNic = (
      await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: inB, Groups: [g.GroupId!], AssociatePublicIpAddress: false }] }))
    ).Instances![0]!
    expect(byNic.Placement?.AvailabilityZone).toBe("euca-1b")
    expect(byNic.SecurityGroups?.map((x) => x.GroupId)).toEqual([g.GroupId])
    expect(byNic.PublicIpAddress).toBeUndefined()
    expect(await codeOf(ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, SubnetId: "subnet-00000000" })))).toBe("InvalidSubnetID.NotFound 400")
    expect(await codeOf(ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, SubnetId: inB, Placement: { AvailabilityZone: "euca-1a" } })))).toBe("InvalidParameterValue 400")
    expect(
      await codeOf(ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, SecurityGroupIds: [g.GroupId!], NetworkInterfaces: [{ DeviceIndex: 0, SubnetId: inB }] })))
    ).toBe("InvalidParameterCombination 400")

    const described = (await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "subnet-id", Values: [inB] }] }))).Reservations!.flatMap((r) => r.Instances!)
    expect(described.map((i) => i.InstanceId).sort()).toEqual([bySubnet.InstanceId, byNic.InstanceId].sort())
    const nic = described.find((i) => i.InstanceId === bySubnet.InstanceId)!.NetworkInterfaces![0]!
    expect(nic.Attachment).toMatchObject({ DeviceIndex: 0, Status: "attached", DeleteOnTermination: true })
    expect(nic).toMatchObject({ SubnetId: inB, VpcId: vpcId, PrivateIpAddress: bySubnet.PrivateIpAddress })
    expect((await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "vpc-id", Values: ["vpc-00000000"] }] }))).Reservations).toEqual([])

    const enis = (await ec2.send(new DescribeNetworkInterfacesCommand({ Filters: [{ Name: "attachment.instance-id", Values: [bySubnet.InstanceId!] }] }))).NetworkInterfaces!
    expect(enis).toHaveLength(1)
    expect(enis[0]).toMatchObject({ NetworkInterfaceId: nic.NetworkInterfaceId, AvailabilityZone: "euca-1b", SubnetId: inB, MacAddress: nic.MacAddress, Attachment: { InstanceId: bySubnet.InstanceId, DeviceIndex: 0 } })
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [bySubnet.InstanceId!, byNic.InstanceId!] }))
  })
})

describe("instance attributes", () => {
  it("describes every attribute, keeps the owner's settings, enforces termination protection, and refuses what needs a stopped instance", async () => {
    const i = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, UserData: Buffer.from("#!/bin/sh\necho hi").toString("base64"), DisableApiTermination: true }))).Instances![0]!
    const id = i.InstanceId!
    const attr = (Attribute: string) => ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: Attribute as never }))
    expect((await attr("disableApiTermination")).DisableApiTermination?.Value).toBe(true)
    expect((await attr("disableApiStop")).DisableApiStop?.Value).toBe(false)
    expect((await attr("instanceInitiatedShutdownBehavior")).InstanceInitiatedShutdownBehavior?.Value).toBe("stop")
    expect(Buffer.from((await attr("userData")).UserData!.Value!, "base64").toString()).toBe("#!/bin/sh\necho hi")
    expect((await attr("instanceType")).InstanceType?.Value).toBe("m1.small")
    expect((await attr("rootDeviceName")).RootDeviceName?.Value).toBe("/dev/sda1")
    expect((await attr("blockDeviceMapping")).BlockDeviceMappings).toEqual([])
    expect((await attr("sourceDestCheck")).SourceDestCheck?.Value).toBe(true)
    expect((await attr("groupSet")).Groups?.map((g) => g.GroupName)).toEqual(["default"])
    expect(await codeOf(attr("colour"))).toBe("InvalidParameterValue 400")

    expect(await codeOf(ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })))).toBe("OperationNotPermitted 400")
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceInitiatedShutdownBehavior: { Value: "terminate" } }))
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, SourceDestCheck: { Value: false } }))
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Attribute: "disableApiStop", Value: "true" }))
    expect((await attr("instanceInitiatedShutdownBehavior")).InstanceInitiatedShutdownBehavior?.Value).toBe("terminate")
    expect((await attr("sourceDestCheck")).SourceDestCheck?.Value).toBe(false)
    expect((await attr("disableApiStop")).DisableApiStop?.Value).toBe(true)
    await ec2.send(new ResetInstanceAttributeCommand({ InstanceId: id, Attribute: "sourceDestCheck" }))
    expect((await attr("sourceDestCheck")).SourceDestCheck?.Value).toBe(true)
    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceType: { Value: "c1.medium" } })))).toBe("IncorrectInstanceState 400")
    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, InstanceInitiatedShutdownBehavior: { Value: "explode" } })))).toBe("InvalidParameterValue 400")
    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, SourceDestCheck: { Value: true }, DisableApiStop: { Value: false } })))).toBe("InvalidParameterCombination 400")
    // Still protected: the other settings did not change it.
    expect((await attr("disableApiTermination")).DisableApiTermination?.Value).toBe(true)
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, DisableApiTermination: { Value: false } }))
    expect(await codeOf(ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] })))).toBe("ok")

    // Another account's instance does not exist for this one.
    const other = await import("../support/db.js").then((m) => m.Database.createAccount(server.dataDir, "attr-other"))
    expect(await codeOf(server.client(other.credentials).send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "userData" })))).toBe("InvalidInstanceID.NotFound 400")
  })

  it("the settings survive a restart (they are in the journal)", async () => {
    const i = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, DisableApiTermination: true, InstanceInitiatedShutdownBehavior: "terminate" }))).Instances![0]!
    await server.stop(false)
    server = await TestServer.start({ dataDir: server.dataDir })
    ec2 = server.client()
    const a = await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: i.InstanceId!, Attribute: "instanceInitiatedShutdownBehavior" }))
    expect(a.InstanceInitiatedShutdownBehavior?.Value).toBe("terminate")
    expect(await codeOf(ec2.send(new TerminateInstancesCommand({ InstanceIds: [i.InstanceId!] })))).toBe("OperationNotPermitted 400")
  })
})
