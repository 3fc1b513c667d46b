/**
 * The lowest free value of an integer range, as `Network.lowestFree` answers it by scanning a set,
 * in O(log n): values below `fresh` that are free sit in a min-heap; every value from `fresh` up is
 * free. Used for VLANs, per-group slots, public-address pool positions and SYSTEM host numbers.
 */
export class LowestFree {
  private heap: Int32Array = new Int32Array(16)
  private n = 0
  private fresh: number
  /** Values handed out and not yet given back. */
  used = 0

  constructor(
    readonly lo: number,
    /** Inclusive. */
    readonly hi: number
  ) {
    this.fresh = lo
  }

  get capacity(): number {
    return Math.max(0, this.hi - this.lo + 1)
  }

  get free(): number {
    return this.capacity - this.used
  }

  /** Takes the lowest free value; −1 if none is left. */
  take(): number {
    if (this.n > 0) {
      this.used++
      return this.popMin()
    }
    if (this.fresh > this.hi) return -1
    this.used++
    return this.fresh++
  }

  /** Gives a value back. */
  give(v: number): void {
    this.used--
    if (this.n === this.heap.length) {
      const h = new Int32Array(this.heap.length * 2)
      h.set(this.heap)
      this.heap = h
    }
    const heap = this.heap
    let i = this.n++
    while (i > 0) {
      const p = (i - 1) >> 1
      if (heap[p]! <= v) break
      heap[i] = heap[p]!
      i = p
    }
    heap[i] = v
  }

  private popMin(): number {
    const heap = this.heap
    const top = heap[0]!
    const n = --this.n
    if (n > 0) {
      const last = heap[n]!
      let i = 0
      for (;;) {
        let c = 2 * i + 1
        if (c >= n) break
        if (c + 1 < n && heap[c + 1]! < heap[c]!) c++
        if (heap[c]! >= last) break
        heap[i] = heap[c]!
        i = c
      }
      heap[i] = last
    }
    return top
  }
}
