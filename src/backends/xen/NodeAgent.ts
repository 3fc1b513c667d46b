/**
 * One Xen node, driven over its SSH host with xl: what Eucalyptus's node controller did, minus the
 * daemon on the node. Everything the agent does is a shell command line built from quoted argv or
 * an SFTP write; everything it reads goes through the pure parsers.
 *
 * start(spec) stages the instance's images through the node's cache, copies them into the
 * instance's directory, writes its xl.cfg, runs `xl create` and asks `xl domid`. If any step after
 * the first change fails (or is interrupted), what was done is undone before the error is returned:
 * a half-created domain is destroyed, the config and the instance directory removed. A domain of the
 * same name that existed before is never touched.
 */
import * as Path from "node:path"
import { Effect, Either, Schema } from "effect"
import type * as Effects from "../../model/Effects.js"
import * as Resources from "../../model/Resources.js"
import * as ImageCache from "./ImageCache.js"
import type * as ImageStore from "./ImageStore.js"
import type * as NodesFile from "./NodesFile.js"
import * as Shell from "./Shell.js"
import type * as SshHost from "./SshHost.js"
import type * as SshPool from "./SshPool.js"
import * as XlCommands from "./XlCommands.js"
import * as XlConfig from "./XlConfig.js"
import * as XlParse from "./XlParse.js"

// ── errors ──────────────────────────────────────────────────────────────────────────────────────

/** xl ran and failed; `kind` says how (XlParse.classify). */
export class XlCommandFailed extends Schema.TaggedError<XlCommandFailed>()("XlCommandFailed", {
  node: Schema.String,
  command: Schema.String,
  kind: Schema.String,
  exitCode: Schema.NullOr(Schema.Number),
  stderr: Schema.String,
  message: Schema.String
}) {
  get failure(): XlParse.XlFailureKind {
    return this.kind as XlParse.XlFailureKind
  }
}

/** A command succeeded but printed something the parsers cannot read. */
export class NodeOutputUnreadable extends Schema.TaggedError<NodeOutputUnreadable>()("NodeOutputUnreadable", {
  node: Schema.String,
  command: Schema.String,
  message: Schema.String
}) {}

