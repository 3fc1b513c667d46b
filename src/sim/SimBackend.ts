/**
 * The simulated backend behind the controller's Backend port (src/controller/Backend.ts): effects
 * become observations after sampled delays, on Effect's Clock — real time under
 * `euca serve --backend sim`, virtual time under TestClock. The same semantics as the simulator's
 * engines: a started VM boots after a sampled delay (or fails with the configured probability),
 * a stopped VM is gone after the stop delay, a woken node reports after the wake delay, and an
 * instance with a lifetime terminates itself that long after it is running. Draws come from one
 * seeded PRNG, in the order effects are executed.
 *
 * Each instance gets a plausible console log (a Xen guest's boot messages with its id, MAC, address
 * and size), written when it boots; GetConsoleOutput returns it.
 */
import { Clock, Effect, Either, Fiber, Layer, Option, Ref, Schema, type Scope } from "effect"
import * as Backend from "../controller/Backend.js"
import type * as Commands from "../model/Commands.js"
import * as Ebs from "../model/Ebs.js"
import * as EbsEffects from "../model/EbsEffects.js"
import * as Effects from "../model/Effects.js"
import * as State from "../model/State.js"
import * as Units from "../model/Units.js"
import * as Distribution from "./Distribution.js"
import * as Engine from "./Engine.js"
import * as Random from "./Random.js"
import * as Setup from "./Setup.js"

export interface Options {
  /** Seed of the PRNG (default 1). */
  readonly seed?: number
  /** Default: the simulator's (Setup.defaultBackend), as every default below. */
  readonly bootDelay?: Distribution.Sampler
  readonly failureProbability?: number
  readonly stopDelay?: Distribution.Sampler
  readonly wakeDelayMs?: number
  /** The storage controller: how long a volume takes to be made (default constant 2 s), attached and detached (1 s each), snapshotted (5 s, reported half-way and done). */
  readonly volumeCreateDelay?: Distribution.Sampler
  readonly volumeAttachDelay?: Distribution.Sampler
  readonly volumeDetachDelay?: Distribution.Sampler
  readonly snapshotDelay?: Distribution.Sampler
}

/** The `backend` section of a server config that runs the simulated backend. */
export const Config = Schema.Struct({
  kind: Schema.Literal("sim"),
  /** How long a simulated instance takes to boot. */
  bootDelay: Schema.optional(Distribution.Distribution),
  /** How long a terminated simulated instance takes to shut down. */
  stopDelay: Schema.optional(Distribution.Distribution),
  /** Probability that a simulated boot fails. */
  failureProbability: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  /** POWERSAVE: how long a woken node takes to report. */
  wakeDelaySeconds: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  /** The simulated storage controller: volume create/attach/detach and snapshot times (defaults 2 s, 1 s, 1 s, 5 s). */
  volumeCreateDelay: Schema.optional(Distribution.Distribution),
  volumeAttachDelay: Schema.optional(Distribution.Distribution),
  volumeDetachDelay: Schema.optional(Distribution.Distribution),
  snapshotDelay: Schema.optional(Distribution.Distribution),
  seed: Schema.optional(Schema.Int)
})
export type Config = typeof Config.Type

/** A string's 32-bit FNV-1a hash (seeds an instance's console text without touching the delay draws). */
const hash = (s: string): number => {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193)
  return h >>> 0
}

const stamp = (s: number): string => `[${s.toFixed(6).padStart(12)}]`

