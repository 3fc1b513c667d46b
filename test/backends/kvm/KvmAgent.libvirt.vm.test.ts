/**
 * The KVM node agent against a real libvirtd and QEMU: the same code path as on a KVM node (ssh2 →
 * sshd → /bin/sh → virsh → libvirtd → QEMU), with the busybox guest image booting for real (TCG
 * unless this machine's KVM passes the probe) on a bridge in the node's network namespace. One
 * guest is shared by the steps, in order: start, boot, reachability, console output, reboot, a
 * destroy behind the agent's back, the agent's destroy; then a start that fails half-way.
 */
import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Schema, Scope } from "effect"
import * as ImageCache from "../../../src/backends/xen/ImageCache.js"
import * as ImageStore from "../../../src/backends/xen/ImageStore.js"
import * as NodesFile from "../../../src/backends/xen/NodesFile.js"
import * as Reconcile from "../../../src/backends/xen/Reconcile.js"
import * as SshHost from "../../../src/backends/xen/SshHost.js"
import * as KvmAgent from "../../../src/backends/kvm/KvmAgent.js"
import * as Ids from "../../../src/model/Ids.js"
import * as Resources from "../../../src/model/Resources.js"
import { Lab } from "../../net/support/Lab.js"
import { canRun, type Libvirtd, startLibvirtd } from "../../support/libvirt.js"
import { rootOrSkip, type Sshd, startSshd } from "../../support/sshd.js"
import { busyboxGuest } from "./guest.js"

const why = canRun()
const enabled = rootOrSkip("KVM agent real-libvirt tests") && (() => {
  if (why === undefined) return true
  if (process.env["CI"] === "true") throw new Error(`KVM agent real-libvirt tests: ${why}`)
  console.warn(`KVM agent real-libvirt tests skipped: ${why}`)
  return false
})()
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

const waitFor = async (what: string, check: () => Promise<boolean>, seconds: number): Promise<void> => {
  for (let i = 0; i < seconds * 2; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, 500))
  }
  throw new Error(`gave up after ${seconds} s waiting for ${what}`)
}

