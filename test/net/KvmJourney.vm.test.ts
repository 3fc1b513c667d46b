/**
 * "Launch, then ssh in", for real: `euca serve --backend kvm` (its own process) with the AWS CLI v2
 * as the client; a KVM node (a real libvirtd in the node's network and mount namespaces, reached
 * over a real OpenSSH server) booting the busybox guest image under QEMU (TCG unless the node's KVM
 * passes the probe); the zone's MANAGED network plan applied over SSH on a cluster head namespace;
 * the guest fetching its key and user data from OUR metadata service through the head's
 * 169.254.169.254 redirect; `ssh -i key.pem` from an outside namespace to the public address.
 *
 * Topology: test/net/support/KvmCloud.ts.
 *
 * One guest carries the journey (key, user data, console, reboot, revoke, terminate); a second one is
 * destroyed behind the controller's back.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { describeNet, Lab } from "./support/Lab.js"
import { cannotRun, KvmCloud } from "./support/KvmCloud.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describeNet("launch, then ssh in: euca serve --backend kvm, the AWS CLI, a real guest", () => {
  const why = cannotRun()
  if (why !== undefined && process.env["CI"] === "true") throw new Error(`KVM journey: ${why}`)
  let lab: Lab
  let cloud: KvmCloud
  let keyPath = ""
  const userData = `hello from kvm ${Crypto.randomBytes(4).toString("hex")}`
  let instance = ""
  let publicIp = ""
  let groupId = ""

  const waitFor = async (what: string, check: () => Promise<boolean> | boolean, seconds: number) => {
    const deadline = Date.now() + seconds * 1000
    while (Date.now() < deadline) {
      if (await check()) return
      await sleep(1000)
    }
    throw new Error(`gave up after ${seconds} s waiting for ${what}\n--- server log (tail) ---\n${cloud.server?.log().slice(-4000)}`)
  }
  const ssh = (command: string, seconds = 8) => cloud.ssh(keyPath, publicIp, command, seconds)

  beforeAll(async () => {
    if (why !== undefined) return
    lab = await Lab.create()
    cloud = await KvmCloud.start(lab)
  }, 300_000)

  afterAll(async () => {
    if (cloud) await cloud.stop()
    if (lab) await lab.destroy()
  }, 120_000)

  it.skipIf(why !== undefined)("runs the busybox image with a key, a group allowing tcp/22 and user data; it reaches running", async () => {
    const key = cloud.awsJson<{ KeyMaterial: string }>(["ec2", "create-key-pair", "--key-name", "journey"])
    keyPath = Path.join(cloud.work, "journey.pem")
    Fs.writeFileSync(keyPath, key.KeyMaterial.endsWith("\n") ? key.KeyMaterial : `${key.KeyMaterial}\n`, { mode: 0o600 })
    groupId = cloud.awsJson<{ GroupId: string }>(["ec2", "create-security-group", "--group-name", "ssh", "--description", "ssh in"]).GroupId
    cloud.awsJson(["ec2", "authorize-security-group-ingress", "--group-name", "ssh", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    const r = cloud.awsJson<{ Instances: Array<{ InstanceId: string }> }>([
      "ec2", "run-instances", "--image-id", cloud.imageId, "--instance-type", "c1.medium", "--count", "1", "--key-name", "journey", "--security-groups", "ssh", "--user-data", userData
    ])
    instance = r.Instances[0]!.InstanceId
    const w = cloud.aws(["ec2", "wait", "instance-running", "--instance-ids", instance])
    const d = cloud.describe(instance)
    expect(w.code, `${w.stderr} ${JSON.stringify(d)}`).toBe(0)
    expect(d.State.Name).toBe("running")
    publicIp = d.PublicIpAddress!
    expect(publicIp).toMatch(/^198\.51\.100\./)
    expect(cloud.virsh("domstate", instance).stdout.trim()).toBe("running")
  }, 240_000)

  it.skipIf(why !== undefined)("the guest got its key from our metadata service: ssh -i key.pem from outside runs a command and reads its user data", async () => {
    expect(instance).not.toBe("")
    let last = ""
    await waitFor("ssh into the instance", async () => {
      const r = await ssh("cat /run/user-data")
      last = `${r.code} ${r.stdout} ${r.stderr}`
      return r.code === 0
    }, 300)
    const r = await ssh("cat /run/user-data; echo; uname -r")
    expect(r.code, last).toBe(0)
    expect(r.stdout).toContain(userData)
    expect(r.stdout).toMatch(/6\.1\.\d+-\d+-amd64/)
  }, 330_000)

  it.skipIf(why !== undefined)("get-console-output returns the real boot log", () => {
    const out = cloud.consoleOf(instance)
    expect(out).toMatch(/Linux version 6\.1/)
    expect(out).toContain("EUCA-GUEST: key ok")
    expect(out).toContain(`EUCA-GUEST: user-data ${Buffer.byteLength(userData)} bytes`)
  }, 60_000)

  it.skipIf(why !== undefined)("reboot-instances comes back: a second boot on the console, ssh again", async () => {
    const before = cloud.consoleOf(instance).split("Linux version").length
    cloud.awsJson(["ec2", "reboot-instances", "--instance-ids", instance])
    await waitFor("a second boot on the console", () => cloud.consoleOf(instance).split("Linux version").length > before, 120)
    await waitFor("ssh after the reboot", async () => (await ssh("true")).code === 0, 300)
    expect(cloud.describe(instance).State.Name).toBe("running")
  }, 450_000)

  it.skipIf(why !== undefined)("revoking the rule stops SSH", async () => {
    cloud.awsJson(["ec2", "revoke-security-group-ingress", "--group-name", "ssh", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    await waitFor("ssh to be refused by the filter", async () => (await ssh("true", 4)).code !== 0, 30)
    expect((await ssh("true", 4)).code).not.toBe(0)
    expect(groupId).toMatch(/^sg-/)
  }, 60_000)

  it.skipIf(why !== undefined)("terminate-instances removes the domain and its overlay", async () => {
    cloud.awsJson(["ec2", "terminate-instances", "--instance-ids", instance])
    const w = cloud.aws(["ec2", "wait", "instance-terminated", "--instance-ids", instance])
    expect(w.code, w.stderr).toBe(0)
    await waitFor("the domain to be undefined", () => cloud.virsh("domstate", instance).status !== 0, 30)
    expect(cloud.virsh("domstate", instance).stderr).toMatch(/failed to get domain/)
    expect(Fs.existsSync(Path.join(cloud.instancesDir, instance))).toBe(false)
  }, 120_000)

  it.skipIf(why !== undefined)("a guest destroyed behind the controller's back (virsh destroy) is noticed and its instance failed", async () => {
    const r = cloud.awsJson<{ Instances: Array<{ InstanceId: string }> }>(["ec2", "run-instances", "--image-id", cloud.imageId, "--instance-type", "c1.medium", "--count", "1"])
    const id = r.Instances[0]!.InstanceId
    expect(cloud.aws(["ec2", "wait", "instance-running", "--instance-ids", id]).code).toBe(0)
    expect(cloud.virsh("destroy", id).status).toBe(0)
    await waitFor("the instance to be failed", () => cloud.describe(id).State.Name === "terminated", 60)
    expect(cloud.describe(id).StateReason?.Message ?? "").toMatch(/shut down|no longer/)
    // What was left of the domain is cleaned up.
    await waitFor("the shut-off domain to be undefined", () => cloud.virsh("domstate", id).status !== 0, 30)
  }, 180_000)
})
