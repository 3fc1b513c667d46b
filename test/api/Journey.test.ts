import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSecurityGroupsCommand,
  EC2ServiceException,
  GetConsoleOutputCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"

let server: TestServer.TestServer

beforeAll(async () => {
  server = await TestServer.start()
})
afterAll(async () => {
  await server?.stop()
})

describe("an EC2 user's journey with the AWS SDK", () => {
  it("lists zones and images, runs, tags, describes, addresses and terminates instances", async () => {
    const ec2 = server.client()
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}))
    expect(zones.AvailabilityZones?.map((z) => [z.ZoneName, z.State])).toEqual([["euca-1a", "available"], ["euca-1b", "available"]])

    const images = await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "image-type", Values: ["machine"] }] }))
    const emi = images.Images?.find((i) => i.Name === "debian-12-x86_64")?.ImageId
    expect(emi).toMatch(/^emi-[0-9a-f]{8}$/)

    const key = await ec2.send(new CreateKeyPairCommand({ KeyName: "mine" }))
    expect(key.KeyMaterial).toMatch(/^-----BEGIN RSA PRIVATE KEY-----/)
    expect(key.KeyFingerprint).toMatch(/^([0-9a-f]{2}:){19}[0-9a-f]{2}$/)

    const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web servers" }))
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: sg.GroupId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }))
    const groups = await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [sg.GroupId!] }))
    expect(groups.SecurityGroups?.[0]?.IpPermissions).toEqual([
      expect.objectContaining({ IpProtocol: "tcp", FromPort: 80, ToPort: 80, IpRanges: [{ CidrIp: "0.0.0.0/0" }] })
    ])

    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: emi,
        InstanceType: "m1.small",
        MinCount: 2,
        MaxCount: 2,
        KeyName: "mine",
        SecurityGroupIds: [sg.GroupId!],
        UserData: Buffer.from("#!/bin/sh\necho hi\n").toString("base64"),
        Placement: { AvailabilityZone: "euca-1b" },
        TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "role", Value: "web" }] }]
      })
    )
    const ids = run.Instances!.map((i) => i.InstanceId!)
    expect(ids).toHaveLength(2)
    expect(run.Instances!.map((i) => i.State?.Name)).toEqual(["pending", "pending"])
    expect(run.Instances![0]!.Placement?.AvailabilityZone).toBe("euca-1b")

    await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { InstanceIds: ids })
    const described = await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "tag:role", Values: ["web"] }] }))
    const instances = described.Reservations!.flatMap((r) => r.Instances!)
    expect(instances.map((i) => i.InstanceId).sort()).toEqual([...ids].sort())
    for (const i of instances) {
      expect(i.State?.Name).toBe("running")
      expect(i.PrivateIpAddress).toMatch(/^172\.31\./)
      expect(i.PublicIpAddress).toMatch(/^198\.51\.100\./)
      expect(i.SecurityGroups).toEqual([{ GroupId: sg.GroupId, GroupName: "web" }])
      expect(i.KeyName).toBe("mine")
      // The MAC Eucalyptus derives from the instance id, on the instance's one interface.
      expect(i.NetworkInterfaces?.[0]?.MacAddress).toBe(`d0:0d:${i.InstanceId!.slice(2).match(/../g)!.join(":")}`)
    }

    const eip = await ec2.send(new AllocateAddressCommand({}))
    expect(eip.PublicIp).toMatch(/^198\.51\.100\./)
    const assoc = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: ids[0] }))
    expect(assoc.AssociationId).toMatch(/^eipassoc-/)
    const addrs = await ec2.send(new DescribeAddressesCommand({}))
    expect(addrs.Addresses).toEqual([expect.objectContaining({ PublicIp: eip.PublicIp, InstanceId: ids[0], AllocationId: eip.AllocationId })])

    const console = await ec2.send(new GetConsoleOutputCommand({ InstanceId: ids[0] }))
    expect(Buffer.from(console.Output ?? "", "base64").toString()).toContain(ids[0]!)

    await ec2.send(new CreateTagsCommand({ Resources: [ids[0]!], Tags: [{ Key: "Name", Value: "first" }] }))
    const term = await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }))
    expect(term.TerminatingInstances?.map((t) => [t.PreviousState?.Name, t.CurrentState?.Name])).toEqual([
      ["running", "shutting-down"],
      ["running", "shutting-down"]
    ])
    await waitUntilInstanceTerminated({ client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { InstanceIds: ids })
  })

  it("answers mistakes with EC2's error codes, never a 5xx", async () => {
    const ec2 = server.client()
    const codeOf = async (p: Promise<unknown>) => {
      try {
        await p
        return "no error"
      } catch (e) {
        return e instanceof EC2ServiceException ? `${e.name} ${e.$metadata.httpStatusCode}` : String(e)
      }
    }
    expect(await codeOf(ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-00000000"] })))).toBe("InvalidInstanceID.NotFound 400")
    expect(await codeOf(ec2.send(new DescribeInstancesCommand({ InstanceIds: ["i-zz"] })))).toBe("InvalidInstanceID.Malformed 400")
    expect(await codeOf(ec2.send(new RunInstancesCommand({ ImageId: "emi-00000000", MinCount: 1, MaxCount: 1 })))).toBe("InvalidAMIID.NotFound 400")
    expect(await codeOf(ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "again" })))).toBe("InvalidGroup.Duplicate 400")
    expect(await codeOf(ec2.send(new DescribeInstancesCommand({ DryRun: true })))).toBe("DryRunOperation 412")
    const wrong = server.client({ accessKeyId: server.credentials.accessKeyId, secretAccessKey: "not-the-secret" })
    expect(await codeOf(wrong.send(new DescribeInstancesCommand({})))).toBe("AuthFailure 401")
  })
})
