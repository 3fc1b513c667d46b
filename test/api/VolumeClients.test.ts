/**
 * Volumes through the clients people use: the AWS CLI v2 (/usr/bin/aws) with its waiters, boto3 with
 * its waiters, and Ansible's `amazon.aws.ec2_vol` attaching a volume to an instance. CI has all
 * three; elsewhere a missing CLI or Ansible is a skip that says so (a failure under CI=true).
 */
import { execFile } from "node:child_process"
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { promisify } from "node:util"
import { DescribeVolumesCommand, RunInstancesCommand, waitUntilInstanceRunning } from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { machineImage } from "./client.js"
import { storageConfig } from "../support/storage.js"

const AWS = "/usr/bin/aws"
const ANSIBLE = "/usr/bin/ansible-playbook"
const ci = process.env.CI === "true"
const run = promisify(execFile)

let server: TestServer.TestServer
let home: string
beforeAll(async () => {
  // The CLI's waiters sleep 15 s between looks: volumes are ready by the first look, the snapshot takes one more.
  server = await TestServer.start({ config: storageConfig({ create: 50, attach: 50, detach: 50, snapshot: 1500 }) })
  home = mkdtempSync(join(tmpdir(), "euca-volclients-"))
})
afterAll(async () => {
  await server?.stop()
  if (home) rmSync(home, { recursive: true, force: true })
})

const env = () => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: home,
  AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
  AWS_CONFIG_FILE: join(home, "config"),
  AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
  AWS_PAGER: "",
  AWS_EC2_METADATA_DISABLED: "true"
})

const aws = async (...args: Array<string>): Promise<any> => {
  const { stdout } = await run(AWS, ["ec2", ...args, "--endpoint-url", server.url, "--region", server.region, "--output", "json"], { encoding: "utf8", timeout: 120_000, env: env() })
  return stdout.trim() === "" ? "" : JSON.parse(stdout)
}

const cliJourney = async () => {
  if (!existsSync(AWS)) throw new Error(`the AWS CLI v2 is not at ${AWS}: install it with \`apt-get install awscli\` (CI does)`)
  const vol = await aws("create-volume", "--availability-zone", "euca-1a", "--size", "3", "--tag-specifications", "ResourceType=volume,Tags=[{Key=via,Value=cli}]")
  expect(vol).toMatchObject({ State: "creating", Size: 3 })
  await aws("wait", "volume-available", "--volume-ids", vol.VolumeId)
  const emi = await machineImage(server.client())
  const ran = await aws("run-instances", "--image-id", emi, "--count", "1", "--placement", "AvailabilityZone=euca-1a")
  const id = ran.Instances[0].InstanceId
  await aws("wait", "instance-running", "--instance-ids", id)
  const att = await aws("attach-volume", "--volume-id", vol.VolumeId, "--instance-id", id, "--device", "/dev/sdf")
  expect(att).toMatchObject({ State: "attaching", InstanceId: id, Device: "/dev/sdf" })
  await aws("wait", "volume-in-use", "--volume-ids", vol.VolumeId)
  expect(await aws("describe-volumes", "--filters", "Name=tag:via,Values=cli", "--query", "Volumes[].Attachments[].InstanceId")).toEqual([id])
  const failed = await aws("delete-volume", "--volume-id", vol.VolumeId).then(
    () => undefined,
    (e: { code: number; stderr: string }) => e
  )
  expect(failed?.code).toBe(254)
  expect(failed?.stderr).toContain("VolumeInUse")
  await aws("detach-volume", "--volume-id", vol.VolumeId)
  await aws("wait", "volume-available", "--volume-ids", vol.VolumeId)
  const snap = await aws("create-snapshot", "--volume-id", vol.VolumeId, "--description", "cli")
  await aws("wait", "snapshot-completed", "--snapshot-ids", snap.SnapshotId)
  expect(await aws("describe-snapshots", "--owner-ids", "self", "--query", "Snapshots[].[SnapshotId,State,Progress]")).toEqual([[snap.SnapshotId, "completed", "100%"]])
  await aws("delete-snapshot", "--snapshot-id", snap.SnapshotId)
  await aws("delete-volume", "--volume-id", vol.VolumeId)
  await aws("terminate-instances", "--instance-ids", id)
}

