/** Tags: create, overwrite, delete (by key, by key and value, all), describe with filters and pages, on every taggable kind. */
import {
  AllocateAddressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeAddressesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  type DescribeTagsCommandInput,
  type EC2Client,
  RegisterImageCommand,
  RunInstancesCommand,
  paginateDescribeTags
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client
const r: Record<"instance" | "group" | "image" | "key" | "eip", string> = { instance: "", group: "", image: "", key: "", eip: "" }

beforeAll(async () => {
  server = await TestServer.start()
  ec2 = server.client()
  r.instance = (await ec2.send(new RunInstancesCommand({ ImageId: await machineImage(ec2), MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!
  r.group = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "tagged", Description: "tagged" }))).GroupId!
  r.image = (await ec2.send(new RegisterImageCommand({ Name: "tagged", ImageLocation: "b/tagged.manifest.xml" }))).ImageId!
  r.key = (await ec2.send(new CreateKeyPairCommand({ KeyName: "tagged" }))).KeyPairId!
  r.eip = (await ec2.send(new AllocateAddressCommand({}))).AllocationId!
})
afterAll(async () => {
  await server?.stop()
})

const described = async (input: DescribeTagsCommandInput = {}) =>
  (await ec2.send(new DescribeTagsCommand(input))).Tags!.map((t) => `${t.ResourceType} ${t.ResourceId} ${t.Key}=${t.Value}`).sort()

describe("tags", () => {
  it("tags every kind of resource and shows the tags in DescribeTags and each Describe*", async () => {
    const ids = Object.values(r)
    await ec2.send(new CreateTagsCommand({ Resources: ids, Tags: [{ Key: "env", Value: "prod" }, { Key: "team", Value: "" }] }))
    expect(await described({ Filters: [{ Name: "key", Values: ["env"] }] })).toEqual(
      [`instance ${r.instance}`, `security-group ${r.group}`, `image ${r.image}`, `key-pair ${r.key}`, `elastic-ip ${r.eip}`].map((x) => `${x} env=prod`).sort()
    )
    const both = [{ Key: "env", Value: "prod" }, { Key: "team", Value: "" }]
    const inst = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [r.instance] }))).Reservations![0]!.Instances![0]!
    expect(inst.Tags).toEqual(both)
    expect((await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [r.group] }))).SecurityGroups![0]!.Tags).toEqual(both)
    expect((await ec2.send(new DescribeImagesCommand({ ImageIds: [r.image] }))).Images![0]!.Tags).toEqual(both)
    expect((await ec2.send(new DescribeKeyPairsCommand({ KeyPairIds: [r.key] }))).KeyPairs![0]!.Tags).toEqual(both)
    expect((await ec2.send(new DescribeAddressesCommand({ AllocationIds: [r.eip] }))).Addresses![0]!.Tags).toEqual(both)
    // Tag filters on the other Describe actions.
    expect((await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "tag:env", Values: ["prod"] }] }))).SecurityGroups!.map((g) => g.GroupId)).toEqual([r.group])
    expect((await ec2.send(new DescribeImagesCommand({ Filters: [{ Name: "tag-key", Values: ["team"] }] }))).Images!.map((i) => i.ImageId)).toEqual([r.image])
    expect((await ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: "tag:env", Values: ["p*"] }] }))).KeyPairs!.map((k) => k.KeyPairId)).toEqual([r.key])
    expect((await ec2.send(new DescribeAddressesCommand({ Filters: [{ Name: "tag:env", Values: ["dev"] }] }))).Addresses).toEqual([])
  })

  it("overwrites values, filters by type, key, value and id, pages", async () => {
    await ec2.send(new CreateTagsCommand({ Resources: [r.instance], Tags: [{ Key: "env", Value: "staging" }] }))
    expect(await described({ Filters: [{ Name: "resource-id", Values: [r.instance] }] })).toEqual([`instance ${r.instance} env=staging`, `instance ${r.instance} team=`])
    expect(await described({ Filters: [{ Name: "resource-type", Values: ["security-group", "key-pair"] }, { Name: "key", Values: ["env"] }] })).toEqual(
      [`security-group ${r.group} env=prod`, `key-pair ${r.key} env=prod`].sort()
    )
    expect(await described({ Filters: [{ Name: "value", Values: ["stag*"] }] })).toEqual([`instance ${r.instance} env=staging`])
    expect(await described({ Filters: [{ Name: "value", Values: [""] }] })).toHaveLength(5)

    const every = await described()
    expect(every).toHaveLength(10)
    const pages: Array<number> = []
    const seen: Array<string> = []
    for await (const page of paginateDescribeTags({ client: ec2, pageSize: 5 }, {})) {
      pages.push(page.Tags!.length)
      seen.push(...page.Tags!.map((t) => `${t.ResourceType} ${t.ResourceId} ${t.Key}=${t.Value}`))
    }
    expect(pages).toEqual([5, 5])
    expect(seen.sort()).toEqual(every)
    expect(await codeOf(ec2.send(new DescribeTagsCommand({ Filters: [{ Name: "colour", Values: ["x"] }] })))).toBe("InvalidParameterValue 400")
  })

  it("deletes by key, by key and matching value only, or all of a resource's tags", async () => {
    await ec2.send(new DeleteTagsCommand({ Resources: [r.group], Tags: [{ Key: "env", Value: "not-the-value" }] }))
    expect(await described({ Filters: [{ Name: "resource-id", Values: [r.group] }] })).toEqual([`security-group ${r.group} env=prod`, `security-group ${r.group} team=`])
    await ec2.send(new DeleteTagsCommand({ Resources: [r.group], Tags: [{ Key: "env", Value: "prod" }] }))
    await ec2.send(new DeleteTagsCommand({ Resources: [r.image], Tags: [{ Key: "team" }] }))
    await ec2.send(new DeleteTagsCommand({ Resources: [r.key] }))
    expect(await described({ Filters: [{ Name: "resource-id", Values: [r.group, r.image, r.key] }] })).toEqual([`image ${r.image} env=prod`, `security-group ${r.group} team=`])
    // Deleting tags that are not there is not an error.
    await ec2.send(new DeleteTagsCommand({ Resources: [r.key], Tags: [{ Key: "never" }] }))
  })

  it("rejects reserved and oversized keys, unknown and malformed resource ids, all-or-nothing", async () => {
    const before = await described()
    const tag = (Resources: Array<string>, Key: string, Value = "v") => codeOf(ec2.send(new CreateTagsCommand({ Resources, Tags: [{ Key, Value }] })))
    expect(await tag([r.instance], "aws:owner")).toBe("InvalidParameterValue 400")
    expect(await tag([r.instance], "k".repeat(129))).toBe("InvalidParameterValue 400")
    expect(await tag([r.instance], "long", "v".repeat(257))).toBe("InvalidParameterValue 400")
    expect(await tag(["i-0000dead"], "k")).toBe("InvalidInstanceID.NotFound 400")
    expect(await tag(["sg-0000dead"], "k")).toBe("InvalidGroup.NotFound 400")
    expect(await tag(["vol-12345678"], "k")).toBe("InvalidVolume.NotFound 400")
    expect(await tag(["subnet-12345678"], "k")).toBe("InvalidID 400")
    // One bad resource among good ones: nothing is tagged.
    expect(await tag([r.instance, "i-0000dead"], "partial")).toBe("InvalidInstanceID.NotFound 400")
    expect(await described()).toEqual(before)
    expect(await codeOf(ec2.send(new DeleteTagsCommand({ Resources: ["subnet-12345678"] })))).toBe("InvalidID 400")
    // Unicode keys and values are fine.
    await ec2.send(new CreateTagsCommand({ Resources: [r.instance], Tags: [{ Key: "名前", Value: "ウェブ ✓" }] }))
    expect(await described({ Filters: [{ Name: "key", Values: ["名前"] }] })).toEqual([`instance ${r.instance} 名前=ウェブ ✓`])
  })
})
