/**
 * A zone's storage controller (Eucalyptus's SC), driven over SSH on the storage host of the nodes
 * file: volumes and snapshots as files in its directory (qemu-img, cp), an attached volume exported
 * over NBD by its own qemu-nbd (one port of the configured range each). Every command line comes
 * from StorageCommands (every argument quoted).
 *
 * A volume's export is started afresh for each attachment (a stale one, left by an instance that
 * ended, is stopped first) and stopped at its detach; ports are picked one export at a time.
 */
import { Effect, Schema } from "effect"
import * as NodesFile from "../xen/NodesFile.js"
import type * as SshHost from "../xen/SshHost.js"
import type * as SshPool from "../xen/SshPool.js"
import * as C from "./StorageCommands.js"

export class StorageCommandFailed extends Schema.TaggedError<StorageCommandFailed>()("StorageCommandFailed", {
  zone: Schema.String,
  step: Schema.String,
  exitCode: Schema.NullOr(Schema.Number),
  message: Schema.String
}) {}

export class NoExportPort extends Schema.TaggedError<NoExportPort>()("NoExportPort", {
  zone: Schema.String,
  message: Schema.String
}) {}

export type StorageError = StorageCommandFailed | NoExportPort | SshHost.SshError

export interface Export {
  readonly name: string
  readonly address: string
  readonly port: number
}

export interface StorageAgentShape {
  readonly storage: NodesFile.Storage
  /** A new volume file: empty of `sizeGiB`, or a copy of the snapshot grown to it. */
  readonly createVolume: (v: { readonly id: string; readonly sizeGiB: number; readonly snapshotId?: string | undefined }) => Effect.Effect<void, StorageError>
  /** Its export stopped, its files removed (idempotent). */
  readonly deleteVolume: (id: string) => Effect.Effect<void, StorageError>
  /** A copy of the volume's file as it is now. */
  readonly createSnapshot: (snapshotId: string, volumeId: string) => Effect.Effect<void, StorageError>
  readonly deleteSnapshot: (id: string) => Effect.Effect<void, StorageError>
  /** A fresh NBD export of the volume (any older one stopped first). */
  readonly exportVolume: (id: string) => Effect.Effect<Export, StorageError>
  /** The volume's export stopped (idempotent). */
  readonly unexport: (id: string) => Effect.Effect<void, StorageError>
  /** The exports the storage host records (volume id → port). */
  readonly exports: Effect.Effect<ReadonlyMap<string, number>, StorageError>
  /** The export's port if qemu-nbd serves the volume now. */
  readonly exportOf: (id: string) => Effect.Effect<number | undefined, StorageError>
  /** The file of a volume or snapshot on the storage host. */
  readonly files: { readonly volume: (id: string) => string; readonly snapshot: (id: string) => string }
}

