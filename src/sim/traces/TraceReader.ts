/**
 * The reader every format shares: pulls records in batches from a format's Producer, keeps the
 * counts (TraceStats), applies the common options (batch size, limit, rebase).
 *
 * Why batches: the consumer is a fast synchronous event loop. One await per record costs a microtask
 * hop each (≈ the price of simulating the record); one await per batch of ~4096 costs nothing, and a
 * loop that calls `nextPromise()` for batch k+1 before it simulates batch k lets the file reads and
 * the gunzip (both on libuv's thread pool) overlap with the simulation. `next` is the same as an
 * Effect; `stream` and the async iterators are there for code that prefers them (tests, notebooks).
 */
import { Chunk, Effect, Option, Schema, Stream } from "effect"
import type * as LineSource from "./LineSource.js"
import * as TraceError from "./TraceError.js"
import type * as TraceRequest from "./TraceRequest.js"

export const defaultBatchSize = 4096

/** Options every format accepts. */
export const CommonOptions = {
  /** Records per batch handed out by next() (default 4096). */
  batchSize: Schema.optional(Schema.Int.pipe(Schema.between(1, 1 << 20))),
  /** Stop after this many requests (the rest of the file is not read). */
  limit: Schema.optional(Schema.Int.pipe(Schema.positive())),
  /** Shift every arrival so that the first request read arrives at 0 (traces often start days in). */
  rebase: Schema.optional(Schema.Boolean)
}
export interface Common {
  readonly batchSize?: number | undefined
  readonly limit?: number | undefined
  readonly rebase?: boolean | undefined
}

/** What a malformed row (a required field that is not a number, too few fields) does: stop, or skip and count. */
export const Malformed = Schema.Literal("fail", "skip")
export type Malformed = typeof Malformed.Type

export type Format = "swf" | "azure" | "alibaba" | "google" | "csv"

export interface TraceStats {
  /** Lines read from the main file so far (comments and headers included). */
  readonly lines: number
  readonly requests: number
  /** Sum of the requests' counts. */
  readonly instances: number
  /** Sum of cores × count and memory × count over requests of explicit size (vmType requests excluded). */
  readonly vcpus: number
  readonly memoryMiB: number
  readonly firstArrivalMs: number | undefined
  readonly minArrivalMs: number | undefined
  readonly maxArrivalMs: number | undefined
  /** Latest arrival + lifetime over requests with a lifetime. */
  readonly maxEndMs: number | undefined
  /** Were arrivals non-decreasing in the order handed out? */
  readonly sorted: boolean
  /** Rows read but not turned into requests, by reason. */
  readonly skipped: Readonly<Record<string, number>>
  /** Requests handed out without a lifetime (they run until the horizon), by reason. */
  readonly untilHorizon: Readonly<Record<string, number>>
  /** Did `limit` stop the reading early? */
  readonly truncated: boolean
  /** Has next() returned undefined (end of trace, or `limit` reached)? */
  readonly done: boolean
}

/** Where a producer appends records; a record without lifetime carries the reason it has none. */
export class Out {
  readonly records: Array<TraceRequest.TraceRequest> = []
  /** (index in records, reason) for records without lifetime. */
  readonly horizon: Array<number | string> = []

  push(r: TraceRequest.TraceRequest): void {
    this.records.push(r)
  }
  /** A record with lifetimeMs undefined, and why. */
  pushUntilHorizon(r: TraceRequest.TraceRequest, reason: string): void {
    this.horizon.push(this.records.length, reason)
    this.records.push(r)
  }
  get length(): number {
    return this.records.length
  }
}

/** Counts of skipped rows, shared between a producer and the reader. */
export class Tally {
  readonly counts: Record<string, number> = {}
  skip(reason: string): void {
    this.counts[reason] = (this.counts[reason] ?? 0) + 1
  }
}

/** A format's parser over its file(s). Throws TraceError.TraceError for input it cannot read on. */
export interface Producer {
  /** Appends records until out.length ≥ want or the trace ends; false once nothing more will come. */
  fill(out: Out, want: number): Promise<boolean>
  /** Lines read so far from the main file. */
  lines(): number
  close(): void
}

