/** Accounts isolate everything: a second account neither sees nor touches the first's resources. */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteKeyPairCommand,
  DeleteSecurityGroupCommand,
  DeleteTagsCommand,
  DeregisterImageCommand,
  DescribeAddressesCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  DisassociateAddressCommand,
  type EC2Client,
  GetConsoleOutputCommand,
  RebootInstancesCommand,
  RegisterImageCommand,
  ReleaseAddressCommand,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Database } from "../support/db.js"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage } from "./client.js"

let server: TestServer.TestServer
let alice: EC2Client
let aliceId: string
let bob: EC2Client
let emi: string
// Alice's resources.
let instanceId: string
let groupId: string
let keyPairId: string
let allocationId: string
let associationId: string
let publicIp: string
let imageId: string

beforeAll(async () => {
  server = await TestServer.start()
  const a = await Database.createAccount(server.dataDir, "alice")
  const b = await Database.createAccount(server.dataDir, "bob")
  alice = server.client(a.credentials)
  aliceId = a.account.id
  bob = server.client(b.credentials)
  emi = await machineImage(alice)
  const key = await alice.send(new CreateKeyPairCommand({ KeyName: "shared-name" }))
  keyPairId = key.KeyPairId!
  groupId = (await alice.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "alice's web" }))).GroupId!
  const run = await alice.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, KeyName: "shared-name", SecurityGroupIds: [groupId] }))
  instanceId = run.Instances![0]!.InstanceId!
  const eip = await alice.send(new AllocateAddressCommand({}))
  allocationId = eip.AllocationId!
  publicIp = eip.PublicIp!
  associationId = (await alice.send(new AssociateAddressCommand({ AllocationId: allocationId, InstanceId: instanceId }))).AssociationId!
  imageId = (await alice.send(new RegisterImageCommand({ Name: "alice-private", ImageLocation: "alice/private.manifest.xml" }))).ImageId!
  await alice.send(new CreateTagsCommand({ Resources: [instanceId, groupId, imageId, keyPairId, allocationId], Tags: [{ Key: "owner", Value: "alice" }] }))
})
afterAll(async () => {
  await server?.stop()
})

