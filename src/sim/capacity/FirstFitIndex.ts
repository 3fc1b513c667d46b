/**
 * The first-fit index behind IndexedCapacity: per (size, state mask) query a bitmap of the nodes
 * where it fits (FitSets, for the first FIT_KEYS queries), else a 16-ary tree of upper bounds over
 * the nodes in configuration order (SegTree). Both answer the lowest-index node that fits.
 */
import { type IndexedCapacity, stateIndex } from "../IndexedCapacity.js"

/** Queries (size, effective state mask) answered from bitmaps; further ones use the tree. */
const FIT_KEYS = 16

/**
 * The nodes where a size fits, for each of up to FIT_KEYS (size, state mask) queries, as bitmaps
 * with summary levels (a bit per non-zero word of the level below): the first fit at or after any
 * node is a descent of a few words, and a change to a node sets or clears one bit per query.
 */
export class FitSets {
  private count = 0
  private readonly kc = new Int32Array(FIT_KEYS)
  private readonly km = new Int32Array(FIT_KEYS)
  private readonly kd = new Int32Array(FIT_KEYS)
  private readonly kmask = new Int32Array(FIT_KEYS)
  private readonly bits: Array<Bits> = []

  constructor(private readonly v: IndexedCapacity) {}

  /** The bitmap answering (c, m, d, mask), made now if there is room; −1 if none. */
  key(c: number, m: number, d: number, mask: number): number {
    for (let k = 0; k < this.count; k++) if (this.kc[k] === c && this.km[k] === m && this.kd[k] === d && this.kmask[k] === mask) return k
    if (this.count === FIT_KEYS) return -1
    const k = this.count++
    this.kc[k] = c
    this.km[k] = m
    this.kd[k] = d
    this.kmask[k] = mask
    const b = new Bits(this.v.size)
    const fr = this.v.fr
    for (let i = 0; i < this.v.size; i++) {
      const o = i * 4
      if ((fr[o + 3]! & mask) !== 0 && c <= fr[o]! && m <= fr[o + 1]! && d <= fr[o + 2]!) b.set(i)
    }
    this.bits.push(b)
    return k
  }

  next(k: number, from: number): number {
    return this.bits[k]!.next(from)
  }

  update(i: number): void {
    const fr = this.v.fr
    const o = i * 4
    const st = fr[o + 3]!
    const fc = fr[o]!
    const fm = fr[o + 1]!
    const fd = fr[o + 2]!
    for (let k = 0; k < this.count; k++) {
      const fits = (st & this.kmask[k]!) !== 0 && this.kc[k]! <= fc && this.km[k]! <= fm && this.kd[k]! <= fd
      const b = this.bits[k]!
      if (fits !== b.has(i)) {
        if (fits) b.set(i)
        else b.clear(i)
      }
    }
  }
}

/** A set of 0 … n − 1 as a bitmap with summary levels up to a single word. */
export class Bits {
  private readonly levels: Array<Int32Array> = []

  constructor(n: number) {
    let words = Math.max(1, Math.ceil(n / 32))
    for (;;) {
      this.levels.push(new Int32Array(words))
      if (words === 1) break
      words = Math.ceil(words / 32)
    }
  }

  has(i: number): boolean {
    return ((this.levels[0]![i >> 5]! >>> (i & 31)) & 1) !== 0
  }

  set(i: number): void {
    let x = i
    for (const a of this.levels) {
      const w = x >> 5
      const was = a[w]!
      a[w] = was | (1 << (x & 31))
      if (was !== 0) return
      x = w
    }
  }

  clear(i: number): void {
    let x = i
    for (const a of this.levels) {
      const w = x >> 5
      if ((a[w]! &= ~(1 << (x & 31))) !== 0) return
      x = w
    }
  }

  /** The least member ≥ from; −1 if none. */
  next(from: number): number {
    return this.at(0, from)
  }

