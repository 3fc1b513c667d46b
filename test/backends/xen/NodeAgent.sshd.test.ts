/**
 * The node agent end to end through a real OpenSSH server and the stand-in xl: the same code path as
 * on a Xen host (ssh2 → sshd → /bin/sh → xl → parsers), with the real SFTP staging and shell steps.
 */
import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as ImageCache from "../../../src/backends/xen/ImageCache.js"
import * as ImageStore from "../../../src/backends/xen/ImageStore.js"
import * as NodeAgent from "../../../src/backends/xen/NodeAgent.js"
import * as NodesFile from "../../../src/backends/xen/NodesFile.js"
import * as Reconcile from "../../../src/backends/xen/Reconcile.js"
import * as SshHost from "../../../src/backends/xen/SshHost.js"
import * as SshPool from "../../../src/backends/xen/SshPool.js"
import * as Ids from "../../../src/model/Ids.js"
import * as Resources from "../../../src/model/Resources.js"
import { rootOrSkip, type Sshd, startSshd } from "../../support/sshd.js"
import { nodeOf } from "./harness.js"

const enabled = rootOrSkip("NodeAgent real-sshd tests")
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))

describe.skipIf(!enabled)("NodeAgent over a real sshd and the stand-in xl", () => {
  let sshd: Sshd
  let scope: Scope.CloseableScope
  let host: SshHost.SshHostShape
  let store: ImageStore.ImageStoreShape
  let local: string
  const img: Record<string, ImageStore.StoredImage> = {}

  const register = async (name: string, bytes: number, kind: ImageStore.ImageKind) => {
    const p = Path.join(local, name)
    Fs.writeFileSync(p, Crypto.randomBytes(bytes))
    img[name] = await run(store.register(p, kind, { name }))
  }

  beforeAll(async () => {
    sshd = await startSshd()
    local = Fs.mkdtempSync(Path.join(Os.tmpdir(), "agent-images-"))
    store = await run(ImageStore.make(Path.join(local, "store")))
    await register("kernel", 4096, "kernel")
    await register("ramdisk", 4096, "ramdisk")
    for (const m of ["m1", "m2", "m3", "m4"]) await register(m, 1024 * 1024, "machine")
    scope = await run(Scope.make())
    host = await run(SshHost.make({ ...nodeOf(sshd), name: "node" }).pipe(Scope.extend(scope)))
  })
  afterAll(async () => {
    if (scope) await run(Scope.close(scope, Exit.void))
    if (sshd) await sshd.stop()
    if (local) Fs.rmSync(local, { recursive: true, force: true })
  })

  const agentFor = async (name: string, over: Record<string, unknown> = {}) => {
    const node = nodeOf(sshd, name, over)
    const cache = await run(ImageCache.make(host, { node: name, dir: node.paths.imageCacheDir, boundMiB: node.paths.imageCacheMiB }))
    const agent = NodeAgent.make(node, { host, cache, images: store })
    return { node, cache, agent }
  }

  let seq = 0x100
  const newId = () => Ids.instanceId(seq++)
  const spec = (id: Ids.InstanceId, over: Partial<NodeAgent.StartSpec> = {}): NodeAgent.StartSpec => ({
    id,
    size: Resources.make(1, 256, 1),
    imageId: img["m1"]!.id,
    kernelId: img["kernel"]!.id,
    ramdiskId: img["ramdisk"]!.id,
    mac: Ids.macOf(id),
    bridge: "eucabr10",
    privateIp: "172.31.1.2",
    vlan: 10,
    ...over
  })
  const names = async (agent: NodeAgent.NodeAgentShape) => (await run(agent.list)).map((d) => d.name)
  const state = (rel: string, text: string) => {
    const p = Path.join(sshd.stateDir, rel)
    Fs.writeFileSync(p, text)
    Fs.chownSync(p, Fs.statSync(sshd.stateDir).uid, Fs.statSync(sshd.stateDir).gid)
  }

  it("makes an agent per node of a nodes file, over a pool", async () => {
    const file = { nodes: [nodeOf(sshd, "pool-a", { diskGiB: 10 }), nodeOf(sshd, "pool-b", { diskGiB: 20 })], clusterHeads: [] }
    const disks = await run(Effect.scoped(Effect.gen(function*() {
      const pool = yield* SshPool.make(NodesFile.targets(file))
      const agents = yield* NodeAgent.all(file, pool, store)
      expect([...agents.keys()]).toEqual(["pool-a", "pool-b"])
      return yield* Effect.forEach(agents.values(), (a) => a.resources.pipe(Effect.map((r) => r.capacity.diskGiB)))
    })))
    expect(disks).toEqual([10, 20])
  })

  it("reports resources from xl info minus the dom0 reserve; disk as configured or measured", async () => {
    const { agent } = await agentFor("node-res", { diskGiB: 100 })
    const r = await run(agent.resources)
    expect(r).toMatchObject({ capacity: { cores: 7, memoryMiB: 32614 - 4096, diskGiB: 100 }, nrCpus: 8, totalMemoryMiB: 32614, xenVersion: "4.17.6-pre", host: "xenhost1" })
    const { agent: measured, node } = await agentFor("node-df")
    const m = await run(measured.resources)
    const kib = Number(ChildProcess.spawnSync("df", ["-Pk", node.paths.instancesDir], { encoding: "utf8" }).stdout.trim().split("\n")[1]!.split(/\s+/)[1])
    expect(m.capacity.diskGiB).toBe(Math.max(0, Math.floor(kib / 1024 / 1024) - 1))
  })

  it("starts, lists, reboots (new domid), shows the console, and destroys idempotently", async () => {
    const { agent, node } = await agentFor("node-life")
    const id = newId()
    const started = await run(agent.start(spec(id)))
    expect(started.configPath).toBe(Path.join(node.paths.configDir, `${id}.cfg`))
    const row = (await run(agent.list)).find((d) => d.name === id)!
    expect(row).toMatchObject({ domid: started.domid, memoryMiB: 256, vcpus: 1, state: { running: true } })
    const long = (await run(agent.listLong)).find((d) => d.name === id)!
    expect(long.nics).toEqual([{ mac: Ids.macOf(id), bridge: "eucabr10", ifname: undefined }])
    const dir = Path.join(node.paths.instancesDir, id)
    expect(long.disks.map((d) => [d.vdev, d.pdevPath])).toEqual([["xvda1", `${dir}/root`], ["xvda2", `${dir}/ephemeral`]])
    expect(Fs.readFileSync(`${dir}/root`).equals(Fs.readFileSync(img["m1"]!.path))).toBe(true)
    expect(Fs.readFileSync(`${dir}/kernel`).equals(Fs.readFileSync(img["kernel"]!.path))).toBe(true)
    expect(Fs.statSync(`${dir}/ephemeral`).size).toBe(1023 * 1024 * 1024)
    expect(Fs.readFileSync(started.configPath, "utf8")).toContain(`vif     = [ "mac=${Ids.macOf(id)}, bridge=eucabr10, ip=172.31.1.2" ]`)
    expect(await run(agent.consoleOutput(id))).toMatch(new RegExp(`${id} login: \\n$`))

    expect(await run(agent.reboot(id))).toEqual({ hard: false })
    const after = (await run(agent.list)).find((d) => d.name === id)!
    expect(after.domid).toBeGreaterThan(started.domid)
    // A guest without PV drivers: destroy + create from its config.
    state("faults/nopv", "")
    try {
      expect(await run(agent.reboot(id))).toEqual({ hard: true })
    } finally {
      Fs.rmSync(Path.join(sshd.stateDir, "faults/nopv"))
    }
    expect((await run(agent.list)).find((d) => d.name === id)!.domid).toBeGreaterThan(after.domid)

    expect(await run(agent.destroy(id))).toEqual({ existed: true })
    expect(await names(agent)).not.toContain(id)
    expect(Fs.existsSync(dir) || Fs.existsSync(started.configPath)).toBe(false)
    expect(await run(agent.destroy(id))).toEqual({ existed: false })
    expect(await run(agent.consoleOutput(Ids.instanceId(0xdead)))).toBe("")
    expect(await fail(agent.reboot(Ids.instanceId(0xdead)))).toMatchObject({ _tag: "XlCommandFailed", kind: "InvalidDomain" })
  })

  it("undoes a start whose xl create fails after staging: no config, no instance directory, no domain", async () => {
    const { agent, node, cache } = await agentFor("node-comp")
    const id = newId()
    state("faults/fail-create", "3\nParsing config from x\nlibxl: error: libxl_create.c:1: Domain 99:injected failure\n")
    const e = await fail(agent.start(spec(id)))
    expect(e).toMatchObject({ _tag: "XlCommandFailed", kind: "Failed", exitCode: 3, message: expect.stringContaining("injected failure") })
    expect(Fs.existsSync(Path.join(node.paths.instancesDir, id))).toBe(false)
    expect(Fs.existsSync(Path.join(node.paths.configDir, `${id}.cfg`))).toBe(false)
    expect(await names(agent)).not.toContain(id)
    // The images stay cached: the next start does not upload them again.
    const uploads = (await run(cache.stats)).uploads
    await run(agent.start(spec(id)))
    expect((await run(cache.stats)).uploads).toBe(uploads)
    await run(agent.destroy(id))
  })

  it("destroys a domain that was created when a later step fails", async () => {
    const { agent, node } = await agentFor("node-comp2")
    const id = newId()
    state("faults/fail-domid", "1\nxl: injected failure after create\n")
    const e = await fail(agent.start(spec(id)))
    expect(e).toMatchObject({ _tag: "XlCommandFailed", command: `xl domid ${id}` })
    expect(await names(agent)).not.toContain(id)
    expect(Fs.existsSync(Path.join(node.paths.instancesDir, id))).toBe(false)
    expect(Fs.readFileSync(Path.join(sshd.stateDir, "calls.log"), "utf8")).toContain(`destroy ${id}\n`)
  })

  it("cleans up after an xl create that times out (its outcome unknown)", async () => {
    const { agent, node } = await agentFor("node-slow", { timeouts: { createMs: 300 } })
    const id = newId()
    state("faults/delay-create", "4\n")
    try {
      const e = await fail(agent.start(spec(id)))
      expect(e).toMatchObject({ _tag: "SshCommandTimeout" })
      expect(Fs.existsSync(Path.join(node.paths.configDir, `${id}.cfg`))).toBe(false)
      // The remote `timeout` ends the create two seconds in, before its delay is over: no domain ever appears.
      await new Promise((r) => setTimeout(r, 2_500))
    } finally {
      Fs.rmSync(Path.join(sshd.stateDir, "faults/delay-create"))
    }
    expect(await names(agent)).not.toContain(id)
  })

  it("never starts an instance twice, and leaves the existing domain and its files alone", async () => {
    const { agent, node } = await agentFor("node-twice")
    const id = newId()
    const first = await run(agent.start(spec(id)))
    const e = await fail(agent.start(spec(id)))
    expect(e).toMatchObject({ _tag: "XlCommandFailed", kind: "NameInUse" })
    expect((await run(agent.list)).find((d) => d.name === id)?.domid).toBe(first.domid)
    expect(Fs.existsSync(Path.join(node.paths.instancesDir, id, "root"))).toBe(true)
    await run(agent.destroy(id))
  })

  it("refuses unknown images and a missing kernel before touching the node", async () => {
    const { agent } = await agentFor("node-noimg")
    const before = Fs.readFileSync(Path.join(sshd.stateDir, "calls.log"), "utf8")
    expect(await fail(agent.start(spec(newId(), { imageId: "emi-00000000" })))).toMatchObject({ _tag: "ImageNotFound", id: "emi-00000000" })
    expect(await fail(agent.start(spec(newId(), { kernelId: undefined })))).toMatchObject({ _tag: "InvalidGuest", field: "kernel" })
    expect(Fs.readFileSync(Path.join(sshd.stateDir, "calls.log"), "utf8")).toBe(before)
  })

  it("stages an image once when starts of it run concurrently on one node", async () => {
    const { agent, cache } = await agentFor("node-flight")
    const ids = [newId(), newId(), newId(), newId()]
    const started = await run(Effect.all(ids.map((id) => agent.start(spec(id))), { concurrency: "unbounded" }))
    expect(new Set(started.map((s) => s.domid)).size).toBe(4)
    expect(await run(cache.stats)).toMatchObject({ uploads: 3, misses: 3, hits: 9 })
    const entries = await run(cache.entries)
    expect(entries.map((e) => e.digest).sort()).toEqual([img["m1"]!.digest, img["kernel"]!.digest, img["ramdisk"]!.digest].sort())
    await run(Effect.all(ids.map((id) => agent.destroy(id)), { concurrency: "unbounded" }))
  })

  it("evicts the least recently used image to stay within the cache bound", async () => {
    const { agent, cache } = await agentFor("node-lru", { paths: { ...nodeOf(sshd, "node-lru").paths, imageCacheMiB: 3 } })
    const start = async (image: string) => {
      const id = newId()
      await run(agent.start(spec(id, { imageId: img[image]!.id })))
      await run(agent.destroy(id))
    }
    await start("m1")
    await start("m2")
    await start("m1") // m1 used again: m2 is now the least recently used
    await start("m3") // 3 × 1 MiB + kernel + ramdisk > 3 MiB: one must go
    const digests = (await run(cache.entries)).map((e) => e.digest).sort()
    expect(digests).toEqual([img["m1"]!.digest, img["m3"]!.digest, img["kernel"]!.digest, img["ramdisk"]!.digest].sort())
    expect((await run(cache.stats)).evictions).toBe(1)
  })

  it("refuses a staged copy whose digest does not match, leaving nothing behind", async () => {
    const { agent, cache, node } = await agentFor("node-corrupt")
    const p = Path.join(local, "m-bad")
    Fs.writeFileSync(p, Crypto.randomBytes(64 * 1024))
    const bad = await run(store.register(p, "machine"))
    Fs.appendFileSync(bad.path, "x") // the store's copy no longer has its digest
    const id = newId()
    const e = await fail(agent.start(spec(id, { imageId: bad.id })))
    expect(e).toMatchObject({ _tag: "ImageCacheError", reason: "DigestMismatch" })
    expect((await run(cache.entries)).map((x) => x.digest)).not.toContain(bad.digest)
    expect(Fs.readdirSync(node.paths.imageCacheDir).filter((f) => f.endsWith(".partial"))).toEqual([])
    expect(Fs.existsSync(Path.join(node.paths.instancesDir, id))).toBe(false)
  })

  it("reconciles what xl list shows with what the controller expects", async () => {
    const { agent } = await agentFor("node-rec")
    const [x, y, z, w] = [newId(), newId(), newId(), newId()]
    for (const id of [x, y, z]) await run(agent.start(spec(id)))
    expect(sshd.xl("destroy", y).status).toBe(0) // gone behind the controller's back
    const observed: Array<Reconcile.Observed> = [{ node: "node-rec", domains: await run(agent.list) }]
    const expected: Array<Reconcile.Expected> = [
      { id: x, node: "node-rec", state: "running" },
      { id: y, node: "node-rec", state: "running" },
      { id: w, node: "node-rec", state: "pending" }
    ]
    const r = Reconcile.reconcile(expected, observed)
    expect(r.running.map((i) => i.id)).toEqual([x])
    expect(r.lost).toEqual([{ id: y, node: "node-rec", reason: `domain ${y} is no longer on node node-rec` }])
    // Other tests' domains may be on this host too; z must be among the unknown, reported not killed.
    expect(r.unknown.map((u) => u.name)).toContain(z)
    expect(await names(agent)).toContain(z)
    for (const id of [x, y, z]) await run(agent.destroy(id))
  })
})
