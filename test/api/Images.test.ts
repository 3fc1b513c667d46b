/** Images: DescribeImages (owners, ids, filters), RegisterImage, DeregisterImage, DescribeImageAttribute. */
import {
  DeregisterImageCommand,
  DescribeImageAttributeCommand,
  DescribeImagesCommand,
  type DescribeImagesCommandInput,
  DescribeInstancesCommand,
  type EC2Client,
  RegisterImageCommand,
  RunInstancesCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { codeOf } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client

beforeAll(async () => {
  server = await TestServer.start()
  ec2 = server.client()
})
afterAll(async () => {
  await server?.stop()
})

const names = async (input: DescribeImagesCommandInput) => ((await ec2.send(new DescribeImagesCommand(input))).Images ?? []).map((i) => i.Name!).sort()

describe("images", () => {
  it("describes the cloud's images by owner, id and filters", async () => {
    const images = (await ec2.send(new DescribeImagesCommand({}))).Images!
    expect(images.map((i) => [i.Name, i.ImageType, i.ImageOwnerAlias, i.Public, i.State]).sort()).toEqual([
      ["debian-12-x86_64", "machine", "eucalyptus", true, "available"],
      ["initrd-6.1.0-xen", "ramdisk", "eucalyptus", true, "available"],
      ["ttylinux-x86_64", "machine", "eucalyptus", true, "available"],
      ["vmlinuz-6.1.0-xen", "kernel", "eucalyptus", true, "available"]
    ])
    const kernel = images.find((i) => i.ImageType === "kernel")!
    const ramdisk = images.find((i) => i.ImageType === "ramdisk")!
    const debian = images.find((i) => i.Name === "debian-12-x86_64")!
    expect(kernel.ImageId).toMatch(/^eki-[0-9a-f]{8}$/)
    expect(ramdisk.ImageId).toMatch(/^eri-[0-9a-f]{8}$/)
    expect(debian.ImageId).toMatch(/^emi-[0-9a-f]{8}$/)
    expect([debian.KernelId, debian.RamdiskId]).toEqual([kernel.ImageId, ramdisk.ImageId])
    expect(debian.ImageLocation).toBe("eucalyptus/debian-12-x86_64.manifest.xml")
    expect(debian.CreationDate).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/)

    expect(await names({ Owners: ["eucalyptus"] })).toHaveLength(4)
    expect(await names({ Owners: ["amazon"] })).toHaveLength(4)
    expect(await names({ Owners: ["self"] })).toEqual([])
    expect(await names({ ImageIds: [debian.ImageId!] })).toEqual(["debian-12-x86_64"])
    expect(await names({ Filters: [{ Name: "image-type", Values: ["machine"] }] })).toEqual(["debian-12-x86_64", "ttylinux-x86_64"])
    expect(await names({ Filters: [{ Name: "name", Values: ["*linu?-*"] }] })).toEqual(["ttylinux-x86_64", "vmlinuz-6.1.0-xen"])
    expect(await names({ Filters: [{ Name: "kernel-id", Values: [kernel.ImageId!] }, { Name: "name", Values: ["tty*"] }] })).toEqual(["ttylinux-x86_64"])
    expect(await names({ Filters: [{ Name: "is-public", Values: ["true"] }, { Name: "architecture", Values: ["x86_64"] }] })).toHaveLength(4)
    expect(await names({ Filters: [{ Name: "is-public", Values: ["false"] }] })).toEqual([])

    expect(await codeOf(ec2.send(new DescribeImagesCommand({ ImageIds: ["emi-0000ffff"] })))).toBe("InvalidAMIID.NotFound 400")
    expect(await codeOf(ec2.send(new DescribeImagesCommand({ ImageIds: ["image-1"] })))).toBe("InvalidAMIID.Malformed 400")
    expect(await codeOf(ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "colour", Values: ["blue"] }] })))).toBe("InvalidParameterValue 400")
  })

  it("registers images (machine, kernel by its manifest), launches from them, answers attributes, deregisters", async () => {
    const kernel = (await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "image-type", Values: ["kernel"] }] }))).Images![0]!.ImageId!
    const ramdisk = (await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "image-type", Values: ["ramdisk"] }] }))).Images![0]!.ImageId!
    const mine = await ec2.send(
      new RegisterImageCommand({ Name: "my-app (v1.2)", ImageLocation: "bucket/my-app.manifest.xml", Description: "my application", KernelId: kernel, RamdiskId: ramdisk, Architecture: "x86_64" })
    )
    expect(mine.ImageId).toMatch(/^emi-[0-9a-f]{8}$/)
    const myKernel = await ec2.send(new RegisterImageCommand({ Name: "my-kernel", ImageLocation: "bucket/vmlinuz-6.6.manifest.xml" }))
    expect(myKernel.ImageId).toMatch(/^eki-[0-9a-f]{8}$/)

    const self = (await ec2.send(new DescribeImagesCommand({ Owners: ["self"] }))).Images!
    expect(self.map((i) => [i.ImageId, i.Name, i.ImageType, i.Public, i.Description]).sort()).toEqual(
      [
        [mine.ImageId, "my-app (v1.2)", "machine", false, "my application"],
        [myKernel.ImageId, "my-kernel", "kernel", false, ""]
      ].sort()
    )
    expect(self.find((i) => i.ImageId === mine.ImageId)?.OwnerId).toMatch(/^\d{12}$/)
    expect(await names({ Owners: ["self"], Filters: [{ Name: "image-type", Values: ["machine"] }] })).toEqual(["my-app (v1.2)"])

    expect(await codeOf(ec2.send(new RegisterImageCommand({ Name: "my-app (v1.2)", ImageLocation: "bucket/other.manifest.xml" })))).toBe("InvalidAMIName.Duplicate 400")
    expect(await codeOf(ec2.send(new RegisterImageCommand({ Name: "no-location" })))).toBe("MissingParameter 400")
    expect(await codeOf(ec2.send(new RegisterImageCommand({ Name: "bad-kernel", ImageLocation: "b/x.manifest.xml", KernelId: "eki-0000ffff" })))).toBe("InvalidAMIID.NotFound 400")
    expect(await codeOf(ec2.send(new RegisterImageCommand({ Name: "a kernel as ramdisk", ImageLocation: "b/y.manifest.xml", RamdiskId: kernel })))).toBe("InvalidAMIID.NotFound 400")
    expect(await codeOf(ec2.send(new RegisterImageCommand({ Name: "bad <name>", ImageLocation: "b/z.manifest.xml" })))).toBe("InvalidParameterValue 400")

    // Launch from the new image: the instance carries its kernel and ramdisk.
    const run = await ec2.send(new RunInstancesCommand({ ImageId: mine.ImageId, MinCount: 1, MaxCount: 1 }))
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [run.Instances![0]!.InstanceId!] }))).Reservations![0]!.Instances![0]!
    expect([inst.ImageId, inst.KernelId, inst.RamdiskId]).toEqual([mine.ImageId, kernel, ramdisk])
    // A kernel image is not something to run.
    expect(await codeOf(ec2.send(new RunInstancesCommand({ ImageId: myKernel.ImageId, MinCount: 1, MaxCount: 1 })))).toBe("InvalidParameterValue 400")

    const attr = (Attribute: string) => ec2.send(new DescribeImageAttributeCommand({ ImageId: mine.ImageId, Attribute: Attribute as never }))
    expect((await attr("description")).Description?.Value).toBe("my application")
    expect((await attr("kernel")).KernelId?.Value).toBe(kernel)
    expect((await attr("ramdisk")).RamdiskId?.Value).toBe(ramdisk)
    expect((await attr("launchPermission")).LaunchPermissions).toEqual([])
    expect((await attr("blockDeviceMapping")).BlockDeviceMappings).toEqual([])
    expect((await attr("productCodes")).ProductCodes).toEqual([])
    const publicAttr = await ec2.send(new DescribeImageAttributeCommand({ ImageId: kernel, Attribute: "launchPermission" }))
    expect(publicAttr.LaunchPermissions).toEqual([{ Group: "all" }])
    expect(await codeOf(attr("colour"))).toBe("InvalidParameterValue 400")
    expect(await codeOf(ec2.send(new DescribeImageAttributeCommand({ ImageId: "emi-0000ffff", Attribute: "description" })))).toBe("InvalidAMIID.NotFound 400")

    const gone = await ec2.send(new DeregisterImageCommand({ ImageId: mine.ImageId }))
    expect(gone.$metadata.httpStatusCode).toBe(200)
    expect(await names({ Owners: ["self"] })).toEqual(["my-kernel"])
    expect(await codeOf(ec2.send(new DeregisterImageCommand({ ImageId: mine.ImageId })))).toBe("InvalidAMIID.NotFound 400")
    expect(await codeOf(ec2.send(new RunInstancesCommand({ ImageId: mine.ImageId, MinCount: 1, MaxCount: 1 })))).toBe("InvalidAMIID.NotFound 400")
    // The cloud's own images are not the user's to remove.
    expect(await codeOf(ec2.send(new DeregisterImageCommand({ ImageId: kernel })))).toBe("UnauthorizedOperation 403")
    // The name is free again once deregistered.
    await ec2.send(new RegisterImageCommand({ Name: "my-app (v1.2)", ImageLocation: "bucket/my-app.manifest.xml" }))
  })
})
