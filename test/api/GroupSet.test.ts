/**
 * ModifyInstanceAttribute groupSet with the AWS SDK v3: a running instance moved between groups of
 * its account (GroupId.N), shown by DescribeInstanceAttribute and DescribeInstances (groups, the
 * interface's groups, the group-id filter), EC2's errors, the old group in use while the instance
 * keeps its address in that group's network, and the move surviving a restart.
 */
import {
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeInstanceAttributeCommand,
  DescribeInstancesCommand,
  type EC2Client,
  ModifyInstanceAttributeCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning
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

const describeOne = async (id: string) => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!
const groupSet = async (id: string) =>
  ((await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: "groupSet" }))).Groups ?? []).map((g) => `${g.GroupName}/${g.GroupId}`)

describe("ModifyInstanceAttribute groupSet", () => {
  it("moves a running instance between its account's groups; describes show the new groups; errors as EC2's", async () => {
    const web = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "gs-web", Description: "web" }))).GroupId!
    const admin = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "gs-admin", Description: "admin" }))).GroupId!
    const db = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "gs-db", Description: "db" }))).GroupId!
    const run = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, SecurityGroupIds: [web] }))
    const id = run.Instances![0]!.InstanceId!
    await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 30, minDelay: 1 }, { InstanceIds: [id] })
    const before = await describeOne(id)
    expect(await groupSet(id)).toEqual([`gs-web/${web}`])

    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [admin, db] }))
    expect(await groupSet(id)).toEqual([`gs-admin/${admin}`, `gs-db/${db}`])
    const after = await describeOne(id)
    expect(after.SecurityGroups!.map((g) => g.GroupId)).toEqual([admin, db])
    expect(after.NetworkInterfaces![0]!.Groups!.map((g) => g.GroupId)).toEqual([admin, db])
    // Same address, still running.
    expect(after.PrivateIpAddress).toBe(before.PrivateIpAddress)
    expect(after.State?.Name).toBe("running")
    const byGroup = async (g: string) =>
      ((await ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "instance.group-id", Values: [g] }] }))).Reservations ?? []).flatMap((r) => r.Instances!.map((i) => i.InstanceId))
    expect(await byGroup(db)).toEqual([id])
    expect(await byGroup(web)).toEqual([])

    // The Attribute=groupSet form with one group.
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Attribute: "groupSet", Value: db }))
    expect(await groupSet(id)).toEqual([`gs-db/${db}`])

    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: ["sg-0badc0de"] })))).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: ["web"] })))).toBe("InvalidGroupId.Malformed 400")
    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [admin], DryRun: true })))).toBe("DryRunOperation 412")
    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: "i-00000000", Groups: [admin] })))).toBe("InvalidInstanceID.NotFound 400")
    // Another account's group is not this account's to use.
    const other = await import("../support/db.js").then((m) => m.Database.createAccount(server.dataDir, "gs-other"))
    const theirs = (await server.client(other.credentials).send(new CreateSecurityGroupCommand({ GroupName: "gs-theirs", Description: "x" }))).GroupId!
    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [theirs] })))).toBe("InvalidGroup.NotFound 400")
    expect(await groupSet(id)).toEqual([`gs-db/${db}`])

    // It keeps its address in web's network: web is still in use.
    expect(await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupId: web })))).toBe("DependencyViolation 400")
    expect(await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupId: admin })))).toBe("ok")

    // In the journal: a restart keeps the move.
    await server.stop(false)
    server = await TestServer.start({ dataDir: server.dataDir })
    ec2 = server.client()
    expect(await groupSet(id)).toEqual([`gs-db/${db}`])
    expect((await describeOne(id)).SecurityGroups!.map((g) => g.GroupName)).toEqual(["gs-db"])

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))
    expect(await codeOf(ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: id, Groups: [db] })))).toBe("IncorrectInstanceState 400")
  })
})
