/**
 * The storage agent for real: a throwaway OpenSSH server as the zone's storage host, the real
 * qemu-img and qemu-nbd run there by its login user. A volume is created, written, snapshotted,
 * exported over NBD (read back with qemu-io as an NBD client), unexported, copied into a new volume
 * from its snapshot, and deleted.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Schema, Scope } from "effect"
import * as StorageAgent from "../../../src/backends/storage/StorageAgent.js"
import * as NodesFile from "../../../src/backends/xen/NodesFile.js"
import * as SshPool from "../../../src/backends/xen/SshPool.js"
import { rootOrSkip, type Sshd, startSshd } from "../../support/sshd.js"
import { nodeOf } from "../xen/harness.js"

const tools = ["/usr/bin/qemu-img", "/usr/bin/qemu-nbd", "/usr/bin/qemu-io"].filter((t) => !Fs.existsSync(t))
const enabled = rootOrSkip("StorageAgent real-sshd tests") && (() => {
  if (tools.length === 0) return true
  const message = `StorageAgent real-sshd tests skipped: ${tools.join(", ")} missing (apt-get install qemu-utils)`
  if (process.env["CI"] === "true") throw new Error(message)
  console.warn(message)
  return false
})()
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const fail = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))

const VOL = "vol-1e1e1e1f"
const VOL2 = "vol-1e1e1e20"
const SNAP = "snap-2d2d2d2e"
const MARK = "written before the snapshot\n"

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = Net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

/** Reads `bytes` at offset 0 of an NBD export with QEMU's own NBD client. */
const nbdRead = (port: number, name: string, bytes: number): string => {
  const r = ChildProcess.spawnSync("qemu-io", ["-f", "raw", "-r", "-c", `read -v 0 ${bytes}`, `nbd://127.0.0.1:${port}/${name}`], { encoding: "utf8", timeout: 20_000 })
  if (r.status !== 0) throw new Error(`qemu-io: ${r.stderr}${r.stdout}`)
  // `read -v` dumps as "00000000:  77 72 ...  written.before.." lines: take the hex bytes.
  const hex = r.stdout.split("\n").filter((l) => /^[0-9a-f]{8}:/.test(l)).map((l) => l.slice(10, 10 + 16 * 3).trim()).join(" ")
  return Buffer.from(hex.split(/\s+/).filter((x) => x !== "").map((x) => parseInt(x, 16))).subarray(0, bytes).toString("latin1")
}

