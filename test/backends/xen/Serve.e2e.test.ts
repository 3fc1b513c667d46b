/**
 * End to end: `euca serve --backend xen` (in-process) over two stand-in Xen nodes reached through
 * real OpenSSH servers. The AWS SDK runs, describes, reboots and terminates instances, and the
 * domains appear and disappear in `xl list` on the nodes.
 */
import { createHash } from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import {
  DescribeAvailabilityZonesCommand,
  DescribeInstancesCommand,
  GetConsoleOutputCommand,
  RebootInstancesCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated
} from "@aws-sdk/client-ec2"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Images from "../../../src/store/Images.js"
import * as Db from "../../../src/store/Database.js"
import * as TestServer from "../../support/server.js"
import { rootOrSkip, startSshd, type Sshd } from "../../support/sshd.js"
import { nodeOf } from "./harness.js"

const enabled = rootOrSkip("the Xen end-to-end test")
let nodes: Array<Sshd> = []
let server: TestServer.TestServer | undefined
let work = ""

const domains = (sshd: Sshd): Array<{ name: string; domid: number }> =>
  sshd
    .xl("list")
    .stdout.split("\n")
    .slice(1)
    .filter((l) => l.trim() !== "" && !l.startsWith("Domain-0"))
    .map((l) => {
      const cols = l.trim().split(/\s+/)
      return { name: cols[0]!, domid: Number(cols[1]) }
    })

const until = async (what: string, f: () => boolean, ms = 15_000) => {
  const end = Date.now() + ms
  while (!f()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 200))
  }
}

beforeAll(async () => {
  if (!enabled) return
  nodes = [await startSshd(), await startSshd()]
  work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-xen-e2e-"))
  const nodesFile = Path.join(work, "nodes.json")
  Fs.writeFileSync(
    nodesFile,
    JSON.stringify({ nodes: [nodeOf(nodes[0]!, "node-1", { zone: "euca-1a" }), nodeOf(nodes[1]!, "node-2", { zone: "euca-1b" })] })
  )
  server = await TestServer.start({
    config: {
      network: { mode: "SYSTEM", subnet: "10.77.0.0/16" },
      backend: { kind: "xen", nodesFile },
      tickSeconds: 1
    }
  })
}, 60_000)

afterAll(async () => {
  await server?.stop()
  for (const n of nodes) await n.stop()
  if (work) Fs.rmSync(work, { recursive: true, force: true })
})

describe.runIf(enabled)("euca serve --backend xen over two stand-in nodes", () => {
  it("runs, describes, reboots and terminates instances through SSH and xl", async () => {
    const s = server!
    // Images with files: what a Xen node boots (kernel, ramdisk, root), registered as the operator would.
    const file = (name: string, bytes: number) => {
      const p = Path.join(work, name)
      Fs.writeFileSync(p, Buffer.alloc(bytes, name))
      return { path: p, digest: createHash("sha256").update(Fs.readFileSync(p)).digest("hex"), sizeBytes: bytes }
    }
    const emi = await Effect.runPromise(
      Effect.gen(function* () {
        const now = Date.now()
        const k = yield* Images.register({ owner: Images.SYSTEM_OWNER, name: "vmlinuz", kind: "kernel", location: "k", public: true, now, ...file("vmlinuz", 4096) })
        const r = yield* Images.register({ owner: Images.SYSTEM_OWNER, name: "initrd", kind: "ramdisk", location: "r", public: true, now, ...file("initrd", 2048) })
        return yield* Images.register({ owner: Images.SYSTEM_OWNER, name: "root", kind: "machine", location: "m", public: true, kernelId: k, ramdiskId: r, now, ...file("root.img", 65536) })
      }).pipe(Effect.provide(Db.layer(s.dataDir)))
    )
    const ec2 = s.client()
    // The nodes reported their capacity from `xl info` over SSH before the server started answering.
    const zones = await ec2.send(new DescribeAvailabilityZonesCommand({}))
    expect(zones.AvailabilityZones?.map((z) => z.ZoneName)).toEqual(["euca-1a", "euca-1b"])

    const run = await ec2.send(new RunInstancesCommand({ ImageId: emi, InstanceType: "m1.small", MinCount: 2, MaxCount: 2, Placement: { AvailabilityZone: "euca-1b" } }))
    const ids = run.Instances!.map((i) => i.InstanceId!)
    await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { InstanceIds: ids })
    expect(domains(nodes[1]!).map((d) => d.name).sort()).toEqual([...ids].sort())
    expect(domains(nodes[0]!)).toEqual([])

    const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))
    expect(described.Reservations![0]!.Instances!.map((i) => [i.State?.Name, i.Placement?.AvailabilityZone])).toEqual([
      ["running", "euca-1b"],
      ["running", "euca-1b"]
    ])

    // A reboot re-creates the domain: a new domid, same name.
    const before = domains(nodes[1]!).find((d) => d.name === ids[0])!.domid
    await ec2.send(new RebootInstancesCommand({ InstanceIds: [ids[0]!] }))
    await until("a new domid after the reboot", () => (domains(nodes[1]!).find((d) => d.name === ids[0])?.domid ?? before) !== before)

    const console = await ec2.send(new GetConsoleOutputCommand({ InstanceId: ids[1] }))
    expect(typeof console.Output).toBe("string")

    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }))
    await waitUntilInstanceTerminated({ client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { InstanceIds: ids })
    expect(domains(nodes[1]!)).toEqual([])
  }, 120_000)

  it("reports a domain that vanished behind its back as a failed instance, and releases its capacity", async () => {
    const s = server!
    const ec2 = s.client()
    const images = await Effect.runPromise(Images.all.pipe(Effect.provide(Db.layer(s.dataDir))))
    const emi = images.find((i) => i.name === "root")!.id
    const run = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, Placement: { AvailabilityZone: "euca-1a" } }))
    const id = run.Instances![0]!.InstanceId!
    await waitUntilInstanceRunning({ client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { InstanceIds: [id] })
    // Someone destroys the domain on the node directly.
    expect(nodes[0]!.xl("destroy", id).status).toBe(0)
    await waitUntilInstanceTerminated({ client: ec2, maxWaitTime: 60, minDelay: 1, maxDelay: 1 }, { InstanceIds: [id] })
    const after = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))
    expect(after.Reservations![0]!.Instances![0]!.StateReason?.Code).toBe("Server.InternalError")
  }, 120_000)
})