/** The boot messages of a Xen paravirtual Linux guest, as `euca-get-console-output` showed them. */
export const bootLog = (seed: number, spec: Effects.InstanceSpec, bootMs: number): string => {
  const rng = Random.make(seed ^ hash(spec.id))
  let t = 0
  const step = (max: number) => (t += rng.next() * max)
  const lines: Array<string> = []
  const at = (max: number, text: string) => lines.push(`${stamp(step(max))} ${text}`)
  const memKiB = spec.size.memoryMiB * 1024
  lines.push(`${stamp(0)} Linux version 2.6.27.21-0.1-xen (geeko@buildhost) (gcc version 4.3.2 [gcc-4_3-branch revision 141291] (SUSE Linux) ) #1 SMP 2009-03-31 14:50:44 +0200`)
  lines.push(`${stamp(0)} Command line: root=/dev/sda1 console=xvc0 rootfstype=ext3`)
  lines.push(`${stamp(0)} Xen-provided physical RAM map:`)
  lines.push(`${stamp(0)}  Xen: 0000000000000000 - ${(spec.size.memoryMiB * 1048576).toString(16).padStart(16, "0")} (usable)`)
  at(0.002, `Memory: ${memKiB - 41_000 - Math.floor(rng.next() * 4000)}k/${memKiB}k available`)
  for (let c = 0; c < Math.max(1, spec.size.cores); c++) at(0.01, `Initializing CPU#${c}`)
  at(0.1, `Brought up ${Math.max(1, spec.size.cores)} CPUs`)
  at(0.3, `NET: Registered protocol family 2`)
  at(0.4, `blkfront: sda1: barriers enabled`)
  at(0.2, `blkfront: sda2: barriers enabled`)
  at(0.3, `netfront: Initialising virtual ethernet driver.`)
  at(0.1, `eth0: MAC ${spec.mac}${spec.bridge !== undefined ? ` on ${spec.bridge}` : ""}`)
  at(0.6, `kjournald starting.  Commit interval 5 seconds`)
  at(0.2, `EXT3-fs: mounted filesystem with ordered data mode.`)
  at(0.5, `VFS: Mounted root (ext3 filesystem) readonly.`)
  at(1.5, `eth0: link up`)
  const ip = spec.privateIp ?? "(none)"
  lines.push(`Starting network: eth0: obtaining IP address via DHCP... ${ip}`)
  lines.push(`cloud-init: fetching http://169.254.169.254/latest/meta-data/instance-id: ${spec.id}`)
  if (spec.keyName !== undefined) lines.push(`cloud-init: installing ssh key "${spec.keyName}" for root`)
  const fp = Array.from({ length: 16 }, () => Math.floor(rng.next() * 256).toString(16).padStart(2, "0")).join(":")
  lines.push(`Generating SSH2 RSA host key: 2048 ${fp} /etc/ssh/ssh_host_rsa_key.pub (RSA)`)
  lines.push(`Starting sshd: [  OK  ]`)
  lines.push(`${spec.imageId} ${spec.vmType} booted in ${(bootMs / 1000).toFixed(1)} s on ${spec.node}`)
  lines.push(`Welcome to Eucalyptus (simulated), ${spec.id} login:`)
  return lines.join("\n") + "\n"
}

interface Running {
  readonly fiber: Fiber.RuntimeFiber<void, never>
  readonly token: object
}

