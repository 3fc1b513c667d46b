/**
 * The Xen backend behind the controller's Backend port: nodes driven over SSH with xl (NodeAgent),
 * reconciled against what the controller expects every few seconds, and each zone's network plan
 * applied on its cluster head (and nodes) by the NetworkApplier over the same SSH connections.
 *
 * Effects run concurrently but one at a time per instance (a stop waits for its start). A start that
 * fails is reported as InstanceFailed after NodeAgent has undone what it did; a node that cannot be
 * reached for `lostAfter` consecutive polls is reported lost (its instances fail, their capacity is
 * released) and comes back when it answers again.
 *
 * Volumes go to the zone's storage host (StorageAgent: files, copies, NBD exports) when the nodes
 * file has one; an attach exports the volume and asks the node to plug it (KVM's agent can; Xen's
 * cannot yet, and says so). A zone without a storage host fails every volume with that reason.
 */
import type { SqlClient } from "@effect/sql"
import { Clock, Deferred, Duration, Effect, Layer, Option, Schedule, Schema, type Scope } from "effect"
import * as Backend from "../../controller/Backend.js"
import type * as Commands from "../../model/Commands.js"
import * as Ebs from "../../model/Ebs.js"
import * as EbsEffects from "../../model/EbsEffects.js"
import type * as Effects from "../../model/Effects.js"
import type * as Ids from "../../model/Ids.js"
import * as State from "../../model/State.js"
import type * as NetworkRender from "../../model/NetworkRender.js"
import * as Units from "../../model/Units.js"
import * as Images from "../../store/Images.js"
import * as NetworkApplier from "../net/NetworkApplier.js"
import * as Runner from "../net/Runner.js"
import * as StorageAgent from "../storage/StorageAgent.js"
import * as Volumes from "../storage/Volumes.js"
import * as ImageStore from "./ImageStore.js"
import * as NodeAgent from "./NodeAgent.js"
import * as NodesFile from "./NodesFile.js"
import * as Reconcile from "./Reconcile.js"
import type * as SshHost from "./SshHost.js"
import * as SshPool from "./SshPool.js"

/** The `backend` section of a server config that runs Xen nodes. */
export const Config = Schema.Struct({
  kind: Schema.Literal("xen"),
  /** The nodes file (see the operator's guide); relative to the config file. */
  nodesFile: Schema.String
})
export type Config = typeof Config.Type

export interface Options {
  readonly nodes: NodesFile.NodesFile
  /** How often `xl list` is compared with the controller's expectations. Default 5 s. */
  readonly reconcileEvery?: Duration.DurationInput
  /** Consecutive failed polls before a node is reported lost. Default 3. */
  readonly lostAfter?: number
  readonly ssh?: SshHost.Options
  /** Extra xl.cfg keys per instance (the stand-in xl's test keys). */
  readonly extraKeys?: NodeAgent.Options["extraKeys"]
  /**
   * Another hypervisor's node agents behind the same controller port (the KVM backend): everything
   * else — SSH pool, image lookup, network applies, reconcile, node loss — is shared.
   */
  readonly agents?: AgentsFactory | undefined
  /** The backend's name (logs, the port's `name`). Default "xen". */
  readonly name?: "xen" | "kvm" | undefined
  /**
   * Tear down what is left of a lost instance's domain (persistent libvirt domains stay defined,
   * shut off, after a crash or a destroy behind the controller's back). Default false (Xen domains
   * that died are gone).
   */
  readonly cleanUpLost?: boolean | undefined
}

/** What the backend needs of a node agent (Xen's NodeAgent and KVM's KvmAgent both are one). */
export interface Agent {
  readonly node: { readonly name: string }
  readonly resources: Effect.Effect<{ readonly capacity: import("../../model/Resources.js").Resources }, { readonly message: string }>
  readonly start: (spec: NodeAgent.StartSpec) => Effect.Effect<{ readonly domid: number }, { readonly message: string }>
  readonly destroy: (id: string) => Effect.Effect<{ readonly existed: boolean }, { readonly _tag: string; readonly message: string }>
  readonly reboot: (id: string) => Effect.Effect<{ readonly hard: boolean }, { readonly message: string }>
  readonly consoleOutput: (id: string) => Effect.Effect<string, { readonly message: string }>
  readonly list: Effect.Effect<ReadonlyArray<import("./XlParse.js").ListEntry>, { readonly message: string }>
  /** Hot-plugs a volume's NBD export into a running instance (KVM); absent: the node cannot. */
  readonly attachVolume?: (id: string, volume: VolumeAttachment) => Effect.Effect<void, { readonly message: string }>
  /** Hot-unplugs it, waiting for the guest to let it go. */
  readonly detachVolume?: (id: string, volume: VolumeAttachment) => Effect.Effect<void, { readonly message: string }>
}

