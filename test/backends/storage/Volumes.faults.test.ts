/**
 * Attach and detach as the KVM backend runs them (storage/Volumes.ts): the real storage agent (a
 * real sshd, qemu-img, qemu-nbd) and the KVM node agent against the stand-in virsh
 * (test/support/fake-virsh), for the faults a real libvirtd does not produce on demand: an attach
 * QEMU refuses, an attach that does not show up, a guest that keeps the disk, an export that cannot
 * start. In every case nothing is left half-done: no export without a disk, no disk without an export.
 */
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Schema, Scope } from "effect"
import * as KvmAgent from "../../../src/backends/kvm/KvmAgent.js"
import * as StorageAgent from "../../../src/backends/storage/StorageAgent.js"
import * as Volumes from "../../../src/backends/storage/Volumes.js"
import * as ImageCache from "../../../src/backends/xen/ImageCache.js"
import * as ImageStore from "../../../src/backends/xen/ImageStore.js"
import * as NodesFile from "../../../src/backends/xen/NodesFile.js"
import * as SshHost from "../../../src/backends/xen/SshHost.js"
import { rootOrSkip, type Sshd, startSshd } from "../../support/sshd.js"

const FAKE_VIRSH = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..", "..", "support", "fake-virsh", "virsh")
const enabled = rootOrSkip("attach/detach fault tests") && (() => {
  const missing = ["/usr/bin/qemu-img", "/usr/bin/qemu-nbd"].filter((t) => !Fs.existsSync(t))
  if (missing.length === 0) return true
  const message = `attach/detach fault tests skipped: ${missing.join(", ")} missing (apt-get install qemu-utils)`
  if (process.env["CI"] === "true") throw new Error(message)
  console.warn(message)
  return false
})()
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const flip = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))

const portOpen = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = Net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

const BLK_EMPTY = " Target   Source\n------------------------\n vda      /x/disk.qcow2\n\n"
const BLK_VDF = " Target   Source\n------------------------\n vda      /x/disk.qcow2\n vdf      vol-1e1e1e1f\n\n"

