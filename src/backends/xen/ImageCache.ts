/**
 * A node's image cache: files named by sha256 digest in the node's cache directory, staged over
 * SFTP from the controller's image store, verified on the node (`sha256sum`), and evicted
 * least-recently-used (by mtime, touched on every use; smaller first on ties, as Eucalyptus's
 * `ok_to_cache` did) to stay within the configured size.
 *
 * Each node's cache is worked on one image at a time (a semaphore per cache): concurrent starts of
 * the same image on the same node find it staged by the first, so it is uploaded once. Images in use
 * by a start in progress are pinned and never evicted under it.
 */
import { Effect, Schema } from "effect"
import * as Path from "node:path"
import * as Shell from "./Shell.js"
import * as SshHost from "./SshHost.js"

export class ImageCacheError extends Schema.TaggedError<ImageCacheError>()("ImageCacheError", {
  node: Schema.String,
  digest: Schema.String,
  reason: Schema.Literal("DigestMismatch", "TooLarge", "CacheFull", "RemoteFailed"),
  message: Schema.String
}) {}

/** What the cache needs to know of an image (ImageStore.StoredImage fits). */
export interface Source {
  readonly digest: string
  readonly sizeBytes: number
  /** The image's bytes on the controller. */
  readonly path: string
}

export interface Entry {
  readonly digest: string
  readonly sizeBytes: number
  /** Last use, in milliseconds (the file's mtime). */
  readonly usedAtMs: number
}

export type Plan =
  | { readonly _tag: "Fits"; readonly evict: ReadonlyArray<string> }
  | { readonly _tag: "TooLarge" }
  | { readonly _tag: "CacheFull"; readonly pinnedBytes: number }

/**
 * Which entries to evict so that `incoming` bytes fit within `boundBytes`: least recently used
 * first, smaller first on ties, then by digest (a fixed order); pinned entries are never evicted.
 */
export const evictionPlan = (entries: ReadonlyArray<Entry>, boundBytes: number, incoming: number, pinned: ReadonlySet<string>): Plan => {
  if (incoming > boundBytes) return { _tag: "TooLarge" }
  let used = entries.reduce((s, e) => s + e.sizeBytes, 0)
  if (used + incoming <= boundBytes) return { _tag: "Fits", evict: [] }
  const candidates = entries
    .filter((e) => !pinned.has(e.digest))
    .sort((a, b) => a.usedAtMs - b.usedAtMs || a.sizeBytes - b.sizeBytes || (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0))
  const evict: Array<string> = []
  for (const e of candidates) {
    if (used + incoming <= boundBytes) break
    evict.push(e.digest)
    used -= e.sizeBytes
  }
  if (used + incoming > boundBytes) {
    return { _tag: "CacheFull", pinnedBytes: entries.filter((e) => pinned.has(e.digest)).reduce((s, e) => s + e.sizeBytes, 0) }
  }
  return { _tag: "Fits", evict }
}

export interface Stats {
  readonly hits: number
  readonly misses: number
  readonly uploads: number
  readonly uploadedBytes: number
  readonly evictions: number
}