/** A volume as a node attaches it: the storage host's NBD export, at the EC2 device name. */
export type VolumeAttachment = Volumes.Attachment

export type AgentsFactory = (
  file: NodesFile.NodesFile,
  pool: SshPool.SshPoolShape,
  images: Pick<ImageStore.ImageStoreShape, "get">
) => Effect.Effect<ReadonlyMap<string, Agent>, unknown>

const segmentOf = (s: NodesFile.Segment, dev: string): NetworkRender.SegmentKind =>
  s.kind === "vlan" ? { _tag: "vlan", dev } : { _tag: "vxlan", dev, local: s.local, remote: s.remote, ...(s.port !== undefined ? { port: s.port } : {}) }

const sshRunner = (host: SshHost.SshHostShape, prefix: ReadonlyArray<string>, timeoutMs: number): Runner.Runner => ({
  where: `ssh ${host.target.user}@${host.target.host}`,
  run: (argv, stdin) =>
    host.run([...prefix, ...argv], { timeoutMs, ...(stdin !== undefined ? { stdin } : {}) }).pipe(
      Effect.map((r) => ({ code: r.exitCode ?? 255, stdout: r.stdout, stderr: r.stderr })),
      Effect.mapError((e) => new Runner.RunnerError({ where: host.target.host, command: argv.join(" "), message: e.message }))
    )
})

const noStorage = (backend: string, zone: string) =>
  `the ${backend === "kvm" ? "KVM" : "Xen"} backend has no storage controller for ${zone} (volumes need a storage host for the zone in the nodes file)`

