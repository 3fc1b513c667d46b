/**
 * The AWS CLI v2 (Debian's `awscli`, at /usr/bin/aws) against the server: a short journey with the
 * CLI's own waiters. CI installs it and this test must run there; elsewhere it is skipped, saying so,
 * when the CLI is missing.
 */
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"

const AWS = "/usr/bin/aws"
const present = existsSync(AWS)
const ci = process.env.CI === "true"
const run = promisify(execFile)

let server: TestServer.TestServer
let home: string

beforeAll(async () => {
  if (!present && !ci) return
  // Boots and shutdowns long enough that the waiters really poll (their first look sees pending / shutting-down).
  server = await TestServer.start({ config: TestServer.fastConfig({ backend: { kind: "sim", bootDelay: { kind: "constant", ms: 3000 }, stopDelay: { kind: "constant", ms: 3000 }, seed: 5 } }) })
  home = mkdtempSync(join(tmpdir(), "euca-awscli-"))
})
afterAll(async () => {
  await server?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

/** `aws ec2 <args>` with the server's endpoint and credentials; parsed JSON output (or "" for none). */
const aws = async (...args: Array<string>): Promise<any> => {
  const { stdout } = await run(AWS, ["ec2", ...args, "--endpoint-url", server.url, "--region", server.region, "--output", "json"], {
    encoding: "utf8",
    timeout: 120_000,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: home,
      AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_PAGER: "",
      AWS_EC2_METADATA_DISABLED: "true"
    }
  })
  return stdout.trim() === "" ? "" : JSON.parse(stdout)
}

const journey = async () => {
  if (!present) throw new Error(`the AWS CLI v2 is not at ${AWS}: install it with \`apt-get install awscli\` (CI does, in .ci/run)`)
  const { stdout } = await run(AWS, ["--version"], { encoding: "utf8" })
  expect(stdout).toMatch(/^aws-cli\/2\./)

  const zones = await aws("describe-availability-zones")
  expect(zones.AvailabilityZones.map((z: any) => z.ZoneName)).toEqual(["euca-1a", "euca-1b"])
  const images = await aws("describe-images", "--owners", "eucalyptus", "--filters", "Name=name,Values=debian-*")
  const emi = images.Images[0].ImageId
  expect(emi).toMatch(/^emi-/)

  const ran = await aws("run-instances", "--image-id", emi, "--count", "2", "--instance-type", "m1.small", "--tag-specifications", "ResourceType=instance,Tags=[{Key=via,Value=awscli}]")
  const ids: Array<string> = ran.Instances.map((i: any) => i.InstanceId)
  expect(ids).toHaveLength(2)
  expect(ran.Instances.map((i: any) => i.State.Name)).toEqual(["pending", "pending"])
  await aws("wait", "instance-running", "--instance-ids", ...ids)

  const described = await aws("describe-instances", "--filters", "Name=tag:via,Values=awscli", "Name=instance-state-name,Values=running")
  const instances = described.Reservations.flatMap((r: any) => r.Instances)
  expect(instances.map((i: any) => i.InstanceId).sort()).toEqual([...ids].sort())
  for (const i of instances) expect(i.PrivateIpAddress).toMatch(/^172\.31\./)
  const query = await aws("describe-instances", "--instance-ids", ids[0]!, "--query", "Reservations[0].Instances[0].State.Name")
  expect(query).toBe("running")

  const term = await aws("terminate-instances", "--instance-ids", ...ids)
  expect(term.TerminatingInstances.map((t: any) => t.CurrentState.Name)).toEqual(["shutting-down", "shutting-down"])
  await aws("wait", "instance-terminated", "--instance-ids", ...ids)
  const after = await aws("describe-instances", "--instance-ids", ...ids, "--query", "Reservations[].Instances[].State.Name")
  expect(after).toEqual(["terminated", "terminated"])

  // A mistake comes back as the CLI prints EC2 errors, with exit status 254.
  const failed = await aws("describe-instances", "--instance-ids", "i-0000dead").then(
    () => undefined,
    (e: { code: number; stderr: string }) => e
  )
  expect(failed?.code).toBe(254)
  expect(failed?.stderr).toContain("InvalidInstanceID.NotFound")
}

describe("the AWS CLI v2", () => {
  if (present || ci) it("runs a journey: zones, images, run, wait running, describe, terminate, wait terminated", journey, 150_000)
  else it.skip(`runs a journey — skipped: ${AWS} is missing (apt-get install awscli); under CI=true this fails instead`, journey)
})
