/**
 * Launch templates with the AWS SDK: create, versions from a source version, the default version,
 * RunInstances from a template (its settings under the request's own), describe, delete.
 */
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  CreateSecurityGroupCommand,
  DeleteLaunchTemplateCommand,
  DescribeInstanceAttributeCommand,
  DescribeLaunchTemplatesCommand,
  DescribeLaunchTemplateVersionsCommand,
  type EC2Client,
  ModifyLaunchTemplateCommand,
  RunInstancesCommand,
  TerminateInstancesCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
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

describe("launch templates", () => {
  it("create, version, set the default, launch from it, describe, delete", async () => {
    const emi = await machineImage(ec2)
    const g = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "lt-web", Description: "lt" }))).GroupId!
    const created = (
      await ec2.send(
        new CreateLaunchTemplateCommand({
          LaunchTemplateName: "web",
          VersionDescription: "first",
          LaunchTemplateData: { ImageId: emi, InstanceType: "m1.small", SecurityGroupIds: [g], Placement: { AvailabilityZone: "euca-1b" }, TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "role", Value: "web" }] }], DisableApiTermination: true }
        })
      )
    ).LaunchTemplate!
    expect(created).toMatchObject({ LaunchTemplateName: "web", DefaultVersionNumber: 1, LatestVersionNumber: 1 })
    expect(created.LaunchTemplateId).toMatch(/^lt-[0-9a-f]{17}$/)
    expect(await codeOf(ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: "web", LaunchTemplateData: { InstanceType: "m1.small" } })))).toBe("InvalidLaunchTemplateName.AlreadyExistsException 400")
    expect(await codeOf(ec2.send(new CreateLaunchTemplateCommand({ LaunchTemplateName: "ebs", LaunchTemplateData: { BlockDeviceMappings: [{ DeviceName: "/dev/sdb", Ebs: { VolumeSize: 8 } }] } })))).toBe("UnsupportedOperation 400")

    const v2 = (await ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: "web", SourceVersion: "1", VersionDescription: "bigger", LaunchTemplateData: { InstanceType: "c1.medium", DisableApiTermination: false } }))).LaunchTemplateVersion!
    expect(v2).toMatchObject({ VersionNumber: 2, DefaultVersion: false, LaunchTemplateData: { ImageId: emi, InstanceType: "c1.medium", SecurityGroupIds: [g] } })

    // $Default is version 1: the zone, group, tags and termination protection come from it.
    const one = (await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateName: "web" } }))).Instances![0]!
    expect(one).toMatchObject({ ImageId: emi, InstanceType: "m1.small", Placement: { AvailabilityZone: "euca-1b" } })
    expect(one.SecurityGroups?.map((x) => x.GroupId)).toEqual([g])
    expect(one.Tags).toEqual([{ Key: "role", Value: "web" }])
    expect((await ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: one.InstanceId!, Attribute: "disableApiTermination" }))).DisableApiTermination?.Value).toBe(true)

    // $Latest, and the request's own parameters over the template's.
    const two = (await ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: "euca-1a" }, LaunchTemplate: { LaunchTemplateId: created.LaunchTemplateId!, Version: "$Latest" } }))).Instances![0]!
    expect(two).toMatchObject({ InstanceType: "c1.medium", Placement: { AvailabilityZone: "euca-1a" } })
    expect(await codeOf(ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateName: "web", Version: "7" } })))).toBe("InvalidLaunchTemplateId.VersionNotFound 400")
    expect(await codeOf(ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1, LaunchTemplate: { LaunchTemplateName: "nope" } })))).toBe("InvalidLaunchTemplateName.NotFoundException 400")

    const modified = (await ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateName: "web", DefaultVersion: "2" }))).LaunchTemplate!
    expect(modified.DefaultVersionNumber).toBe(2)
    const listed = (await ec2.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates!
    expect(listed.map((t) => [t.LaunchTemplateName, t.DefaultVersionNumber, t.LatestVersionNumber])).toEqual([["web", 2, 2]])
    const versions = (await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: "web" }))).LaunchTemplateVersions!
    expect(versions.map((v) => [v.VersionNumber, v.DefaultVersion, v.VersionDescription])).toEqual([[1, false, "first"], [2, true, "bigger"]])
    expect((await ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateName: "web", Versions: ["$Default"] }))).LaunchTemplateVersions!.map((v) => v.VersionNumber)).toEqual([2])

    const deleted = (await ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateName: "web" }))).LaunchTemplate!
    expect(deleted.LaunchTemplateId).toBe(created.LaunchTemplateId)
    expect((await ec2.send(new DescribeLaunchTemplatesCommand({}))).LaunchTemplates).toEqual([])
    expect(await codeOf(ec2.send(new DescribeLaunchTemplatesCommand({ LaunchTemplateIds: [created.LaunchTemplateId!] })))).toBe("InvalidLaunchTemplateId.NotFound 400")
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [two.InstanceId!] }))
  })
})
