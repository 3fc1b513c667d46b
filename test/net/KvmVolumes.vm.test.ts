/**
 * EBS volumes on the KVM backend, for real: `euca serve --backend kvm` with a storage host in the
 * nodes file (test/net/support/KvmCloud.ts with `storage: true`: an sshd whose commands run in the
 * cluster head's namespace, qemu-img for the volume files, qemu-nbd exporting on the head's trunk
 * address), the AWS CLI v2 as the client, two busybox guests under QEMU.
 *
 * A volume is created, attached to the first guest (an NBD disk hot-plugged by libvirt), written
 * over SSH inside the guest, detached, attached to the second guest and read back there; a snapshot
 * of it becomes a new volume with the same bytes. An attach whose export the node cannot reach
 * fails with a reason and leaves nothing behind (no disk in the guest, no export running); a guest
 * terminated with a volume attached leaves it available, its export stopped.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { describeNet, Lab } from "./support/Lab.js"
import { cannotRun, KvmCloud, STORAGE_PORTS } from "./support/KvmCloud.js"

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

describeNet("EBS volumes on KVM: a storage host exporting over NBD, attached to real guests", () => {
  const why = cannotRun()
  if (why !== undefined && process.env["CI"] === "true") throw new Error(`KVM volumes: ${why}`)
  let lab: Lab
  let cloud: KvmCloud
  let keyPath = ""
  const guests: Array<{ id: string; ip: string }> = []
  let volume = ""
  let fromSnapshot = ""
  let snapshot = ""
  const mark = `euca-volume-${Crypto.randomBytes(6).toString("hex")}`

  const waitFor = async (what: string, check: () => Promise<boolean> | boolean, seconds: number) => {
    const deadline = Date.now() + seconds * 1000
    while (Date.now() < deadline) {
      if (await check()) return
      await sleep(1000)
    }
    throw new Error(`gave up after ${seconds} s waiting for ${what}\n--- server log (tail) ---\n${cloud.server?.log().slice(-5000)}`)
  }
  const ssh = (g: number, command: string, seconds = 10) => cloud.ssh(keyPath, guests[g]!.ip, command, seconds)
  const mustSsh = async (g: number, command: string) => {
    const r = await ssh(g, command)
    if (r.code !== 0) throw new Error(`ssh ${guests[g]!.id}: ${command}: exit ${r.code}: ${r.stderr}${r.stdout}`)
    return r.stdout
  }
  type Vol = { State: string; Attachments?: Array<{ InstanceId: string; Device: string; State: string }> }
  const vol = (id: string): Vol => cloud.awsJson<{ Volumes: Array<Vol> }>(["ec2", "describe-volumes", "--volume-ids", id]).Volumes[0]!
  const waitVolume = (id: string, state: string, seconds = 120) => waitFor(`${id} to be ${state}`, () => {
    const v = vol(id)
    if (v.State === "error") throw new Error(`${id} failed\n${cloud.server?.log().slice(-4000)}`)
    return v.State === state && (state !== "in-use" || v.Attachments?.[0]?.State === "attached")
  }, seconds)
  /** The guest's virtio disk whose serial is the volume id (virtio-blk shows it in sysfs). */
  const diskOf = async (g: number, volumeId: string): Promise<string> =>
    (await mustSsh(g, `for d in /sys/block/vd*; do [ "$(cat $d/serial 2>/dev/null)" = ${volumeId} ] && echo \${d##*/}; done; true`)).trim()
  const exportsRunning = () => Fs.existsSync(cloud.storageDir) ? Fs.readdirSync(cloud.storageDir).filter((f) => f.endsWith(".pid")) : []

  beforeAll(async () => {
    if (why !== undefined) return
    lab = await Lab.create()
    cloud = await KvmCloud.start(lab, { storage: true })
  }, 300_000)

  afterAll(async () => {
    if (cloud) await cloud.stop()
    if (lab) await lab.destroy()
  }, 120_000)

  it.skipIf(why !== undefined)("runs two busybox guests reachable over SSH", async () => {
    const key = cloud.awsJson<{ KeyMaterial: string }>(["ec2", "create-key-pair", "--key-name", "vols"])
    keyPath = Path.join(cloud.work, "vols.pem")
    Fs.writeFileSync(keyPath, key.KeyMaterial.endsWith("\n") ? key.KeyMaterial : `${key.KeyMaterial}\n`, { mode: 0o600 })
    cloud.awsJson(["ec2", "create-security-group", "--group-name", "ssh", "--description", "ssh in"])
    cloud.awsJson(["ec2", "authorize-security-group-ingress", "--group-name", "ssh", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    const r = cloud.awsJson<{ Instances: Array<{ InstanceId: string }> }>([
      "ec2", "run-instances", "--image-id", cloud.imageId, "--instance-type", "c1.medium", "--count", "2", "--key-name", "vols", "--security-groups", "ssh"
    ])
    const ids = r.Instances.map((i) => i.InstanceId)
    expect(ids).toHaveLength(2)
    const w = cloud.aws(["ec2", "wait", "instance-running", "--instance-ids", ...ids])
    expect(w.code, w.stderr).toBe(0)
    for (const id of ids) guests.push({ id, ip: cloud.describe(id).PublicIpAddress! })
    // Two TCG guests on a busy 2-core machine: the boot and the metadata fetch take a while.
    for (let g = 0; g < guests.length; g++) {
      let last = ""
      try {
        await waitFor(`ssh into ${guests[g]!.id}`, async () => {
          const s = await ssh(g, "true")
          last = `${s.code} ${s.stderr}`
          return s.code === 0
        }, 600)
      } catch (e) {
        const consoles = guests.map((x) => `--- console of ${x.id} (tail) ---\n${cloud.consoleOf(x.id).slice(-3000)}`).join("\n")
        const nat = await lab.x(cloud.head, ["iptables-save", "-t", "nat"]).catch((x: Error) => x.message)
        throw new Error(`${(e as Error).message.slice(0, 2000)}\nlast ssh: ${last}\n${consoles}\n--- head nat ---\n${nat}`)
      }
      expect(last).toMatch(/^0/)
    }
  }, 1_300_000)

  it.skipIf(why !== undefined)("create-volume makes a sparse file on the storage host; it becomes available", async () => {
    volume = cloud.awsJson<{ VolumeId: string }>(["ec2", "create-volume", "--size", "1", "--availability-zone", "zone-1"]).VolumeId
    await waitVolume(volume, "available")
    const f = Path.join(cloud.storageDir, `${volume}.img`)
    expect(Fs.statSync(f).size).toBe(1024 ** 3)
    expect(exportsRunning()).toEqual([])
  }, 180_000)

  it.skipIf(why !== undefined)("attach-volume hot-plugs it into the first guest as /dev/vdb; a write there lands in the volume", async () => {
    cloud.awsJson(["ec2", "attach-volume", "--volume-id", volume, "--instance-id", guests[0]!.id, "--device", "/dev/sdf"])
    await waitVolume(volume, "in-use")
    expect(exportsRunning()).toEqual([`${volume}.pid`])
    expect(cloud.virsh("domblklist", guests[0]!.id).stdout).toMatch(new RegExp(`vdf\\s+${volume}`))
    await waitFor("the disk in the guest", async () => (await diskOf(0, volume)) !== "", 30)
    expect(await diskOf(0, volume)).toBe("vdb")
    await mustSsh(0, `printf '%s' ${mark} > /dev/vdb && sync`)
    expect(await mustSsh(0, `head -c ${mark.length} /dev/vdb`)).toBe(mark)
    const head = Buffer.alloc(mark.length)
    const fd = Fs.openSync(Path.join(cloud.storageDir, `${volume}.img`), "r")
    Fs.readSync(fd, head, 0, mark.length, 0)
    Fs.closeSync(fd)
    expect(head.toString()).toBe(mark)
  }, 180_000)

  it.skipIf(why !== undefined)("detach-volume unplugs it (gone from the guest) and stops its export", async () => {
    cloud.awsJson(["ec2", "detach-volume", "--volume-id", volume])
    await waitVolume(volume, "available")
    expect(await diskOf(0, volume)).toBe("")
    expect(cloud.virsh("domblklist", guests[0]!.id).stdout).not.toContain(volume)
    expect(exportsRunning()).toEqual([])
  }, 180_000)

  it.skipIf(why !== undefined)("attached to the second guest, the volume has what the first one wrote", async () => {
    cloud.awsJson(["ec2", "attach-volume", "--volume-id", volume, "--instance-id", guests[1]!.id, "--device", "/dev/sdg"])
    await waitVolume(volume, "in-use")
    await waitFor("the disk in the second guest", async () => (await diskOf(1, volume)) !== "", 30)
    const dev = await diskOf(1, volume)
    expect(await mustSsh(1, `head -c ${mark.length} /dev/${dev}`)).toBe(mark)
  }, 180_000)

  it.skipIf(why !== undefined)("a snapshot of it becomes a new, bigger volume with the same bytes, readable in the first guest", async () => {
    snapshot = cloud.awsJson<{ SnapshotId: string }>(["ec2", "create-snapshot", "--volume-id", volume, "--description", "vm test"]).SnapshotId
    await waitFor(`${snapshot} completed`, () => {
      const s = cloud.awsJson<{ Snapshots: Array<{ State: string }> }>(["ec2", "describe-snapshots", "--snapshot-ids", snapshot]).Snapshots[0]!
      if (s.State === "error") throw new Error(`${snapshot} failed\n${cloud.server?.log().slice(-4000)}`)
      return s.State === "completed"
    }, 120)
    expect(Fs.existsSync(Path.join(cloud.storageDir, `${snapshot}.img`))).toBe(true)
    fromSnapshot = cloud.awsJson<{ VolumeId: string }>(["ec2", "create-volume", "--snapshot-id", snapshot, "--size", "2", "--availability-zone", "zone-1"]).VolumeId
    await waitVolume(fromSnapshot, "available")
    expect(Fs.statSync(Path.join(cloud.storageDir, `${fromSnapshot}.img`)).size).toBe(2 * 1024 ** 3)
    cloud.awsJson(["ec2", "attach-volume", "--volume-id", fromSnapshot, "--instance-id", guests[0]!.id, "--device", "/dev/sdh"])
    await waitVolume(fromSnapshot, "in-use")
    await waitFor("the snapshot's volume in the first guest", async () => (await diskOf(0, fromSnapshot)) !== "", 30)
    const dev = await diskOf(0, fromSnapshot)
    expect(await mustSsh(0, `head -c ${mark.length} /dev/${dev}`)).toBe(mark)
    expect((await mustSsh(0, `cat /sys/block/${dev}/size`)).trim()).toBe(String((2 * 1024 ** 3) / 512))
  }, 240_000)

  it.skipIf(why !== undefined)("an attach whose export the node cannot reach fails with the reason, leaving no disk and no export", async () => {
    // The head (the storage host's namespace) refuses the node's NBD connections.
    const rule = ["-p", "tcp", "--dport", `${STORAGE_PORTS.first}:${STORAGE_PORTS.last}`, "-j", "REJECT", "--reject-with", "tcp-reset"]
    await lab.x(cloud.head, ["iptables", "-I", "INPUT", ...rule])
    try {
      const lone = cloud.awsJson<{ VolumeId: string }>(["ec2", "create-volume", "--size", "1", "--availability-zone", "zone-1"]).VolumeId
      await waitVolume(lone, "available")
      const before = exportsRunning()
      cloud.awsJson(["ec2", "attach-volume", "--volume-id", lone, "--instance-id", guests[1]!.id, "--device", "/dev/sdj"])
      await waitFor(`the attach of ${lone} to fail`, () => cloud.server!.log().includes(`attaching ${lone} to ${guests[1]!.id} failed`), 120)
      await waitVolume(lone, "available")
      expect(cloud.server!.log()).toMatch(new RegExp(`attaching ${lone} to ${guests[1]!.id} failed: .*${guests[1]!.id}`))
      expect(vol(lone).Attachments ?? []).toEqual([])
      expect(cloud.virsh("domblklist", guests[1]!.id).stdout).not.toContain(lone)
      expect(await diskOf(1, lone)).toBe("")
      expect(exportsRunning()).toEqual(before)
      cloud.awsJson(["ec2", "delete-volume", "--volume-id", lone])
    } finally {
      await lab.x(cloud.head, ["iptables", "-D", "INPUT", ...rule])
    }
  }, 240_000)

  it.skipIf(why !== undefined)("terminating a guest with a volume attached leaves the volume available and stops its export", async () => {
    expect(exportsRunning()).toContain(`${fromSnapshot}.pid`)
    cloud.awsJson(["ec2", "terminate-instances", "--instance-ids", guests[0]!.id])
    expect(cloud.aws(["ec2", "wait", "instance-terminated", "--instance-ids", guests[0]!.id]).code).toBe(0)
    await waitVolume(fromSnapshot, "available")
    await waitFor("the export to stop", () => !exportsRunning().includes(`${fromSnapshot}.pid`), 60)
    expect(exportsRunning()).toEqual([`${volume}.pid`])
  }, 180_000)

  it.skipIf(why !== undefined)("detached and deleted, volumes and the snapshot leave no file and no export on the storage host", async () => {
    cloud.awsJson(["ec2", "detach-volume", "--volume-id", volume])
    for (const v of [volume, fromSnapshot]) await waitVolume(v, "available")
    for (const v of [volume, fromSnapshot]) cloud.awsJson(["ec2", "delete-volume", "--volume-id", v])
    cloud.awsJson(["ec2", "delete-snapshot", "--snapshot-id", snapshot])
    await waitFor("the storage directory to be empty", () => Fs.readdirSync(cloud.storageDir).length === 0, 60)
    expect(Fs.readdirSync(cloud.storageDir)).toEqual([])
  }, 240_000)
})