export const make = (options: Options = {}): Effect.Effect<Backend.BackendShape> =>
  Effect.gen(function* () {
    const seed = options.seed ?? 1
    const rng = Random.make(seed)
    const boot = options.bootDelay ?? Setup.defaultBackend.boot
    const stop = options.stopDelay ?? Setup.defaultBackend.stop
    const failP = options.failureProbability ?? Setup.defaultBackend.failureProbability
    const wake = options.wakeDelayMs ?? Setup.defaultBackend.wakeDelayMs
    const createVol = options.volumeCreateDelay ?? Distribution.constantMs(2_000)
    const attachVol = options.volumeAttachDelay ?? Distribution.constantMs(1_000)
    const detachVol = options.volumeDetachDelay ?? Distribution.constantMs(1_000)
    const snapshotTime = options.snapshotDelay ?? Distribution.constantMs(5_000)
    const ctxRef = yield* Ref.make<Option.Option<{ readonly ctx: Backend.BackendContext; readonly scope: Scope.Scope }>>(Option.none())
    // Per instance: the fiber that will report for it (boot or lifetime), and its console text.
    const pending = new Map<string, Running>()
    const consoles = new Map<string, string>()

    const now = Clock.currentTimeMillis.pipe(Effect.map((t) => Units.ms(Number(t))))

    const report = (make: (at: Units.Millis) => Commands.Command) =>
      Effect.gen(function* () {
        const c = yield* Ref.get(ctxRef)
        if (Option.isNone(c)) return
        yield* c.value.ctx.report(make(yield* now))
      })

    /** Runs `body` after `ms`, in the backend's scope; the fiber is kept under `key` (to be interrupted). */
    const later = (ms: number, body: Effect.Effect<void>, key?: string) =>
      Effect.gen(function* () {
        const c = yield* Ref.get(ctxRef)
        if (Option.isNone(c)) return yield* Effect.dieMessage("SimBackend.execute before start")
        const token = {}
        const forget = Effect.sync(() => {
          if (key !== undefined && pending.get(key)?.token === token) pending.delete(key)
        })
        // Forgotten before the body runs: what the body reports may make the controller stop this
        // instance at once, and that must not interrupt the fiber doing the reporting.
        const fiber = yield* Effect.sleep(ms).pipe(Effect.zipRight(forget), Effect.zipRight(body), Effect.ensuring(forget), Effect.forkIn(c.value.scope))
        if (key !== undefined) pending.set(key, { fiber, token })
      })

    const cancel = (key: string) =>
      Effect.suspend(() => {
        const r = pending.get(key)
        pending.delete(key)
        return r === undefined ? Effect.void : Fiber.interrupt(r.fiber).pipe(Effect.asVoid)
      })

    const execute = (e: Effects.Effect): Effect.Effect<void> =>
      Effect.gen(function* () {
        switch (e._tag) {
          case "StartInstance": {
            const spec = e.instance
            // Drawn now, in the order effects arrive: the same effects give the same delays.
            const fails = failP > 0 && rng.next() < failP
            const delay = boot.sample(rng)
            const booted = fails
              ? report((at) => ({ _tag: "InstanceFailed", at, instanceId: spec.id, reason: "the simulated start failed" }))
              : Effect.gen(function* () {
                  consoles.set(spec.id, bootLog(seed, spec, delay))
                  yield* report((at) => ({ _tag: "InstanceBooted", at, instanceId: spec.id }))
                  if (spec.lifetimeMs !== undefined) {
                    yield* later(
                      spec.lifetimeMs,
                      report((at) => ({ _tag: "TerminateInstances", at, account: undefined, instanceIds: [spec.id], reason: Engine.LIFETIME_OVER })),
                      spec.id
                    )
                  }
                })
            yield* later(delay, booted, spec.id)
            return
          }
          case "StopInstance": {
            yield* cancel(e.instanceId)
            const id = e.instanceId
            const c = consoles.get(id)
            if (c !== undefined) consoles.set(id, c + "The system is going down for system halt NOW!\nSystem halted.\n")
            yield* later(stop.sample(rng), report((at) => ({ _tag: "InstanceStopped", at, instanceId: id })))
            return
          }
          case "RebootInstance": {
            const c = consoles.get(e.instanceId)
            if (c !== undefined) consoles.set(e.instanceId, c + "The system is going down for reboot NOW!\nRestarting system.\n")
            return
          }
          case "PowerUp": {
            const node = e.node
            yield* later(wake, report((at) => ({ _tag: "NodeReported", at, nodeId: node })))
            return
          }
          case "PowerDown":
          case "ApplyNetwork":
            return
          case "CreateVolume": {
            const id = e.volume.id
            yield* later(createVol.sample(rng), report((at) => ({ _tag: "VolumeReady", at, volumeId: id })))
            return
          }
          case "AttachVolume": {
            const id = e.volume.id
            yield* later(attachVol.sample(rng), report((at) => ({ _tag: "VolumeAttachDone", at, volumeId: id })))
            return
          }
          case "DetachVolume": {
            const id = e.volume.id
            yield* later(e.force ? 0 : detachVol.sample(rng), report((at) => ({ _tag: "VolumeDetachDone", at, volumeId: id })))
            return
          }
          case "CreateSnapshot": {
            const id = e.snapshotId
            const total = snapshotTime.sample(rng)
            yield* later(Math.floor(total / 2), report((at) => ({ _tag: "SnapshotProgress", at, snapshotId: id, progress: 50 })))
            yield* later(total, report((at) => ({ _tag: "SnapshotProgress", at, snapshotId: id, progress: 100 })))
            return
          }
          case "DeleteVolume":
          case "DeleteSnapshot":
            return
        }
      })

    const start = (ctx: Backend.BackendContext): Effect.Effect<void, never, Scope.Scope> =>
      Effect.gen(function* () {
        const scope = yield* Effect.scope
        yield* Ref.set(ctxRef, Option.some({ ctx, scope }))
        yield* Effect.addFinalizer(() => Ref.set(ctxRef, Option.none()))
        // Every node that is not asleep reports at start (the controller may have them down until then).
        const s: State.State = yield* ctx.state
        const at = yield* now
        for (const n of s.nodes) if (n.state !== "asleep") yield* ctx.report({ _tag: "NodeReported", at, nodeId: n.id, capacity: n.capacity })
        // After a restart, what was under way goes on: booting instances boot, stopping ones stop, and
        // instances with a lifetime end when it is over (the simulated VMs "kept running" meanwhile).
        const resumed = yield* ctx.state
        for (const i of State.liveInstances(resumed)) {
          if (!i.dispatched) continue
          const spec = Effects.specOf(resumed, i)
          if (i.state === "pending") yield* execute({ _tag: "StartInstance", instance: spec })
          else if (i.state === "shutting-down" || i.state === "stopping") yield* execute({ _tag: "StopInstance", instanceId: i.id, node: i.node })
          else if (i.state === "running" && i.lifetimeMs !== undefined && i.runningAt !== undefined) {
            const left = Math.max(0, i.runningAt + i.lifetimeMs - at)
            yield* later(left, report((t) => ({ _tag: "TerminateInstances", at: t, account: undefined, instanceIds: [i.id], reason: Engine.LIFETIME_OVER })), i.id)
          }
        }
        // The storage controller's work under way goes on too.
        for (const v of Ebs.volumes(resumed.storage)) {
          if (v.state === "creating") yield* execute({ _tag: "CreateVolume", volume: EbsEffects.specOf(v) })
          const a = v.attachment
          const inst = a === undefined ? undefined : State.instance(resumed, a.instance)
          if (a === undefined || inst === undefined) continue
          if (a.state === "attaching" && inst.state === "running") yield* execute({ _tag: "AttachVolume", volume: EbsEffects.specOf(v), instanceId: inst.id, node: inst.node, device: a.device })
          if (a.state === "detaching") yield* execute({ _tag: "DetachVolume", volume: EbsEffects.specOf(v), instanceId: inst.id, node: inst.node, device: a.device, force: false })
        }
        for (const snap of Ebs.snapshots(resumed.storage)) {
          const v = Ebs.volume(resumed.storage, snap.volumeId)
          if (snap.state === "pending" && v !== undefined) yield* execute({ _tag: "CreateSnapshot", snapshotId: snap.id, volume: EbsEffects.specOf(v) })
        }
      })

    // A console log lost with a restart is written again: it depends only on the seed and the instance.
    const consoleOutput = (i: State.Instance): Effect.Effect<string, Backend.BackendError> =>
      Effect.gen(function* () {
        const known = consoles.get(i.id)
        if (known !== undefined || i.state !== "running") return known ?? ""
        const c = yield* Ref.get(ctxRef)
        if (Option.isNone(c)) return ""
        return bootLog(seed, Effects.specOf(yield* c.value.ctx.state, i), 0)
      })

    return { start, execute, consoleOutput } satisfies Backend.BackendShape
  })

