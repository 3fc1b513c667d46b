/**
 * The AWS CLI v2 (/usr/bin/aws) on what today's EC2 users run first: who am I (STS, IAM), the
 * default VPC and its subnets, a launch into a subnet, the instance's attributes and interface,
 * termination protection, and the errors EC2 gives for a wrong secret and another region.
 * (test/api/AwsCli.test.ts has the classic journey with the CLI's waiters.)
 */
import { existsSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { machineImage } from "../api/client.js"
import * as TestServer from "../support/server.js"
import { clientEnv, run } from "./support.js"

const AWS = "/usr/bin/aws"
let server: TestServer.TestServer

beforeAll(async () => {
  server = await TestServer.start()
})
afterAll(async () => {
  await server?.stop()
})

const aws = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<any> => {
  const out = await run(AWS, [...args, "--endpoint-url", server.url, "--output", "json"], clientEnv(server, env), 60_000)
  return out.trim() === "" ? "" : JSON.parse(out)
}

/** The error code the CLI reports for a failing command. */
const failure = async (args: ReadonlyArray<string>, env: Record<string, string> = {}): Promise<string> => {
  try {
    await aws(args, env)
    return "ok"
  } catch (e) {
    return /An error occurred \(([^)]+)\)/.exec(String(e))?.[1] ?? String(e).slice(0, 300)
  }
}

describe("AWS CLI v2", () => {
  it.skipIf(!existsSync(AWS) && process.env.CI !== "true")("identity, default VPC, a launch into a subnet, attributes, protection, and EC2's errors", async () => {
    const who = await aws(["sts", "get-caller-identity"])
    expect(who.Account).toMatch(/^\d{12}$/)
    expect(who.Arn).toBe(`arn:aws:iam::${who.Account}:user/admin`)
    expect((await aws(["iam", "get-user"])).User.UserName).toBe("admin")

    const vpc = (await aws(["ec2", "describe-vpcs", "--filters", "Name=is-default,Values=true"])).Vpcs
    expect(vpc).toHaveLength(1)
    const subnets = (await aws(["ec2", "describe-subnets", "--filters", `Name=vpc-id,Values=${vpc[0].VpcId}`])).Subnets
    expect(subnets.map((s: { AvailabilityZone: string }) => s.AvailabilityZone).sort()).toEqual(["euca-1a", "euca-1b"])
    const subnet = subnets.find((s: { AvailabilityZone: string }) => s.AvailabilityZone === "euca-1b").SubnetId

    const image = await machineImage(server.client())
    const ran = await aws(["ec2", "run-instances", "--image-id", image, "--subnet-id", subnet, "--disable-api-termination", "--count", "1"])
    const id = ran.Instances[0].InstanceId
    expect(ran.Instances[0].Placement.AvailabilityZone).toBe("euca-1b")
    expect((await aws(["ec2", "describe-instance-attribute", "--instance-id", id, "--attribute", "disableApiTermination"])).DisableApiTermination.Value).toBe(true)
    expect(await failure(["ec2", "terminate-instances", "--instance-ids", id])).toBe("OperationNotPermitted")
    await aws(["ec2", "modify-instance-attribute", "--instance-id", id, "--no-disable-api-termination"])
    const enis = (await aws(["ec2", "describe-network-interfaces", "--filters", `Name=attachment.instance-id,Values=${id}`])).NetworkInterfaces
    expect(enis.map((n: { SubnetId: string; Attachment: { DeviceIndex: number } }) => [n.SubnetId, n.Attachment.DeviceIndex])).toEqual([[subnet, 0]])
    const terminated = (await aws(["ec2", "terminate-instances", "--instance-ids", id])).TerminatingInstances
    expect(terminated.map((t: { InstanceId: string }) => t.InstanceId)).toEqual([id])

    expect(await failure(["ec2", "describe-instances"], { AWS_SECRET_ACCESS_KEY: "not-the-secret" })).toBe("AuthFailure")
    expect(await failure(["ec2", "describe-instances", "--region", "us-west-2"])).toBe("AuthFailure")
  }, 180_000)
})
