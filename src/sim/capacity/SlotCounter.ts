/**
 * The slot counter behind IndexedCapacity: free slots per VM size (Eucalyptus's LeastFullFirst
 * arithmetic), kept per size incrementally for up to MAX_TRACKED sizes.
 */
import * as Capacity from "../../model/Capacity.js"
import type { IndexedCapacity } from "../IndexedCapacity.js"

/** Sizes tracked incrementally; beyond this many, free slots of other sizes are counted by a scan. */
const MAX_TRACKED = 32

/**
 * Resources.copiesThatFit on numbers: the least of the per-dimension floors, a zero dimension not
 * limiting. One division, then products to check whether memory or disk bind harder.
 */
const copies = (c: number, m: number, d: number, fc: number, fm: number, fd: number): number => {
  let n: number
  if (c > 0) n = Math.floor(fc / c)
  else if (m > 0) n = Math.floor(fm / m)
  else if (d > 0) return Math.floor(fd / d)
  else return 0
  if (m > 0 && fm < m * n) n = Math.floor(fm / m)
  if (d > 0 && fd < d * n) n = Math.floor(fd / d)
  return n
}

export class SlotCounter {
  /** Tracked sizes as (cores, memory, disk) triples. */
  private readonly sizes = new Int32Array(MAX_TRACKED * 3)
  private tracked = 0
  private readonly sums = new Float64Array(MAX_TRACKED)
  /** What each node contributes to each tracked size, node-major (`stride` per node): an update touches one row. */
  private contrib: Int32Array
  private stride = 8
  /** Per tracked size with cores, ⌊x / cores⌋ for x up to the largest usable cores (no division per update). */
  private readonly perCores: Array<Int32Array> = []
  private cacheKey = ""
  private cacheVersion = -1
  private cacheValue = 0

  constructor(private readonly v: IndexedCapacity) {
    this.contrib = new Int32Array(v.size * this.stride)
  }

  private one(i: number, c: number, m: number, d: number): number {
    const v = this.v
    return v.stateBit(i) === Capacity.DOWN ? 0 : copies(c, m, d, v.freeCores(i), v.freeMemory(i), v.freeDisk(i))
  }

  private scan(c: number, m: number, d: number): number {
    let sum = 0
    for (let i = 0; i < this.v.size; i++) sum += this.one(i, c, m, d)
    return sum
  }

  free(c: number, m: number, d: number): number {
    const s = this.sizes
    const t = this.tracked
    for (let k = 0; k < t; k++) if (s[3 * k] === c && s[3 * k + 1] === m && s[3 * k + 2] === d) return this.sums[k]!
    if (t < MAX_TRACKED) {
      if (t === this.stride) {
        // Widen the rows.
        const wide = new Int32Array(this.v.size * this.stride * 2)
        for (let i = 0; i < this.v.size; i++) wide.set(this.contrib.subarray(i * this.stride, (i + 1) * this.stride), i * this.stride * 2)
        this.contrib = wide
        this.stride *= 2
      }
      s[3 * t] = c
      s[3 * t + 1] = m
      s[3 * t + 2] = d
      let most = 0
      for (let i = 0; i < this.v.size; i++) most = Math.max(most, this.v.capCores(i))
      const table = new Int32Array(c > 0 ? Math.min(most, 1 << 16) + 1 : 0)
      for (let x = 0; x < table.length; x++) table[x] = Math.floor(x / c)
      this.perCores.push(table)
      let sum = 0
      for (let i = 0; i < this.v.size; i++) {
        const k = this.one(i, c, m, d)
        this.contrib[i * this.stride + t] = k
        sum += k
      }
      this.sums[t] = sum
      this.tracked = t + 1
      return sum
    }
    const key = `${c},${m},${d}`
    if (key !== this.cacheKey || this.cacheVersion !== this.v.version) {
      this.cacheKey = key
      this.cacheVersion = this.v.version
      this.cacheValue = this.scan(c, m, d)
    }
    return this.cacheValue
  }

  update(i: number): void {
    const t = this.tracked
    if (t === 0) return
    const v = this.v
    const s = this.sizes
    const row = this.contrib
    const o = i * this.stride
    if (v.stateBit(i) === Capacity.DOWN) {
      for (let k = 0; k < t; k++) {
        this.sums[k]! -= row[o + k]!
        row[o + k] = 0
      }
      return
    }
    const fc = v.freeCores(i)
    const fm = v.freeMemory(i)
    const fd = v.freeDisk(i)
    for (let k = 0; k < t; k++) {
      const c = s[3 * k]!
      const m = s[3 * k + 1]!
      const d = s[3 * k + 2]!
      let now: number
      if (c > 0) {
        // copies() with its first division looked up.
        const table = this.perCores[k]!
        now = fc < table.length ? table[fc]! : Math.floor(fc / c)
        if (m > 0 && fm < m * now) now = Math.floor(fm / m)
        if (d > 0 && fd < d * now) now = Math.floor(fd / d)
      } else now = copies(c, m, d, fc, fm, fd)
      const before = row[o + k]!
      if (now !== before) {
        this.sums[k]! += now - before
        row[o + k] = now
      }
    }
  }
}

