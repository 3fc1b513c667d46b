/**
 * Registered images: machine (emi-), kernel (eki-) and ramdisk (eri-) images, as Eucalyptus named
 * them. The simulated backend only needs the record; the Xen backend stages `path` (verified by
 * `digest`) onto its nodes.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import * as Ids from "../model/Ids.js"
import * as Meta from "./Meta.js"

export type Kind = "machine" | "kernel" | "ramdisk"
export const prefix: Record<Kind, string> = { machine: "emi", kernel: "eki", ramdisk: "eri" }

export interface Image {
  readonly id: string
  /** The owning account id, or "eucalyptus" for the images the cloud ships. */
  readonly owner: string
  readonly name: string
  readonly description: string
  readonly kind: Kind
  readonly location: string
  readonly architecture: string
  readonly public: boolean
  readonly kernelId: string | undefined
  readonly ramdiskId: string | undefined
  readonly rootDeviceName: string
  readonly virtualization: string
  readonly path: string | undefined
  readonly digest: string | undefined
  readonly sizeBytes: number | undefined
  readonly state: string
  readonly createdAt: number
  /** EBS: the image's block device mappings; an image whose root device maps a snapshot is EBS-backed. */
  readonly blockDevices: ReadonlyArray<BlockDevice>
}

export interface BlockDevice {
  readonly device: string
  readonly snapshotId?: string | undefined
  readonly sizeGiB?: number | undefined
  readonly deleteOnTermination: boolean
}

const BlockDevices = Schema.parseJson(
  Schema.Array(Schema.Struct({ device: Schema.String, snapshotId: Schema.optional(Schema.String), sizeGiB: Schema.optional(Schema.Int), deleteOnTermination: Schema.Boolean }))
)
const decodeDevices = Schema.decodeUnknownSync(BlockDevices)
const encodeDevices = Schema.encodeSync(BlockDevices)

/** The snapshot an EBS-backed image boots from (its root device's), if it is one. */
export const rootSnapshot = (i: Image): string | undefined => i.blockDevices.find((d) => d.device === i.rootDeviceName)?.snapshotId

export const SYSTEM_OWNER = "eucalyptus"

export class ImageError extends Schema.TaggedError<ImageError>()("ImageError", { message: Schema.String }) {}

interface Row {
  id: string
  owner: string
  name: string
  description: string
  kind: Kind
  location: string
  architecture: string
  public: number
  kernel_id: string | null
  ramdisk_id: string | null
  root_device_name: string
  virtualization: string
  path: string | null
  digest: string | null
  size_bytes: number | null
  state: string
  created_at: number
  block_devices: string | null
}

const toImage = (r: Row): Image => ({
  id: r.id,
  owner: r.owner,
  name: r.name,
  description: r.description,
  kind: r.kind,
  location: r.location,
  architecture: r.architecture,
  public: r.public === 1,
  kernelId: r.kernel_id ?? undefined,
  ramdiskId: r.ramdisk_id ?? undefined,
  rootDeviceName: r.root_device_name,
  virtualization: r.virtualization,
  path: r.path ?? undefined,
  digest: r.digest ?? undefined,
  sizeBytes: r.size_bytes ?? undefined,
  state: r.state,
  createdAt: r.created_at,
  blockDevices: r.block_devices === null ? [] : decodeDevices(r.block_devices)
})

export interface NewImage {
  readonly owner: string
  readonly name: string
  readonly description?: string | undefined
  readonly kind: Kind
  readonly location: string
  readonly architecture?: string | undefined
  readonly public?: boolean | undefined
  readonly kernelId?: string | undefined
  readonly ramdiskId?: string | undefined
  readonly rootDeviceName?: string | undefined
  readonly virtualization?: string | undefined
  readonly path?: string | undefined
  readonly digest?: string | undefined
  readonly sizeBytes?: number | undefined
  readonly blockDevices?: ReadonlyArray<BlockDevice> | undefined
  readonly now: number
}

// Every RunInstances reads its image, kernel and ramdisk: found images are kept in memory. Only
// this module changes images (the admin CLI registers new ones, never changes one); each change
// here drops the cache before and after it writes, and the generation keeps a read that raced with
// a change from caching what it read. The time limit bounds what another process could leave stale.
const CACHE_MS = 5000
// One cache per database (per SqlClient): several servers may share a process (tests).
interface Cache {
  generation: number
  readonly images: Map<string, { readonly image: Image; readonly at: number }>
}
const caches = new WeakMap<SqlClient.SqlClient, Cache>()
const cacheOf = (sql: SqlClient.SqlClient): Cache => {
  let c = caches.get(sql)
  if (c === undefined) caches.set(sql, (c = { generation: 0, images: new Map() }))
  return c
}
const changed = (sql: SqlClient.SqlClient) => {
  const c = cacheOf(sql)
  c.generation++
  c.images.clear()
}

