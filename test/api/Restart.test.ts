import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  RunInstancesCommand,
  waitUntilInstanceRunning
} from "@aws-sdk/client-ec2"
import { describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"

describe("a restart keeps everything", () => {
  it("instances, keys, groups, addresses, tags and idempotency tokens survive; pending instances still boot", async () => {
    const slowBoot = TestServer.fastConfig({ backend: { kind: "sim", bootDelay: { kind: "constant", ms: 1500 }, stopDelay: { kind: "constant", ms: 100 }, seed: 3 } })
    let server = await TestServer.start({ config: slowBoot })
    const dataDir = server.dataDir
    let ec2 = server.client()
    const emi = (await ec2.send(new DescribeImagesCommand({ Owners: ["eucalyptus"], Filters: [{ Name: "image-type", Values: ["machine"] }] }))).Images![0]!.ImageId!
    await ec2.send(new CreateKeyPairCommand({ KeyName: "k" }))
    const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "db", Description: "databases" }))
    const run = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, KeyName: "k", SecurityGroups: ["db"], ClientToken: "once" }))
    const id = run.Instances![0]!.InstanceId!
    const eip = await ec2.send(new AllocateAddressCommand({}))
    await ec2.send(new AssociateAddressCommand({ PublicIp: eip.PublicIp, InstanceId: id }))
    await ec2.send(new CreateTagsCommand({ Resources: [id, sg.GroupId!], Tags: [{ Key: "env", Value: "prod" }] }))
    const before = await ec2.send(new DescribeInstancesCommand({}))
    expect(before.Reservations![0]!.Instances![0]!.State?.Name).toBe("pending")

    // Stop while the instance is still booting, start again on the same data directory.
    await server.stop(false)
    server = await TestServer.start({ config: slowBoot, dataDir })
    ec2 = server.client()
    const after = await ec2.send(new DescribeInstancesCommand({}))
    const inst = after.Reservations![0]!.Instances![0]!
    expect(inst.InstanceId).toBe(id)
    expect(inst.PublicIpAddress).toBe(eip.PublicIp)
    expect(inst.Tags).toEqual([{ Key: "env", Value: "prod" }])
    await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 20, minDelay: 1, maxDelay: 1 }, { InstanceIds: [id] })

    expect((await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs?.map((k) => k.KeyName)).toEqual(["k"])
    const groups = (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupName).sort()
    expect(groups).toEqual(["db", "default"])
    expect((await ec2.send(new DescribeAddressesCommand({}))).Addresses).toEqual([expect.objectContaining({ PublicIp: eip.PublicIp, InstanceId: id })])
    expect((await ec2.send(new DescribeTagsCommand({}))).Tags?.length).toBe(2)
    // The same ClientToken after the restart returns the same reservation, not a new instance.
    const again = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, KeyName: "k", SecurityGroups: ["db"], ClientToken: "once" }))
    expect(again.ReservationId).toBe(run.ReservationId)
    expect((await ec2.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!)).toHaveLength(1)
    await server.stop(true)
  })
})