export const layer = (options: Options = {}): Layer.Layer<Backend.Backend> => Layer.effect(Backend.Backend, make(options))

/** The backend a server config's `backend` section describes; a bad distribution names its field. */
export const layerFromConfig = (config: Config): Either.Either<Layer.Layer<Backend.Backend>, { readonly field: string; readonly message: string }> =>
  Either.map(optionsFromConfig(config, config.seed ?? 1), layer)

/** The `backend` object of an experiment file (Experiment.Backend) as options, e.g. for a server config; errors name the field. */
export const optionsFromConfig = (
  config: {
    readonly bootDelay?: Distribution.Distribution | undefined
    readonly stopDelay?: Distribution.Distribution | undefined
    readonly failureProbability?: number | undefined
    readonly wakeDelaySeconds?: number | undefined
    readonly volumeCreateDelay?: Distribution.Distribution | undefined
    readonly volumeAttachDelay?: Distribution.Distribution | undefined
    readonly volumeDetachDelay?: Distribution.Distribution | undefined
    readonly snapshotDelay?: Distribution.Distribution | undefined
  },
  seed = 1
): Either.Either<Options, { readonly field: string; readonly message: string }> => {
  const sampler = (d: Distribution.Distribution | undefined, field: string) =>
    d === undefined ? Either.right(undefined) : Either.mapLeft(Distribution.compile(d), (e) => ({ field: `${field}.${e.field}`, message: e.message }))
  const boot = sampler(config.bootDelay, "bootDelay")
  if (Either.isLeft(boot)) return Either.left(boot.left)
  const stop = sampler(config.stopDelay, "stopDelay")
  if (Either.isLeft(stop)) return Either.left(stop.left)
  const storage: Record<string, Distribution.Sampler> = {}
  for (const field of ["volumeCreateDelay", "volumeAttachDelay", "volumeDetachDelay", "snapshotDelay"] as const) {
    const r = sampler(config[field], field)
    if (Either.isLeft(r)) return Either.left(r.left)
    if (r.right) storage[field] = r.right
  }
  return Either.right({
    seed,
    ...(boot.right ? { bootDelay: boot.right } : {}),
    ...(stop.right ? { stopDelay: stop.right } : {}),
    ...storage,
    ...(config.failureProbability !== undefined ? { failureProbability: config.failureProbability } : {}),
    ...(config.wakeDelaySeconds !== undefined ? { wakeDelayMs: Math.round(config.wakeDelaySeconds * 1000) } : {})
  })
}
