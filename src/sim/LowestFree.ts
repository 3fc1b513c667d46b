/**
 * The lowest free value of an integer range, as `Network.lowestFree` answers it by scanning a set,
 * in O(1) word operations: every value from `fresh` up is free; values below it that were given back
 * are bits in a bitmap with three summary levels (a bit per non-zero word of the level below), so
 * the lowest is found by descending four words. Used for VLANs, per-group slots, public-address pool
 * positions and SYSTEM host numbers.
 */
const LEVELS = 4

export class LowestFree {
  /** Offset (value − lo) from which every value is free. */
  private fresh = 0
  /** levels[0]: a bit per offset below `fresh` that was given back; levels[k + 1]: a bit per non-zero word of levels[k]. */
  private levels: Array<Int32Array>
  /** Values handed out and not yet given back. */
  used = 0

  constructor(
    readonly lo: number,
    /** Inclusive. */
    readonly hi: number
  ) {
    this.levels = Array.from({ length: LEVELS }, () => new Int32Array(1))
  }

  get capacity(): number {
    return Math.max(0, this.hi - this.lo + 1)
  }

  get free(): number {
    return this.capacity - this.used
  }

  /** Takes the lowest free value; −1 if none is left. */
  take(): number {
    const top = this.levels[LEVELS - 1]!
    for (let u = 0; u < top.length; u++) {
      if (top[u] === 0) continue
      // Descend to the lowest given-back offset, then clear its bit (and summary bits that empty).
      let w = (u << 5) + ctz(top[u]!)
      for (let k = LEVELS - 2; k >= 0; k--) w = (w << 5) + ctz(this.levels[k]![w]!)
      this.clear(w)
      this.used++
      return this.lo + w
    }
    if (this.lo + this.fresh > this.hi) return -1
    this.used++
    return this.lo + this.fresh++
  }

  /** Gives a value back. */
  give(v: number): void {
    this.used--
    const o = v - this.lo
    if ((o >> 5) >= this.levels[0]!.length) this.grow(o)
    let x = o
    for (let k = 0; k < LEVELS; k++) {
      const a = this.levels[k]!
      const w = x >> 5
      const was = a[w]!
      a[w] = was | (1 << (x & 31))
      if (was !== 0) return
      x = w
    }
  }

  private clear(o: number): void {
    let x = o
    for (let k = 0; k < LEVELS; k++) {
      const a = this.levels[k]!
      const w = x >> 5
      if ((a[w]! &= ~(1 << (x & 31))) !== 0) return
      x = w
    }
  }

  private grow(o: number): void {
    let words = this.levels[0]!.length
    while ((o >> 5) >= words) words *= 2
    this.levels = this.levels.map((a, k) => {
      const g = new Int32Array(Math.max(1, Math.ceil(words / 32 ** k)))
      g.set(a)
      return g
    })
  }
}

/** Index of the lowest set bit (x ≠ 0). */
const ctz = (x: number): number => 31 - Math.clz32(x & -x)
