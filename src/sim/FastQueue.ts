/**
 * The fast engine's future-event list: the same order as EventQueue — (time, priority, insertion
 * sequence) — without a heap for the near events, because event times are integer milliseconds:
 *
 * - Events before `windowEnd` sit in a calendar of one list per millisecond of the window (`windowMs`
 *   wide), appended in insertion order, with a bitmap (and two summary levels) of the non-empty ones.
 * - The millisecond being processed is taken apart into one FIFO per kind (0 … 7): a pop takes from
 *   the lowest non-empty kind; an event pushed for this very millisecond joins its kind's FIFO, after
 *   everything already there (its insertion number is the highest).
 * - Later events are appended, unsorted, to a bucket per window, as in EventQueue; the earliest bucket
 *   is poured into the calendar when the calendar is empty and an event is popped (a peek answers from
 *   the bucket's cached minimum, so pours never run ahead of the simulation). The calendar is empty
 *   then, and a bucket holds its entries in insertion order, so the lists stay in insertion order.
 *
 * Push and pop are O(1) (plus a bitmap scan to the next non-empty millisecond) and free of the
 * data-dependent branches that make a heap's sift slow. Nothing may be scheduled before the last event
 * popped (`push` checks it). The reference engine keeps using EventQueue, so that the two engines do
 * not share their ordering code (only the free-id heap of IdHeap.ts); test/sim/FastQueue.prop.test.ts
 * holds this one to the same order.
 */
import { idPop, idPush } from "./IdHeap.js"

const KINDS = 8

interface Bucket {
  /** Triples (time, kind, argument), in insertion order. */
  data: Float64Array
  n: number
  /** The bucket's first entry in queue order: its time and kind. */
  minTime: number
  minKind: number
}

export class FastQueue {
  private readonly slots: number
  /** Start of the calendar's window (a multiple of windowMs) and its end. */
  private base = 0
  private windowEnd: number
  /** The millisecond being processed, relative to base; −1 before the window's first. */
  private cur = 0
  /** Entries in the calendar (lists and FIFOs). */
  private n = 0
  /** Entries, 4 ints each (next, kind, argument, unused), with a free list. */
  private e: Int32Array
  private freeEntry = -1
  private top = 0
  /** Per millisecond of the window, side by side: first and last entry of its list (−1: empty). */
  private readonly ends: Int32Array
  /** Non-empty milliseconds: bit per millisecond, then a bit per non-zero word, twice. */
  private readonly l0: Int32Array
  private readonly l1: Int32Array
  private readonly l2: Int32Array
  /** The current millisecond's FIFOs per kind, and a mask of the non-empty ones. */
  private readonly kHead = new Int32Array(KINDS).fill(-1)
  private readonly kTail = new Int32Array(KINDS).fill(-1)
  private kinds = 0
  private far = 0
  private readonly buckets = new Map<number, Bucket>()
  /** Ids of non-empty buckets, as a min-heap. */
  private readonly ids: Array<number> = []
  /** A direct-mapped cache in front of `buckets` (slot = id mod 256): most far pushes skip the Map. */
  private readonly cacheIds = new Float64Array(256).fill(-1)
  private readonly cacheBuckets: Array<Bucket | undefined> = new Array(256).fill(undefined)
  /** Arrays of buckets already poured, for new buckets (no allocation, no fresh pages, once warm). */
  private readonly spare: Array<Float64Array> = []
  /** The entry last popped. */
  time = 0
  kind = 0
  arg = 0

  constructor(
    initialCapacity = 1024,
    /** Width of the calendar's window (ms): a power of two, at most 2^16. */
    private readonly windowMs = 65_536
  ) {
    if (!(Number.isInteger(Math.log2(windowMs)) && windowMs >= 1 && windowMs <= 65_536)) {
      throw new Error(`FastQueue: windowMs must be a power of two ≤ 65536, got ${windowMs}`)
    }
    this.slots = windowMs
    this.windowEnd = windowMs
    this.ends = new Int32Array(2 * windowMs).fill(-1)
    this.l0 = new Int32Array(Math.ceil(windowMs / 32))
    this.l1 = new Int32Array(Math.ceil(windowMs / 1024))
    this.l2 = new Int32Array(Math.ceil(windowMs / 32768))
    this.e = new Int32Array(4 * Math.max(16, initialCapacity))
  }

