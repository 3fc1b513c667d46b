/**
 * Elastic addresses in both forms clients use: EC2-classic (PublicIp) and VPC-style
 * (AllocationId / AssociationId). Allocate, associate, move between instances, disassociate,
 * release; the instance's own public address comes back when the elastic one leaves.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  DisassociateAddressCommand,
  type EC2Client,
  ReleaseAddressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client
let a: string
let b: string

const wait = { maxWaitTime: 30, minDelay: 1, maxDelay: 1 }

beforeAll(async () => {
  // Eight public addresses: enough to see the pool run out.
  server = await TestServer.start({
    config: TestServer.fastConfig({ network: { mode: "MANAGED", subnet: "172.31.0.0/16", addressesPerNetwork: 32, publicIps: ["198.51.100.10-198.51.100.17"] } })
  })
  ec2 = server.client()
  const run = await ec2.send(new RunInstancesCommand({ ImageId: await machineImage(ec2), MinCount: 2, MaxCount: 2 }))
  ;[a, b] = run.Instances!.map((i) => i.InstanceId!) as [string, string]
  await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: [a, b] })
})
afterAll(async () => {
  await server?.stop()
})

const publicIpOf = async (id: string) => (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!.PublicIpAddress
const addresses = async () => (await ec2.send(new DescribeAddressesCommand({}))).Addresses!.map((x) => [x.PublicIp, x.InstanceId ?? null, x.AssociationId ?? null])

describe("elastic addresses", () => {
  it("classic form: PublicIp to associate, move, disassociate and release", async () => {
    const own = await publicIpOf(a)
    expect(own).toMatch(/^198\.51\.100\./)
    const eip = await ec2.send(new AllocateAddressCommand({}))
    expect(eip.PublicIp).toMatch(/^198\.51\.100\.1[0-7]$/)
    expect(eip.Domain).toBe("standard")
    expect(await addresses()).toEqual([[eip.PublicIp, null, null]])

    await ec2.send(new AssociateAddressCommand({ PublicIp: eip.PublicIp, InstanceId: a }))
    expect(await publicIpOf(a)).toBe(eip.PublicIp)
    expect(await addresses()).toEqual([[eip.PublicIp, a, expect.stringMatching(/^eipassoc-/)]])
    // Associating with the instance that has it already changes nothing.
    await ec2.send(new AssociateAddressCommand({ PublicIp: eip.PublicIp, InstanceId: a }))
    // Move: classic clients re-associate without asking; the first instance gets a pool address again.
    await ec2.send(new AssociateAddressCommand({ PublicIp: eip.PublicIp, InstanceId: b }))
    expect(await publicIpOf(b)).toBe(eip.PublicIp)
    const aNow = await publicIpOf(a)
    expect(aNow).toMatch(/^198\.51\.100\./)
    expect(aNow).not.toBe(eip.PublicIp)
    expect(await addresses()).toEqual([[eip.PublicIp, b, expect.stringMatching(/^eipassoc-/)]])

    await ec2.send(new DisassociateAddressCommand({ PublicIp: eip.PublicIp }))
    expect(await addresses()).toEqual([[eip.PublicIp, null, null]])
    expect(await publicIpOf(b)).not.toBe(eip.PublicIp)
    await ec2.send(new ReleaseAddressCommand({ PublicIp: eip.PublicIp }))
    expect(await addresses()).toEqual([])
    expect(await codeOf(ec2.send(new ReleaseAddressCommand({ PublicIp: eip.PublicIp })))).toBe("InvalidAddress.NotFound 400")
  })

  it("VPC form: AllocationId and AssociationId; reassociation only when allowed", async () => {
    const eip = await ec2.send(new AllocateAddressCommand({ Domain: "vpc" }))
    expect(eip.AllocationId).toMatch(/^eipalloc-[0-9a-f]+$/)
    const first = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: a }))
    expect(first.AssociationId).toMatch(/^eipassoc-[0-9a-f]+$/)
    expect(await codeOf(ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: b, AllowReassociation: false })))).toBe("InvalidIPAddress.InUse 400")
    const moved = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: b, AllowReassociation: true }))
    expect(moved.AssociationId).not.toBe(first.AssociationId)
    expect(await publicIpOf(b)).toBe(eip.PublicIp)
    // The old association id is gone with the move.
    expect(await codeOf(ec2.send(new DisassociateAddressCommand({ AssociationId: first.AssociationId })))).toBe("InvalidAssociationID.NotFound 400")

    const filtered = await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: "instance-id", Values: [b] }] }))
    expect(filtered.Addresses!.map((x) => [x.AllocationId, x.AssociationId, x.PrivateIpAddress])).toEqual([[eip.AllocationId, moved.AssociationId, expect.stringMatching(/^172\.31\./)]])
    expect((await ec2.send(new DescribeAddressesCommand({ AllocationIds: [eip.AllocationId!] }))).Addresses).toHaveLength(1)
    expect((await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: "association-id", Values: [moved.AssociationId!] }] }))).Addresses).toHaveLength(1)

    await ec2.send(new DisassociateAddressCommand({ AssociationId: moved.AssociationId }))
    expect(await codeOf(ec2.send(new DisassociateAddressCommand({ AssociationId: moved.AssociationId })))).toBe("InvalidAssociationID.NotFound 400")
    // Releasing an associated address disassociates it first.
    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: a }))
    await ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId }))
    expect(await addresses()).toEqual([])
    expect(await publicIpOf(a)).not.toBe(eip.PublicIp)
    expect(await codeOf(ec2.send(new ReleaseAddressCommand({ AllocationId: eip.AllocationId })))).toBe("InvalidAllocationID.NotFound 400")
  })

  it("answers bad requests with EC2's codes; the pool runs out with AddressLimitExceeded; a terminated instance lets its address go", async () => {
    expect(await codeOf(ec2.send(new AssociateAddressCommand({ PublicIp: "203.0.113.1", InstanceId: a })))).toBe("InvalidAddress.NotFound 400")
    expect(await codeOf(ec2.send(new AssociateAddressCommand({ AllocationId: "eipalloc-00000000", InstanceId: a })))).toBe("InvalidAllocationID.NotFound 400")
    expect(await codeOf(ec2.send(new AssociateAddressCommand({ InstanceId: a })))).toBe("MissingParameter 400")
    expect(await codeOf(ec2.send(new AllocateAddressCommand({ Domain: "moon" as never })))).toBe("InvalidParameterValue 400")
    const eip = await ec2.send(new AllocateAddressCommand({}))
    expect(await codeOf(ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: "i-0000dead" })))).toBe("InvalidInstanceID.NotFound 400")
    expect(await codeOf(ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: "nope" })))).toBe("InvalidInstanceID.Malformed 400")

    // 8 addresses: 2 held by the instances, 1 allocated; 5 more can be allocated, then none.
    const more = []
    for (let k = 0; k < 5; k++) more.push(await ec2.send(new AllocateAddressCommand({})))
    expect(await codeOf(ec2.send(new AllocateAddressCommand({})))).toBe("AddressLimitExceeded 400")
    expect((await ec2.send(new DescribeAddressesCommand({}))).Addresses).toHaveLength(6)
    for (const m of more) await ec2.send(new ReleaseAddressCommand({ AllocationId: m.AllocationId }))

    await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: a }))
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [a] }))
    await waitUntilInstanceTerminated({ client: ec2, ...wait }, { InstanceIds: [a] })
    expect(await addresses()).toEqual([[eip.PublicIp, null, null]])
    expect(await codeOf(ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: a })))).toBe("IncorrectInstanceState 400")
    await ec2.send(new ReleaseAddressCommand({ PublicIp: eip.PublicIp }))
  })
})