export interface TraceReader {
  readonly format: Format
  /** The main file (resolved path). */
  readonly file: string
  /** The next batch (1…batchSize requests, in trace order), or undefined once the trace is exhausted. */
  readonly next: Effect.Effect<ReadonlyArray<TraceRequest.TraceRequest> | undefined, TraceError.TraceError>
  /**
   * The same as a Promise (rejects with a TraceError). Calls may overlap: they are served in order, so
   * a loop may ask for the next batch before it processes the current one.
   */
  readonly nextPromise: () => Promise<ReadonlyArray<TraceRequest.TraceRequest> | undefined>
  /** Counts so far; complete once next has returned undefined. */
  readonly stats: () => TraceStats
  /** All (remaining) requests, chunked by batch. */
  readonly stream: Stream.Stream<TraceRequest.TraceRequest, TraceError.TraceError>
  /** All (remaining) batches. */
  readonly batches: () => AsyncIterableIterator<ReadonlyArray<TraceRequest.TraceRequest>>
  /** All (remaining) requests one by one. */
  readonly [Symbol.asyncIterator]: () => AsyncIterator<TraceRequest.TraceRequest>
  /** Releases the file handles (open() does this when its scope closes). */
  readonly close: () => void
}

class Reader implements TraceReader {
  private readonly batchSize: number
  private readonly limit: number
  private readonly rebase: boolean
  /** Records produced but not yet handed out: buf.records[pos…]; horizon reasons from buf.horizon[hpos…]. */
  private buf: Out = new Out()
  private pos = 0
  private hpos = 0
  private exhausted = false
  private finished = false
  private failed: unknown = undefined
  private queue: Promise<unknown> = Promise.resolve()
  private origin = 0
  // stats
  private requests = 0
  private instances = 0
  private vcpus = 0
  private memoryMiB = 0
  private firstArrivalMs: number | undefined = undefined
  private minArrivalMs = Number.POSITIVE_INFINITY
  private maxArrivalMs = Number.NEGATIVE_INFINITY
  private maxEndMs = Number.NEGATIVE_INFINITY
  private lastArrivalMs = Number.NEGATIVE_INFINITY
  private sorted = true
  private truncated = false
  private readonly horizon: Record<string, number> = {}

  constructor(
    readonly format: Format,
    readonly file: string,
    private readonly producer: Producer,
    private readonly tally: Tally,
    options: Common
  ) {
    this.batchSize = options.batchSize ?? defaultBatchSize
    this.limit = options.limit ?? Number.POSITIVE_INFINITY
    this.rebase = options.rebase ?? false
  }

  readonly nextPromise = (): Promise<ReadonlyArray<TraceRequest.TraceRequest> | undefined> => {
    const p = this.queue.then(() => this.pull())
    this.queue = p.catch(() => undefined)
    return p
  }

  readonly next: Effect.Effect<ReadonlyArray<TraceRequest.TraceRequest> | undefined, TraceError.TraceError> =
    Effect.suspend(() =>
      Effect.tryPromise({ try: () => this.nextPromise(), catch: (e) => e }).pipe(
        Effect.catchAll((e) => (TraceError.is(e) ? Effect.fail(e) : Effect.die(e)))
      )
    )

  readonly stream: Stream.Stream<TraceRequest.TraceRequest, TraceError.TraceError> = Stream.repeatEffectChunkOption(
    this.next.pipe(
      Effect.mapError(Option.some),
      Effect.flatMap((b) => (b === undefined ? Effect.fail(Option.none()) : Effect.succeed(Chunk.unsafeFromArray(b))))
    )
  )

  readonly batches = (): AsyncIterableIterator<ReadonlyArray<TraceRequest.TraceRequest>> => {
    const self = this
    return (async function* () {
      for (;;) {
        const b = await self.nextPromise()
        if (b === undefined) return
        yield b
      }
    })()
  }

  readonly [Symbol.asyncIterator] = (): AsyncIterator<TraceRequest.TraceRequest> => {
    const self = this
    return (async function* () {
      for await (const b of self.batches()) yield* b
    })()
  }

  readonly close = (): void => {
    this.exhausted = true
    this.producer.close()
  }