export const make = (options: Options): Effect.Effect<Backend.BackendShape, unknown, Scope.Scope | SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const file = options.nodes
    const sqlService = yield* Effect.context<SqlClient.SqlClient>()
    const pool = yield* SshPool.make(NodesFile.targets(file), options.ssh)
    // Images come from the cloud's image table; only images registered with a file can boot on Xen.
    const images: Pick<ImageStore.ImageStoreShape, "get"> = {
      get: (id) =>
        Images.get(id).pipe(
          Effect.provide(sqlService),
          Effect.orDie,
          Effect.flatMap((o) => {
            if (Option.isNone(o)) return Effect.fail(new ImageStore.ImageNotFound({ id, message: `no image ${id}` }))
            const i = o.value
            if (i.path === undefined || i.digest === undefined || i.sizeBytes === undefined) {
              return Effect.fail(
                new ImageStore.ImageNotFound({ id, message: `image ${id} has no file on this cloud: register one with \`euca admin images register --file\`` })
              )
            }
            return Effect.succeed({ id, kind: i.kind, digest: i.digest, sizeBytes: i.sizeBytes, path: i.path, name: i.name })
          })
        )
    }
    const backendName = options.name ?? "xen"
    const agents: ReadonlyMap<string, Agent> = options.agents !== undefined
      ? yield* options.agents(file, pool, images)
      : yield* NodeAgent.all(file, pool, images, {
        defaultKernelId: file.images?.defaultKernelId,
        defaultRamdiskId: file.images?.defaultRamdiskId,
        extraKeys: options.extraKeys
      })
    const zones: Record<string, NetworkApplier.ZoneHosts> = {}
    for (const h of file.clusterHeads) {
      const headHost = yield* pool.host(`head:${h.zone}`)
      const nodes = []
      for (const n of file.nodes.filter((x) => x.zone === h.zone && x.privateInterface !== undefined)) {
        nodes.push({
          node: n.name,
          host: { runner: sshRunner(yield* pool.host(n.name), n.commandPrefix, n.timeouts.commandMs), segment: segmentOf(n.segment, n.privateInterface!) }
        })
      }
      zones[h.zone] = {
        head: { privateInterface: h.privateInterface, publicInterface: h.publicInterface },
        headHost: { runner: sshRunner(headHost, h.commandPrefix, h.timeouts.commandMs), segment: segmentOf(h.segment, h.privateInterface) },
        nodes,
        dhcp: h.dhcp
      }
    }
    const applier = yield* NetworkApplier.make({ zones })
    const storage = yield* StorageAgent.all(file, pool)
    const locks = new Map<string, Effect.Semaphore>()
    const lockOf = (id: string) => {
      let l = locks.get(id)
      if (!l) {
        l = Effect.unsafeMakeSemaphore(1)
        locks.set(id, l)
      }
      return l
    }
    let ctx: Backend.BackendContext | undefined
    let scope: Scope.Scope | undefined
    const now = Clock.currentTimeMillis.pipe(Effect.map((t) => Units.ms(Number(t))))
    const report = (make: (at: Units.Millis) => Commands.Command) =>
      Effect.gen(function* () {
        if (ctx) yield* ctx.report(make(yield* now))
      })
    const agent = (node: string) => {
      const a = agents.get(node)
      return a === undefined ? Effect.dieMessage(`no agent for node ${node}: it is not in the nodes file`) : Effect.succeed(a)
    }

    /**
     * The exports of the node's zone that no attachment needs any more (their instance ended with
     * the volume still attached: the core makes it available, nothing unplugs it) are stopped.
     */
    const sweepExports = (node: string) =>
      Effect.gen(function* () {
        const zone = file.nodes.find((n) => n.name === node)?.zone
        const sa = zone === undefined ? undefined : storage.get(zone)
        if (sa === undefined || !ctx) return
        const exported = yield* sa.exports
        if (exported.size === 0) return
        const c = ctx
        for (const id of exported.keys()) {
          // Decided under the volume's lock: an attach starting now holds it while it exports.
          yield* lockOf(id).withPermits(1)(Effect.gen(function* () {
            const v = Ebs.volume((yield* c.state).storage, id as Ebs.VolumeId)
            if (v?.attachment !== undefined) return
            yield* sa.unexport(id)
            yield* Effect.logInfo(`${id}: its export is stopped (no instance has it attached any more)`)
          }))
        }
      }).pipe(Effect.catchAll((err) => Effect.logWarning(`sweeping the exports of ${node}'s zone failed: ${err.message}`)))

    const networkDone = new Map<string, Deferred.Deferred<void>>()
    const execute = (e: Effects.Effect): Effect.Effect<void> => {
      const work: Effect.Effect<void> = (() => {
        switch (e._tag) {
          case "StartInstance": {
            const spec = e.instance
            return lockOf(spec.id).withPermits(1)(
              Effect.gen(function* () {
                const a = yield* agent(spec.node)
                const r = yield* Effect.either(a.start(spec))
                if (r._tag === "Left") {
                  yield* Effect.logWarning(`start of ${spec.id} on ${spec.node} failed: ${r.left.message}`)
                  yield* report((at) => ({ _tag: "InstanceFailed", at, instanceId: spec.id, reason: r.left.message }))
                } else {
                  yield* Effect.logInfo(`${spec.id} created on ${spec.node} as domain ${r.right.domid}`)
                  yield* report((at) => ({ _tag: "InstanceBooted", at, instanceId: spec.id }))
                }
              })
            )
          }
          case "StopInstance": {
            const id = e.instanceId
            return lockOf(id).withPermits(1)(
              Effect.gen(function* () {
                const a = yield* agent(e.node)
                const r = yield* Effect.either(a.destroy(id).pipe(Effect.retry(Schedule.exponential("500 millis").pipe(Schedule.intersect(Schedule.recurs(2))))))
                if (r._tag === "Left") {
                  // The reconcile loop sees the domain still there and sends the destroy again.
                  yield* Effect.logWarning(`destroy of ${id} on ${e.node} failed (reconcile will retry): ${r.left.message}`)
                  return
                }
                yield* report((at) => ({ _tag: "InstanceStopped", at, instanceId: id }))
                locks.delete(id)
                yield* sweepExports(e.node)
              })
            )
          }
          case "RebootInstance": {
            const id = e.instanceId
            return lockOf(id).withPermits(1)(
              Effect.gen(function* () {
                const a = yield* agent(e.node)
                const r = yield* Effect.either(a.reboot(id))
                if (r._tag === "Left") yield* Effect.logWarning(`reboot of ${id} failed: ${r.left.message}`)
                else yield* Effect.logInfo(`${id} rebooted${r.right.hard ? " (a hard reboot: reset, or destroyed and re-created)" : ""}`)
              })
            )
          }
          case "ApplyNetwork": {
            if (zones[e.zone] === undefined) return Effect.logWarning(`no cluster head for zone ${e.zone} in the nodes file: its network plan is not applied`)
            return Effect.gen(function* () {
              if (!ctx) return
              const s = yield* ctx.state
              const r = yield* Effect.either(applier.applyState(s, e.zone))
              if (r._tag === "Left") yield* Effect.logError(`network plan of ${e.zone} not applied: ${r.left.message}`)
              else yield* Effect.logInfo(`network plan of ${e.zone} applied (${r.right.restores} restore, ${r.right.commands.length} ip commands)`)
            })
          }
          case "PowerUp":
            // No wake-on-LAN here: the node never slept; it reports at once.
            return report((at) => ({ _tag: "NodeReported", at, nodeId: e.node }))
          case "PowerDown":
            return Effect.logWarning(`POWERSAVE asked to power ${e.node} down; the ${backendName} backend does not switch nodes off (it stays up)`)
          // Volumes: the zone's storage host (StorageAgent) makes, copies and exports them; the node
          // attaches the export. A zone without a storage host fails every volume with that reason.
          case "CreateVolume": {
            const v = e.volume
            const sa = storage.get(v.zone)
            if (sa === undefined) return report((at) => ({ _tag: "VolumeCreateFailed", at, volumeId: v.id, reason: noStorage(backendName, v.zone) }))
            return lockOf(v.id).withPermits(1)(
              Effect.gen(function* () {
                const r = yield* Effect.either(sa.createVolume({ id: v.id, sizeGiB: v.sizeGiB, snapshotId: v.snapshotId }))
                if (r._tag === "Left") {
                  yield* Effect.logWarning(`creating ${v.id} failed: ${r.left.message}`)
                  yield* report((at) => ({ _tag: "VolumeCreateFailed", at, volumeId: v.id, reason: r.left.message }))
                } else {
                  yield* Effect.logInfo(`${v.id} created on the storage host of ${v.zone} (${v.sizeGiB} GiB${v.snapshotId !== undefined ? ` from ${v.snapshotId}` : ""})`)
                  yield* report((at) => ({ _tag: "VolumeReady", at, volumeId: v.id }))
                }
              })
            )
          }
          case "CreateSnapshot": {
            const v = e.volume
            const snapshotId = e.snapshotId
            const sa = storage.get(v.zone)
            if (sa === undefined) return report((at) => ({ _tag: "SnapshotCreateFailed", at, snapshotId, reason: noStorage(backendName, v.zone) }))
            return Effect.gen(function* () {
              const r = yield* Effect.either(sa.createSnapshot(snapshotId, v.id))
              if (r._tag === "Left") {
                yield* Effect.logWarning(`snapshot ${snapshotId} of ${v.id} failed: ${r.left.message}`)
                yield* report((at) => ({ _tag: "SnapshotCreateFailed", at, snapshotId, reason: r.left.message }))
              } else {
                yield* Effect.logInfo(`${snapshotId} of ${v.id} made on the storage host of ${v.zone}`)
                yield* report((at) => ({ _tag: "SnapshotProgress", at, snapshotId, progress: 100 }))
              }
            })
          }
          case "AttachVolume": {
            const v = e.volume
            const instanceId = e.instanceId
            const sa = storage.get(v.zone)
            if (sa === undefined) return report((at) => ({ _tag: "VolumeAttachFailed", at, volumeId: v.id, reason: noStorage(backendName, v.zone) }))
            return lockOf(v.id).withPermits(1)(
              Effect.gen(function* () {
                const a = yield* agent(e.node)
                const attach = a.attachVolume
                const fail = (reason: string) =>
                  Effect.logWarning(`attaching ${v.id} to ${instanceId} failed: ${reason}`).pipe(
                    Effect.zipRight(report((at) => ({ _tag: "VolumeAttachFailed", at, volumeId: v.id, reason })))
                  )
                if (attach === undefined) return yield* fail(`the ${backendName} backend cannot attach volumes to its instances yet`)
                const r = yield* Effect.either(Volumes.attach(sa, attach, { volumeId: v.id, instanceId, device: e.device }))
                if (r._tag === "Left") return yield* fail(r.left.message)
                yield* report((at) => ({ _tag: "VolumeAttachDone", at, volumeId: v.id }))
              })
            )
          }
          case "DetachVolume": {
            const v = e.volume
            const instanceId = e.instanceId
            const sa = storage.get(v.zone)
            if (sa === undefined) return report((at) => ({ _tag: "VolumeDetachDone", at, volumeId: v.id }))
            return lockOf(v.id).withPermits(1)(
              Effect.gen(function* () {
                const a = yield* agent(e.node)
                const r = yield* Volumes.detach(sa, a.detachVolume, { volumeId: v.id, instanceId, device: e.device, force: e.force })
                if (r._tag === "Held") {
                  // The guest still holds the disk: its export stays; `detach-volume --force` ends it.
                  yield* Effect.logWarning(`detaching ${v.id} from ${instanceId} failed (the volume stays detaching; detach it with --force): ${r.reason}`)
                  return
                }
                yield* report((at) => ({ _tag: "VolumeDetachDone", at, volumeId: v.id }))
              })
            )
          }
          case "DeleteVolume": {
            const id = e.volumeId
            const sa = storage.get(e.zone)
            if (sa === undefined) return Effect.void
            return lockOf(id).withPermits(1)(
              sa.deleteVolume(id).pipe(
                Effect.zipRight(Effect.logInfo(`${id} deleted on the storage host of ${e.zone}`)),
                Effect.catchAll((err) => Effect.logWarning(`deleting ${id} failed (its file stays on the storage host): ${err.message}`)),
                Effect.ensuring(Effect.sync(() => locks.delete(id)))
              )
            )
          }
          case "DeleteSnapshot": {
            const id = e.snapshotId
            const sa = storage.get(e.zone)
            if (sa === undefined) return Effect.void
            return sa.deleteSnapshot(id).pipe(
              Effect.zipRight(Effect.logInfo(`${id} deleted on the storage host of ${e.zone}`)),
              Effect.catchAll((err) => Effect.logWarning(`deleting ${id} failed (its file stays on the storage host): ${err.message}`))
            )
          }
        }
      })()
      // A zone's network applies run one after another, and a start waits for the apply decided
      // before it: the instance's bridge and filter must exist before its domain is created.
      const zone = e._tag === "ApplyNetwork" ? e.zone : e._tag === "StartInstance" ? e.instance.zone : undefined
      const before = zone === undefined ? undefined : networkDone.get(zone)
      const ordered = before === undefined ? work : Deferred.await(before).pipe(Effect.zipRight(work))
      if (e._tag !== "ApplyNetwork") return scope === undefined ? ordered : Effect.forkIn(ordered, scope).pipe(Effect.asVoid)
      return Effect.gen(function* () {
        const done = yield* Deferred.make<void>()
        networkDone.set(e.zone, done)
        const run = ordered.pipe(Effect.ensuring(Deferred.succeed(done, undefined)))
        if (scope === undefined) yield* run
        else yield* Effect.forkIn(run, scope)
      })
    }

    const failures = new Map<string, number>()
    const lostAfter = options.lostAfter ?? 3

    /** One poll: resources and domains of every node, then the reconcile's verdicts. */
    const poll = Effect.gen(function* () {
      if (!ctx) return
      const s = yield* ctx.state
      const observed: Array<Reconcile.Observed> = []
      yield* Effect.forEach(
        [...agents.values()],
        (a) =>
          Effect.gen(function* () {
            const node = s.nodes.find((n) => n.id === a.node.name)
            if (!node) return
            const r = yield* Effect.either(Effect.all([a.resources, a.list]))
            if (r._tag === "Left") {
              const n = (failures.get(a.node.name) ?? 0) + 1
              failures.set(a.node.name, n)
              yield* Effect.logWarning(`node ${a.node.name} did not answer (${n}/${lostAfter}): ${r.left.message}`)
              if (n >= lostAfter && node.state !== "down") {
                yield* report((at) => ({ _tag: "NodeLost", at, nodeId: a.node.name, reason: `no answer over SSH ${n} times: ${r.left.message}` }))
              }
              return
            }
            failures.set(a.node.name, 0)
            yield* report((at) => ({ _tag: "NodeReported", at, nodeId: a.node.name, capacity: r.right[0].capacity }))
            observed.push({ node: a.node.name, domains: r.right[1] })
          }),
        { concurrency: "unbounded", discard: true }
      )
      const after = yield* ctx.state
      const expected = State.liveInstances(after)
        .filter((i) => i.dispatched)
        .map((i) => ({ id: i.id, node: i.node, state: i.state as Reconcile.ExpectedState }))
      const verdict = Reconcile.reconcile(expected, observed)
      for (const c of Reconcile.commands(verdict, yield* now)) if (ctx) yield* ctx.report(c)
      for (const u of verdict.unknown) {
        yield* Effect.logWarning(`node ${u.node} runs domain ${u.name ?? "(null)"} (id ${u.domid}) that no instance of this cloud expects; left alone`)
      }
      if (options.cleanUpLost === true) {
        for (const l of verdict.lost) {
          const a = agents.get(l.node)
          if (a === undefined) continue
          const r = yield* Effect.either(a.destroy(l.id))
          if (r._tag === "Left") yield* Effect.logWarning(`cleaning up the lost ${l.id} on ${l.node} failed: ${r.left.message}`)
          else if (r.right.existed) yield* Effect.logInfo(`${l.id} on ${l.node}: what was left of its domain is removed (${l.reason})`)
        }
      }
      for (const st of verdict.stopping) {
        yield* execute({ _tag: "StopInstance", instanceId: st.id as Ids.InstanceId, node: st.node as Ids.NodeId })
      }
    })

    const start = (c: Backend.BackendContext) =>
      Effect.gen(function* () {
        ctx = c
        scope = yield* Effect.scope
        yield* poll.pipe(Effect.catchAllCause((e) => Effect.logError(`first poll of the nodes failed: ${e}`)))
        // The storage work a restart interrupted goes on: volumes being made, snapshots being taken,
        // detaches asked for (each is idempotent on the storage host). An attach under way is not
        // repeated: its export may be in use by the guest already.
        const resumed = yield* c.state
        for (const v of Ebs.volumes(resumed.storage)) {
          if (!storage.has(v.zone)) continue
          if (v.state === "creating") yield* execute({ _tag: "CreateVolume", volume: EbsEffects.specOf(v) })
          const a = v.attachment
          const inst = a === undefined ? undefined : State.instance(resumed, a.instance)
          if (a?.state === "detaching" && inst !== undefined) {
            yield* execute({ _tag: "DetachVolume", volume: EbsEffects.specOf(v), instanceId: inst.id, node: inst.node, device: a.device, force: false })
          }
        }
        for (const snap of Ebs.snapshots(resumed.storage)) {
          const v = Ebs.volume(resumed.storage, snap.volumeId)
          if (snap.state === "pending" && v !== undefined && storage.has(v.zone)) yield* execute({ _tag: "CreateSnapshot", snapshotId: snap.id, volume: EbsEffects.specOf(v) })
        }
        yield* Effect.forkScoped(
          Effect.sleep(options.reconcileEvery ?? Duration.seconds(5)).pipe(
            Effect.zipRight(poll),
            Effect.catchAllCause((e) => Effect.logError(`reconcile failed: ${e}`)),
            Effect.forever
          )
        )
      })

    const consoleOutput = (i: State.Instance) =>
      Effect.gen(function* () {
        const a = agents.get(i.node)
        if (!a) return yield* new Backend.BackendError({ message: `node ${i.node} is not in the nodes file`, node: i.node })
        return yield* a.consoleOutput(i.id).pipe(Effect.mapError((e) => new Backend.BackendError({ message: e.message, node: i.node })))
      })

    return { start, execute, consoleOutput } satisfies Backend.BackendShape
  })

export const layer = (options: Options): Layer.Layer<Backend.Backend, unknown, SqlClient.SqlClient> => Layer.scoped(Backend.Backend, make(options))
