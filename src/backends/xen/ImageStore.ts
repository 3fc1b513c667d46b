/**
 * The controller's image store: a directory of image files named by their sha256 digest, and an
 * index (`images.json`) of registered images — id, kind, digest, size. Nodes cache images by digest
 * (ImageCache), so the digest is the image's identity; the id (`emi-…`, `eki-…`, `eri-…`) is what
 * EC2 clients name.
 *
 *   <dir>/blobs/<sha256>    the image bytes
 *   <dir>/images.json       { "images": [ { id, kind, digest, sizeBytes, name? } ] }
 *
 * Registration copies the file in (hashing it), then rewrites the index atomically (temp + rename):
 * a crash leaves either the old or the new index, never half of one.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as FsP from "node:fs/promises"
import * as Path from "node:path"
import { pipeline } from "node:stream/promises"
import { Context, Effect, Layer, Schema } from "effect"

export const ImageKind = Schema.Literal("machine", "kernel", "ramdisk")
export type ImageKind = typeof ImageKind.Type

const PREFIX: Record<ImageKind, string> = { machine: "emi", kernel: "eki", ramdisk: "eri" }

export const Image = Schema.Struct({
  id: Schema.String,
  kind: ImageKind,
  /** sha256 of the bytes, lower-case hex. */
  digest: Schema.String.pipe(Schema.pattern(/^[0-9a-f]{64}$/)),
  sizeBytes: Schema.NonNegativeInt,
  name: Schema.optional(Schema.String)
})
export interface Image extends Schema.Schema.Type<typeof Image> {}

/** An image with the path of its bytes in the store (what ImageCache uploads from). */
export interface StoredImage extends Image {
  readonly path: string
}

const Index = Schema.Struct({ images: Schema.Array(Image) })

export class ImageNotFound extends Schema.TaggedError<ImageNotFound>()("ImageNotFound", {
  id: Schema.String,
  message: Schema.String
}) {}

export class ImageStoreError extends Schema.TaggedError<ImageStoreError>()("ImageStoreError", {
  path: Schema.String,
  message: Schema.String
}) {}

export interface ImageStoreShape {
  readonly dir: string
  /** Copy a file into the store. Registering the same bytes as the same kind again returns the existing image. */
  readonly register: (file: string, kind: ImageKind, options?: { readonly id?: string; readonly name?: string }) => Effect.Effect<StoredImage, ImageStoreError>
  readonly get: (id: string) => Effect.Effect<StoredImage, ImageNotFound>
  readonly list: Effect.Effect<ReadonlyArray<StoredImage>>
}

export class ImageStore extends Context.Tag("eucalyptus/xen/ImageStore")<ImageStore, ImageStoreShape>() {}

const ID = /^(emi|eki|eri)-[0-9a-f]{8,}$/

/** The default id of an image: its kind's prefix and the digest's first 8 hex digits. */
export const defaultId = (kind: ImageKind, digest: string): string => `${PREFIX[kind]}-${digest.slice(0, 8)}`

export const sha256File = (file: string): Promise<string> => {
  const h = Crypto.createHash("sha256")
  return pipeline(Fs.createReadStream(file), h).then(() => h.digest("hex"))
}

/** Open (creating if needed) the store in `dir`. */
export const make = (dir: string): Effect.Effect<ImageStoreShape, ImageStoreError> =>
  Effect.gen(function*() {
    const blobs = Path.join(dir, "blobs")
    const indexPath = Path.join(dir, "images.json")
    const fail = (path: string, what: string) => (e: unknown) => new ImageStoreError({ path, message: `${path}: ${what}: ${(e as Error).message}` })
    yield* Effect.tryPromise({ try: () => FsP.mkdir(blobs, { recursive: true }), catch: fail(blobs, "cannot create") })
    const text = yield* Effect.tryPromise({
      try: () => FsP.readFile(indexPath, "utf8").catch((e: NodeJS.ErrnoException) => (e.code === "ENOENT" ? "{\"images\":[]}" : Promise.reject(e))),
      catch: fail(indexPath, "cannot read")
    })
    const index = yield* Effect.try({
      try: () => Schema.decodeUnknownSync(Index)(JSON.parse(text)),
      catch: fail(indexPath, "not a valid image index")
    })
    const images = new Map<string, Image>(index.images.map((i) => [i.id, i]))
    const lock = yield* Effect.makeSemaphore(1)
    const stored = (i: Image): StoredImage => ({ ...i, path: Path.join(blobs, i.digest) })

    const save = Effect.tryPromise({
      try: async () => {
        const tmp = `${indexPath}.${process.pid}.${Crypto.randomBytes(4).toString("hex")}.tmp`
        await FsP.writeFile(tmp, JSON.stringify({ images: [...images.values()] }, null, 2) + "\n")
        await FsP.rename(tmp, indexPath)
      },
      catch: fail(indexPath, "cannot write")
    })

    const register: ImageStoreShape["register"] = (file, kind, options = {}) =>
      lock.withPermits(1)(Effect.gen(function*() {
        const tmp = Path.join(blobs, `.incoming-${Crypto.randomBytes(6).toString("hex")}`)
        const digest = yield* Effect.tryPromise({
          try: async () => {
            await FsP.copyFile(file, tmp)
            return await sha256File(tmp)
          },
          catch: fail(file, "cannot copy into the image store")
        }).pipe(Effect.onError(() => Effect.promise(() => FsP.rm(tmp, { force: true }))))
        const id = options.id ?? defaultId(kind, digest)
        const existing = images.get(id)
        if (existing !== undefined) {
          yield* Effect.promise(() => FsP.rm(tmp, { force: true }))
          if (existing.digest === digest && existing.kind === kind) return stored(existing)
          return yield* new ImageStoreError({ path: file, message: `${file}: image id ${id} is already registered for other bytes or another kind` })
        }
        if (!ID.test(id) || !id.startsWith(PREFIX[kind])) {
          yield* Effect.promise(() => FsP.rm(tmp, { force: true }))
          return yield* new ImageStoreError({ path: file, message: `${file}: ${JSON.stringify(id)} is not a ${kind} image id (${PREFIX[kind]}-<hex>)` })
        }
        const size = yield* Effect.tryPromise({
          try: async () => {
            const st = await FsP.stat(tmp)
            await FsP.rename(tmp, Path.join(blobs, digest))
            return st.size
          },
          catch: fail(file, "cannot store")
        })
        const image: Image = { id, kind, digest, sizeBytes: size, ...(options.name === undefined ? {} : { name: options.name }) }
        images.set(id, image)
        yield* save.pipe(Effect.onError(() => Effect.sync(() => images.delete(id))))
        return stored(image)
      }))

    return {
      dir,
      register,
      get: (id) => {
        const i = images.get(id)
        return i === undefined ? Effect.fail(new ImageNotFound({ id, message: `no image ${JSON.stringify(id)} in the image store` })) : Effect.succeed(stored(i))
      },
      list: Effect.sync(() => [...images.values()].map(stored))
    } satisfies ImageStoreShape
  })

export const layer = (dir: string): Layer.Layer<ImageStore, ImageStoreError> => Layer.effect(ImageStore, make(dir))