export const make = (storage: NodesFile.Storage, host: SshHost.SshHostShape): StorageAgentShape => {
  const zone = storage.zone
  const h: C.Host = { prefix: storage.commandPrefix, qemuImg: storage.qemuImg, qemuNbd: storage.qemuNbd, dir: storage.dir, format: storage.format }
  const where = `storage host of ${zone}`
  const sh = (step: string, line: string, timeoutMs?: number) =>
    Effect.suspend(() => host.exec(line, { timeoutMs: timeoutMs ?? storage.timeouts.commandMs })).pipe(
      Effect.flatMap((r) =>
        r.exitCode === 0
          ? Effect.succeed(r)
          : Effect.fail(new StorageCommandFailed({ zone, step, exitCode: r.exitCode, message: `${where}: ${step} failed (exit ${r.exitCode}): ${r.stderr.trim() || r.stdout.trim()}` }))
      )
    )
  const safe = <A>(f: () => A) => Effect.try({ try: f, catch: (e) => new StorageCommandFailed({ zone, step: "building the command", exitCode: null, message: `${where}: ${(e as Error).message}` }) })
  const line = (step: string, build: () => string, timeoutMs?: number) => safe(build).pipe(Effect.flatMap((l) => sh(step, l, timeoutMs)))
  // Copies of big volumes take a while: the upload timeout bounds them.
  const long = storage.timeouts.uploadMs

  const createVolume: StorageAgentShape["createVolume"] = (v) =>
    v.snapshotId === undefined
      ? line(`creating ${v.id}`, () => C.createVolume(h, v.id, v.sizeGiB)).pipe(Effect.asVoid)
      : line(`creating ${v.id} from ${v.snapshotId}`, () => C.createVolumeFromSnapshot(h, v.id, v.snapshotId!, v.sizeGiB), long).pipe(
        Effect.tapError(() => Effect.ignore(line(`cleaning up ${v.id}`, () => C.deleteVolume(h, v.id)))),
        Effect.asVoid
      )

  const unexport: StorageAgentShape["unexport"] = (id) => line(`stopping the export of ${id}`, () => C.stopExport(h, id)).pipe(Effect.asVoid)

  const deleteVolume: StorageAgentShape["deleteVolume"] = (id) =>
    unexport(id).pipe(Effect.zipRight(line(`deleting ${id}`, () => C.deleteVolume(h, id))), Effect.asVoid)

  const createSnapshot: StorageAgentShape["createSnapshot"] = (snapshotId, volumeId) =>
    line(`snapshotting ${volumeId} as ${snapshotId}`, () => C.createSnapshot(h, snapshotId, volumeId), long).pipe(
      Effect.tapError(() => Effect.ignore(line(`cleaning up ${snapshotId}`, () => C.deleteSnapshot(h, snapshotId)))),
      Effect.asVoid
    )

  const deleteSnapshot: StorageAgentShape["deleteSnapshot"] = (id) => line(`deleting ${id}`, () => C.deleteSnapshot(h, id)).pipe(Effect.asVoid)

  // One export is set up at a time: the port picked must still be free when qemu-nbd binds it.
  const exporting = Effect.unsafeMakeSemaphore(1)
  const exportVolume: StorageAgentShape["exportVolume"] = (id) =>
    exporting.withPermits(1)(
      Effect.gen(function*() {
        yield* unexport(id)
        const listed = yield* line("listing the exports", () => C.listExports(h))
        const { first, last } = storage.export.ports
        const port = C.freePort(C.parseExports(listed.stdout).values(), first, last)
        if (port === undefined) return yield* new NoExportPort({ zone, message: `${where}: every export port (${first}–${last}) is taken` })
        yield* line(`exporting ${id} on ${storage.export.address}:${port}`, () => C.startExport(h, id, storage.export.address, port)).pipe(
          Effect.tapError(() => Effect.ignore(unexport(id)))
        )
        return { name: id, address: storage.export.address, port }
      })
    )

  const exports: StorageAgentShape["exports"] = line("listing the exports", () => C.listExports(h)).pipe(Effect.map((r) => C.parseExports(r.stdout)))

  const exportOf: StorageAgentShape["exportOf"] = (id) =>
    line(`the export of ${id}`, () => C.exportStatus(h, id)).pipe(
      Effect.map((r) => {
        const m = /^up (\d+)/.exec(r.stdout.trim())
        return m === null ? undefined : Number(m[1])
      })
    )

  return {
    storage,
    createVolume,
    deleteVolume,
    createSnapshot,
    deleteSnapshot,
    exportVolume,
    unexport,
    exports,
    exportOf,
    files: { volume: (id) => C.volumeFiles(h.dir, id).image, snapshot: (id) => C.snapshotFile(h.dir, id).image }
  }
}

/** The storage agents of a nodes file, by zone. */
export const all = (file: NodesFile.NodesFile, pool: SshPool.SshPoolShape): Effect.Effect<ReadonlyMap<string, StorageAgentShape>, SshPool.UnknownHost> =>
  Effect.forEach(file.storage ?? [], (st) =>
    pool.host(NodesFile.storageTargetName(st.zone)).pipe(Effect.map((host) => [st.zone, make(st, host)] as const))).pipe(
    Effect.map((pairs) => new Map(pairs))
  )