  /** The least set bit ≥ p of level k. */
  private at(k: number, p: number): number {
    const a = this.levels[k]!
    const w = p >> 5
    if (w >= a.length) return -1
    const bits = a[w]! & (-1 << (p & 31))
    if (bits !== 0) return (w << 5) + ctz(bits)
    if (k === this.levels.length - 1) return -1
    // The next non-zero word of this level, from the level above.
    const q = this.at(k + 1, w + 1)
    return q < 0 ? -1 : (q << 5) + ctz(a[q]!)
  }
}

/** Index of the lowest set bit (x ≠ 0). */
const ctz = (x: number): number => 31 - Math.clz32(x & -x)

/** Children per tree node (a power of two), and its log2. */
const B = 16
const SHIFT = 4

/**
 * The first-fit index: a 16-ary tree over the nodes in configuration order. Level 0 has an entry per
 * group of 16 nodes, level k + 1 an entry per 16 entries of level k, up to a single root. For each of
 * the 4 node states an entry holds, side by side, upper bounds of the free cores, memory and disk of
 * the nodes below it that are in that state (−1: none). Bounds, not exact maxima: a node gaining
 * capacity (or joining a state) raises them at once, walking up only while they rise, but a node
 * losing capacity changes nothing — the bounds above it are tightened only when a search finds that
 * a subtree they let it into holds nothing that fits (it then recomputes them from what it read). A
 * search scans at most 16 entries per level, in memory order, so it is exact whatever the bounds.
 */
export class SegTree {
  /** Entries per level. */
  private readonly counts: Array<number> = []
  /** Per level, per state: 4 ints per entry (cores, memory, disk, unused). */
  private readonly t: Array<Array<Int32Array>> = []
  private readonly top: number

  constructor(private readonly v: IndexedCapacity) {
    let count = v.size
    do {
      count = (count + B - 1) >> SHIFT
      this.counts.push(count)
      this.t.push([0, 1, 2, 3].map(() => new Int32Array(count * 4).fill(-1)))
    } while (count > 1)
    this.top = this.counts.length - 1
    for (let s = 0; s < 4; s++) {
      for (let g = 0; g < this.counts[0]!; g++) this.group(s, g)
      for (let k = 1; k <= this.top; k++) for (let e = 0; e < this.counts[k]!; e++) this.entry(k, s, e)
    }
  }

  /** Recomputes level-0 entry g for state index s from its nodes (exact). */
  private group(s: number, g: number): void {
    const fr = this.v.fr
    const bit = 1 << s
    let mc = -1, mm = -1, md = -1
    const end = Math.min(this.v.size, (g + 1) << SHIFT) * 4
    for (let o = (g << SHIFT) * 4; o < end; o += 4) {
      if (fr[o + 3] !== bit) continue
      if (fr[o]! > mc) mc = fr[o]!
      if (fr[o + 1]! > mm) mm = fr[o + 1]!
      if (fr[o + 2]! > md) md = fr[o + 2]!
    }
    const a = this.t[0]![s]!
    a[g * 4] = mc
    a[g * 4 + 1] = mm
    a[g * 4 + 2] = md
  }

  /** Recomputes entry e of level k ≥ 1 for state index s from its children's bounds. */
  private entry(k: number, s: number, e: number): void {
    const a = this.t[k - 1]![s]!
    let mc = -1, mm = -1, md = -1
    const end = Math.min(this.counts[k - 1]!, (e + 1) << SHIFT) * 4
    for (let o = (e << SHIFT) * 4; o < end; o += 4) {
      if (a[o]! > mc) mc = a[o]!
      if (a[o + 1]! > mm) mm = a[o + 1]!
      if (a[o + 2]! > md) md = a[o + 2]!
    }
    const x = this.t[k]![s]!
    x[e * 4] = mc
    x[e * 4 + 1] = mm
    x[e * 4 + 2] = md
  }

