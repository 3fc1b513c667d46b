/**
 * Image attributes with the AWS SDK: launch permission for another account and for `all`, the
 * description, reset; only the owner changes them; and the reserved-instance listings, empty.
 */
import {
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  DescribeReservedInstancesCommand,
  DescribeReservedInstancesOfferingsCommand,
  type EC2Client,
  ModifyImageAttributeCommand,
  RegisterImageCommand,
  ResetImageAttributeCommand,
  RunInstancesCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Database } from "../support/db.js"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client

beforeAll(async () => {
  server = await TestServer.start()
  ec2 = server.client()
})
afterAll(async () => {
  await server?.stop()
})

describe("image attributes", () => {
  it("shares an image with one account, then with all, changes its description, resets; only the owner may", async () => {
    const alice = await Database.createAccount(server.dataDir, "alice")
    const bob = await Database.createAccount(server.dataDir, "bob")
    const a = server.client(alice.credentials)
    const b = server.client(bob.credentials)
    const bobId = bob.account.id
    const { ImageId } = await a.send(new RegisterImageCommand({ Name: "alices", ImageLocation: "alice/disk.manifest.xml", Description: "first" }))
    const id = ImageId!
    const seenByBob = async () => ((await b.send(new DescribeImagesCommand({ Filters: [{ Name: "image-id", Values: [id] }] }))).Images ?? []).map((i) => i.ImageId)
    expect(await seenByBob()).toEqual([])
    expect(await codeOf(b.send(new RunInstancesCommand({ ImageId: id, MinCount: 1, MaxCount: 1 })))).toBe("InvalidAMIID.NotFound 400")

    await a.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ UserId: bobId }] } }))
    expect(await seenByBob()).toEqual([id])
    const perms = (await a.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" }))).LaunchPermissions
    expect(perms).toEqual([{ UserId: bobId }])
    const launched = (await b.send(new RunInstancesCommand({ ImageId: id, MinCount: 1, MaxCount: 1 }))).Instances!
    expect(launched).toHaveLength(1)
    // Bob sees it but does not own it.
    expect(await codeOf(b.send(new ModifyImageAttributeCommand({ ImageId: id, Description: { Value: "mine now" } })))).toBe("AuthFailure 401")
    expect(await codeOf(ec2.send(new ModifyImageAttributeCommand({ ImageId: id, Description: { Value: "x" } })))).toBe("InvalidAMIID.NotFound 400")

    await a.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Remove: [{ UserId: bobId }], Add: [{ Group: "all" }] } }))
    expect((await a.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" }))).LaunchPermissions).toEqual([{ Group: "all" }])
    expect((await ec2.send(new DescribeImagesCommand({ ImageIds: [id] }))).Images?.[0]?.Public).toBe(true)

    await a.send(new ModifyImageAttributeCommand({ ImageId: id, Description: { Value: "second" } }))
    expect((await a.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: "description" }))).Description?.Value).toBe("second")

    await a.send(new ResetImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" }))
    expect((await a.send(new DescribeImageAttributeCommand({ ImageId: id, Attribute: "launchPermission" }))).LaunchPermissions).toEqual([])
    expect(await seenByBob()).toEqual([])

    expect(await codeOf(a.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ Group: "friends" as "all" }] } })))).toBe("InvalidParameterValue 400")
    expect(await codeOf(a.send(new ModifyImageAttributeCommand({ ImageId: id, LaunchPermission: { Add: [{ UserId: "bob" }] } })))).toBe("InvalidParameterValue 400")
    expect(await codeOf(a.send(new ResetImageAttributeCommand({ ImageId: id, Attribute: "description" as "launchPermission" })))).toBe("InvalidParameterValue 400")
    // The cloud's images are the cloud's.
    expect(await codeOf(ec2.send(new ModifyImageAttributeCommand({ ImageId: await machineImage(ec2), Description: { Value: "mine" } })))).toBe("AuthFailure 401")
  })

  it("reserved instances and their offerings are empty lists, as in Eucalyptus", async () => {
    expect((await ec2.send(new DescribeReservedInstancesCommand({}))).ReservedInstances).toEqual([])
    expect((await ec2.send(new DescribeReservedInstancesOfferingsCommand({ InstanceType: "m1.small" }))).ReservedInstancesOfferings).toEqual([])
  })
})
