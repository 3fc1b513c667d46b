/**
 * The KVM node agent over a real sshd against a stand-in virsh (test/support/fake-virsh), for the
 * faults a real libvirtd does not produce on demand: a hypervisor that stops answering, output that
 * is not virsh's, a define that fails half-way, a name already taken. qemu-img and the image staging
 * are real.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Schema, Scope } from "effect"
import * as KvmAgent from "../../../src/backends/kvm/KvmAgent.js"
import * as ImageCache from "../../../src/backends/xen/ImageCache.js"
import * as ImageStore from "../../../src/backends/xen/ImageStore.js"
import * as NodesFile from "../../../src/backends/xen/NodesFile.js"
import * as SshHost from "../../../src/backends/xen/SshHost.js"
import type * as Ids from "../../../src/model/Ids.js"
import * as Resources from "../../../src/model/Resources.js"
import { rootOrSkip, type Sshd, startSshd } from "../../support/sshd.js"

const FAKE_VIRSH = Path.join(Path.dirname(fileURLToPath(import.meta.url)), "..", "..", "support", "fake-virsh", "virsh")
const enabled = rootOrSkip("KVM agent stand-in virsh tests")
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const flip = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(Effect.flip(e))

describe.skipIf(!enabled)("KVM agent over a real sshd and a stand-in virsh", () => {
  let sshd: Sshd
  let scope: Scope.CloseableScope
  let agent: KvmAgent.KvmAgentShape
  let state: string
  let local: string
  const img: Record<string, ImageStore.StoredImage> = {}
  const spec = (id: string) => ({
    id: id as Ids.InstanceId,
    size: Resources.make(1, 128, 1),
    imageId: img["machine"]!.id,
    kernelId: img["kernel"]!.id,
    mac: "d0:0d:00:00:00:09",
    privateIp: "10.9.0.9"
  })
  const fault = (cmd: string, code: number, stderr: string) => Fs.writeFileSync(Path.join(state, `fail-${cmd}`), `${code}\n${stderr}`, { mode: 0o666 })

  beforeAll(async () => {
    sshd = await startSshd()
    state = Path.join(sshd.remoteDir, "virsh-state")
    Fs.mkdirSync(state, { mode: 0o777 })
    Fs.chmodSync(state, 0o777)
    local = Fs.mkdtempSync(Path.join(Os.tmpdir(), "kvm-faults-"))
    const store = await run(ImageStore.make(Path.join(local, "store")))
    Fs.writeFileSync(Path.join(local, "root"), Buffer.alloc(65536))
    Fs.writeFileSync(Path.join(local, "kernel"), Buffer.alloc(4096, 7))
    img["machine"] = await run(store.register(Path.join(local, "root"), "machine", { name: "root" }))
    img["kernel"] = await run(store.register(Path.join(local, "kernel"), "kernel", { name: "kernel" }))
    const remote = Path.join(sshd.remoteDir, "kvm")
    const node = Schema.decodeUnknownSync(NodesFile.Node)({
      name: "kvm-f", zone: "zone-1", host: sshd.host, port: sshd.port, user: sshd.user, privateKeyPath: sshd.privateKeyPath, hostKey: sshd.knownHostsLine,
      reserve: { memoryMiB: 2048, cores: 1 },
      paths: { configDir: `${remote}/domains`, instancesDir: `${remote}/instances`, imageCacheDir: `${remote}/cache`, imageCacheMiB: 16, consoleLogDir: `${remote}/console` },
      diskGiB: 100,
      kvm: { virsh: [FAKE_VIRSH, state] },
      timeouts: { connectMs: 5000, commandMs: 10000, createMs: 10000, uploadMs: 10000 }
    })
    scope = await run(Scope.make())
    const host = await run(SshHost.make(NodesFile.nodeTarget(node)).pipe(Scope.extend(scope)))
    const cache = await run(ImageCache.make(host, { node: node.name, dir: node.paths.imageCacheDir, boundMiB: 16 }))
    agent = KvmAgent.make(node, { host, cache, images: store })
  }, 60_000)

  afterAll(async () => {
    if (scope) await run(Scope.close(scope, Exit.void))
    if (sshd) await sshd.stop()
    if (local) Fs.rmSync(local, { recursive: true, force: true })
  })

  it("reads capacity through SSH: nodeinfo CPUs and the larger memory figure, minus the reserve", async () => {
    const r = await run(agent.resources)
    expect(r.capacity).toEqual(Resources.make(1, Math.floor(24683584 / 1024) - 2048, 100))
  })

  it("falls back to TCG when libvirt offers no kvm domain, and says so", async () => {
    expect(await run(agent.domainType)).toBe("qemu")
  })

  it("a hypervisor that stops answering is an error naming virsh's message", async () => {
    fault("list", 1, "error: failed to connect to the hypervisor\nerror: Failed to connect socket to '/run/libvirt/libvirt-sock': Connection refused\n")
    const e = await flip(agent.list)
    expect(e._tag).toBe("VirshCommandFailed")
    expect(e._tag === "VirshCommandFailed" && e.kind).toBe("NoHypervisor")
    expect(e.message).toMatch(/^kvm-f: .*virsh-state list --all failed \(NoHypervisor, exit 1\): failed to connect to the hypervisor/)
  })

  it("output that is not virsh's is unreadable, with the line", async () => {
    Fs.writeFileSync(Path.join(state, "out-list"), "Segmentation fault\n")
    const e = await flip(agent.list)
    Fs.rmSync(Path.join(state, "out-list"))
    expect(e._tag).toBe("NodeOutputUnreadable")
    expect(e.message).toMatch(/virsh list line 1: expected the header/)
  })

  it("a define that fails is undone: no domain, no instance directory, no XML; the reason is virsh's", async () => {
    fault("define", 1, "error: Failed to define domain from x.xml\nerror: unsupported configuration: Unknown disk bus\n")
    const e = await flip(agent.start(spec("i-def00001")))
    expect(e.message).toMatch(/virsh.*define.*failed.*Unknown disk bus/)
    const f = agent.paths("i-def00001")
    expect(Fs.existsSync(f.dir)).toBe(false)
    expect(Fs.existsSync(f.xml)).toBe(false)
    expect(await run(agent.domstate("i-def00001"))).toBeUndefined()
  })

  it("a start that fails after define undefines the domain it defined", async () => {
    fault("start", 1, "error: Failed to start domain 'i-sta00001'\nerror: Cannot get interface MTU on 'eucabr0': No such device\n")
    const e = await flip(agent.start(spec("i-sta00001")))
    expect(e.message).toMatch(/No such device/)
    expect(await run(agent.domstate("i-sta00001"))).toBeUndefined()
    const calls = Fs.readFileSync(Path.join(state, "calls.log"), "utf8")
    expect(calls).toMatch(/undefine i-sta00001/)
    expect(Fs.existsSync(agent.paths("i-sta00001").dir)).toBe(false)
  })

  it("never starts a name twice and never touches the domain that has it", async () => {
    Fs.writeFileSync(Path.join(state, "domains", "i-dup00001"), "running (booted)")
    const e = await flip(agent.start(spec("i-dup00001")))
    expect(e._tag === "VirshCommandFailed" && e.kind).toBe("NameInUse")
    expect(await run(agent.domstate("i-dup00001"))).toEqual({ state: "running", reason: "booted" })
    const calls = Fs.readFileSync(Path.join(state, "calls.log"), "utf8")
    expect(calls).not.toMatch(/(destroy|undefine|define) i-dup00001/)
  })

  it("a successful start through the stand-in: defined, started, the domid read back; destroy is idempotent", async () => {
    const s = await run(agent.start(spec("i-ok000001")))
    expect(s).toMatchObject({ id: "i-ok000001", domid: 1, domainType: "qemu" })
    expect(Fs.readFileSync(s.xmlPath, "utf8")).toContain("<domain type='qemu'>")
    expect(await run(agent.destroy("i-ok000001"))).toEqual({ existed: true })
    expect(await run(agent.destroy("i-ok000001"))).toEqual({ existed: false })
  })

  it("hides a domain from the reconcile while its start runs (defined, not yet started, is not dead)", async () => {
    Fs.writeFileSync(Path.join(state, "delay-start"), "2\n")
    const fiber = Effect.runFork(agent.start(spec("i-slow0001")))
    await new Promise((r) => setTimeout(r, 1500))
    const during = await run(agent.domains)
    expect(during.find((d) => d.name === "i-slow0001")?.state).toBe("shut off")
    expect((await run(agent.list)).map((d) => d.name)).not.toContain("i-slow0001")
    const second = await flip(agent.start(spec("i-slow0001")))
    expect(second.message).toMatch(/being started already/)
    await run(Fiber.join(fiber))
    Fs.rmSync(Path.join(state, "delay-start"))
    expect((await run(agent.list)).find((d) => d.name === "i-slow0001")?.state.running).toBe(true)
    await run(agent.destroy("i-slow0001"))
  })
})