const boto3Journey = async () => {
  const { stdout } = await run("python3", [join(import.meta.dirname, "boto3_volumes.py"), server.url, server.region], { encoding: "utf8", timeout: 120_000, env: env() })
  const seen = JSON.parse(stdout)
  expect(seen).toEqual({
    created: "creating",
    tagged: [true],
    attach: "attaching",
    byInstance: [true],
    deleteInUse: "VolumeInUse",
    stopInstanceStore: "UnsupportedOperation",
    snapshot: ["pending", "0%"],
    mine: [[true, "completed", "100%", "datetime"]],
    rootType: "ebs",
    stop: "stopping",
    start: "pending",
    rootMapping: [["/dev/sda1", "attached", true]]
  })
}

const ansibleAttach = async () => {
  if (!existsSync(ANSIBLE)) throw new Error(`Ansible is not at ${ANSIBLE}: install it with \`apt-get install ansible\` (CI does)`)
  const ec2 = server.client()
  const emi = await machineImage(ec2)
  const id = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: "euca-1b" } }))).Instances![0]!.InstanceId!
  await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { InstanceIds: [id] })
  const playbook = join(home, "volume.yml")
  writeFileSync(
    playbook,
    `- hosts: localhost
  gather_facts: false
  tasks:
    - name: a 2 GiB volume on the instance at /dev/sdg
      amazon.aws.ec2_vol:
        endpoint_url: "${server.url}"
        region: "${server.region}"
        aws_access_key: "${server.credentials.accessKeyId}"
        aws_secret_key: "${server.credentials.secretAccessKey}"
        instance: "${id}"
        volume_size: 2
        device_name: /dev/sdg
        name: ansible-data
        state: present
      register: vol
    - ansible.builtin.debug:
        var: vol
`
  )
  const { stdout } = await run(ANSIBLE, ["-i", "localhost,", "-c", "local", "-e", "ansible_python_interpreter=/usr/bin/python3", playbook], {
    encoding: "utf8",
    timeout: 180_000,
    env: { ...env(), ANSIBLE_NOCOLOR: "1", ANSIBLE_HOST_KEY_CHECKING: "False", ANSIBLE_LOCAL_TEMP: join(home, "ansible-tmp"), ANSIBLE_REMOTE_TEMP: join(home, "ansible-tmp") }
  })
  expect(stdout).toMatch(/ok=2\s+changed=1\s+unreachable=0\s+failed=0/)
  const vols = (await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "tag:Name", Values: ["ansible-data"] }] }))).Volumes!
  expect(vols).toMatchObject([{ Size: 2, AvailabilityZone: "euca-1b", State: "in-use", Attachments: [{ InstanceId: id, Device: "/dev/sdg" }] }])
}

describe("volumes through the AWS CLI v2, boto3 and Ansible", () => {
  if (existsSync(AWS) || ci) it("the CLI: create, wait available, attach, wait in-use, VolumeInUse, detach, snapshot, wait completed", cliJourney, 150_000)
  else it.skip(`the CLI journey — skipped: ${AWS} is missing (apt-get install awscli); under CI=true this fails instead`, cliJourney)
  it("boto3: volumes, snapshots and an EBS-backed stop/start with boto3's waiters", boto3Journey, 150_000)
  if (existsSync(ANSIBLE) || ci) it("Ansible's amazon.aws.ec2_vol creates and attaches a volume to an instance", ansibleAttach, 200_000)
  else it.skip(`Ansible's ec2_vol — skipped: ${ANSIBLE} is missing (apt-get install ansible); under CI=true this fails instead`, ansibleAttach)
})