/** What Alice sees of her own resources; it must not change whatever Bob does. */
const aliceView = async () => {
  const inst = (await alice.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!)
  return {
    instances: inst.map((i) => [i.InstanceId, i.State?.Name === "terminated" || i.State?.Name === "shutting-down" ? "gone" : "live", i.PublicIpAddress, i.Tags]),
    groups: (await alice.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => [g.GroupId, g.GroupName, g.IpPermissions, g.Tags]),
    keys: (await alice.send(new DescribeKeyPairsCommand({}))).KeyPairs!.map((k) => [k.KeyPairId, k.KeyName, k.KeyFingerprint]),
    addresses: (await alice.send(new DescribeAddressesCommand({}))).Addresses!.map((a) => [a.PublicIp, a.AllocationId, a.InstanceId, a.AssociationId]),
    tags: (await alice.send(new DescribeTagsCommand({}))).Tags!.map((t) => [t.ResourceId, t.Key, t.Value]),
    images: (await alice.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!.map((i) => i.ImageId)
  }
}

describe("accounts isolate everything", () => {
  it("a second account sees none of the first's instances, groups, keys, addresses, tags or private images", async () => {
    expect((await bob.send(new DescribeInstancesCommand({}))).Reservations).toEqual([])
    expect(await codeOf(bob.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] })))).toBe("InvalidInstanceID.NotFound 400")
    expect((await bob.send(new DescribeInstanceStatusCommand({ IncludeAllInstances: true }))).InstanceStatuses).toEqual([])
    expect(await codeOf(bob.send(new DescribeInstanceStatusCommand({ InstanceIds: [instanceId] })))).toBe("InvalidInstanceID.NotFound 400")
    expect(await codeOf(bob.send(new DescribeInstancesCommand({ Filters: [{ Name: "instance-id", Values: [instanceId] }] })))).toBe("ok")
    expect((await bob.send(new DescribeInstancesCommand({ Filters: [{ Name: "owner-id", Values: [aliceId] }] }))).Reservations).toEqual([])
    expect((await alice.send(new DescribeInstancesCommand({ Filters: [{ Name: "owner-id", Values: [aliceId] }] }))).Reservations).toHaveLength(1)

    const groups = (await bob.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!
    expect(groups.map((g) => g.GroupName)).toEqual(["default"])
    expect(groups[0]!.GroupId).not.toBe(groupId)
    expect(await codeOf(bob.send(new DescribeSecurityGroupsCommand({ GroupIds: [groupId] })))).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(bob.send(new DescribeSecurityGroupsCommand({ GroupNames: ["web"] })))).toBe("InvalidGroup.NotFound 400")

    expect((await bob.send(new DescribeKeyPairsCommand({}))).KeyPairs).toEqual([])
    expect(await codeOf(bob.send(new DescribeKeyPairsCommand({ KeyNames: ["shared-name"] })))).toBe("InvalidKeyPair.NotFound 400")
    expect(await codeOf(bob.send(new DescribeKeyPairsCommand({ KeyPairIds: [keyPairId] })))).toBe("InvalidKeyPair.NotFound 400")

    expect((await bob.send(new DescribeAddressesCommand({}))).Addresses).toEqual([])
    expect(await codeOf(bob.send(new DescribeAddressesCommand({ PublicIps: [publicIp] })))).toBe("InvalidAddress.NotFound 400")
    expect(await codeOf(bob.send(new DescribeAddressesCommand({ AllocationIds: [allocationId] })))).toBe("InvalidAllocationID.NotFound 400")

    expect((await bob.send(new DescribeTagsCommand({}))).Tags).toEqual([])

    const images = (await bob.send(new DescribeImagesCommand({}))).Images!.map((i) => i.ImageId)
    expect(images).not.toContain(imageId)
    expect(images).toContain(emi)
    expect(await codeOf(bob.send(new DescribeImagesCommand({ ImageIds: [imageId] })))).toBe("InvalidAMIID.NotFound 400")
    expect((await bob.send(new DescribeImagesCommand({ Owners: [aliceId, "self"] }))).Images).toEqual([])
  })

  it("a second account cannot act on the first's resources, and the first's view is unchanged", async () => {
    const before = await aliceView()
    expect(before.instances).toHaveLength(1)
    expect(before.tags).toHaveLength(5)

    // Instances.
    expect(await codeOf(bob.send(new TerminateInstancesCommand({ InstanceIds: [instanceId] })))).toBe("InvalidInstanceID.NotFound 400")
    expect(await codeOf(bob.send(new RebootInstancesCommand({ InstanceIds: [instanceId] })))).toBe("InvalidInstanceID.NotFound 400")
    expect(await codeOf(bob.send(new GetConsoleOutputCommand({ InstanceId: instanceId })))).toBe("InvalidInstanceID.NotFound 400")
    expect(await codeOf(bob.send(new TerminateInstancesCommand({ InstanceIds: [instanceId], DryRun: true })))).toBe("UnauthorizedOperation 403")
    // Launching with another account's group, key pair or private image.
    expect(await codeOf(bob.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, SecurityGroupIds: [groupId] })))).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(bob.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, KeyName: "shared-name" })))).toBe("InvalidKeyPair.NotFound 400")
    expect(await codeOf(bob.send(new RunInstancesCommand({ ImageId: imageId, MinCount: 1, MaxCount: 1 })))).toBe("InvalidAMIID.NotFound 400")

    // Security groups.
    const rule = [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }]
    expect(await codeOf(bob.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rule })))).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(bob.send(new RevokeSecurityGroupIngressCommand({ GroupId: groupId, IpPermissions: rule })))).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(bob.send(new DeleteSecurityGroupCommand({ GroupId: groupId })))).toBe("InvalidGroup.NotFound 400")
    // Names are per account: Bob may have his own "web".
    const bobWeb = await bob.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "bob's web" }))
    expect(bobWeb.GroupId).not.toBe(groupId)
    await bob.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "web", IpPermissions: rule }))
    await bob.send(new DeleteSecurityGroupCommand({ GroupName: "web" }))

    // Key pairs: the same name is Bob's own; deleting "his" never deletes Alice's.
    const bobKey = await bob.send(new CreateKeyPairCommand({ KeyName: "shared-name" }))
    expect(bobKey.KeyPairId).not.toBe(keyPairId)
    await bob.send(new DeleteKeyPairCommand({ KeyName: "shared-name" }))
    await bob.send(new DeleteKeyPairCommand({ KeyPairId: keyPairId }))

    // Addresses.
    const bobRun = await bob.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))
    const bobInstance = bobRun.Instances![0]!.InstanceId!
    expect(await codeOf(bob.send(new AssociateAddressCommand({ AllocationId: allocationId, InstanceId: bobInstance, AllowReassociation: true })))).toBe("InvalidAllocationID.NotFound 400")
    expect(await codeOf(bob.send(new AssociateAddressCommand({ PublicIp: publicIp, InstanceId: bobInstance })))).toBe("InvalidAddress.NotFound 400")
    expect(await codeOf(bob.send(new DisassociateAddressCommand({ AssociationId: associationId })))).toBe("InvalidAssociationID.NotFound 400")
    expect(await codeOf(bob.send(new DisassociateAddressCommand({ PublicIp: publicIp })))).toBe("InvalidAddress.NotFound 400")
    expect(await codeOf(bob.send(new ReleaseAddressCommand({ AllocationId: allocationId })))).toBe("InvalidAllocationID.NotFound 400")
    expect(await codeOf(bob.send(new ReleaseAddressCommand({ PublicIp: publicIp })))).toBe("InvalidAddress.NotFound 400")
    // Alice cannot point her address at Bob's instance either.
    expect(await codeOf(alice.send(new AssociateAddressCommand({ AllocationId: allocationId, InstanceId: bobInstance, AllowReassociation: true })))).toBe("InvalidInstanceID.NotFound 400")

    // Tags: creating on another's resource is NotFound; deleting touches only Bob's own tags.
    expect(await codeOf(bob.send(new CreateTagsCommand({ Resources: [instanceId], Tags: [{ Key: "owner", Value: "bob" }] })))).toBe("InvalidInstanceID.NotFound 400")
    expect(await codeOf(bob.send(new CreateTagsCommand({ Resources: [groupId], Tags: [{ Key: "owner", Value: "bob" }] })))).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(bob.send(new CreateTagsCommand({ Resources: [imageId], Tags: [{ Key: "owner", Value: "bob" }] })))).toBe("InvalidAMIID.NotFound 400")
    expect(await codeOf(bob.send(new CreateTagsCommand({ Resources: [keyPairId], Tags: [{ Key: "owner", Value: "bob" }] })))).toBe("InvalidKeyPair.NotFound 400")
    expect(await codeOf(bob.send(new CreateTagsCommand({ Resources: [allocationId], Tags: [{ Key: "owner", Value: "bob" }] })))).toBe("InvalidAllocationID.NotFound 400")
    await bob.send(new DeleteTagsCommand({ Resources: [instanceId, groupId, imageId, keyPairId, allocationId] }))

    // Images.
    expect(await codeOf(bob.send(new DeregisterImageCommand({ ImageId: imageId })))).toBe("InvalidAMIID.NotFound 400")
    expect(await codeOf(bob.send(new DescribeImageAttributeCommand({ ImageId: imageId, Attribute: "description" })))).toBe("InvalidAMIID.NotFound 400")
    expect(await codeOf(bob.send(new DeregisterImageCommand({ ImageId: emi })))).toBe("UnauthorizedOperation 403")

    expect(await aliceView()).toEqual(before)
    // And Bob's own instance is invisible to Alice.
    expect(await codeOf(alice.send(new DescribeInstancesCommand({ InstanceIds: [bobInstance] })))).toBe("InvalidInstanceID.NotFound 400")
    await bob.send(new TerminateInstancesCommand({ InstanceIds: [bobInstance] }))
  })
})