  private async pull(): Promise<ReadonlyArray<TraceRequest.TraceRequest> | undefined> {
    if (this.failed !== undefined) throw this.failed
    const want = Math.min(this.batchSize, this.limit - this.requests)
    if (want <= 0) {
      if (!this.finished) {
        this.truncated = !this.exhausted || this.buf.length > this.pos
        this.finished = true
        this.close()
      }
      return undefined
    }
    if (this.buf.length - this.pos < want && !this.exhausted) {
      // Start a fresh buffer with what is left (less than a batch), so that copying stays linear
      // even when one source line yields far more than a batch (an Azure bin with 100,000 VMs).
      const fresh = new Out()
      for (let i = this.pos; i < this.buf.length; i++) fresh.records.push(this.buf.records[i]!)
      for (let i = this.hpos; i < this.buf.horizon.length; i += 2) {
        fresh.horizon.push((this.buf.horizon[i] as number) - this.pos, this.buf.horizon[i + 1]!)
      }
      this.buf = fresh
      this.pos = 0
      this.hpos = 0
      try {
        while (fresh.length < want && !this.exhausted) {
          if (!(await this.producer.fill(fresh, want))) {
            this.exhausted = true
            this.producer.close()
          }
        }
      } catch (e) {
        this.failed = e
        this.producer.close()
        throw e
      }
    }
    const out = this.buf
    const from = this.pos
    const to = Math.min(out.length, from + want)
    if (to === from) {
      this.finished = true
      return undefined
    }
    let batch = out.records.slice(from, to)
    this.pos = to
    const h = out.horizon
    while (this.hpos < h.length && (h[this.hpos] as number) < to) {
      const reason = h[this.hpos + 1] as string
      this.horizon[reason] = (this.horizon[reason] ?? 0) + 1
      this.hpos += 2
    }
    if (this.rebase) {
      if (this.requests === 0) this.origin = batch[0]!.arrivalMs
      const o = this.origin
      if (o !== 0) batch = batch.map((r) => ({ ...r, arrivalMs: (r.arrivalMs - o) as typeof r.arrivalMs }))
    }
    this.account(batch)
    return batch
  }

  private account(batch: ReadonlyArray<TraceRequest.TraceRequest>): void {
    if (this.firstArrivalMs === undefined && batch.length > 0) this.firstArrivalMs = batch[0]!.arrivalMs
    for (let i = 0; i < batch.length; i++) {
      const r = batch[i]!
      const a = r.arrivalMs
      if (a < this.lastArrivalMs) this.sorted = false
      this.lastArrivalMs = a
      if (a < this.minArrivalMs) this.minArrivalMs = a
      if (a > this.maxArrivalMs) this.maxArrivalMs = a
      if (r.lifetimeMs !== undefined && a + r.lifetimeMs > this.maxEndMs) this.maxEndMs = a + r.lifetimeMs
      this.instances += r.count
      if (r.size !== undefined) {
        this.vcpus += r.size.cores * r.count
        this.memoryMiB += r.size.memoryMiB * r.count
      }
    }
    this.requests += batch.length
  }

  readonly stats = (): TraceStats => {
    const has = this.requests > 0
    return {
      lines: this.producer.lines(),
      requests: this.requests,
      instances: this.instances,
      vcpus: this.vcpus,
      memoryMiB: this.memoryMiB,
      firstArrivalMs: this.firstArrivalMs,
      minArrivalMs: has ? this.minArrivalMs : undefined,
      maxArrivalMs: has ? this.maxArrivalMs : undefined,
      maxEndMs: this.maxEndMs === Number.NEGATIVE_INFINITY ? undefined : this.maxEndMs,
      sorted: this.sorted,
      skipped: { ...this.tally.counts },
      untilHorizon: { ...this.horizon },
      truncated: this.truncated,
      done: this.finished
    }
  }
}

/** A parser of one line at a time (most formats). */
export interface LineParser {
  /** Appends the line's records (none for comments, headers and skipped rows) or throws a TraceError. */
  line(text: string, lineNo: number, out: Out): void
  /** End of file: append whatever is still held back. */
  end?(out: Out): void
}

/** The Producer of a line-by-line format: awaits only when a chunk of the file is used up. */
export const fromLines = (src: LineSource.LineSource, parser: LineParser): Producer => ({
  async fill(out, want) {
    for (;;) {
      const s = src.take()
      if (s === undefined) {
        if (await src.fill()) continue
        parser.end?.(out)
        return false
      }
      parser.line(s, src.lineNo, out)
      if (out.length >= want) return true
    }
  },
  lines: () => src.lineNo,
  close: () => src.close()
})

/** Wraps a format's producer into a TraceReader (formats call this; users call TraceSpec.open). */
export const make = (format: Format, file: string, producer: Producer, tally: Tally, options: Common): TraceReader =>
  new Reader(format, file, producer, tally, options)

/** Reads the whole trace and returns every request and the final stats (for tests and small traces). */
export const readAll = (
  reader: TraceReader
): Effect.Effect<{ readonly requests: ReadonlyArray<TraceRequest.TraceRequest>; readonly stats: TraceStats }, TraceError.TraceError> =>
  Effect.gen(function* () {
    const requests: Array<TraceRequest.TraceRequest> = []
    for (;;) {
      const b = yield* reader.next
      if (b === undefined) break
      for (const r of b) requests.push(r)
    }
    return { requests, stats: reader.stats() }
  })