export interface ImageCacheShape {
  readonly dir: string
  /** The image's path on the node, staging it first if needed. */
  readonly ensure: (image: Source) => Effect.Effect<string, ImageCacheError | SshHost.SshError>
  /** Stage the images and run `use` with their node paths, keeping them pinned (not evictable) until it ends. */
  readonly withImages: <A, E, R>(
    images: ReadonlyArray<Source>,
    use: (paths: ReadonlyArray<string>) => Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | ImageCacheError | SshHost.SshError, R>
  /** What the cache holds on the node now. */
  readonly entries: Effect.Effect<ReadonlyArray<Entry>, ImageCacheError | SshHost.SshError>
  readonly stats: Effect.Effect<Stats>
}

const DIGEST = /^[0-9a-f]{64}$/

export interface Config {
  /** The node's name, for errors. */
  readonly node: string
  readonly dir: string
  readonly boundMiB: number
  /** SFTP upload timeout (default: the host's). */
  readonly uploadTimeoutMs?: number | undefined
}

export const make = (host: SshHost.SshHostShape, config: Config): Effect.Effect<ImageCacheShape> =>
  Effect.gen(function*() {
    const { node, dir } = config
    const boundBytes = config.boundMiB * 1024 * 1024
    const lock = yield* Effect.makeSemaphore(1)
    const pins = new Map<string, number>()
    const stats = { hits: 0, misses: 0, uploads: 0, uploadedBytes: 0, evictions: 0 }
    const pathOf = (digest: string) => Path.posix.join(dir, digest)
    const remoteFailed = (digest: string, what: string, r: SshHost.ExecResult) =>
      new ImageCacheError({ node, digest, reason: "RemoteFailed", message: `${node}: ${what} failed (exit ${r.exitCode}): ${r.stderr.trim()}` })

    // `HIT` if the image is there (and marks it used), else the listing: "<size> <mtime> <name>" per file.
    // Partial uploads older than an hour are left-overs of a crash: removed.
    const probe = (digest: string) =>
      Shell.and(
        Shell.commandLine(["mkdir", "-p", "--", dir]),
        Shell.commandLine(["cd", "--", dir]),
        `if [ -f ${Shell.quote(digest)} ]; then touch -- ${Shell.quote(digest)} && echo HIT; else ` +
          `find . -maxdepth 1 -name '.*.partial' -mmin +60 -delete; find . -maxdepth 1 -type f -printf '%s %T@ %f\\n'; fi`
      )

    const parseEntries = (text: string): Array<Entry> =>
      text.split("\n").flatMap((line) => {
        const m = /^(\d+) (\d+(?:\.\d+)?) (.+)$/.exec(line.trim())
        if (m === null) return []
        // Partial uploads in progress count against the bound too (keyed by their own name).
        return [{ digest: m[3]!, sizeBytes: Number(m[1]), usedAtMs: Math.round(Number(m[2]) * 1000) }]
      })

    const entries = host.exec(Shell.and(Shell.commandLine(["mkdir", "-p", "--", dir]), Shell.commandLine(["cd", "--", dir]), "find . -maxdepth 1 -type f -printf '%s %T@ %f\\n'")).pipe(
      Effect.flatMap((r) => r.exitCode === 0 ? Effect.succeed(parseEntries(r.stdout).filter((e) => DIGEST.test(e.digest))) : Effect.fail(remoteFailed("", "listing the cache", r)))
    )

    const stage = (image: Source): Effect.Effect<string, ImageCacheError | SshHost.SshError> =>
      Effect.gen(function*() {
        const final = pathOf(image.digest)
        const r = yield* host.exec(probe(image.digest))
        if (r.exitCode !== 0) return yield* remoteFailed(image.digest, "probing the cache", r)
        if (r.stdout.trim() === "HIT") {
          stats.hits++
          return final
        }
        stats.misses++
        const plan = evictionPlan(parseEntries(r.stdout), boundBytes, image.sizeBytes, new Set(pins.keys()))
        if (plan._tag === "TooLarge") {
          return yield* new ImageCacheError({ node, digest: image.digest, reason: "TooLarge", message: `${node}: image ${image.digest.slice(0, 12)} (${image.sizeBytes} bytes) is larger than the cache (${config.boundMiB} MiB)` })
        }
        if (plan._tag === "CacheFull") {
          return yield* new ImageCacheError({ node, digest: image.digest, reason: "CacheFull", message: `${node}: no room for image ${image.digest.slice(0, 12)} (${image.sizeBytes} bytes): ${plan.pinnedBytes} bytes of the ${config.boundMiB} MiB cache are in use` })
        }
        if (plan.evict.length > 0) {
          const rm = yield* host.run(["rm", "-f", "--", ...plan.evict.map(pathOf)])
          if (rm.exitCode !== 0) return yield* remoteFailed(image.digest, "evicting", rm)
          stats.evictions += plan.evict.length
          yield* Effect.logInfo(`image cache ${node}: evicted ${plan.evict.map((d) => d.slice(0, 12)).join(", ")}`)
        }
        const partial = Path.posix.join(dir, `.${image.digest}.${SshHost.nonce()}.partial`)
        yield* Effect.gen(function*() {
          yield* host.upload(image.path, partial, { mode: 0o644, timeoutMs: config.uploadTimeoutMs })
          stats.uploads++
          stats.uploadedBytes += image.sizeBytes
          // Verified on the node before it takes its place: a corrupt transfer never enters the cache.
          const v = yield* host.exec(
            `d=$(sha256sum < ${Shell.quote(partial)}) && [ "\${d%% *}" = ${Shell.quote(image.digest)} ] && mv -f -- ${Shell.quote(partial)} ${Shell.quote(final)}`
          )
          if (v.exitCode !== 0) {
            return yield* new ImageCacheError({ node, digest: image.digest, reason: "DigestMismatch", message: `${node}: the staged copy of ${image.digest.slice(0, 12)} does not have its digest${v.stderr.trim() === "" ? "" : `: ${v.stderr.trim()}`}` })
          }
        }).pipe(Effect.onError(() => host.run(["rm", "-f", "--", partial]).pipe(Effect.ignore)))
        yield* Effect.logInfo(`image cache ${node}: staged ${image.digest.slice(0, 12)} (${image.sizeBytes} bytes)`)
        return final
      })

    const ensure = (image: Source) => lock.withPermits(1)(stage(image))

    const pin = (digests: ReadonlyArray<string>) => Effect.sync(() => digests.forEach((d) => pins.set(d, (pins.get(d) ?? 0) + 1)))
    const unpin = (digests: ReadonlyArray<string>) =>
      Effect.sync(() =>
        digests.forEach((d) => {
          const n = (pins.get(d) ?? 1) - 1
          if (n <= 0) pins.delete(d)
          else pins.set(d, n)
        })
      )

    const withImages: ImageCacheShape["withImages"] = (images, use) => {
      const digests = images.map((i) => i.digest)
      return Effect.acquireUseRelease(
        pin(digests),
        () => Effect.forEach(images, ensure).pipe(Effect.flatMap(use)),
        () => unpin(digests)
      )
    }

    return {
      dir,
      ensure: (image) => withImages([image], ([p]) => Effect.succeed(p!)),
      withImages,
      entries,
      stats: Effect.sync(() => ({ ...stats }))
    } satisfies ImageCacheShape
  })
