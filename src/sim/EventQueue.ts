/**
 * The reference engine's future-event list: a plain binary min-heap ordered by (time, priority,
 * insertion sequence), so events at the same millisecond always come out in the same order — by
 * priority (the event kind), then in the order they were scheduled (SimPy's rule).
 *
 * Deliberately simple, so the reference is obviously right; the fast engine's calendar queue
 * (FastQueue.ts) is held to the same order by property tests.
 */

interface Entry {
  readonly time: number
  readonly kind: number
  readonly seq: number
  readonly arg: number
}

const before = (a: Entry, b: Entry): boolean => a.time < b.time || (a.time === b.time && (a.kind < b.kind || (a.kind === b.kind && a.seq < b.seq)))

export class EventQueue {
  private readonly heap: Array<Entry> = []
  private seq = 0
  /** The entry last popped. */
  time = 0
  kind = 0
  arg = 0

  get size(): number {
    return this.heap.length
  }

  /** Entries scheduled so far (the next insertion sequence number). */
  get scheduled(): number {
    return this.seq
  }

  /** Schedules `kind` (lower first at equal times) with `arg` at `time` (integer ms). */
  push(time: number, kind: number, arg: number): void {
    const h = this.heap
    h.push({ time, kind, seq: this.seq++, arg })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(h[i]!, h[p]!)) break
      ;[h[i], h[p]] = [h[p]!, h[i]!]
      i = p
    }
  }

  /** Time of the next entry (+∞ when empty). */
  peekTime(): number {
    return this.heap.length === 0 ? Number.POSITIVE_INFINITY : this.heap[0]!.time
  }

  /** Kind of the next entry (−1 when empty). */
  peekKind(): number {
    return this.heap.length === 0 ? -1 : this.heap[0]!.kind
  }

  /** Removes the next entry into `time`, `kind`, `arg`. The queue must not be empty. */
  pop(): void {
    const h = this.heap
    const top = h[0]!
    this.time = top.time
    this.kind = top.kind
    this.arg = top.arg
    const last = h.pop()!
    if (h.length === 0) return
    h[0] = last
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      const r = l + 1
      let m = i
      if (l < h.length && before(h[l]!, h[m]!)) m = l
      if (r < h.length && before(h[r]!, h[m]!)) m = r
      if (m === i) return
      ;[h[i], h[m]] = [h[m]!, h[i]!]
      i = m
    }
  }
}
