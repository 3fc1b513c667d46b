/**
 * The future-event list, ordered by (time, priority, insertion sequence) so that events at the same
 * millisecond always come out in the same order — by priority, then in the order they were scheduled
 * (SimPy's rule). Nothing is allocated per event; `pop` leaves the entry in `time`, `kind`, `arg`.
 *
 * Two levels, because most events of a cloud simulation are far in the future (an instance's end,
 * hours away) while the near ones (boots, stops) are few: events before `windowEnd` live in a binary
 * heap; later ones are appended, unsorted, to a bucket per window of `windowMs`, and a bucket is
 * poured into the heap when the heap runs dry and its window begins. The heap stays small and in
 * cache, a far event costs an append, and the order is still exact — every event outside the heap is
 * later than every event in it.
 *
 * An entry is three numbers side by side in one Float64Array (time, an order key packing the
 * priority — the event kind — with the sequence, one integer argument, and padding so that two
 * siblings share 64 bytes).
 */
import { idPop, idPush } from "./IdHeap.js"

const SEQ_SPAN = 2 ** 40
/** Slots per heap entry: time, order key, argument, padding. */
const W = 4

interface Bucket {
  data: Float64Array
  n: number
}

export class EventQueue {
  /** 1-based heap: entry k at k·W; the children of k are 2k and 2k+1. */
  private h: Float64Array
  private n = 0
  private seq = 0
  /** Events at or after this time wait in buckets. */
  private windowEnd = 0
  private far = 0
  private readonly buckets = new Map<number, Bucket>()
  /** Ids of non-empty buckets, as a min-heap. */
  private readonly ids: Array<number> = []
  /** A direct-mapped cache in front of `buckets` (slot = id mod 256): most far pushes skip the Map. */
  private readonly cacheIds = new Float64Array(256).fill(-1)
  private readonly cacheBuckets: Array<Bucket | undefined> = new Array(256).fill(undefined)
  /** The entry last popped. */
  time = 0
  kind = 0
  arg = 0

  constructor(
    initialCapacity = 1024,
    /** Width of a bucket's window (ms). */
    private readonly windowMs = 65_536
  ) {
    this.h = new Float64Array((initialCapacity + 2) * W)
  }

  get size(): number {
    return this.n + this.far
  }

  /** Entries scheduled so far (the next insertion sequence number). */
  get scheduled(): number {
    return this.seq
  }

  /** Schedules `kind` (0 … 4095, lower first at equal times) with `arg` at `time` (integer ms). */
  push(time: number, kind: number, arg: number): void {
    const ord = kind * SEQ_SPAN + this.seq++
    if (time < this.windowEnd) this.heapPush(time, ord, arg)
    else this.farPush(time, ord, arg)
  }

  /** Time of the next entry (+∞ when empty). */
  peekTime(): number {
    if (this.n === 0 && !this.refill()) return Number.POSITIVE_INFINITY
    return this.h[W]!
  }

  /** Kind of the next entry (−1 when empty). */
  peekKind(): number {
    if (this.n === 0 && !this.refill()) return -1
    return Math.floor(this.h[W + 1]! / SEQ_SPAN)
  }

  /** Removes the next entry into `time`, `kind`, `arg`. The queue must not be empty. */
  pop(): void {
    if (this.n === 0) this.refill()
    const h = this.h
    this.time = h[W]!
    this.kind = Math.floor(h[W + 1]! / SEQ_SPAN)
    this.arg = h[W + 2]! | 0
    const n = this.n--
    if (n === 1) return
    const lb = n * W
    const lt = h[lb]!
    const lo = h[lb + 1]!
    const la = h[lb + 2]!
    const last = n - 1
    let i = 1
    for (;;) {
      let c = 2 * i
      if (c > last) break
      let cb = c * W
      if (c < last) {
        const rb = cb + W
        if (h[rb]! < h[cb]! || (h[rb] === h[cb] && h[rb + 1]! < h[cb + 1]!)) {
          c++
          cb = rb
        }
      }
      const ct = h[cb]!
      if (lt < ct || (lt === ct && lo < h[cb + 1]!)) break
      const ib = i * W
      h[ib] = ct
      h[ib + 1] = h[cb + 1]!
      h[ib + 2] = h[cb + 2]!
      i = c
    }
    const ib = i * W
    h[ib] = lt
    h[ib + 1] = lo
    h[ib + 2] = la
  }

  private heapPush(time: number, ord: number, arg: number): void {
    if ((this.n + 2) * W > this.h.length) {
      const g = new Float64Array(this.h.length * 2)
      g.set(this.h)
      this.h = g
    }
    const h = this.h
    let i = ++this.n
    while (i > 1) {
      const p = i >> 1
      const pb = p * W
      const pt = h[pb]!
      if (pt < time || (pt === time && h[pb + 1]! < ord)) break
      const ib = i * W
      h[ib] = pt
      h[ib + 1] = h[pb + 1]!
      h[ib + 2] = h[pb + 2]!
      i = p
    }
    const ib = i * W
    h[ib] = time
    h[ib + 1] = ord
    h[ib + 2] = arg
  }

  private farPush(time: number, ord: number, arg: number): void {
    const id = Math.floor(time / this.windowMs)
    const slot = id & 255
    let b = this.cacheIds[slot] === id ? this.cacheBuckets[slot] : this.buckets.get(id)
    if (b === undefined) {
      b = { data: new Float64Array(48), n: 0 }
      this.buckets.set(id, b)
      idPush(this.ids, id)
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
    b.data[o + 1] = ord
    b.data[o + 2] = arg
    b.n++
    this.far++
  }

  /** The heap is empty: pour the earliest bucket into it. False if there is none. */
  private refill(): boolean {
    if (this.ids.length === 0) return false
    const id = idPop(this.ids)
    const b = this.buckets.get(id)!
    this.buckets.delete(id)
    if (this.cacheIds[id & 255] === id) {
      this.cacheIds[id & 255] = -1
      this.cacheBuckets[id & 255] = undefined
    }
    this.windowEnd = (id + 1) * this.windowMs
    const d = b.data
    for (let k = 0; k < b.n; k++) this.heapPush(d[3 * k]!, d[3 * k + 1]!, d[3 * k + 2]!)
    this.far -= b.n
    return true
  }
}
