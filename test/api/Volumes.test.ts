/**
 * Volumes, snapshots and EBS-backed stop/start through the AWS SDK v3, with its own waiters, on a
 * simulated cloud whose storage controller takes real (short) times; and a restart that keeps them.
 */
import {
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateTagsCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeSnapshotAttributeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumeStatusCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  type EC2Client,
  ModifySnapshotAttributeCommand,
  RegisterImageCommand,
  RunInstancesCommand,
  StartInstancesCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceStopped,
  waitUntilSnapshotCompleted,
  waitUntilVolumeAvailable,
  waitUntilVolumeInUse
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { storageConfig } from "../support/storage.js"
import { codeOf, machineImage } from "./client.js"

const wait = { maxWaitTime: 30, minDelay: 1, maxDelay: 1 }

let server: TestServer.TestServer
let ec2: EC2Client
beforeAll(async () => {
  server = await TestServer.start({ config: storageConfig() })
  ec2 = server.client()
})
afterAll(async () => {
  await server?.stop()
})

const volumes = async (filters: Array<{ Name: string; Values: Array<string> }> = []) =>
  (await ec2.send(new DescribeVolumesCommand({ Filters: filters }))).Volumes ?? []

describe("volumes through the SDK", () => {
  it("create (tags at creation), describe with filters and pages, attach, detach, delete; errors as EC2 names them", async () => {
    const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a", Size: 5, TagSpecifications: [{ ResourceType: "volume", Tags: [{ Key: "app", Value: "db" }] }] }))
    expect(v).toMatchObject({ State: "creating", Size: 5, AvailabilityZone: "euca-1a", Tags: [{ Key: "app", Value: "db" }] })
    const id = v.VolumeId!
    expect(id).toMatch(/^vol-[0-9a-f]{8}$/)
    await waitUntilVolumeAvailable({ client: ec2, ...wait }, { VolumeIds: [id] })

    // Five more small ones in the other zone, for filters and pagination.
    for (let k = 0; k < 5; k++) await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1b", Size: 1 }))
    expect((await volumes([{ Name: "tag:app", Values: ["db"] }])).map((x) => x.VolumeId)).toEqual([id])
    expect(await volumes([{ Name: "availability-zone", Values: ["euca-1b"] }])).toHaveLength(5)
    expect((await volumes([{ Name: "status", Values: ["available"] }])).map((x) => x.VolumeId)).toContain(id)
    const page1 = await ec2.send(new DescribeVolumesCommand({ MaxResults: 5 }))
    expect(page1.Volumes).toHaveLength(5)
    const page2 = await ec2.send(new DescribeVolumesCommand({ MaxResults: 5, NextToken: page1.NextToken }))
    expect(page2.Volumes).toHaveLength(1)
    expect(page2.NextToken).toBeUndefined()
    expect(await codeOf(ec2.send(new DescribeVolumesCommand({ VolumeIds: ["vol-00000000"] })))).toBe("InvalidVolume.NotFound 400")
    expect(await codeOf(ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "colour", Values: ["x"] }] })))).toBe("InvalidParameterValue 400")
    // The storage controller of euca-1a holds 60 GiB: 5 are taken.
    expect(await codeOf(ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a", Size: 56 })))).toBe("InsufficientVolumeCapacity 500")
    expect(await codeOf(ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a" })))).toBe("MissingParameter 400")

    const emi = await machineImage(ec2)
    const run = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: "euca-1a" } }))
    const inst = run.Instances![0]!.InstanceId!
    const other = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: "euca-1b" } }))).Instances![0]!.InstanceId!
    await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: [inst, other] })
    expect(await codeOf(ec2.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: other, Device: "/dev/sdf" })))).toBe("InvalidVolume.ZoneMismatch 400")
    expect(await codeOf(ec2.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: inst, Device: "/dev/sda1" })))).toBe("InvalidParameterValue 400")
    const att = await ec2.send(new AttachVolumeCommand({ VolumeId: id, InstanceId: inst, Device: "/dev/sdf" }))
    expect(att).toMatchObject({ VolumeId: id, InstanceId: inst, Device: "/dev/sdf", State: "attaching" })
    // in-use from the start of the attach (as on EC2); the attachment itself says when it is done.
    await waitUntilVolumeInUse({ client: ec2, ...wait }, { VolumeIds: [id] })
    for (let k = 0; k < 50 && (await volumes([{ Name: "attachment.status", Values: ["attached"] }])).length === 0; k++) await new Promise((r) => setTimeout(r, 100))
    const [inUse] = await volumes([{ Name: "attachment.instance-id", Values: [inst] }])
    expect(inUse).toMatchObject({ VolumeId: id, State: "in-use", Attachments: [{ InstanceId: inst, Device: "/dev/sdf", State: "attached", DeleteOnTermination: false }] })
    const shown = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst] }))).Reservations![0]!.Instances![0]!
    expect(shown.BlockDeviceMappings).toEqual([{ DeviceName: "/dev/sdf", Ebs: expect.objectContaining({ VolumeId: id, Status: "attached", DeleteOnTermination: false }) }])
    expect(shown.RootDeviceType).toBe("instance-store")
    expect(await codeOf(ec2.send(new DeleteVolumeCommand({ VolumeId: id })))).toBe("VolumeInUse 400")
    expect(await codeOf(ec2.send(new StopInstancesCommand({ InstanceIds: [inst] })))).toBe("UnsupportedOperation 400")
    const status = await ec2.send(new DescribeVolumeStatusCommand({ VolumeIds: [id] }))
    expect(status.VolumeStatuses).toMatchObject([{ VolumeId: id, AvailabilityZone: "euca-1a", VolumeStatus: { Status: "ok" } }])

    expect(await ec2.send(new DetachVolumeCommand({ VolumeId: id }))).toMatchObject({ State: "detaching", InstanceId: inst })
    await waitUntilVolumeAvailable({ client: ec2, ...wait }, { VolumeIds: [id] })
    expect(await codeOf(ec2.send(new DetachVolumeCommand({ VolumeId: id })))).toBe("IncorrectState 400")
    await ec2.send(new DeleteVolumeCommand({ VolumeId: id }))
    expect(await codeOf(ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] })))).toBe("InvalidVolume.NotFound 400")
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [inst, other] }))
  })

  it("snapshots: completed with progress, shared by createVolumePermission, restored; an EBS image from one stops and starts", async () => {
    const v = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a", Size: 4 }))
    await waitUntilVolumeAvailable({ client: ec2, ...wait }, { VolumeIds: [v.VolumeId!] })
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: v.VolumeId!, Description: "root fs", TagSpecifications: [{ ResourceType: "snapshot", Tags: [{ Key: "k", Value: "v" }] }] }))
    expect(snap).toMatchObject({ State: "pending", Progress: "0%", VolumeSize: 4, Description: "root fs", OwnerId: server.credentials && expect.any(String) })
    const sid = snap.SnapshotId!
    await waitUntilSnapshotCompleted({ client: ec2, ...wait }, { SnapshotIds: [sid] })
    const done = (await ec2.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!
    expect(done).toMatchObject([{ SnapshotId: sid, State: "completed", Progress: "100%", Tags: [{ Key: "k", Value: "v" }] }])
    expect((await ec2.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ["all"] }))).Snapshots).toEqual([])
    await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: sid, Attribute: "createVolumePermission", CreateVolumePermission: { Add: [{ Group: "all" }, { UserId: "123456789012" }] } }))
    expect((await ec2.send(new DescribeSnapshotAttributeCommand({ SnapshotId: sid, Attribute: "createVolumePermission" }))).CreateVolumePermissions).toEqual([
      { Group: "all" },
      { UserId: "123456789012" }
    ])
    expect((await ec2.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ["all"] }))).Snapshots!.map((x) => x.SnapshotId)).toEqual([sid])
    await ec2.send(new ModifySnapshotAttributeCommand({ SnapshotId: sid, Attribute: "createVolumePermission", CreateVolumePermission: { Remove: [{ Group: "all" }] } }))
    expect((await ec2.send(new DescribeSnapshotsCommand({ RestorableByUserIds: ["all"] }))).Snapshots).toEqual([])
    expect(await codeOf(ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1b", SnapshotId: sid, Size: 2 })))).toBe("InvalidParameterValue 400")
    const restored = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1b", SnapshotId: sid }))
    expect(restored).toMatchObject({ Size: 4, SnapshotId: sid, AvailabilityZone: "euca-1b" })

    // An EBS-backed image whose root is the snapshot.
    const reg = await ec2.send(new RegisterImageCommand({
      Name: "ebs-root",
      RootDeviceName: "/dev/sda1",
      BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: sid, DeleteOnTermination: true } }]
    }))
    const image = (await ec2.send(new DescribeImagesCommand({ ImageIds: [reg.ImageId!] }))).Images![0]!
    expect(image).toMatchObject({ RootDeviceType: "ebs", RootDeviceName: "/dev/sda1", BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: expect.objectContaining({ SnapshotId: sid }) }] })
    expect(await codeOf(ec2.send(new DeleteSnapshotCommand({ SnapshotId: sid })))).toBe("InvalidSnapshot.InUse 400")

    const run = await ec2.send(new RunInstancesCommand({
      ImageId: reg.ImageId!,
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: "euca-1a" },
      BlockDeviceMappings: [{ DeviceName: "/dev/sdb", Ebs: { VolumeSize: 2, DeleteOnTermination: false } }]
    }))
    const id = run.Instances![0]!.InstanceId!
    expect(run.Instances![0]).toMatchObject({ RootDeviceType: "ebs", RootDeviceName: "/dev/sda1" })
    await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: [id] })
    const mine = await volumes([{ Name: "attachment.instance-id", Values: [id] }])
    expect(mine.map((x) => [x.Attachments![0]!.Device, x.Size, x.SnapshotId, x.Attachments![0]!.DeleteOnTermination])).toEqual([
      ["/dev/sda1", 4, sid, true],
      ["/dev/sdb", 2, "", false]
    ])
    const root = mine[0]!.VolumeId!
    const data = mine[1]!.VolumeId!
    const before = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!
    expect(await codeOf(ec2.send(new DetachVolumeCommand({ VolumeId: root })))).toBe("OperationNotPermitted 400")

    const stop = await ec2.send(new StopInstancesCommand({ InstanceIds: [id] }))
    expect(stop.StoppingInstances).toEqual([{ InstanceId: id, PreviousState: { Code: 16, Name: "running" }, CurrentState: { Code: 64, Name: "stopping" } }])
    await waitUntilInstanceStopped({ client: ec2, ...wait }, { InstanceIds: [id] })
    const stopped = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!
    expect(stopped).toMatchObject({ State: { Code: 80, Name: "stopped" }, PrivateIpAddress: before.PrivateIpAddress })
    expect(stopped.BlockDeviceMappings?.map((b) => b.Ebs?.VolumeId)).toEqual([root, data])
    const start = await ec2.send(new StartInstancesCommand({ InstanceIds: [id] }))
    expect(start.StartingInstances).toEqual([{ InstanceId: id, PreviousState: { Code: 80, Name: "stopped" }, CurrentState: { Code: 0, Name: "pending" } }])
    await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: [id] })

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))
    for (let k = 0; k < 50 && (await volumes([{ Name: "volume-id", Values: [data] }]))[0]?.State !== "available"; k++) await new Promise((r) => setTimeout(r, 200))
    // The root went with the instance; the data volume stays, available.
    expect((await volumes()).some((x) => x.VolumeId === root)).toBe(false)
    expect((await volumes([{ Name: "volume-id", Values: [data] }]))[0]).toMatchObject({ State: "available", Attachments: [] })
    await ec2.send(new CreateTagsCommand({ Resources: [data], Tags: [{ Key: "kept", Value: "yes" }] }))
    expect((await volumes([{ Name: "tag:kept", Values: ["yes"] }])).map((x) => x.VolumeId)).toEqual([data])
  })
})