/** A shell step on the node (mkdir, cp, df, …) failed. */
export class NodeCommandFailed extends Schema.TaggedError<NodeCommandFailed>()("NodeCommandFailed", {
  node: Schema.String,
  step: Schema.String,
  exitCode: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

/** The instance cannot be described as an xl.cfg (a value xl cannot read back). */
export class InvalidGuest extends Schema.TaggedError<InvalidGuest>()("InvalidGuest", {
  node: Schema.String,
  instance: Schema.String,
  field: Schema.String,
  message: Schema.String
}) {}

export type NodeError = XlCommandFailed | NodeOutputUnreadable | NodeCommandFailed | SshHost.SshError

export type StartError = NodeError | InvalidGuest | ImageStore.ImageNotFound | ImageCache.ImageCacheError

/** The reason an InstanceFailed carries (every error here has a message naming the node). */
export const reasonOf = (e: StartError): string => e.message

// ── the agent ───────────────────────────────────────────────────────────────────────────────────

/** What start needs of the core's InstanceSpec. */
export type StartSpec = Pick<Effects.InstanceSpec, "id" | "size" | "imageId" | "kernelId" | "ramdiskId" | "mac" | "bridge" | "privateIp" | "vlan">

export interface Started {
  readonly id: string
  readonly domid: number
  readonly configPath: string
}

export interface NodeResources {
  /** What guests may use: xl info minus the dom0 reserve; disk as configured or measured. */
  readonly capacity: Resources.Resources
  readonly totalMemoryMiB: number
  readonly freeMemoryMiB: number
  readonly nrCpus: number
  readonly xenVersion: string | undefined
  readonly host: string | undefined
}

export interface NodeAgentShape {
  readonly node: NodesFile.Node
  readonly resources: Effect.Effect<NodeResources, NodeError>
  readonly start: (spec: StartSpec) => Effect.Effect<Started, StartError>
  /** Idempotent: a domain that does not exist is already destroyed. Removes the instance's files. */
  readonly destroy: (id: string) => Effect.Effect<{ readonly existed: boolean }, NodeError>
  /**
   * `xl reboot` (the domain comes back with a new domid). A guest without PV drivers cannot be asked:
   * it is destroyed and re-created from its config (a hard reboot).
   */
  readonly reboot: (id: string) => Effect.Effect<{ readonly hard: boolean }, NodeError>
  /** The tail (64 KiB, as EC2 returns) of the domain's console log; empty if there is none yet. */
  readonly consoleOutput: (id: string) => Effect.Effect<string, NodeError>
  /** `xl list`, Domain-0 included. */
  readonly list: Effect.Effect<ReadonlyArray<XlParse.ListEntry>, NodeError>
  /** `xl list -l`. */
  readonly listLong: Effect.Effect<ReadonlyArray<XlParse.DomainDetail>, NodeError>
}

export interface Deps {
  readonly host: SshHost.SshHostShape
  readonly cache: ImageCache.ImageCacheShape
  readonly images: Pick<ImageStore.ImageStoreShape, "get">
  /** Kernel and ramdisk for instances that name none (the cloud's defaults). */
  readonly defaultKernelId?: string | undefined
  readonly defaultRamdiskId?: string | undefined
  /**
   * More xl.cfg keys per instance (xl ignores unknown keys). The stand-in xl reads `xltest_prefix`
   * and `xltest_gateway` to address the guest end of its veth.
   */
  readonly extraKeys?: ((spec: StartSpec) => Readonly<Record<string, string | number>>) | undefined
}

const CONSOLE_TAIL_BYTES = 64 * 1024

export const make = (node: NodesFile.Node, deps: Deps): NodeAgentShape => {
  const { host, cache, images } = deps
  const xl = node.xl
  const paths = node.paths
  const name = node.name
  const configPath = (id: string) => Path.posix.join(paths.configDir, `${id}.cfg`)
  const instanceDir = (id: string) => Path.posix.join(paths.instancesDir, id)
  const consolePath = (id: string) => Path.posix.join(paths.consoleLogDir, `guest-${id}.log`)
  const label = (argv: ReadonlyArray<string>) => argv.join(" ")

  /** Run xl; a non-zero exit becomes XlCommandFailed with its classified kind. */
  const runXl = (argv: ReadonlyArray<string>, timeoutMs?: number) =>
    host.run(argv, { timeoutMs }).pipe(
      Effect.flatMap((r) => {
        const kind = XlParse.classify(r.exitCode, r.stderr)
        if (kind === undefined) return Effect.succeed(r)
        return Effect.fail(new XlCommandFailed({
          node: name,
          command: label(argv),
          kind,
          exitCode: r.exitCode,
          stderr: r.stderr,
          message: `${name}: ${label(argv)} failed (${kind}, exit ${r.exitCode}): ${XlParse.summary(r.stderr)}`
        }))
      })
    )

  /** Reads may be repeated: retry once when the connection dropped under them. */
  const idempotent = <A, E extends { readonly _tag: string }>(e: Effect.Effect<A, E>) =>
    e.pipe(Effect.retry({ times: 1, while: (x) => x._tag === "SshDisconnected" }))

  const parsed = <A>(argv: ReadonlyArray<string>, parse: (s: string) => Either.Either<A, XlParse.ParseFailure>) =>
    idempotent(runXl(argv)).pipe(Effect.flatMap((r) =>
      Either.match(parse(r.stdout), {
        onLeft: (f) => Effect.fail(new NodeOutputUnreadable({ node: name, command: label(argv), message: `${name}: ${XlParse.formatFailure(f)}` })),
        onRight: Effect.succeed
      })
    ))

  const sh = (step: string, line: string, timeoutMs?: number) =>
    host.exec(line, { timeoutMs }).pipe(Effect.flatMap((r) =>
      r.exitCode === 0
        ? Effect.succeed(r)
        : Effect.fail(new NodeCommandFailed({ node: name, step, exitCode: r.exitCode, message: `${name}: ${step} failed (exit ${r.exitCode}): ${r.stderr.trim()}` }))
    ))

  const list = parsed(XlCommands.list(xl), XlParse.parseList)
  const listLong = parsed(XlCommands.listLong(xl), XlParse.parseListLong)

  const diskGiB: Effect.Effect<number, NodeError> = node.diskGiB !== undefined
    ? Effect.succeed(node.diskGiB)
    : sh("measuring the instances file system", Shell.and(Shell.commandLine(["mkdir", "-p", "--", paths.instancesDir]), Shell.commandLine(["df", "-Pk", "--", paths.instancesDir]))).pipe(
      Effect.flatMap((r) => {
        // POSIX df -P: "Filesystem 1024-blocks Used Available Capacity Mounted on", then one line.
        const fields = r.stdout.trim().split("\n")[1]?.trim().split(/\s+/)
        const kib = Number(fields?.[1])
        if (fields === undefined || !Number.isFinite(kib)) {
          return Effect.fail(new NodeOutputUnreadable({ node: name, command: `df -Pk ${paths.instancesDir}`, message: `${name}: cannot read df output: ${JSON.stringify(r.stdout)}` }))
        }
        // The image cache lives on the node's disks too: what is left is for instances.
        return Effect.succeed(Math.max(0, Math.floor(kib / (1024 * 1024)) - Math.ceil(paths.imageCacheMiB / 1024)))
      })
    )

  const resources: NodeAgentShape["resources"] = Effect.all([parsed(XlCommands.info(xl), XlParse.parseInfo), diskGiB], { concurrency: 2 }).pipe(
    Effect.map(([info, disk]) => ({
      capacity: Resources.make(
        Math.max(0, info.nrCpus - node.reserve.cores),
        Math.max(0, info.totalMemoryMiB - node.reserve.memoryMiB),
        disk
      ),
      totalMemoryMiB: info.totalMemoryMiB,
      freeMemoryMiB: info.freeMemoryMiB,
      nrCpus: info.nrCpus,
      xenVersion: info.xenVersion,
      host: info.host
    }))
  )

  /** Does a domain of this name exist? (xl domid; a missing one is not an error.) */
  const domidOf = (id: string) =>
    idempotent(runXl(XlCommands.domid(xl, id))).pipe(
      Effect.flatMap((r) =>
        Either.match(XlParse.parseDomid(r.stdout), {
          onLeft: (f) => Effect.fail(new NodeOutputUnreadable({ node: name, command: `xl domid ${id}`, message: `${name}: ${XlParse.formatFailure(f)}` })),
          onRight: (n) => Effect.succeed<number | undefined>(n)
        })
      ),
      Effect.catchIf((e): e is XlCommandFailed => e._tag === "XlCommandFailed" && XlParse.isNoSuchDomain(e.failure), () => Effect.succeed(undefined))
    )

  /** The domid of the domain of this name, from `xl list <name>` (undefined if there is none). */
  const domainNamed = (id: string) =>
    parsed(XlCommands.list(xl, id), XlParse.parseList).pipe(
      Effect.map((ds) => ds.find((d) => d.name === id)?.domid),
      Effect.catchIf((e): e is XlCommandFailed => e._tag === "XlCommandFailed" && XlParse.isNoSuchDomain(e.failure), () => Effect.succeed(undefined))
    )

  const removeFiles = (id: string) => sh("removing the instance's files", Shell.commandLine(["rm", "-rf", "--", instanceDir(id), configPath(id)]))

  const guestOf = (spec: StartSpec, dir: string, hasRamdisk: boolean, ephemeralMiB: number): XlConfig.Guest => ({
    name: spec.id,
    type: node.guest.type,
    kernel: Path.posix.join(dir, "kernel"),
    ramdisk: hasRamdisk ? Path.posix.join(dir, "ramdisk") : undefined,
    cmdline: node.guest.cmdline,
    memoryMiB: spec.size.memoryMiB,
    vcpus: Math.max(1, spec.size.cores),
    disks: [
      { target: Path.posix.join(dir, "root"), vdev: "xvda1" },
      ...(ephemeralMiB > 0 ? [{ target: Path.posix.join(dir, "ephemeral"), vdev: "xvda2" }] : [])
    ],
    vifs: [{ mac: spec.mac, bridge: spec.bridge ?? node.guest.defaultBridge, ip: spec.privateIp }],
    onPoweroff: "destroy",
    onReboot: "restart",
    onCrash: "destroy",
    keys: deps.extraKeys?.(spec)
  })

  const start: NodeAgentShape["start"] = (spec) =>
    Effect.gen(function*() {
      const kernelId = spec.kernelId ?? deps.defaultKernelId
      const ramdiskId = spec.ramdiskId ?? deps.defaultRamdiskId
      if (kernelId === undefined) {
        return yield* new InvalidGuest({ node: name, instance: spec.id, field: "kernel", message: `${name}: ${spec.id} names no kernel and the cloud has no default kernel` })
      }
      const machine = yield* images.get(spec.imageId)
      const kernel = yield* images.get(kernelId)
      const ramdisk = ramdiskId === undefined ? undefined : yield* images.get(ramdiskId)
      // Never reuse a name: a domain of this name is another start of this instance (or a leftover).
      const existing = yield* domainNamed(spec.id)
      if (existing !== undefined) {
        return yield* new XlCommandFailed({
          node: name, command: `xl list ${spec.id}`, kind: "NameInUse", exitCode: 0, stderr: "",
          message: `${name}: a domain named ${spec.id} already exists (domid ${existing}); not starting it twice`
        })
      }
      const dir = instanceDir(spec.id)
      const cfgPath = configPath(spec.id)
      const ephemeralMiB = Math.max(0, spec.size.diskGiB * 1024 - Math.ceil(machine.sizeBytes / (1024 * 1024)))
      const cfg = yield* Either.match(XlConfig.render(guestOf(spec, dir, ramdisk !== undefined, ephemeralMiB)), {
        onLeft: (e) => Effect.fail(new InvalidGuest({ node: name, instance: spec.id, field: e.field, message: `${name}: ${spec.id}: ${e.field}: ${e.message}` })),
        onRight: Effect.succeed
      })

      // From here on the node changes: undo on any failure. `created` is set once xl create may have run.
      let created = false
      const undo = Effect.gen(function*() {
        if (created) {
          const r = yield* host.run(XlCommands.destroy(xl, spec.id)).pipe(Effect.either)
          if (Either.isRight(r) && r.right.exitCode !== 0 && !XlParse.isNoSuchDomain(XlParse.classify(r.right.exitCode, r.right.stderr))) {
            yield* Effect.logWarning(`${name}: could not destroy the half-created ${spec.id}: ${XlParse.summary(r.right.stderr)}`)
          }
        }
        yield* removeFiles(spec.id)
      }).pipe(
        Effect.tapError((e) => Effect.logWarning(`${name}: cleaning up after the failed start of ${spec.id} failed: ${e.message}`)),
        Effect.ignore
      )

      return yield* Effect.gen(function*() {
        const sources = [machine, kernel, ...(ramdisk === undefined ? [] : [ramdisk])]
        yield* cache.withImages(sources, ([root, k, r]) =>
          sh(
            "preparing the instance's disks",
            Shell.and(
              Shell.commandLine(["mkdir", "-p", "--", dir, paths.configDir]),
              Shell.commandLine(["cp", "--reflink=auto", "--", root!, Path.posix.join(dir, "root")]),
              Shell.commandLine(["cp", "--", k!, Path.posix.join(dir, "kernel")]),
              ...(r === undefined ? [] : [Shell.commandLine(["cp", "--", r, Path.posix.join(dir, "ramdisk")])]),
              ...(ephemeralMiB > 0 ? [Shell.commandLine(["truncate", "-s", `${ephemeralMiB}M`, "--", Path.posix.join(dir, "ephemeral")])] : [])
            ),
            node.timeouts.uploadMs
          ))
        yield* host.writeFile(cfgPath, cfg, { mode: 0o644, timeoutMs: node.timeouts.commandMs })
        created = true
        yield* runXl(XlCommands.create(xl, cfgPath), node.timeouts.createMs).pipe(
          // A definite failure of xl create leaves no domain behind (libxl cleans up); a name in use is someone else's.
          Effect.tapError((e) => Effect.sync(() => {
            if (e._tag === "XlCommandFailed") created = false
          }))
        )
        const domid = yield* domidOf(spec.id)
        if (domid === undefined) {
          return yield* new XlCommandFailed({ node: name, command: `xl domid ${spec.id}`, kind: "DomainNotFound", exitCode: 1, stderr: "", message: `${name}: ${spec.id} was created but is gone already` })
        }
        yield* Effect.logInfo(`${name}: started ${spec.id} as domain ${domid}`)
        return { id: spec.id, domid, configPath: cfgPath }
      }).pipe(Effect.onError(() => undo))
    })

  const destroy: NodeAgentShape["destroy"] = (id) =>
    runXl(XlCommands.destroy(xl, id)).pipe(
      Effect.as(true),
      Effect.catchIf((e): e is XlCommandFailed => e._tag === "XlCommandFailed" && XlParse.isNoSuchDomain(e.failure), () => Effect.succeed(false)),
      Effect.retry({ times: 1, while: (e) => e._tag === "SshDisconnected" }),
      Effect.tap(() => removeFiles(id)),
      Effect.map((existed) => ({ existed }))
    )

  const reboot: NodeAgentShape["reboot"] = (id) =>
    runXl(XlCommands.reboot(xl, id)).pipe(
      Effect.as({ hard: false }),
      Effect.catchIf((e): e is XlCommandFailed => e._tag === "XlCommandFailed" && e.failure === "NoPvControl", () =>
        Effect.gen(function*() {
          yield* Effect.logInfo(`${name}: ${id} has no PV control; rebooting it by destroy and create`)
          yield* runXl(XlCommands.destroy(xl, id))
          yield* runXl(XlCommands.create(xl, configPath(id)), node.timeouts.createMs)
          return { hard: true }
        }))
    )

  const consoleOutput: NodeAgentShape["consoleOutput"] = (id) => {
    const p = consolePath(id)
    return idempotent(sh("reading the console log", `if [ -f ${Shell.quote(p)} ]; then tail -c ${CONSOLE_TAIL_BYTES} -- ${Shell.quote(p)}; fi`)).pipe(
      Effect.map((r) => r.stdout)
    )
  }

  return { node, resources, start, destroy, reboot, consoleOutput, list, listLong }
}

export type Options = Omit<Deps, "host" | "cache" | "images">

/** The agent of one node of a nodes file: its SSH host from the pool, its image cache as configured. */
export const fromPool = (
  node: NodesFile.Node,
  pool: SshPool.SshPoolShape,
  images: Pick<ImageStore.ImageStoreShape, "get">,
  options: Options = {}
): Effect.Effect<NodeAgentShape, SshPool.UnknownHost> =>
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

/** Agents for every node of a nodes file, by node name. */
export const all = (
  file: NodesFile.NodesFile,
  pool: SshPool.SshPoolShape,
  images: Pick<ImageStore.ImageStoreShape, "get">,
  options: Options = {}
): Effect.Effect<ReadonlyMap<string, NodeAgentShape>, SshPool.UnknownHost> =>
  Effect.forEach(file.nodes, (n) => fromPool(n, pool, images, options)).pipe(
    Effect.map((agents) => new Map(agents.map((a) => [a.node.name, a])))
  )
