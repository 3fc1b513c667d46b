/**
 * End to end: `euca serve --backend xen` (in-process) over stand-in Xen nodes, one zone with a
 * storage host (a real sshd running the real qemu-img and qemu-nbd), one without. Through the AWS
 * SDK: volumes and snapshots become files on the storage host, a volume from a snapshot has its
 * bytes, an attach the Xen nodes cannot do fails and leaves no export running, deletes remove the
 * files; in the zone without a storage host a volume fails with that reason.
 */
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import {
  AttachVolumeCommand,
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteSnapshotCommand,
  DeleteVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  RunInstancesCommand,
  waitUntilInstanceRunning
} from "@aws-sdk/client-ec2"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Db from "../../../src/store/Database.js"
import * as Images from "../../../src/store/Images.js"
import * as TestServer from "../../support/server.js"
import { rootOrSkip, startSshd, type Sshd } from "../../support/sshd.js"
import { nodeOf } from "../xen/harness.js"

const enabled = rootOrSkip("the storage end-to-end test") && (() => {
  const missing = ["/usr/bin/qemu-img", "/usr/bin/qemu-nbd"].filter((t) => !Fs.existsSync(t))
  if (missing.length === 0) return true
  const message = `the storage end-to-end test skipped: ${missing.join(", ")} missing (apt-get install qemu-utils)`
  if (process.env["CI"] === "true") throw new Error(message)
  console.warn(message)
  return false
})()
let node: Sshd | undefined
let node2: Sshd | undefined
let store: Sshd | undefined
let server: TestServer.TestServer | undefined
let work = ""
let dir = ""

const until = async (what: string, f: () => Promise<boolean>, ms = 30_000) => {
  const end = Date.now() + ms
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

beforeAll(async () => {
  if (!enabled) return
  node = await startSshd()
  node2 = await startSshd()
  store = await startSshd()
  work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-storage-e2e-"))
  dir = Path.join(store.remoteDir, "volumes")
  const nodesFile = Path.join(work, "nodes.json")
  Fs.writeFileSync(nodesFile, JSON.stringify({
    nodes: [nodeOf(node, "node-1", { zone: "euca-1a" }), nodeOf(node2, "node-2", { zone: "euca-1b" })],
    storage: [{
      zone: "euca-1a", host: store.host, port: store.port, user: store.user, privateKeyPath: store.privateKeyPath, hostKey: store.knownHostsLine,
      dir, export: { address: "127.0.0.1", ports: { first: 10870, last: 10879 } }
    }]
  }))
  server = await TestServer.start({ config: { network: { mode: "SYSTEM", subnet: "10.78.0.0/16" }, backend: { kind: "xen", nodesFile }, tickSeconds: 1 } })
}, 60_000)

afterAll(async () => {
  await server?.stop()
  for (const s of [node, node2, store]) await s?.stop()
  if (work) Fs.rmSync(work, { recursive: true, force: true })
})

describe.runIf(enabled)("euca serve --backend xen with a storage host in one zone", () => {
  it("makes volumes and snapshots as files, a volume from a snapshot with its bytes, and deletes them", async () => {
    const ec2 = server!.client()
    const state = async (id: string) => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0]!.State
    const v = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a", Size: 1 }))).VolumeId!
    await until(`${v} available`, async () => (await state(v)) === "available")
    const file = Path.join(dir, `${v}.img`)
    expect(Fs.statSync(file).size).toBe(1024 ** 3)
    const mark = "bytes of the first volume"
    const fd = Fs.openSync(file, "r+")
    Fs.writeSync(fd, mark, 0)
    Fs.closeSync(fd)
    const snap = (await ec2.send(new CreateSnapshotCommand({ VolumeId: v, Description: "e2e" }))).SnapshotId!
    await until(`${snap} completed`, async () => (await ec2.send(new DescribeSnapshotsCommand({ SnapshotIds: [snap] }))).Snapshots![0]!.State === "completed")
    const w = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a", SnapshotId: snap, Size: 3 }))).VolumeId!
    await until(`${w} available`, async () => (await state(w)) === "available")
    const copy = Path.join(dir, `${w}.img`)
    expect(Fs.statSync(copy).size).toBe(3 * 1024 ** 3)
    const head = Buffer.alloc(mark.length)
    const cfd = Fs.openSync(copy, "r")
    Fs.readSync(cfd, head, 0, mark.length, 0)
    Fs.closeSync(cfd)
    expect(head.toString()).toBe(mark)

    await ec2.send(new DeleteVolumeCommand({ VolumeId: v }))
    await ec2.send(new DeleteVolumeCommand({ VolumeId: w }))
    await ec2.send(new DeleteSnapshotCommand({ SnapshotId: snap }))
    await until("the storage directory to be empty", async () => Fs.readdirSync(dir).length === 0)
  }, 120_000)

  it("an attach the Xen nodes cannot do fails, the volume is available again and no export is left running", async () => {
    const s = server!
    const ec2 = s.client()
    const raw = (name: string, bytes: number) => {
      const p = Path.join(work, name)
      Fs.writeFileSync(p, Buffer.alloc(bytes, name))
      return { path: p, digest: createHash("sha256").update(Fs.readFileSync(p)).digest("hex"), sizeBytes: bytes }
    }
    const emi = await Effect.runPromise(Effect.gen(function* () {
      const now = Date.now()
      const k = yield* Images.register({ owner: Images.SYSTEM_OWNER, name: "vmlinuz", kind: "kernel", location: "k", public: true, now, ...raw("vmlinuz", 4096) })
      return yield* Images.register({ owner: Images.SYSTEM_OWNER, name: "root", kind: "machine", location: "m", public: true, kernelId: k, now, ...raw("root.img", 65536) })
    }).pipe(Effect.provide(Db.layer(s.dataDir))))
    const i = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: "euca-1a" } }))).Instances![0]!.InstanceId!
    await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { InstanceIds: [i] })
    const v = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1a", Size: 1 }))).VolumeId!
    const described = async () => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] }))).Volumes![0]!
    await until(`${v} available`, async () => (await described()).State === "available")
    await ec2.send(new AttachVolumeCommand({ VolumeId: v, InstanceId: i, Device: "/dev/sdf" }))
    await until(`the attach of ${v} to fail`, async () => {
      const d = await described()
      return d.State === "available" && (d.Attachments ?? []).length === 0
    })
    expect(Fs.readdirSync(dir).filter((f) => f.endsWith(".pid") || f.endsWith(".port"))).toEqual([])
    await ec2.send(new DeleteVolumeCommand({ VolumeId: v }))
  }, 120_000)

  it("in a zone without a storage host, a volume fails (state error)", async () => {
    const ec2 = server!.client()
    const v = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "euca-1b", Size: 1 }))).VolumeId!
    await until(`${v} to fail`, async () => (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [v] }))).Volumes![0]!.State === "error")
  }, 60_000)
})