describe("a restart keeps volumes, snapshots and stopped instances", () => {
  it("replays them from the journal; work under way completes", async () => {
    let s2 = await TestServer.start({ config: storageConfig() })
    const dataDir = s2.dataDir
    let c = s2.client()
    const v = await c.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a", Size: 3 }))
    await waitUntilVolumeAvailable({ client: c, ...wait }, { VolumeIds: [v.VolumeId!] })
    const snap = await c.send(new CreateSnapshotCommand({ VolumeId: v.VolumeId! }))
    await waitUntilSnapshotCompleted({ client: c, ...wait }, { SnapshotIds: [snap.SnapshotId!] })
    const img = await c.send(new RegisterImageCommand({ Name: "ebs", BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: snap.SnapshotId! } }] }))
    const id = (await c.send(new RunInstancesCommand({ ImageId: img.ImageId!, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!
    await waitUntilInstanceRunning({ client: c, ...wait }, { InstanceIds: [id] })
    await c.send(new StopInstancesCommand({ InstanceIds: [id] }))
    await waitUntilInstanceStopped({ client: c, ...wait }, { InstanceIds: [id] })
    // A second volume still being made when the server stops.
    const w = await c.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1b", Size: 2 }))
    const beforeVolumes = (await c.send(new DescribeVolumesCommand({}))).Volumes!.map((x) => [x.VolumeId, x.State, x.Size])

    await s2.stop(false)
    s2 = await TestServer.start({ config: storageConfig(), dataDir })
    c = s2.client()
    expect((await c.send(new DescribeVolumesCommand({}))).Volumes!.map((x) => [x.VolumeId, x.State, x.Size])).toEqual(beforeVolumes)
    expect((await c.send(new DescribeSnapshotsCommand({ OwnerIds: ["self"] }))).Snapshots!.map((x) => [x.SnapshotId, x.State])).toEqual([[snap.SnapshotId, "completed"]])
    expect((await c.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.State?.Name).toBe("stopped")
    await waitUntilVolumeAvailable({ client: c, ...wait }, { VolumeIds: [w.VolumeId!] })
    await c.send(new StartInstancesCommand({ InstanceIds: [id] }))
    await waitUntilInstanceRunning({ client: c, ...wait }, { InstanceIds: [id] })
    await s2.stop(true)
  })
})