describe.skipIf(!enabled)("StorageAgent over a real sshd with qemu-img and qemu-nbd", () => {
  let sshd: Sshd
  let scope: Scope.CloseableScope
  let agent: StorageAgent.StorageAgentShape
  let dir = ""
  let first = 0

  beforeAll(async () => {
    sshd = await startSshd()
    dir = Path.join(sshd.remoteDir, "volumes")
    // A range of two export ports starting at one that is free now.
    first = await new Promise<number>((resolve) => {
      const srv = Net.createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as Net.AddressInfo).port
        srv.close(() => resolve(p))
      })
    })
    const file = Schema.decodeUnknownSync(NodesFile.NodesFile)({
      nodes: [nodeOf(sshd)],
      storage: [{
        zone: "zone-1", host: sshd.host, port: sshd.port, user: sshd.user, privateKeyPath: sshd.privateKeyPath, hostKey: sshd.knownHostsLine,
        dir, export: { address: "127.0.0.1", ports: { first, last: first + 1 } },
        timeouts: { connectMs: 5000, commandMs: 20000, uploadMs: 60000 }
      }]
    })
    scope = await run(Scope.make())
    const agents = await run(Effect.gen(function*() {
      const pool = yield* SshPool.make(NodesFile.targets(file))
      return yield* StorageAgent.all(file, pool)
    }).pipe(Scope.extend(scope)))
    expect([...agents.keys()]).toEqual(["zone-1"])
    agent = agents.get("zone-1")!
  }, 60_000)

  afterAll(async () => {
    // No qemu-nbd outlives the test, whatever happened.
    if (agent) for (const v of [VOL, VOL2]) await Effect.runPromise(Effect.ignore(agent.unexport(v)))
    if (scope) await run(Scope.close(scope, Exit.void))
    if (sshd) await sshd.stop()
  })

  it("creates a sparse raw volume of the size asked, owned by the storage user, never left as .part", async () => {
    await run(agent.createVolume({ id: VOL, sizeGiB: 1 }))
    const f = agent.files.volume(VOL)
    expect(f).toBe(Path.join(dir, `${VOL}.img`))
    const st = Fs.statSync(f)
    expect(st.size).toBe(1024 ** 3)
    expect(st.blocks * 512).toBeLessThan(1024 * 1024)
    expect(st.uid).toBe(Fs.statSync(sshd.remoteDir).uid)
    expect(Fs.existsSync(`${f}.part`)).toBe(false)
  })

  it("snapshots the volume as a copy: later writes to the volume are not in the snapshot", async () => {
    const f = agent.files.volume(VOL)
    const fd = Fs.openSync(f, "r+")
    Fs.writeSync(fd, MARK, 0)
    Fs.closeSync(fd)
    await run(agent.createSnapshot(SNAP, VOL))
    const fd2 = Fs.openSync(f, "r+")
    Fs.writeSync(fd2, "LATER", 0)
    Fs.closeSync(fd2)
    const s = agent.files.snapshot(SNAP)
    expect(Fs.statSync(s).size).toBe(1024 ** 3)
    const head = Buffer.alloc(MARK.length)
    const sfd = Fs.openSync(s, "r")
    Fs.readSync(sfd, head, 0, MARK.length, 0)
    Fs.closeSync(sfd)
    expect(head.toString()).toBe(MARK)
  })

  it("exports the volume over NBD on the first free port of the range; an NBD client reads its bytes; unexport stops qemu-nbd", async () => {
    const e = await run(agent.exportVolume(VOL))
    expect(e).toEqual({ name: VOL, address: "127.0.0.1", port: first })
    expect(await run(agent.exportOf(VOL))).toBe(first)
    const pid = Number(Fs.readFileSync(Path.join(dir, `${VOL}.pid`), "utf8").trim())
    expect(Fs.readFileSync(`/proc/${pid}/cmdline`, "utf8")).toContain("qemu-nbd")
    expect(nbdRead(first, VOL, 5)).toBe("LATER")
    // Exporting again replaces the export (the stale one of an instance that ended).
    const again = await run(agent.exportVolume(VOL))
    expect(again.port).toBe(first)
    expect(Fs.existsSync(`/proc/${pid}/cmdline`) && Fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("qemu-nbd")).toBe(false)
    await run(agent.unexport(VOL))
    expect(await run(agent.exportOf(VOL))).toBeUndefined()
    expect(await portOpen(first)).toBe(false)
    expect(Fs.existsSync(Path.join(dir, `${VOL}.pid`))).toBe(false)
    await run(agent.unexport(VOL)) // idempotent
  }, 60_000)

  it("makes a volume from the snapshot, grown to its size, with the snapshot's content", async () => {
    await run(agent.createVolume({ id: VOL2, sizeGiB: 2, snapshotId: SNAP }))
    const f = agent.files.volume(VOL2)
    expect(Fs.statSync(f).size).toBe(2 * 1024 ** 3)
    const e = await run(agent.exportVolume(VOL2))
    expect(nbdRead(e.port, VOL2, MARK.length)).toBe(MARK)
    await run(agent.unexport(VOL2))
  }, 60_000)

  it("runs out of export ports with a reason, and fails a volume from a missing snapshot without leaving a file", async () => {
    const a = await run(agent.exportVolume(VOL))
    const b = await run(agent.exportVolume(VOL2))
    expect([a.port, b.port].sort()).toEqual([first, first + 1])
    await run(agent.createVolume({ id: "vol-1e1e1e21", sizeGiB: 1 }))
    const e = await fail(agent.exportVolume("vol-1e1e1e21"))
    expect(e._tag).toBe("NoExportPort")
    expect(e.message).toContain(`every export port (${first}–${first + 1}) is taken`)
    await run(Effect.all([agent.unexport(VOL), agent.unexport(VOL2), agent.deleteVolume("vol-1e1e1e21")]))
    const missing = await fail(agent.createVolume({ id: "vol-1e1e1e22", sizeGiB: 1, snapshotId: "snap-2d2d2d2f" }))
    expect(missing._tag).toBe("StorageCommandFailed")
    expect(missing.message).toMatch(/creating vol-1e1e1e22 from snap-2d2d2d2f failed .*No such file/)
    expect(Fs.readdirSync(dir).filter((n) => n.includes("vol-1e1e1e22"))).toEqual([])
  }, 60_000)

  it("deletes volumes (stopping an export still running) and the snapshot", async () => {
    const e = await run(agent.exportVolume(VOL))
    await run(agent.deleteVolume(VOL))
    expect(await portOpen(e.port)).toBe(false)
    await run(agent.deleteVolume(VOL2))
    await run(agent.deleteSnapshot(SNAP))
    await run(agent.deleteSnapshot(SNAP)) // idempotent
    expect(Fs.readdirSync(dir)).toEqual([])
  }, 60_000)
})
