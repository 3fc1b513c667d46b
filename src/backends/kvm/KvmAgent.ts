/**
 * One KVM node, driven over its SSH host with virsh and qemu-img: what Eucalyptus's node controller
 * did through libvirt, minus the daemon on the node. Every command is a quoted argv (Shell) or an
 * SFTP write; everything read goes through the pure parsers (VirshParse).
 *
 * start(spec) stages the instance's images through the node's cache (the Xen backend's ImageCache),
 * hard-links the machine image into the instance's directory (so an LRU eviction of the cache never
 * pulls a base from under a running overlay), creates a qcow2 overlay on it, renders the domain XML,
 * `virsh define` and `virsh start`. Any failure after the first change undoes what was done: the
 * domain destroyed and undefined, the instance directory and the XML removed. A domain of the same
 * name that existed before is never touched.
 *
 * The domain type is probed once per agent when the nodes file says `auto`: libvirt must offer a
 * `kvm` domain (`virsh domcapabilities --virttype kvm`) and a tiny transient KVM guest must still be
 * running a few seconds after its start (on the development machines `/dev/kvm` exists but QEMU
 * aborted with MSR errors or could not open it); otherwise `qemu` (TCG). Which one is logged.
 */
import * as Path from "node:path"
import { Effect, Either, Schema } from "effect"
import * as Resources from "../../model/Resources.js"
import * as ImageCache from "../xen/ImageCache.js"
import type * as ImageStore from "../xen/ImageStore.js"
import type * as NodeAgent from "../xen/NodeAgent.js"
import type * as NodesFile from "../xen/NodesFile.js"
import * as Shell from "../xen/Shell.js"
import type * as SshHost from "../xen/SshHost.js"
import type * as SshPool from "../xen/SshPool.js"
import type * as XlParse from "../xen/XlParse.js"
import * as DomainXml from "./DomainXml.js"
import * as V from "./VirshCommands.js"
import * as VirshParse from "./VirshParse.js"
import * as VolumeXml from "./VolumeXml.js"

// ── errors ──────────────────────────────────────────────────────────────────────────────────────

export class VirshCommandFailed extends Schema.TaggedError<VirshCommandFailed>()("VirshCommandFailed", {
  node: Schema.String,
  command: Schema.String,
  kind: Schema.String,
  exitCode: Schema.NullOr(Schema.Number),
  stderr: Schema.String,
  message: Schema.String
}) {}

export class NodeOutputUnreadable extends Schema.TaggedError<NodeOutputUnreadable>()("NodeOutputUnreadable", {
  node: Schema.String,
  command: Schema.String,
  message: Schema.String
}) {}

