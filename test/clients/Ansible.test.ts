/**
 * Ansible's amazon.aws modules (Debian's ansible, its python3 with python3-boto3) against the
 * server, unchanged: ec2_key, ec2_security_group (which asks STS and IAM who it is first),
 * ec2_instance create/wait/terminate (which looks up the default VPC and subnets), ec2_instance_info,
 * ec2_instance stop/start of an EBS-backed instance (its image registered from a snapshot), ec2_eip,
 * ec2_tag. Each step's result is read back and checked.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeInstancesCommand,
  RegisterImageCommand,
  waitUntilSnapshotCompleted,
  waitUntilVolumeAvailable
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { machineImage } from "../api/client.js"
import * as TestServer from "../support/server.js"
import { storageConfig } from "../support/storage.js"
import { clientEnv, run } from "./support.js"

let server: TestServer.TestServer
const work = mkdtempSync(join(tmpdir(), "euca-ansible-"))
const available = existsSync("/usr/bin/ansible-playbook")

beforeAll(async () => {
  server = await TestServer.start({ config: storageConfig() })
})
afterAll(async () => {
  await server?.stop()
  rmSync(work, { recursive: true, force: true })
})

describe("Ansible (amazon.aws)", () => {
  it.skipIf(!available && process.env.CI !== "true")("runs the journey playbook: key, group, two instances, info, address, tags, stop/start, terminate", async () => {
    const ec2 = server.client()
    const image = await machineImage(ec2)
    // An EBS-backed image (its root a snapshot), for the stop/start steps.
    const wait = { maxWaitTime: 60, minDelay: 1, maxDelay: 1 }
    const vol = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a", Size: 2 }))).VolumeId!
    await waitUntilVolumeAvailable({ client: ec2, ...wait }, { VolumeIds: [vol] })
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: vol }))).SnapshotId!
    await waitUntilSnapshotCompleted({ client: ec2, ...wait }, { SnapshotIds: [snap] })
    const ebsImage = (await ec2.send(new RegisterImageCommand({
      Name: "ansible-ebs",
      RootDeviceName: "/dev/sda1",
      BlockDeviceMappings: [{ DeviceName: "/dev/sda1", Ebs: { SnapshotId: snap, DeleteOnTermination: true } }]
    }))).ImageId!
    const out = join(work, "results.json")
    const vars = { endpoint: server.url, region: server.region, access_key: server.credentials.accessKeyId, secret_key: server.credentials.secretAccessKey, image_id: image, ebs_image_id: ebsImage, out, ansible_python_interpreter: "/usr/bin/python3" }
    await run("ansible-playbook", ["-i", "localhost,", join(import.meta.dirname, "ansible", "journey.yml"), "-e", JSON.stringify(vars)], clientEnv(server, { ANSIBLE_NOCOLOR: "1", ANSIBLE_LOCAL_TEMP: work, ANSIBLE_HOME: work }), 300_000)
    const r = JSON.parse(readFileSync(out, "utf8"))
    expect(r.key.changed).toBe(true)
    expect(r.key.key.name).toBe("ansible-key")
    expect(r.key.key.fingerprint).toMatch(/^([0-9a-f]{2}:){19}[0-9a-f]{2}$/)
    expect(r.group.changed).toBe(true)
    expect(r.group.group_id).toMatch(/^sg-/)
    expect(r.group.ip_permissions.map((p: { from_port: number }) => p.from_port).sort()).toEqual([22, 80])
    expect(r.group_again.changed).toBe(false)
    expect(r.launched.changed).toBe(true)
    expect(r.launched.instance_ids).toHaveLength(2)
    // What ec2_instance returns may be as described before its wait; the info step below asks for running ones.
    for (const i of r.launched.instances) expect(["pending", "running"]).toContain(i.state.name)
    expect(r.info.instances.map((i: { instance_id: string }) => i.instance_id).sort()).toEqual([...r.launched.instance_ids].sort())
    for (const i of r.info.instances) {
      expect(i.key_name).toBe("ansible-key")
      expect(i.security_groups.map((g: { group_name: string }) => g.group_name)).toEqual(["ansible-web"])
      expect(i.tags).toMatchObject({ Name: "ansible-web", role: "web" })
    }
    expect(r.eip.changed).toBe(true)
    expect(r.eip.public_ip).toMatch(/^198\.51\.100\./)
    expect(r.tagged.changed).toBe(true)
    expect(r.tags.tags).toMatchObject({ owner: "ansible", role: "web" })
    expect(r.released.changed).toBe(true)
    // Stop and start of the EBS-backed instance, as ec2_instance does them (StopInstances, its waiter, StartInstances).
    expect(r.ebs.instance_ids).toHaveLength(1)
    const ebsId = r.ebs.instance_ids[0]
    expect(r.stopped.changed).toBe(true)
    expect(r.stopped_info.instances.map((i: { instance_id: string; state: { name: string } }) => [i.instance_id, i.state.name])).toEqual([[ebsId, "stopped"]])
    expect(r.started.changed).toBe(true)
    expect(r.started_info.instances.map((i: { instance_id: string; state: { name: string }; root_device_type: string }) => [i.instance_id, i.state.name, i.root_device_type])).toEqual([[ebsId, "running", "ebs"]])
    // The playbook ends by terminating all three.
    const after = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [ebsId] }))).Reservations![0]!.Instances![0]!
    expect([after.RootDeviceType, after.State?.Name]).toEqual(["ebs", "terminated"])
    expect(r.terminated.changed).toBe(true)
    expect(r.key_gone.changed).toBe(true)
  }, 360_000)
})
