import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterEach, beforeEach, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ImageStore from "../../../src/backends/xen/ImageStore.js"

let dir: string
beforeEach(() => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "image-store-"))
})
afterEach(() => {
  Fs.rmSync(dir, { recursive: true, force: true })
})
const file = (name: string, bytes: Buffer) => {
  const p = Path.join(dir, name)
  Fs.writeFileSync(p, bytes)
  return p
}

describe("ImageStore", () => {
  it.effect("registers a file under its digest, keeps it across reopenings, and is idempotent", () =>
    Effect.gen(function*() {
      const bytes = Crypto.randomBytes(10_000)
      const digest = Crypto.createHash("sha256").update(bytes).digest("hex")
      const store = yield* ImageStore.make(Path.join(dir, "store"))
      const img = yield* store.register(file("root.img", bytes), "machine", { name: "debian" })
      expect(img).toEqual({ id: `emi-${digest.slice(0, 8)}`, kind: "machine", digest, sizeBytes: 10_000, name: "debian", path: Path.join(dir, "store", "blobs", digest) })
      expect(Fs.readFileSync(img.path).equals(bytes)).toBe(true)
      expect(yield* store.register(file("again.img", bytes), "machine", { name: "debian" })).toEqual(img)
      const k = yield* store.register(file("vmlinuz", Crypto.randomBytes(100)), "kernel", { id: "eki-00000001" })
      const reopened = yield* ImageStore.make(Path.join(dir, "store"))
      expect(yield* reopened.get(img.id)).toEqual(img)
      expect((yield* reopened.list).map((i) => i.id).sort()).toEqual([img.id, k.id].sort())
      expect(Fs.readdirSync(Path.join(dir, "store", "blobs")).filter((f) => f.startsWith("."))).toEqual([])
    }))

  it.effect("refuses unknown ids, conflicting ids, ids of the wrong kind and unreadable files", () =>
    Effect.gen(function*() {
      const store = yield* ImageStore.make(Path.join(dir, "store"))
      expect(yield* Effect.flip(store.get("emi-12345678"))).toMatchObject({ _tag: "ImageNotFound", id: "emi-12345678" })
      yield* store.register(file("a", Buffer.from("a")), "kernel", { id: "eki-0000000a" })
      expect(yield* Effect.flip(store.register(file("b", Buffer.from("b")), "kernel", { id: "eki-0000000a" }))).toMatchObject({ _tag: "ImageStoreError", message: expect.stringContaining("already registered") })
      expect(yield* Effect.flip(store.register(file("c", Buffer.from("c")), "ramdisk", { id: "eki-0000000c" }))).toMatchObject({ message: expect.stringContaining("not a ramdisk image id") })
      expect(yield* Effect.flip(store.register(Path.join(dir, "missing"), "machine"))).toMatchObject({ _tag: "ImageStoreError", path: Path.join(dir, "missing") })
      expect(Fs.readdirSync(Path.join(dir, "store", "blobs")).filter((f) => f.startsWith("."))).toEqual([])
    }))

  it.effect("names a corrupt index", () =>
    Effect.gen(function*() {
      Fs.mkdirSync(Path.join(dir, "bad"))
      Fs.writeFileSync(Path.join(dir, "bad", "images.json"), "{\"images\": [{\"id\": 1}]}")
      expect(yield* Effect.flip(ImageStore.make(Path.join(dir, "bad")))).toMatchObject({ _tag: "ImageStoreError", message: expect.stringContaining("images.json: not a valid image index") })
    }))
})