  get size(): number {
    return this.n + this.far
  }

  /** Schedules `kind` (0 … 7, lower first at equal times) with `arg` (0 … 2^31 − 1) at `time` (integer ms, not before the last pop). */
  push(time: number, kind: number, arg: number): void {
    if (time >= this.windowEnd) return this.farPush(time, kind, arg)
    const rel = time - this.base
    if (rel <= this.cur) {
      if (rel < this.cur) throw new Error(`FastQueue: an event at ${time} ms is scheduled before ${this.base + this.cur} ms, already processed`)
      this.toFifo(this.entry(kind, arg), kind)
    } else this.toSlot(rel, this.entry(kind, arg))
    this.n++
  }

  /** Time of the next entry (+∞ when empty). */
  peekTime(): number {
    if (this.kinds !== 0) return this.base + this.cur
    if (this.n > 0) return this.base + this.nextSlot(this.cur + 1)
    if (this.far === 0) return Number.POSITIVE_INFINITY
    return this.buckets.get(this.ids[0]!)!.minTime
  }

  /** Kind of the next entry (−1 when empty). */
  peekKind(): number {
    if (this.kinds !== 0) return ctz(this.kinds)
    if (this.n > 0) {
      let k = KINDS
      const en = this.e
      for (let x = this.ends[2 * this.nextSlot(this.cur + 1)]!; x >= 0; x = en[4 * x]!) if (en[4 * x + 1]! < k) k = en[4 * x + 1]!
      return k
    }
    if (this.far === 0) return -1
    return this.buckets.get(this.ids[0]!)!.minKind
  }

  /** Pops the next entry (into `time`, `kind`, `arg`) if it is due at or before `end`; false (nothing popped) otherwise. */
  popUntil(end: number): boolean {
    if (this.kinds === 0) {
      if (this.n > 0) {
        const s = this.nextSlot(this.cur + 1)
        if (this.base + s > end) return false
        this.stage(s)
      } else if (this.far === 0 || this.buckets.get(this.ids[0]!)!.minTime > end) return false
    } else if (this.base + this.cur > end) return false
    this.pop()
    return true
  }

  /** Removes the next entry into `time`, `kind`, `arg`. The queue must not be empty. */
  pop(): void {
    if (this.kinds === 0) {
      if (this.n === 0) this.refill()
      this.stage(this.nextSlot(this.cur + 1))
    }
    const k = ctz(this.kinds)
    const en = this.e
    const x = this.kHead[k]!
    const next = en[4 * x]!
    this.kHead[k] = next
    if (next < 0) {
      this.kTail[k] = -1
      this.kinds &= ~(1 << k)
    }
    this.time = this.base + this.cur
    this.kind = k
    this.arg = en[4 * x + 2]!
    en[4 * x] = this.freeEntry
    this.freeEntry = x
    this.n--
  }

  private entry(kind: number, arg: number): number {
    let x = this.freeEntry
    if (x >= 0) this.freeEntry = this.e[4 * x]!
    else {
      if (4 * this.top === this.e.length) {
        const g = new Int32Array(this.e.length * 2)
        g.set(this.e)
        this.e = g
      }
      x = this.top++
    }
    const en = this.e
    en[4 * x] = -1
    en[4 * x + 1] = kind
    en[4 * x + 2] = arg
    return x
  }

  private toFifo(x: number, k: number): void {
    const t = this.kTail[k]!
    if (t < 0) {
      this.kHead[k] = x
      this.kinds |= 1 << k
    } else this.e[4 * t] = x
    this.kTail[k] = x
  }

  private toSlot(rel: number, x: number): void {
    const ends = this.ends
    const t = ends[2 * rel + 1]!
    if (t < 0) {
      ends[2 * rel] = x
      // The summaries change only when a word goes from empty to not.
      const w = rel >> 5
      const was = this.l0[w]!
      this.l0[w] = was | (1 << (rel & 31))
      if (was === 0) {
        const w1 = rel >> 10
        const was1 = this.l1[w1]!
        this.l1[w1] = was1 | (1 << (w & 31))
        if (was1 === 0) this.l2[rel >> 15]! |= 1 << (w1 & 31)
      }
    } else this.e[4 * t] = x
    ends[2 * rel + 1] = x
  }