describe.skipIf(!enabled)("KVM agent with a real libvirtd and a booting guest", () => {
  let lab: Lab
  let nodeNs: string
  let libvirtd: Libvirtd
  let sshd: Sshd
  let scope: Scope.CloseableScope
  let agent: KvmAgent.KvmAgentShape
  let node: NodesFile.Node
  let local: string
  let store: ImageStore.ImageStoreShape
  let host: SshHost.SshHostShape
  let cache: ImageCache.ImageCacheShape
  const img: Record<string, ImageStore.StoredImage> = {}
  const id = `i-${Crypto.randomBytes(4).toString("hex")}`
  const spec = (over: Partial<Parameters<KvmAgent.KvmAgentShape["start"]>[0]> = {}): Parameters<KvmAgent.KvmAgentShape["start"]>[0] => ({
    id: id as Ids.InstanceId,
    size: Resources.make(1, 256, 1),
    imageId: img["machine"]!.id,
    kernelId: img["kernel"]!.id,
    ramdiskId: img["ramdisk"]!.id,
    mac: "d0:0d:0a:4d:00:05",
    privateIp: "10.77.0.5",
    ...over
  })

  beforeAll(async () => {
    const guest = await busyboxGuest()
    lab = await Lab.create()
    nodeNs = await lab.addNamespace("kvmnode")
    await lab.x(nodeNs, ["ip", "link", "add", "eucabr0", "type", "bridge"])
    await lab.x(nodeNs, ["ip", "addr", "add", "10.77.0.1/24", "dev", "eucabr0"])
    await lab.x(nodeNs, ["ip", "link", "set", "eucabr0", "up"])
    libvirtd = await startLibvirtd({ netns: nodeNs })
    sshd = await startSshd({ user: "root" })
    local = Fs.mkdtempSync(Path.join(Os.tmpdir(), "kvm-agent-images-"))
    store = await run(ImageStore.make(Path.join(local, "store")))
    const machine = Path.join(local, "root.raw")
    Fs.writeFileSync(machine, Buffer.alloc(1024 * 1024))
    img["machine"] = await run(store.register(machine, "machine", { name: "empty-root" }))
    img["kernel"] = await run(store.register(guest.kernel, "kernel", { name: "vmlinuz" }))
    img["ramdisk"] = await run(store.register(guest.ramdisk, "ramdisk", { name: "initrd" }))
    const remote = Path.join(sshd.remoteDir, "kvm")
    Fs.mkdirSync(remote, { recursive: true, mode: 0o755 })
    node = Schema.decodeUnknownSync(NodesFile.Node)({
      name: "kvm-1", zone: "zone-1", host: sshd.host, port: sshd.port, user: sshd.user,
      privateKeyPath: sshd.privateKeyPath, hostKey: sshd.knownHostsLine,
      reserve: { memoryMiB: 1024, cores: 0 },
      paths: {
        configDir: Path.join(remote, "domains"),
        instancesDir: Path.join(remote, "instances"),
        imageCacheDir: Path.join(remote, "cache"),
        imageCacheMiB: 256,
        consoleLogDir: Path.join(remote, "console")
      },
      kvm: { virsh: libvirtd.virsh, reboot: "reset", cmdline: guest.cmdline, gateway: "10.77.0.1", netmask: "255.255.255.0" },
      timeouts: { connectMs: 5000, commandMs: 60000, createMs: 120000, uploadMs: 60000 }
    })
    scope = await run(Scope.make())
    host = await run(SshHost.make(NodesFile.nodeTarget(node)).pipe(Scope.extend(scope)))
    cache = await run(ImageCache.make(host, { node: node.name, dir: node.paths.imageCacheDir, boundMiB: node.paths.imageCacheMiB }))
    agent = KvmAgent.make(node, { host, cache, images: store })
  }, 300_000)

  afterAll(async () => {
    if (scope) await run(Scope.close(scope, Exit.void))
    if (libvirtd) await libvirtd.stop()
    if (sshd) await sshd.stop()
    if (lab) await lab.destroy()
    if (local) Fs.rmSync(local, { recursive: true, force: true })
  }, 60_000)

  it("reports the node's capacity from nodeinfo/nodememstats minus the reserve", async () => {
    const r = await run(agent.resources)
    expect(r.capacity.cores).toBe(Os.cpus().length)
    const totalMiB = Math.floor(Math.max(r.nodeinfo.memoryKiB, r.memstats.totalKiB) / 1024)
    expect(r.capacity.memoryMiB).toBe(totalMiB - 1024)
    expect(Math.abs(totalMiB - Math.floor(Os.totalmem() / 1048576))).toBeLessThan(64)
  })

  it("probes the domain type and never fails for lack of KVM", async () => {
    const t = await run(agent.domainType)
    expect(["kvm", "qemu"]).toContain(t)
    // The probe leaves nothing behind.
    expect(libvirtd.run("list", "--all", "--name").stdout.trim()).toBe("")
    console.info(`KVM agent test: guests run with domain type ${t}`)
  }, 60_000)

  it("starts the guest: defined, running, on a qcow2 overlay of the cached base", async () => {
    const started = await run(agent.start(spec()))
    expect(started.domid).toBeGreaterThan(0)
    const ds = await run(agent.domains)
    expect(ds).toContainEqual({ id: started.domid, name: id, state: "running" })
    const f = agent.paths(id)
    // -U: QEMU holds the image's write lock while the guest runs.
    const info = JSON.parse(ChildProcess.execFileSync("qemu-img", ["info", "-U", "--output=json", f.overlay], { encoding: "utf8" }))
    expect(info.format).toBe("qcow2")
    expect(info["backing-filename"]).toBe(Path.join(f.dir, "base"))
    expect(info["backing-filename-format"]).toBe("raw")
    expect(info["virtual-size"]).toBe(1024 * 1024 * 1024) // grown to the VM type's 1 GiB disk
    const xml = libvirtd.run("dumpxml", id).stdout
    expect(xml).toContain("ip=10.77.0.5::10.77.0.1:255.255.255.0:")
    expect(xml).toContain("<mac address='d0:0d:0a:4d:00:05'/>")
  }, 180_000)

  it("boots for real: the guest's init configures eth0 from ip= and answers on the bridge", async () => {
    await waitFor("the guest's network marker on its console", async () => (await run(agent.consoleOutput(id))).includes("EUCA-GUEST: net eth0 10.77.0.5"), 240)
    await waitFor("the guest to answer ping", async () => (await lab.try(nodeNs, ["ping", "-c", "1", "-W", "1", "10.77.0.5"])).code === 0, 60)
    const out = await run(agent.consoleOutput(id))
    expect(out).toMatch(/Linux version 6\./)
  }, 330_000)

  it("reboots (reset): the console shows a second boot and the guest answers again", async () => {
    const before = (await run(agent.consoleOutput(id))).split("Linux version").length
    const r = await run(agent.reboot(id))
    expect(r.hard).toBe(true)
    await waitFor("a second boot on the console", async () => (await run(agent.consoleOutput(id))).split("Linux version").length > before, 120)
    await waitFor("the network marker after the reboot", async () => {
      const out = await run(agent.consoleOutput(id))
      return out.lastIndexOf("EUCA-GUEST: net eth0 10.77.0.5") > out.lastIndexOf("Linux version")
    }, 240)
    expect((await run(agent.domains)).find((d) => d.name === id)?.state).toBe("running")
  }, 400_000)

  it("sees a destroy behind its back as a lost instance, then cleans up: undefined, overlay removed", async () => {
    const killed = libvirtd.run("destroy", id)
    expect(killed.status).toBe(0)
    const observed = [{ node: node.name, domains: await run(agent.list) }]
    const verdict = Reconcile.reconcile([{ id, node: node.name, state: "running" }], observed)
    expect(verdict.lost).toEqual([{ id, node: node.name, reason: expect.stringMatching(/the domain shut down/) }])
    const st = await run(agent.domstate(id))
    expect(st).toEqual({ state: "shut off", reason: "destroyed" })
    expect(await run(agent.destroy(id))).toEqual({ existed: true })
    expect(await run(agent.domstate(id))).toBeUndefined()
    expect(Fs.existsSync(agent.paths(id).dir)).toBe(false)
    expect(Fs.existsSync(agent.paths(id).xml)).toBe(false)
    expect(await run(agent.destroy(id))).toEqual({ existed: false })
  }, 60_000)

  it("undoes a start that fails at virsh start (no such bridge): nothing left behind, the reason given", async () => {
    const failed = await run(Effect.flip(agent.start(spec({ bridge: "nosuchbr0" }))))
    expect(failed._tag).toBe("VirshCommandFailed")
    expect(failed.message).toMatch(/nosuchbr0/)
    expect(await run(agent.domstate(id))).toBeUndefined()
    expect(Fs.existsSync(agent.paths(id).dir)).toBe(false)
    // The staged images stay cached for the next start.
    expect(Fs.readdirSync(node.paths.imageCacheDir).filter((f) => /^[0-9a-f]{64}$/.test(f)).length).toBe(3)
  }, 120_000)

  it("starts a kernel image whose machine image has no file: direct kernel boot, no disk", async () => {
    const diskless = KvmAgent.make(node, {
      host, cache,
      images: { get: (i) => i === "emi-diskless" ? Effect.fail(new ImageStore.ImageNotFound({ id: i, message: `image ${i} has no file` })) : store.get(i) }
    })
    const started = await run(diskless.start(spec({ imageId: "emi-diskless" })))
    expect(started.domid).toBeGreaterThan(0)
    const xml = libvirtd.run("dumpxml", id).stdout
    expect(xml).not.toContain("<disk")
    expect(xml).toMatch(/<kernel>[^<]*\/kernel<\/kernel>/)
    expect(Fs.existsSync(agent.paths(id).overlay)).toBe(false)
    expect(await run(diskless.destroy(id))).toEqual({ existed: true })
    // Without a kernel there is nothing to boot: the lookup's error is the reason.
    const failed = await run(Effect.flip(diskless.start(spec({ imageId: "emi-diskless", kernelId: undefined, ramdiskId: undefined }))))
    expect(failed.message).toMatch(/has no file/)
  }, 120_000)
})