export class NodeCommandFailed extends Schema.TaggedError<NodeCommandFailed>()("NodeCommandFailed", {
  node: Schema.String,
  step: Schema.String,
  exitCode: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

export class InvalidGuest extends Schema.TaggedError<InvalidGuest>()("InvalidGuest", {
  node: Schema.String,
  instance: Schema.String,
  field: Schema.String,
  message: Schema.String
}) {}

export type NodeError = VirshCommandFailed | NodeOutputUnreadable | NodeCommandFailed | SshHost.SshError
export type StartError = NodeError | InvalidGuest | ImageStore.ImageNotFound | ImageCache.ImageCacheError

// ── the agent ───────────────────────────────────────────────────────────────────────────────────

export interface Started {
  readonly id: string
  readonly domid: number
  readonly domainType: DomainXml.DomainType
  readonly xmlPath: string
}

export interface NodeResources {
  readonly capacity: Resources.Resources
  readonly nodeinfo: VirshParse.NodeInfo
  readonly memstats: VirshParse.NodeMemStats
}

export interface KvmAgentShape {
  readonly node: NodesFile.Node
  readonly resources: Effect.Effect<NodeResources, NodeError>
  readonly start: (spec: NodeAgent.StartSpec) => Effect.Effect<Started, StartError>
  /** Idempotent: destroy (if running), undefine (if defined), remove the overlay and the XML. */
  readonly destroy: (id: string) => Effect.Effect<{ readonly existed: boolean }, NodeError>
  /** `virsh reboot --mode acpi`, or `virsh reset` where the nodes file says `reboot: "reset"`. */
  readonly reboot: (id: string) => Effect.Effect<{ readonly hard: boolean }, NodeError>
  /** The tail (64 KiB, as EC2 returns) of the serial console log; empty if there is none yet. */
  readonly consoleOutput: (id: string) => Effect.Effect<string, NodeError>
  /** `virsh list --all` in the shape the shared reconcile reads. */
  readonly list: Effect.Effect<ReadonlyArray<XlParse.ListEntry>, NodeError>
  /** `virsh list --all` as virsh says it. */
  readonly domains: Effect.Effect<ReadonlyArray<VirshParse.ListEntry>, NodeError>
  /** `virsh domstate --reason` (undefined: no such domain). */
  readonly domstate: (id: string) => Effect.Effect<VirshParse.DomState | undefined, NodeError>
  /** kvm or qemu, probed once (see the module comment). */
  readonly domainType: Effect.Effect<DomainXml.DomainType, never>
  /** Where the instance's files are on the node. */
  readonly paths: (id: string) => { readonly dir: string; readonly overlay: string; readonly xml: string; readonly consoleLog: string }
  /**
   * Hot-plugs a volume's NBD export into the running domain (`virsh attach-device --live`) and
   * checks that the domain lists the disk; a failure after the request was sent unplugs it again.
   */
  readonly attachVolume: (id: string, volume: VolumeAttachment) => Effect.Effect<void, NodeError | InvalidGuest>
  /**
   * Hot-unplugs it (`virsh detach-device --live`) and waits until the domain no longer lists the
   * disk (the guest lets it go); a domain or a disk that is gone already counts as detached.
   */
  readonly detachVolume: (id: string, volume: VolumeAttachment) => Effect.Effect<void, NodeError | InvalidGuest>
  /** `virsh domblklist`: the domain's disks (target, source). */
  readonly disks: (id: string) => Effect.Effect<ReadonlyArray<{ readonly target: string; readonly source: string }>, NodeError>
}

/** A volume as the node attaches it: its NBD export on the storage host, at an EC2 device name. */
export interface VolumeAttachment {
  readonly volumeId: string
  readonly device: string
  readonly address: string
  readonly port: number
}

export interface Deps {
  readonly host: SshHost.SshHostShape
  readonly cache: ImageCache.ImageCacheShape
  readonly images: Pick<ImageStore.ImageStoreShape, "get">
  readonly defaultKernelId?: string | undefined
  readonly defaultRamdiskId?: string | undefined
  /** Seconds a probe KVM guest must survive. Default 3. */
  readonly probeSeconds?: number | undefined
  /** How long a detach waits for the guest to let the disk go. Default 20 s. */
  readonly detachWaitMs?: number | undefined
}

const CONSOLE_TAIL_BYTES = 64 * 1024

export const make = (node: NodesFile.Node, deps: Deps): KvmAgentShape => {
  const { host, cache, images } = deps
  const kvm = node.kvm
  const virsh = kvm.virsh
  const qemuImg = kvm.qemuImg
  const p = node.paths
  const name = node.name
  const label = (argv: ReadonlyArray<string>) => argv.join(" ")
  const paths = (id: string) => {
    const dir = Path.posix.join(p.instancesDir, id)
    return {
      dir,
      overlay: Path.posix.join(dir, "disk.qcow2"),
      xml: Path.posix.join(p.configDir, `${id}.xml`),
      consoleLog: Path.posix.join(p.consoleLogDir, `${id}.log`)
    }
  }

  const run = (argv: ReadonlyArray<string>, timeoutMs?: number) =>
    host.run(argv, { timeoutMs: timeoutMs ?? node.timeouts.commandMs }).pipe(
      Effect.flatMap((r) => {
        const kind = VirshParse.classify(r.exitCode, r.stderr)
        if (kind === undefined) return Effect.succeed(r)
        return Effect.fail(new VirshCommandFailed({
          node: name, command: label(argv), kind, exitCode: r.exitCode, stderr: r.stderr,
          message: `${name}: ${label(argv)} failed (${kind}, exit ${r.exitCode}): ${VirshParse.summary(r.stderr)}`
        }))
      })
    )
  const idempotent = <A, E extends { readonly _tag: string }>(e: Effect.Effect<A, E>) =>
    e.pipe(Effect.retry({ times: 1, while: (x) => x._tag === "SshDisconnected" }))
  const parsed = <A>(argv: ReadonlyArray<string>, parse: (s: string) => Either.Either<A, VirshParse.ParseFailure>) =>
    idempotent(run(argv)).pipe(Effect.flatMap((r) =>
      Either.match(parse(r.stdout), {
        onLeft: (f) => Effect.fail(new NodeOutputUnreadable({ node: name, command: label(argv), message: `${name}: ${VirshParse.formatFailure(f)}` })),
        onRight: Effect.succeed
      })
    ))
  const sh = (step: string, line: string, timeoutMs?: number) =>
    host.exec(line, { timeoutMs: timeoutMs ?? node.timeouts.commandMs }).pipe(Effect.flatMap((r) =>
      r.exitCode === 0
        ? Effect.succeed(r)
        : Effect.fail(new NodeCommandFailed({ node: name, step, exitCode: r.exitCode, message: `${name}: ${step} failed (exit ${r.exitCode}): ${r.stderr.trim()}` }))
    ))
  const isKind = (...kinds: ReadonlyArray<VirshParse.VirshFailureKind>) => (e: { readonly _tag: string }): e is VirshCommandFailed =>
    e._tag === "VirshCommandFailed" && kinds.includes((e as VirshCommandFailed).kind as VirshParse.VirshFailureKind)

  const domains = parsed(V.list(virsh), VirshParse.parseList)
  // A start defines its domain before it starts it: while it runs, the domain is "shut off" but not
  // dead. The reconcile does not see it until the start is over (a pending instance without a
  // domain is still starting; the start reports its own failure).
  const starting = new Set<string>()
  const list = domains.pipe(Effect.map((ds) => ds.filter((d) => !starting.has(d.name)).map(VirshParse.toReconcileEntry)))
  const domstate: KvmAgentShape["domstate"] = (id) =>
    parsed(V.domstate(virsh, id), VirshParse.parseDomstate).pipe(
      Effect.map((s): VirshParse.DomState | undefined => s),
      Effect.catchIf(isKind("DomainNotFound"), () => Effect.succeed(undefined))
    )

  const diskGiB: Effect.Effect<number, NodeError> = node.diskGiB !== undefined
    ? Effect.succeed(node.diskGiB)
    : sh("measuring the instances file system", Shell.and(Shell.commandLine(["mkdir", "-p", "--", p.instancesDir]), Shell.commandLine(["df", "-Pk", "--", p.instancesDir]))).pipe(
      Effect.flatMap((r) => {
        const fields = r.stdout.trim().split("\n")[1]?.trim().split(/\s+/)
        const kib = Number(fields?.[1])
        if (fields === undefined || !Number.isFinite(kib)) {
          return Effect.fail(new NodeOutputUnreadable({ node: name, command: `df -Pk ${p.instancesDir}`, message: `${name}: cannot read df output: ${JSON.stringify(r.stdout)}` }))
        }
        return Effect.succeed(Math.max(0, Math.floor(kib / (1024 * 1024)) - Math.ceil(p.imageCacheMiB / 1024)))
      })
    )

  const resources: KvmAgentShape["resources"] = Effect.all([
    parsed(V.nodeinfo(virsh), VirshParse.parseNodeinfo),
    parsed(V.nodememstats(virsh), VirshParse.parseNodememstats),
    diskGiB
  ], { concurrency: 3 }).pipe(
    Effect.map(([info, mem, disk]) => ({
      // nodeinfo's "Memory size" can be one NUMA cell's (see VirshParse.NodeInfo): take the larger.
      capacity: Resources.make(
        Math.max(0, info.cpus - node.reserve.cores),
        Math.max(0, Math.floor(Math.max(info.memoryKiB, mem.totalKiB) / 1024) - node.reserve.memoryMiB),
        disk
      ),
      nodeinfo: info,
      memstats: mem
    }))
  )

  // ── the domain type probe ──
  const probeSeconds = deps.probeSeconds ?? 3
  const probe: Effect.Effect<DomainXml.DomainType, never> = Effect.gen(function*() {
    if (kvm.domainType !== "auto") {
      yield* Effect.logInfo(`${name}: domain type ${kvm.domainType} (from the nodes file)`)
      return kvm.domainType
    }
    const caps = yield* Effect.either(run(V.domcapabilities(virsh, "kvm")))
    if (Either.isLeft(caps) || !caps.right.stdout.includes("<domain>kvm</domain>")) {
      yield* Effect.logInfo(`${name}: libvirt offers no kvm domain (${Either.isLeft(caps) ? caps.left.message : "domcapabilities without kvm"}); guests run on QEMU TCG (domain type qemu)`)
      return "qemu" as const
    }
    const probeName = `euca-kvm-probe-${process.pid}`
    const xmlPath = Path.posix.join(p.configDir, `${probeName}.xml`)
    const xml = DomainXml.render({
      name: probeName, type: "kvm", memoryMiB: 32, vcpus: 1, disks: [], interfaces: [],
      consoleLog: Path.posix.join(p.consoleLogDir, `${probeName}.log`), onPoweroff: "destroy", onReboot: "destroy", onCrash: "destroy",
      emulator: kvm.emulator
    })
    if (Either.isLeft(xml)) return "qemu" as const
    const verdict = yield* Effect.gen(function*() {
      yield* sh("preparing the KVM probe", Shell.commandLine(["mkdir", "-p", "--", p.configDir, p.consoleLogDir]))
      yield* host.writeFile(xmlPath, xml.right, { mode: 0o644 })
      const created = yield* Effect.either(run(V.create(virsh, xmlPath)))
      if (Either.isLeft(created)) return { type: "qemu" as const, why: created.left.message }
      yield* Effect.sleep(`${probeSeconds} seconds`)
      const st = yield* domstate(probeName)
      yield* Effect.ignore(run(V.destroy(virsh, probeName)))
      return st?.state === "running"
        ? { type: "kvm" as const, why: `a KVM guest ran for ${probeSeconds} s` }
        : { type: "qemu" as const, why: `the KVM probe guest stopped (${st === undefined ? "gone" : `${st.state}${st.reason ? ` (${st.reason})` : ""}`})` }
    }).pipe(
      Effect.catchAll((e) => Effect.succeed({ type: "qemu" as const, why: `the probe failed: ${e.message}` })),
      Effect.ensuring(Effect.ignore(sh("removing the KVM probe", Shell.commandLine(["rm", "-f", "--", xmlPath, Path.posix.join(p.consoleLogDir, `${probeName}.log`)]))))
    )
    yield* Effect.logInfo(`${name}: guests run with domain type ${verdict.type}: ${verdict.why}`)
    return verdict.type
  })
  let probed: DomainXml.DomainType | undefined
  const probeLock = Effect.unsafeMakeSemaphore(1)
  const domainType: Effect.Effect<DomainXml.DomainType, never> = probeLock.withPermits(1)(
    Effect.suspend(() => probed !== undefined ? Effect.succeed(probed) : probe.pipe(Effect.tap((t) => Effect.sync(() => { probed = t }))))
  )

  const removeFiles = (id: string) => {
    const f = paths(id)
    return sh("removing the instance's files", Shell.commandLine(["rm", "-rf", "--", f.dir, f.xml]))
  }

  const start: KvmAgentShape["start"] = (spec) =>
    Effect.suspend(() => {
      if (starting.has(spec.id)) {
        return Effect.fail(new VirshCommandFailed({
          node: name, command: "start", kind: "NameInUse", exitCode: 0, stderr: "", message: `${name}: ${spec.id} is being started already`
        }))
      }
      starting.add(spec.id)
      return startOnce(spec).pipe(Effect.ensuring(Effect.sync(() => starting.delete(spec.id))))
    })

  const startOnce: KvmAgentShape["start"] = (spec) =>
    Effect.gen(function*() {
      const kernelId = spec.kernelId ?? deps.defaultKernelId
      const ramdiskId = spec.ramdiskId ?? deps.defaultRamdiskId
      const kernel = kernelId === undefined ? undefined : yield* images.get(kernelId)
      // A machine image registered without a file boots from its kernel and ramdisk alone (the
      // busybox image); without a kernel it has nothing to boot.
      const machine = yield* images.get(spec.imageId).pipe(
        Effect.map((m): ImageStore.StoredImage | undefined => m),
        Effect.catchTag("ImageNotFound", (e) => kernel === undefined ? Effect.fail(e) : Effect.succeed(undefined))
      )
      const ramdisk = ramdiskId === undefined || kernel === undefined ? undefined : yield* images.get(ramdiskId)
      const existing = yield* domstate(spec.id)
      if (existing !== undefined) {
        return yield* new VirshCommandFailed({
          node: name, command: label(V.domstate(virsh, spec.id)), kind: "NameInUse", exitCode: 0, stderr: "",
          message: `${name}: a domain named ${spec.id} already exists (${existing.state}); not starting it twice`
        })
      }
      const type = yield* domainType
      const f = paths(spec.id)
      const base = Path.posix.join(f.dir, "base")
      const kernelPath = Path.posix.join(f.dir, "kernel")
      const initrdPath = Path.posix.join(f.dir, "initrd")
      let cmdline: string
      try {
        const seg = spec.privateIp !== undefined && kvm.prefixLength !== undefined ? DomainXml.segmentOf(spec.privateIp, kvm.prefixLength) : undefined
        cmdline = DomainXml.cmdlineWithIp(kvm.cmdline, spec.privateIp === undefined ? undefined : {
          address: spec.privateIp,
          gateway: kvm.gateway ?? seg?.gateway,
          netmask: kvm.netmask ?? seg?.netmask,
          hostname: spec.id
        })
      } catch (e) {
        return yield* new InvalidGuest({ node: name, instance: spec.id, field: "cmdline", message: `${name}: ${spec.id}: ${(e as Error).message}` })
      }
      const xml = yield* Either.match(DomainXml.render({
        name: spec.id,
        type,
        memoryMiB: spec.size.memoryMiB,
        vcpus: Math.max(1, spec.size.cores),
        boot: kernel === undefined ? undefined : { kernel: kernelPath, initrd: ramdisk === undefined ? undefined : initrdPath, cmdline },
        disks: machine === undefined ? [] : [{ path: f.overlay, format: "qcow2", target: "vda" }],
        interfaces: [{ mac: spec.mac, bridge: spec.bridge ?? kvm.defaultBridge, mtu: kvm.mtu }],
        consoleLog: f.consoleLog,
        onPoweroff: "destroy",
        onReboot: "restart",
        onCrash: "destroy",
        emulator: kvm.emulator
      }), {
        onLeft: (e) => Effect.fail(new InvalidGuest({ node: name, instance: spec.id, field: e.field, message: `${name}: ${spec.id}: ${e.field}: ${e.message}` })),
        onRight: Effect.succeed
      })

      // From here on the node changes: undo on any failure.
      let defined = false
      const undo = Effect.gen(function*() {
        if (defined) {
          yield* Effect.ignore(run(V.destroy(virsh, spec.id)))
          const u = yield* Effect.either(run(V.undefine(virsh, spec.id)))
          if (Either.isLeft(u) && !isKind("DomainNotFound")(u.left)) yield* Effect.logWarning(`${name}: could not undefine the half-started ${spec.id}: ${u.left.message}`)
        }
        yield* removeFiles(spec.id)
      }).pipe(
        Effect.tapError((e) => Effect.logWarning(`${name}: cleaning up after the failed start of ${spec.id} failed: ${e.message}`)),
        Effect.ignore
      )

      return yield* Effect.gen(function*() {
        const named = [["kernel", kernel], ["ramdisk", ramdisk], ["root", machine]] as const
        const present = named.filter((x): x is readonly [typeof x[0], ImageStore.StoredImage] => x[1] !== undefined)
        yield* cache.withImages(present.map((x) => x[1]), (staged) =>
          Effect.gen(function*() {
            const at = (n: string) => {
              const i = present.findIndex((x) => x[0] === n)
              return i < 0 ? undefined : staged[i]
            }
            const [k, r, root] = [at("kernel"), at("ramdisk"), at("root")]
            // A hard link keeps the base's bytes alive even if the cache evicts it later.
            yield* sh("preparing the instance's directory", Shell.and(
              Shell.commandLine(["mkdir", "-p", "--", f.dir, p.configDir, p.consoleLogDir]),
              Shell.commandLine(["chmod", "0755", "--", f.dir]),
              ...(root === undefined ? [] : [`{ ${Shell.commandLine(["ln", "-f", "--", root, base])} 2>/dev/null || ${Shell.commandLine(["cp", "--reflink=auto", "--", root, base])}; }`]),
              ...(k === undefined ? [] : [Shell.commandLine(["cp", "--", k, kernelPath])]),
              ...(r === undefined ? [] : [Shell.commandLine(["cp", "--", r, initrdPath])])
            ), node.timeouts.uploadMs)
          }))
        if (machine !== undefined) {
          const info = yield* parsed(V.imageInfo(qemuImg, base), VirshParse.parseImageInfo).pipe(
            Effect.mapError((e) => e._tag === "NodeOutputUnreadable" ? new InvalidGuest({ node: name, instance: spec.id, field: "image", message: `${name}: image ${spec.imageId}: ${e.message}` }) : e)
          )
          const wanted = spec.size.diskGiB * 1024 * 1024 * 1024
          yield* run(V.overlay(qemuImg, base, info.format, f.overlay, wanted > info.virtualSizeBytes ? wanted : undefined))
        }
        yield* host.writeFile(f.xml, xml, { mode: 0o644, timeoutMs: node.timeouts.commandMs })
        defined = true
        yield* run(V.define(virsh, f.xml)).pipe(Effect.tapError((e) => Effect.sync(() => {
          if (isKind("NameInUse")(e)) defined = false // someone else's domain: never touch it
        })))
        yield* run(V.start(virsh, spec.id), node.timeouts.createMs)
        const domid = yield* parsed(V.domid(virsh, spec.id), VirshParse.parseDomid)
        if (domid === undefined) {
          const st = yield* domstate(spec.id)
          return yield* new VirshCommandFailed({
            node: name, command: label(V.domid(virsh, spec.id)), kind: "NotRunning", exitCode: 0, stderr: "",
            message: `${name}: ${spec.id} was started but is not running (${st === undefined ? "gone" : `${st.state}${st.reason ? ` (${st.reason})` : ""}`})`
          })
        }
        yield* Effect.logInfo(`${name}: started ${spec.id} as domain ${domid} (${type})`)
        return { id: spec.id, domid, domainType: type, xmlPath: f.xml }
      }).pipe(Effect.onError(() => undo))
    })

  const destroy: KvmAgentShape["destroy"] = (id) =>
    Effect.gen(function*() {
      const stopped = yield* run(V.destroy(virsh, id)).pipe(
        Effect.as(true),
        Effect.catchIf(isKind("DomainNotFound", "NotRunning"), () => Effect.succeed(false))
      )
      const undefined_ = yield* run(V.undefine(virsh, id)).pipe(
        Effect.as(true),
        Effect.catchIf(isKind("DomainNotFound"), () => Effect.succeed(false))
      )
      yield* removeFiles(id)
      return { existed: stopped || undefined_ }
    }).pipe(Effect.retry({ times: 1, while: (e) => e._tag === "SshDisconnected" }))

  const reboot: KvmAgentShape["reboot"] = (id) =>
    kvm.reboot === "reset" ? run(V.reset(virsh, id)).pipe(Effect.as({ hard: true })) : run(V.reboot(virsh, id)).pipe(Effect.as({ hard: false }))

  const consoleOutput: KvmAgentShape["consoleOutput"] = (id) => {
    const log = paths(id).consoleLog
    return idempotent(sh("reading the console log", `if [ -f ${Shell.quote(log)} ]; then tail -c ${CONSOLE_TAIL_BYTES} -- ${Shell.quote(log)}; fi`)).pipe(
      Effect.map((r) => r.stdout)
    )
  }

  // ── volumes ──
  const volumeXml = (id: string, v: VolumeAttachment) =>
    Either.match(
      Either.flatMap(VolumeXml.targetOf(v.device), (target) =>
        VolumeXml.render({ name: v.volumeId, host: v.address, port: v.port, target, serial: v.volumeId }).pipe(Either.map((xml) => ({ target, xml })))),
      {
        onLeft: (e) => Effect.fail(new InvalidGuest({ node: name, instance: id, field: `volume.${e.field}`, message: `${name}: ${id}: ${v.volumeId}: ${e.message}` })),
        onRight: Effect.succeed
      }
    )
  const withDeviceXml = <A, E>(id: string, v: VolumeAttachment, f: (target: string, xmlPath: string) => Effect.Effect<A, E>) =>
    Effect.gen(function*() {
      const { target, xml } = yield* volumeXml(id, v)
      const xmlPath = Path.posix.join(p.configDir, `${id}-${v.volumeId}.xml`)
      yield* sh("preparing the volume's device XML", Shell.commandLine(["mkdir", "-p", "--", p.configDir]))
      yield* host.writeFile(xmlPath, xml, { mode: 0o644, timeoutMs: node.timeouts.commandMs })
      return yield* f(target, xmlPath).pipe(
        Effect.ensuring(Effect.ignore(sh("removing the volume's device XML", Shell.commandLine(["rm", "-f", "--", xmlPath]))))
      )
    })

  const disks: KvmAgentShape["disks"] = (id) => idempotent(run(V.domblklist(virsh, id))).pipe(Effect.map((r) => VolumeXml.parseBlklist(r.stdout)))
  const hasDisk = (id: string, target: string) => disks(id).pipe(Effect.map((ds) => ds.some((d) => d.target === target)))

  const attachVolume: KvmAgentShape["attachVolume"] = (id, v) =>
    withDeviceXml(id, v, (target, xmlPath) =>
      Effect.gen(function*() {
        // Unplugged again only if it may be in: attached but not listed, or no answer from virsh. A
        // refused attach (e.g. the target in use by another disk) must not unplug what holds it.
        let plugged = false
        return yield* Effect.gen(function*() {
          yield* run(V.attachDevice(virsh, id, xmlPath), node.timeouts.createMs).pipe(
            Effect.tapError((e) => Effect.sync(() => { plugged = e._tag === "SshCommandTimeout" || e._tag === "SshDisconnected" })),
            Effect.tap(() => Effect.sync(() => { plugged = true }))
          )
          if (!(yield* hasDisk(id, target))) {
            return yield* new NodeCommandFailed({ node: name, step: "attaching a volume", exitCode: 0, message: `${name}: ${id} does not list ${target} after attaching ${v.volumeId}` })
          }
          yield* Effect.logInfo(`${name}: ${v.volumeId} attached to ${id} as ${target} (nbd://${v.address}:${v.port}/${v.volumeId})`)
        }).pipe(Effect.onError(() => plugged ? Effect.ignore(run(V.detachDevice(virsh, id, xmlPath))) : Effect.void))
      }))

  const detachWaitMs = deps.detachWaitMs ?? 20_000
  const detachVolume: KvmAgentShape["detachVolume"] = (id, v) =>
    withDeviceXml(id, v, (target, xmlPath) =>
      Effect.gen(function*() {
        const present = yield* hasDisk(id, target).pipe(Effect.catchIf(isKind("DomainNotFound"), () => Effect.succeed(false)))
        if (!present) return
        yield* run(V.detachDevice(virsh, id, xmlPath), node.timeouts.createMs).pipe(
          Effect.catchIf(isKind("DomainNotFound", "NotRunning"), () => Effect.void)
        )
        // libvirt returns once the unplug is asked for; the guest acknowledges it (ACPI) a moment later.
        const deadline = Date.now() + detachWaitMs
        for (;;) {
          const still = yield* hasDisk(id, target).pipe(Effect.catchIf(isKind("DomainNotFound"), () => Effect.succeed(false)))
          if (!still) break
          if (Date.now() > deadline) {
            return yield* new NodeCommandFailed({
              node: name, step: "detaching a volume", exitCode: 0,
              message: `${name}: the guest of ${id} did not let ${target} (${v.volumeId}) go within ${Math.round(detachWaitMs / 1000)} s`
            })
          }
          yield* Effect.sleep("500 millis")
        }
        yield* Effect.logInfo(`${name}: ${v.volumeId} detached from ${id} (${target})`)
      }))

  return { node, resources, start, destroy, reboot, consoleOutput, list, domains, domstate, domainType, paths, attachVolume, detachVolume, disks }
}

export type Options = Omit<Deps, "host" | "cache" | "images">

export const fromPool = (
  node: NodesFile.Node,
  pool: SshPool.SshPoolShape,
  images: Pick<ImageStore.ImageStoreShape, "get">,
  options: Options = {}
): Effect.Effect<KvmAgentShape, SshPool.UnknownHost> =>
  Effect.gen(function*() {
    const host = yield* pool.host(node.name)
    const cache = yield* ImageCache.make(host, {
      node: node.name,
      dir: node.paths.imageCacheDir,
      boundMiB: node.paths.imageCacheMiB,
      uploadTimeoutMs: node.timeouts.uploadMs
    })
    return make(node, { ...options, host, cache, images })
  })

export const all = (
  file: NodesFile.NodesFile,
  pool: SshPool.SshPoolShape,
  images: Pick<ImageStore.ImageStoreShape, "get">,
  options: Options = {}
): Effect.Effect<ReadonlyMap<string, KvmAgentShape>, SshPool.UnknownHost> =>
  Effect.forEach(file.nodes, (n) => fromPool(n, pool, images, options)).pipe(
    Effect.map((agents) => new Map(agents.map((a) => [a.node.name, a])))
  )