  /** Makes millisecond `rel` the current one: its list, in order, into the FIFOs per kind. */
  private stage(rel: number): void {
    const ends = this.ends
    let x = ends[2 * rel]!
    ends[2 * rel] = -1
    ends[2 * rel + 1] = -1
    const w = rel >> 5
    if ((this.l0[w]! &= ~(1 << (rel & 31))) === 0) {
      const w1 = rel >> 10
      if ((this.l1[w1]! &= ~(1 << (w & 31))) === 0) this.l2[rel >> 15]! &= ~(1 << (w1 & 31))
    }
    this.cur = rel
    const en = this.e
    while (x >= 0) {
      const next = en[4 * x]!
      en[4 * x] = -1
      this.toFifo(x, en[4 * x + 1]!)
      x = next
    }
  }

  /** The first non-empty millisecond at or after `from` (the calendar must hold one). */
  private nextSlot(from: number): number {
    const l0 = this.l0
    const w = from >> 5
    if (w < l0.length) {
      const bits = l0[w]! & (-1 << (from & 31))
      if (bits !== 0) return (w << 5) + ctz(bits)
      // The next non-zero word of l0 after w, through l1 (a bit per l0 word), then l2 (a bit per l1 word).
      const w1 = w + 1
      const v = w1 >> 5
      const l1 = this.l1
      if (v < l1.length) {
        const b1 = l1[v]! & (-1 << (w1 & 31))
        if (b1 !== 0) {
          const w0 = (v << 5) + ctz(b1)
          return (w0 << 5) + ctz(l0[w0]!)
        }
        const v1 = v + 1
        let u = v1 >> 5
        const l2 = this.l2
        if (u < l2.length) {
          const b2 = l2[u]! & (-1 << (v1 & 31))
          if (b2 !== 0) return this.down((u << 5) + ctz(b2))
          for (u++; u < l2.length; u++) if (l2[u] !== 0) return this.down((u << 5) + ctz(l2[u]!))
        }
      }
    }
    throw new Error("FastQueue: no event in the calendar")
  }

  /** The first non-empty millisecond under word `v` of l1. */
  private down(v: number): number {
    const w0 = (v << 5) + ctz(this.l1[v]!)
    return (w0 << 5) + ctz(this.l0[w0]!)
  }

  private farPush(time: number, kind: number, arg: number): void {
    const id = Math.floor(time / this.windowMs)
    const slot = id & 255
    let b = this.cacheIds[slot] === id ? this.cacheBuckets[slot] : this.buckets.get(id)
    if (b === undefined) {
      b = { data: this.spare.pop() ?? new Float64Array(96), n: 0, minTime: time, minKind: kind }
      this.buckets.set(id, b)
      idPush(this.ids, id)
    } else if (time < b.minTime || (time === b.minTime && kind < b.minKind)) {
      b.minTime = time
      b.minKind = kind
    }
    this.cacheIds[slot] = id
    this.cacheBuckets[slot] = b
    if ((b.n + 1) * 3 > b.data.length) {
      const g = new Float64Array(b.data.length * 2)
      g.set(b.data)
      b.data = g
    }
    const o = b.n * 3
    b.data[o] = time
    b.data[o + 1] = kind
    b.data[o + 2] = arg
    b.n++
    this.far++
  }

  /** The calendar is empty and an entry is being popped: pour the earliest bucket into it. */
  private refill(): void {
    const id = idPop(this.ids)
    const b = this.buckets.get(id)!
    this.buckets.delete(id)
    if (this.cacheIds[id & 255] === id) {
      this.cacheIds[id & 255] = -1
      this.cacheBuckets[id & 255] = undefined
    }
    this.base = id * this.windowMs
    this.windowEnd = this.base + this.windowMs
    this.cur = -1
    const d = b.data
    const base = this.base
    for (let k = 0, o = 0; k < b.n; k++, o += 3) this.toSlot(d[o]! - base, this.entry(d[o + 1]!, d[o + 2]!))
    this.n += b.n
    this.far -= b.n
    if (this.spare.length < 8) this.spare.push(d)
  }
}

/** Index of the lowest set bit (x ≠ 0). */
const ctz = (x: number): number => 31 - Math.clz32(x & -x)