  /** Entry e of level k held nothing that fits a search over the states of `mask`: tighten its bounds for them. */
  private tighten(k: number, e: number, mask: number): void {
    for (let s = 0; s < 4; s++) {
      if ((mask & (1 << s)) === 0) continue
      if (k === 0) this.group(s, e)
      else this.entry(k, s, e)
    }
  }

  /** Node i changed; it is now in its state with its free capacity: raise the bounds above it where they are below. */
  update(i: number): void {
    const fr = this.v.fr
    const o = i * 4
    const c = fr[o]!
    const m = fr[o + 1]!
    const d = fr[o + 2]!
    const t = this.t
    const s = stateIndex(fr[o + 3]!)
    for (let k = 0, e = i >> SHIFT; k <= this.top; k++, e >>= SHIFT) {
      const a = t[k]![s]!
      const x = e * 4
      let raised = false
      if (c > a[x]!) {
        a[x] = c
        raised = true
      }
      if (m > a[x + 1]!) {
        a[x + 1] = m
        raised = true
      }
      if (d > a[x + 2]!) {
        a[x + 2] = d
        raised = true
      }
      if (!raised) return
    }
  }

  /** May some node below entry e of level k, in a state of `mask`, fit (c, m, d)? */
  private may(k: number, e: number, c: number, m: number, d: number, mask: number): boolean {
    const t = this.t[k]!
    const o = e * 4
    for (let s = 0; s < 4; s++) {
      if ((mask & (1 << s)) === 0) continue
      const a = t[s]!
      if (a[o]! >= c && a[o + 1]! >= m && a[o + 2]! >= d) return true
    }
    return false
  }

  /** The first node in [from, hi) in `mask` where (c, m, d) fits; −1 if none. */
  private scan(from: number, hi: number, c: number, m: number, d: number, mask: number): number {
    const fr = this.v.fr
    for (let i = from; i < hi; i++) {
      const o = i * 4
      if ((fr[o + 3]! & mask) !== 0 && c <= fr[o]! && m <= fr[o + 1]! && d <= fr[o + 2]!) return i
    }
    return -1
  }

  /** The first fitting node below entry e of level k (which may fit); −1 if none after all (its bounds then tightened). */
  private descend(k: number, e: number, c: number, m: number, d: number, mask: number): number {
    if (k === 0) {
      const r = this.scan(e << SHIFT, Math.min(this.v.size, (e + 1) << SHIFT), c, m, d, mask)
      if (r < 0) this.tighten(0, e, mask)
      return r
    }
    const end = Math.min(this.counts[k - 1]!, (e + 1) << SHIFT)
    for (let ch = e << SHIFT; ch < end; ch++) {
      if (!this.may(k - 1, ch, c, m, d, mask)) continue
      const r = this.descend(k - 1, ch, c, m, d, mask)
      if (r >= 0) return r
    }
    this.tighten(k, e, mask)
    return -1
  }

  /** The first node at or after `from` whose state is in `mask` and where (c, m, d) fits; −1 if none. */
  first(c: number, m: number, d: number, mask: number, from: number): number {
    const n = this.v.size
    if (from >= n) return -1
    if (from === 0) {
      if (!this.may(this.top, 0, c, m, d, mask)) return -1
      const r = this.descend(this.top, 0, c, m, d, mask)
      return r
    }
    const r = this.scan(from, Math.min(n, ((from >> SHIFT) + 1) << SHIFT), c, m, d, mask)
    if (r >= 0) return r
    // Then the later siblings of each ancestor, from the bottom up.
    let e = from >> SHIFT
    for (let k = 0; k < this.top; k++, e >>= SHIFT) {
      const end = Math.min(this.counts[k]!, ((e >> SHIFT) + 1) << SHIFT)
      for (let x = e + 1; x < end; x++) {
        if (!this.may(k, x, c, m, d, mask)) continue
        const r = this.descend(k, x, c, m, d, mask)
        if (r >= 0) return r
      }
    }
    return -1
  }
}