describe.skipIf(!enabled)("volume attach/detach faults: real storage host, stand-in virsh", () => {
  let sshd: Sshd
  let scope: Scope.CloseableScope
  let sa: StorageAgent.StorageAgentShape
  let node: KvmAgent.KvmAgentShape
  let state = ""
  let local = ""
  let first = 0
  const VOL = "vol-1e1e1e1f"
  const req = { volumeId: VOL, instanceId: "i-00000001", device: "/dev/sdf" }
  const file = (name: string, text: string) => Fs.writeFileSync(Path.join(state, name), text, { mode: 0o666 })
  const calls = () => Fs.existsSync(Path.join(state, "calls.log")) ? Fs.readFileSync(Path.join(state, "calls.log"), "utf8") : ""
  const resetCalls = () => Fs.rmSync(Path.join(state, "calls.log"), { force: true })

  beforeAll(async () => {
    sshd = await startSshd()
    state = Path.join(sshd.remoteDir, "virsh-state")
    Fs.mkdirSync(state, { mode: 0o777 })
    Fs.chmodSync(state, 0o777)
    first = await new Promise<number>((resolve) => {
      const srv = Net.createServer().listen(0, "127.0.0.1", () => {
        const p = (srv.address() as Net.AddressInfo).port
        srv.close(() => resolve(p))
      })
    })
    local = Fs.mkdtempSync(Path.join(Os.tmpdir(), "vol-faults-"))
    const store = await run(ImageStore.make(Path.join(local, "store")))
    const remote = Path.join(sshd.remoteDir, "kvm")
    const ssh = { host: sshd.host, port: sshd.port, user: sshd.user, privateKeyPath: sshd.privateKeyPath, hostKey: sshd.knownHostsLine }
    const f = Schema.decodeUnknownSync(NodesFile.NodesFile)({
      nodes: [{
        name: "kvm-v", zone: "zone-1", ...ssh, reserve: { memoryMiB: 0, cores: 0 },
        paths: { configDir: `${remote}/domains`, instancesDir: `${remote}/instances`, imageCacheDir: `${remote}/cache`, imageCacheMiB: 16, consoleLogDir: `${remote}/console` },
        kvm: { virsh: [FAKE_VIRSH, state] },
        timeouts: { connectMs: 5000, commandMs: 10000, createMs: 10000, uploadMs: 10000 }
      }],
      storage: [{ zone: "zone-1", ...ssh, dir: Path.join(sshd.remoteDir, "volumes"), export: { address: "127.0.0.1", ports: { first, last: first } } }]
    })
    scope = await run(Scope.make())
    const host = await run(SshHost.make(NodesFile.nodeTarget(f.nodes[0]!)).pipe(Scope.extend(scope)))
    const cache = await run(ImageCache.make(host, { node: "kvm-v", dir: `${remote}/cache`, boundMiB: 16 }))
    node = KvmAgent.make(f.nodes[0]!, { host, cache, images: store, detachWaitMs: 1500 })
    sa = StorageAgent.make(f.storage![0]!, host)
    await run(sa.createVolume({ id: VOL, sizeGiB: 1 }))
  }, 60_000)

  afterAll(async () => {
    if (sa) await Effect.runPromise(Effect.ignore(sa.deleteVolume(VOL)))
    if (scope) await run(Scope.close(scope, Exit.void))
    if (sshd) await sshd.stop()
    if (local) Fs.rmSync(local, { recursive: true, force: true })
  })

  it("an attach QEMU refuses fails with libvirt's reason; the export is stopped and nothing is unplugged", async () => {
    resetCalls()
    // What libvirt 9.0 / QEMU 7.2 say when the export cannot be reached (captured on 2026-12-03).
    file("fail-attach-device", "1\nerror: Failed to attach device from /x.xml\nerror: internal error: unable to execute QEMU command 'blockdev-add': Failed to connect to '127.0.0.1:10898': Connection refused\n")
    const e = await flip(Volumes.attach(sa, node.attachVolume, req))
    expect(e.message).toContain("Failed to connect to '127.0.0.1:10898': Connection refused")
    expect(await run(sa.exportOf(VOL))).toBeUndefined()
    expect(await portOpen(first)).toBe(false)
    expect(calls()).toMatch(/^attach-device i-00000001 \S+\/i-00000001-vol-1e1e1e1f\.xml --live$/m)
    expect(calls()).not.toContain("detach-device")
    // The device XML was written for the attach and is gone after it.
    expect(Fs.readdirSync(Path.join(sshd.remoteDir, "kvm", "domains"))).toEqual([])
  }, 30_000)

  it("an attach that libvirt accepts but the domain does not list is unplugged again and its export stopped", async () => {
    resetCalls()
    file("out-attach-device", "Device attached successfully\n")
    file("out-domblklist", BLK_EMPTY)
    const e = await flip(Volumes.attach(sa, node.attachVolume, req))
    expect(e.message).toContain("does not list vdf after attaching vol-1e1e1e1f")
    expect(calls()).toContain("detach-device i-00000001")
    expect(await run(sa.exportOf(VOL))).toBeUndefined()
  }, 30_000)

  it("a good attach leaves the export up on the port of the range, plugged at vdf", async () => {
    file("out-domblklist", BLK_VDF)
    const a = await run(Volumes.attach(sa, node.attachVolume, req))
    expect(a).toEqual({ volumeId: VOL, device: "/dev/sdf", address: "127.0.0.1", port: first })
    expect(await run(sa.exportOf(VOL))).toBe(first)
    expect(await portOpen(first)).toBe(true)
  }, 30_000)

  it("a guest that keeps the disk holds the detach (export still up); a forced detach stops the export", async () => {
    resetCalls()
    file("out-detach-device", "Device detached successfully\n")
    const held = await run(Volumes.detach(sa, node.detachVolume, { ...req, force: false }))
    expect(held).toMatchObject({ _tag: "Held", reason: expect.stringContaining("did not let vdf (vol-1e1e1e1f) go within 2 s") })
    expect(calls()).toContain("detach-device i-00000001")
    expect(await run(sa.exportOf(VOL))).toBe(first)
    const forced = await run(Volumes.detach(sa, node.detachVolume, { ...req, force: true }))
    expect(forced).toEqual({ _tag: "Detached" })
    expect(await run(sa.exportOf(VOL))).toBeUndefined()
    expect(await portOpen(first)).toBe(false)
  }, 30_000)

  it("a detach the guest honours stops the export; a domain that is gone counts as detached", async () => {
    file("out-domblklist", BLK_VDF)
    await run(Volumes.attach(sa, node.attachVolume, req))
    file("out-domblklist", BLK_EMPTY)
    expect(await run(Volumes.detach(sa, node.detachVolume, { ...req, force: false }))).toEqual({ _tag: "Detached" })
    expect(await run(sa.exportOf(VOL))).toBeUndefined()
    Fs.rmSync(Path.join(state, "out-domblklist"))
    file("fail-domblklist", "1\nerror: failed to get domain 'i-00000001'\n")
    expect(await run(Volumes.detach(sa, node.detachVolume, { ...req, force: false }))).toEqual({ _tag: "Detached" })
  }, 30_000)

  it("an export that cannot start (its port taken by someone else) fails the attach before the node is asked", async () => {
    resetCalls()
    const squatter = Net.createServer()
    await new Promise<void>((r) => squatter.listen(first, "127.0.0.1", () => r()))
    try {
      const e = await flip(Volumes.attach(sa, node.attachVolume, req))
      expect(e.message).toMatch(/exporting vol-1e1e1e1f on 127\.0\.0\.1:\d+ failed .*(in use|bind|Failed)/i)
      expect(calls()).not.toContain("attach-device")
      expect(await run(sa.exportOf(VOL))).toBeUndefined()
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()))
    }
  }, 30_000)
})