export const register = (i: NewImage) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    changed(sql)
    const seq = yield* Meta.next("image")
    const id = `${prefix[i.kind]}-${Ids.hex8(seq, 0x77777777)}`
    yield* sql`INSERT INTO images (id, owner, name, description, kind, location, architecture, public, kernel_id, ramdisk_id,
      root_device_name, virtualization, path, digest, size_bytes, state, created_at, block_devices)
      VALUES (${id}, ${i.owner}, ${i.name}, ${i.description ?? ""}, ${i.kind}, ${i.location}, ${i.architecture ?? "x86_64"},
      ${i.public ? 1 : 0}, ${i.kernelId ?? null}, ${i.ramdiskId ?? null}, ${i.rootDeviceName ?? "/dev/sda1"},
      ${i.virtualization ?? "paravirtual"}, ${i.path ?? null}, ${i.digest ?? null}, ${i.sizeBytes ?? null}, 'available', ${i.now},
      ${i.blockDevices !== undefined && i.blockDevices.length > 0 ? encodeDevices(i.blockDevices) : null})`
    changed(sql)
    return id
  })

export const get = (id: string): Effect.Effect<Option.Option<Image>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const c = cacheOf(sql)
    const hit = c.images.get(id)
    if (hit !== undefined && Date.now() - hit.at < CACHE_MS) return Option.some(hit.image)
    const g = c.generation
    const rows = yield* sql<Row>`SELECT * FROM images WHERE id = ${id}`
    const image = Option.map(Option.fromNullable(rows[0]), toImage)
    if (Option.isSome(image) && c.generation === g) c.images.set(id, { image: image.value, at: Date.now() })
    return image
  })

/** Images an account may see: its own, public ones and the cloud's. */
export const visibleTo = (accountId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Row>`SELECT * FROM images WHERE owner = ${accountId} OR public = 1 OR owner = ${SYSTEM_OWNER} ORDER BY created_at, id`
    return rows.map(toImage)
  })

export const all = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<Row>`SELECT * FROM images ORDER BY created_at, id`
  return rows.map(toImage)
})

export const deregister = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    changed(sql)
    yield* sql`DELETE FROM image_launch_permissions WHERE image_id = ${id}`
    yield* sql`DELETE FROM images WHERE id = ${id}`
    changed(sql)
  })

export const count = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM images`
  return rows[0]!.n
})

/** The images a new cloud starts with: a kernel, a ramdisk and a machine image that boots with them. */
export const registerDefaults = (now: number) =>
  Effect.gen(function* () {
    const kernel = yield* register({ owner: SYSTEM_OWNER, name: "vmlinuz-6.1.0-xen", kind: "kernel", location: "eucalyptus/vmlinuz-6.1.0-xen.manifest.xml", public: true, now })
    const ramdisk = yield* register({ owner: SYSTEM_OWNER, name: "initrd-6.1.0-xen", kind: "ramdisk", location: "eucalyptus/initrd-6.1.0-xen.manifest.xml", public: true, now })
    const debian = yield* register({
      owner: SYSTEM_OWNER,
      name: "debian-12-x86_64",
      description: "Debian 12 (bookworm), paravirtual",
      kind: "machine",
      location: "eucalyptus/debian-12-x86_64.manifest.xml",
      public: true,
      kernelId: kernel,
      ramdiskId: ramdisk,
      now
    })
    const ttylinux = yield* register({
      owner: SYSTEM_OWNER,
      name: "ttylinux-x86_64",
      description: "ttylinux, the tiny test image Eucalyptus shipped",
      kind: "machine",
      location: "eucalyptus/ttylinux-x86_64.manifest.xml",
      public: true,
      kernelId: kernel,
      ramdiskId: ramdisk,
      now
    })
    return { kernel, ramdisk, machines: [debian, ttylinux] }
  })

// --- attributes the owner changes (ModifyImageAttribute) ---------------------------------------------

export const setPublic = (id: string, value: boolean) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    changed(sql)
    yield* sql`UPDATE images SET public = ${value ? 1 : 0} WHERE id = ${id}`
    changed(sql)
  })

export const setDescription = (id: string, description: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    changed(sql)
    yield* sql`UPDATE images SET description = ${description} WHERE id = ${id}`
    changed(sql)
  })

/** The accounts (other than the owner) allowed to launch an image, sorted. */
export const launchPermissions = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ account_id: string }>`SELECT account_id FROM image_launch_permissions WHERE image_id = ${id} ORDER BY account_id`
    return rows.map((r) => r.account_id)
  })

/** The images an account has been given launch permission on. */
export const permittedTo = (accountId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ image_id: string }>`SELECT image_id FROM image_launch_permissions WHERE account_id = ${accountId}`
    return new Set(rows.map((r) => r.image_id))
  })

export const changeLaunchPermissions = (id: string, add: ReadonlyArray<string>, remove: ReadonlyArray<string>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(
      Effect.gen(function* () {
        for (const a of add) yield* sql`INSERT OR IGNORE INTO image_launch_permissions (image_id, account_id) VALUES (${id}, ${a})`
        for (const a of remove) yield* sql`DELETE FROM image_launch_permissions WHERE image_id = ${id} AND account_id = ${a}`
      })
    )
  })

export const resetLaunchPermissions = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    changed(sql)
    yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`DELETE FROM image_launch_permissions WHERE image_id = ${id}`
        yield* sql`UPDATE images SET public = 0 WHERE id = ${id}`
      })
    )
    changed(sql)
  })
