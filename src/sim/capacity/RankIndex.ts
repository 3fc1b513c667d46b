/**
 * The rank index behind IndexedCapacity: best and worst fit by (free memory, free cores, index) —
 * tournament trees for the first RANK_KEYS queries (RankTrees), else the nodes in sorted blocks of at
 * most 64 with per-block summaries (SortedBlocks).
 */
import { type IndexedCapacity, stateIndex } from "../IndexedCapacity.js"

/** Queries (best or worst, size, effective state mask) answered from tournament trees; further ones use the sorted blocks. */
const RANK_KEYS = 16

/**
 * Best and worst fit for each of up to RANK_KEYS queries, as tournament trees over the nodes: a leaf
 * holds its node if the size fits there (in a state of the mask), an inner node the better of its
 * children's winners by the query's order — (free memory, free cores, index) ascending for best fit;
 * free memory, then free cores descending, then index ascending for worst fit. The answer is the
 * root. A change to node i replays its matches from the leaf up, and stops as soon as a match's
 * winner is unchanged and is not node i (nothing above depends on i then).
 */
export class RankTrees {
  private count = 0
  private readonly kBest: Array<boolean> = []
  private readonly kc = new Int32Array(RANK_KEYS)
  private readonly km = new Int32Array(RANK_KEYS)
  private readonly kd = new Int32Array(RANK_KEYS)
  private readonly kmask = new Int32Array(RANK_KEYS)
  private readonly trees: Array<Int32Array> = []
  /** Leaves start here (a power of two ≥ the nodes). */
  private readonly p: number

  constructor(private readonly v: IndexedCapacity) {
    let p = 1
    while (p < v.size) p <<= 1
    this.p = p
  }

  key(best: boolean, c: number, m: number, d: number, mask: number): number {
    for (let k = 0; k < this.count; k++) {
      if (this.kBest[k] === best && this.kc[k] === c && this.km[k] === m && this.kd[k] === d && this.kmask[k] === mask) return k
    }
    if (this.count === RANK_KEYS) return -1
    const k = this.count++
    this.kBest.push(best)
    this.kc[k] = c
    this.km[k] = m
    this.kd[k] = d
    this.kmask[k] = mask
    const p = this.p
    const t = new Int32Array(2 * p).fill(-1)
    const fr = this.v.fr
    for (let i = 0; i < this.v.size; i++) {
      const o = i * 4
      if ((fr[o + 3]! & mask) !== 0 && c <= fr[o]! && m <= fr[o + 1]! && d <= fr[o + 2]!) t[p + i] = i
    }
    for (let x = p - 1; x >= 1; x--) t[x] = this.better(best, t[2 * x]!, t[2 * x + 1]!)
    this.trees.push(t)
    return k
  }

  answer(k: number): number {
    return this.trees[k]![1]!
  }

  /** The better of nodes a and b (−1: none) by the query's order. */
  private better(best: boolean, a: number, b: number): number {
    if (a < 0) return b
    if (b < 0) return a
    const fr = this.v.fr
    const ma = fr[a * 4 + 1]!
    const mb = fr[b * 4 + 1]!
    if (ma !== mb) return best === ma < mb ? a : b
    const ca = fr[a * 4]!
    const cb = fr[b * 4]!
    if (ca !== cb) return best === ca < cb ? a : b
    return a < b ? a : b
  }

  update(i: number): void {
    const fr = this.v.fr
    const o = i * 4
    const st = fr[o + 3]!
    const fc = fr[o]!
    const fm = fr[o + 1]!
    const fd = fr[o + 2]!
    for (let k = 0; k < this.count; k++) {
      const t = this.trees[k]!
      const w = (st & this.kmask[k]!) !== 0 && this.kc[k]! <= fc && this.km[k]! <= fm && this.kd[k]! <= fd ? i : -1
      let x = this.p + i
      // Not in, and not in before: no match involves it.
      if (w < 0 && t[x]! < 0) continue
      t[x] = w
      const best = this.kBest[k]!
      for (x >>= 1; x >= 1; x >>= 1) {
        const was = t[x]!
        const now = this.better(best, t[2 * x]!, t[2 * x + 1]!)
        if (now === was && now !== i) break
        t[x] = now
      }
    }
  }
}

/**
 * The best-fit / worst-fit index: nodes ordered by the key (free memory, free cores, index), cut into
 * blocks of consecutive key ranges. A block holds at most BLOCK_MAX nodes, unsorted, their keys
 * inline (free memory, cores, disk, state bit, node index: 5 ints per node), so that a node whose
 * key changes within its block's range is updated in place, and one that leaves its range moves by
 * a swap-remove and an append (the block it joins splits at its median key when full; a block left
 * nearly empty merges into a neighbour). Each block keeps the largest free cores and disk of its
 * nodes and how many nodes hold them (a removal rescans the block only when the last holder leaves),
 * and how many of its nodes are in each state, all exact; its largest free memory is bounded by the
 * next block's least key. So a search skips whole blocks, and the blocks' order being the key order,
 * stops at the first block holding an answer.
 */
const BLOCK_MAX = 64
/** Ints per item: free memory, free cores, free disk, state bit, node index. */
const IW = 5
/** Ints per block: room for one item more than BLOCK_MAX (a block splits after an insertion). */
const BW = (BLOCK_MAX + 1) * IW
/** Blocks per group of the ranks' summary, and its log2. */
const G = 16
const GS = 4
const MAX_INT = 0x7fffffff

export class SortedBlocks {
  /** Per node: its block and position in it. */
  private readonly blockOf: Int32Array
  private readonly posOf: Int32Array
  private items = new Int32Array(0)
  private len = new Int32Array(0)
  /** Largest free cores and disk of the block's nodes (−1: empty), and how many nodes hold each. */
  private maxC = new Int32Array(0)
  private maxD = new Int32Array(0)
  private nC = new Int32Array(0)
  private nD = new Int32Array(0)
  /** Per block, nodes in each of the 4 states. */
  private sc = new Int32Array(0)
  /** Per block, the least key it may hold (the first block: (−1, −1, −1)). */
  private loM = new Int32Array(0)
  private loC = new Int32Array(0)
  private loI = new Int32Array(0)
  /** Per block, its position in `order`. */
  private rank = new Int32Array(0)
  private blocks = 0
  /** Block ids in key order. */
  private order = new Int32Array(0)
  private nb = 0
  private readonly spare: Array<number> = []
  /** Scratch for splits. */
  private readonly scratch = new Int32Array(BLOCK_MAX + 1)
  // The blocks' bounds again, by rank (key order), and per group of G ranks their maxima (states:
  // OR of masks), so that a search skips G blocks with one check. Memory: a bound on the block's
  // largest free memory (the next block's least key; unbounded for the last). Rebuilt when ranks shift.
  private rC = new Int32Array(0)
  private rD = new Int32Array(0)
  private rM = new Int32Array(0)
  private rS = new Int32Array(0)
  /** Bumped whenever blocks are added to or taken from `order`. */
  private shifts = 0
  private gC = new Int32Array(0)
  private gD = new Int32Array(0)
  private gM = new Int32Array(0)
  private gS = new Int32Array(0)

  constructor(private readonly v: IndexedCapacity) {
    const n = v.size
    this.blockOf = new Int32Array(n)
    this.posOf = new Int32Array(n)
    this.growBlocks(Math.max(4, Math.ceil(n / (BLOCK_MAX / 2)) + 2))
    const fm = (i: number) => v.freeMemory(i)
    const fc = (i: number) => v.freeCores(i)
    const all = Array.from({ length: n }, (_, i) => i).sort((a, b) => fm(a) - fm(b) || fc(a) - fc(b) || a - b)
    for (let k = 0; k < n || k === 0; k += BLOCK_MAX / 2) {
      const b = this.newBlock()
      this.order[this.nb] = b
      this.rank[b] = this.nb++
      if (k === 0) this.setLo(b, -1, -1, -1)
      else this.setLo(b, fm(all[k]!), fc(all[k]!), all[k]!)
      for (let j = k; j < Math.min(n, k + BLOCK_MAX / 2); j++) this.append(b, all[j]!)
    }
    this.rebuildRanks()
  }

  /** Every rank's and group's bounds, afresh (after ranks shifted). */
  private rebuildRanks(): void {
    const nb = this.nb
    if (this.rC.length < nb) {
      const cap = Math.max(16, this.order.length)
      this.rC = new Int32Array(cap)
      this.rD = new Int32Array(cap)
      this.rM = new Int32Array(cap)
      this.rS = new Int32Array(cap)
      const groups = (cap >> GS) + 1
      this.gC = new Int32Array(groups)
      this.gD = new Int32Array(groups)
      this.gM = new Int32Array(groups)
      this.gS = new Int32Array(groups)
    }
    for (let r = 0; r < nb; r++) {
      const b = this.order[r]!
      this.rC[r] = this.maxC[b]!
      this.rD[r] = this.maxD[b]!
      this.rS[r] = this.statesOf(b)
      this.rM[r] = r === nb - 1 ? MAX_INT : this.loM[this.order[r + 1]!]!
    }
    for (let g = 0; g <= (nb - 1) >> GS; g++) this.group(g)
  }

  private statesOf(b: number): number {
    const sc = this.sc
    const o = b * 4
    return (sc[o]! > 0 ? 1 : 0) | (sc[o + 1]! > 0 ? 2 : 0) | (sc[o + 2]! > 0 ? 4 : 0) | (sc[o + 3]! > 0 ? 8 : 0)
  }

  /** Group g's bounds from its ranks. */
  private group(g: number): void {
    let c = -1, d = -1, m = -1, st = 0
    for (let r = g << GS, end = Math.min(this.nb, (g + 1) << GS); r < end; r++) {
      if (this.rC[r]! > c) c = this.rC[r]!
      if (this.rD[r]! > d) d = this.rD[r]!
      if (this.rM[r]! > m) m = this.rM[r]!
      st |= this.rS[r]!
    }
    this.gC[g] = c
    this.gD[g] = d
    this.gM[g] = m
    this.gS[g] = st
  }

  /** Block b's bounds changed: its rank's and group's follow. */
  private bounds(b: number): void {
    const r = this.rank[b]!
    const c = this.maxC[b]!
    const d = this.maxD[b]!
    const st = this.statesOf(b)
    if (this.rC[r] === c && this.rD[r] === d && this.rS[r] === st) return
    this.rC[r] = c
    this.rD[r] = d
    this.rS[r] = st
    this.group(r >> GS)
  }

  private growBlocks(cap: number): void {
    const grow = (a: Int32Array, per: number) => {
      const g = new Int32Array(cap * per)
      g.set(a)
      return g
    }
    this.items = grow(this.items, BW)
    this.len = grow(this.len, 1)
    this.maxC = grow(this.maxC, 1)
    this.maxD = grow(this.maxD, 1)
    this.nC = grow(this.nC, 1)
    this.nD = grow(this.nD, 1)
    this.sc = grow(this.sc, 4)
    this.loM = grow(this.loM, 1)
    this.loC = grow(this.loC, 1)
    this.loI = grow(this.loI, 1)
    this.rank = grow(this.rank, 1)
    this.order = grow(this.order, 1)
  }

  private newBlock(): number {
    let b: number
    if (this.spare.length > 0) b = this.spare.pop()!
    else {
      b = this.blocks++
      if (b === this.len.length) this.growBlocks(this.len.length * 2)
    }
    this.len[b] = 0
    this.clearBounds(b)
    return b
  }

  private clearBounds(b: number): void {
    this.maxC[b] = -1
    this.maxD[b] = -1
    this.nC[b] = 0
    this.nD[b] = 0
    const o = b * 4
    this.sc[o] = 0
    this.sc[o + 1] = 0
    this.sc[o + 2] = 0
    this.sc[o + 3] = 0
  }

  private setLo(b: number, m: number, c: number, i: number): void {
    this.loM[b] = m
    this.loC[b] = c
    this.loI[b] = i
  }

  /** Is block b's least key after (m, c, i)? */
  private loAfter(b: number, m: number, c: number, i: number): boolean {
    const lm = this.loM[b]!
    if (lm !== m) return lm > m
    const lc = this.loC[b]!
    if (lc !== c) return lc > c
    return this.loI[b]! > i
  }

  /** The block whose range holds the key (m, c, i): the last one whose least key is not after it. */
  private blockFor(m: number, c: number, i: number): number {
    const order = this.order
    let lo = 0
    let hi = this.nb - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (this.loAfter(order[mid]!, m, c, i)) hi = mid - 1
      else lo = mid
    }
    return order[lo]!
  }

  /** Counts free cores c, free disk d and state bit st in block b's bounds. */
  private count(b: number, c: number, d: number, st: number): void {
    if (c > this.maxC[b]!) {
      this.maxC[b] = c
      this.nC[b] = 1
    } else if (c === this.maxC[b]) this.nC[b]! += 1
    if (d > this.maxD[b]!) {
      this.maxD[b] = d
      this.nD[b] = 1
    } else if (d === this.maxD[b]) this.nD[b]! += 1
    this.sc[b * 4 + stateIndex(st)]! += 1
  }

  /** Takes them out again; true if a maximum lost its last holder (the block must be rescanned). */
  private uncount(b: number, c: number, d: number, st: number): boolean {
    this.sc[b * 4 + stateIndex(st)]! -= 1
    let stale = false
    if (c === this.maxC[b] && --this.nC[b]! === 0) stale = true
    if (d === this.maxD[b] && --this.nD[b]! === 0) stale = true
    return stale
  }

  /** Block b's bounds from its items. */
  private recount(b: number): void {
    this.clearBounds(b)
    const it = this.items
    for (let o = b * BW, end = o + this.len[b]! * IW; o < end; o += IW) this.count(b, it[o + 1]!, it[o + 2]!, it[o + 3]!)
  }

  /** Appends node i (its current key) to block b. */
  private append(b: number, i: number): void {
    const v = this.v
    const p = this.len[b]!
    const o = b * BW + p * IW
    const it = this.items
    const c = v.freeCores(i)
    const d = v.freeDisk(i)
    const st = v.stateBit(i)
    it[o] = v.freeMemory(i)
    it[o + 1] = c
    it[o + 2] = d
    it[o + 3] = st
    it[o + 4] = i
    this.len[b] = p + 1
    this.blockOf[i] = b
    this.posOf[i] = p
    this.count(b, c, d, st)
  }

  /** Takes item p out of block b (the last item takes its place). */
  private removeAt(b: number, p: number): void {
    const it = this.items
    const o = b * BW + p * IW
    const stale = this.uncount(b, it[o + 1]!, it[o + 2]!, it[o + 3]!)
    const last = this.len[b]! - 1
    if (p !== last) {
      const l = b * BW + last * IW
      it[o] = it[l]!
      it[o + 1] = it[l + 1]!
      it[o + 2] = it[l + 2]!
      it[o + 3] = it[l + 3]!
      it[o + 4] = it[l + 4]!
      this.posOf[it[o + 4]!] = p
    }
    this.len[b] = last
    if (stale) this.recount(b)
  }

  update(i: number): void {
    const v = this.v
    const b = this.blockOf[i]!
    const p = this.posOf[i]!
    const it = this.items
    const o = b * BW + p * IW
    const m = v.freeMemory(i)
    const c = v.freeCores(i)
    const d = v.freeDisk(i)
    const st = v.stateBit(i)
    if (it[o] === m && it[o + 1] === c && it[o + 2] === d && it[o + 3] === st) return
    const r = this.rank[b]!
    if (!this.loAfter(b, m, c, i) && (r === this.nb - 1 || this.loAfter(this.order[r + 1]!, m, c, i))) {
      // Still in its block's range: in place.
      const stale = this.uncount(b, it[o + 1]!, it[o + 2]!, it[o + 3]!)
      it[o] = m
      it[o + 1] = c
      it[o + 2] = d
      it[o + 3] = st
      if (stale) this.recount(b)
      else this.count(b, c, d, st)
      this.bounds(b)
      return
    }
    this.removeAt(b, p)
    const t = this.blockFor(m, c, i)
    this.append(t, i)
    const shifts = this.shifts
    if (this.len[t]! > BLOCK_MAX) this.split(t)
    if (this.len[b]! <= BLOCK_MAX / 8) this.shrink(b)
    if (this.shifts !== shifts) this.rebuildRanks()
    else {
      this.bounds(b)
      this.bounds(t)
    }
  }

  /** Block b is small: merge it into a neighbour (its range with it) if both fit in half a block. */
  private shrink(b: number): void {
    if (this.nb === 1) return
    const r = this.rank[b]!
    const into = r > 0 ? this.order[r - 1]! : this.order[r + 1]!
    if (this.len[b]! + this.len[into]! > BLOCK_MAX / 2) return
    const it = this.items
    for (let p = 0, n = this.len[b]!; p < n; p++) this.append(into, it[b * BW + p * IW + 4]!)
    // Merged into the next block (b was first): that block now starts where b started.
    if (r === 0) this.setLo(into, this.loM[b]!, this.loC[b]!, this.loI[b]!)
    this.order.copyWithin(r, r + 1, this.nb)
    this.nb--
    this.shifts++
    for (let k = r; k < this.nb; k++) this.rank[this.order[k]!] = k
    this.spare.push(b)
  }

  /** Block b is over full: its upper half by key (from the median up) becomes a new block after it. */
  private split(b: number): void {
    const it = this.items
    const n = this.len[b]!
    const pos = this.scratch
    for (let p = 0; p < n; p++) pos[p] = p
    const base = b * BW
    const before = (x: number, y: number): boolean => {
      const ox = base + x * IW
      const oy = base + y * IW
      if (it[ox] !== it[oy]) return it[ox]! < it[oy]!
      if (it[ox + 1] !== it[oy + 1]) return it[ox + 1]! < it[oy + 1]!
      return it[ox + 4]! < it[oy + 4]!
    }
    // Quickselect: pos[half] becomes the median, smaller keys before it, larger after.
    const half = n >> 1
    let lo = 0
    let hi = n - 1
    while (lo < hi) {
      const pivot = pos[(lo + hi) >> 1]!
      let x = lo
      let y = hi
      while (x <= y) {
        while (before(pos[x]!, pivot)) x++
        while (before(pivot, pos[y]!)) y--
        if (x <= y) {
          const tmp = pos[x]!
          pos[x] = pos[y]!
          pos[y] = tmp
          x++
          y--
        }
      }
      if (half <= y) hi = y
      else if (half >= x) lo = x
      else break
    }
    const nb = this.newBlock()
    const mo = base + pos[half]! * IW
    this.setLo(nb, it[mo]!, it[mo + 1]!, it[mo + 4]!)
    // Keys from the median up move to the new block; both blocks are filled afresh.
    const stay: Array<number> = []
    const move: Array<number> = []
    for (let k = 0; k < n; k++) (k < half ? stay : move).push(it[base + pos[k]! * IW + 4]!)
    this.len[b] = 0
    this.clearBounds(b)
    for (const i of stay) this.append(b, i)
    for (const i of move) this.append(nb, i)
    const r = this.rank[b]!
    this.order.copyWithin(r + 2, r + 1, this.nb)
    this.order[r + 1] = nb
    this.nb++
    this.shifts++
    for (let k = r + 1; k < this.nb; k++) this.rank[this.order[k]!] = k
  }

  /** May the block at rank r hold a node in `mask` that fits? */
  private mayFit(r: number, c: number, m: number, d: number, mask: number): boolean {
    return this.rC[r]! >= c && this.rD[r]! >= d && this.rM[r]! >= m && (this.rS[r]! & mask) !== 0
  }

  /** May a block of group g? */
  private groupMay(g: number, c: number, m: number, d: number, mask: number): boolean {
    return this.gC[g]! >= c && this.gD[g]! >= d && this.gM[g]! >= m && (this.gS[g]! & mask) !== 0
  }

  /** Least free memory, then least free cores, then lowest index. */
  best(c: number, m: number, d: number, mask: number): number {
    const order = this.order
    const it = this.items
    const nb = this.nb
    for (let r = this.rank[this.blockFor(m, c, -1)]!; r < nb; r++) {
      // At a group's first rank, skip the group if none of its blocks may.
      if ((r & (G - 1)) === 0 && !this.groupMay(r >> GS, c, m, d, mask)) {
        r += G - 1
        continue
      }
      if (!this.mayFit(r, c, m, d, mask)) continue
      const b = order[r]!
      let bm = -1, bc = -1, bi = -1
      for (let o = b * BW, end = o + this.len[b]! * IW; o < end; o += IW) {
        const im = it[o]!
        const ic = it[o + 1]!
        if ((it[o + 3]! & mask) === 0 || ic < c || im < m || it[o + 2]! < d) continue
        const ii = it[o + 4]!
        if (bi < 0 || im < bm || (im === bm && (ic < bc || (ic === bc && ii < bi)))) {
          bm = im
          bc = ic
          bi = ii
        }
      }
      if (bi >= 0) return bi
    }
    return -1
  }

  /** Most free memory, then most free cores, then lowest index. */
  worst(c: number, m: number, d: number, mask: number): number {
    const order = this.order
    const it = this.items
    let bm = -1, bc = -1, bi = -1
    let r = this.nb - 1
    for (; r >= 0; r--) {
      // At a group's last rank, skip the group if none of its blocks may.
      if ((r & (G - 1)) === G - 1 && !this.groupMay(r >> GS, c, m, d, mask)) {
        r -= G - 1
        continue
      }
      if (!this.mayFit(r, c, m, d, mask)) continue
      const b = order[r]!
      for (let o = b * BW, end = o + this.len[b]! * IW; o < end; o += IW) {
        const im = it[o]!
        const ic = it[o + 1]!
        if ((it[o + 3]! & mask) === 0 || ic < c || im < m || it[o + 2]! < d) continue
        const ii = it[o + 4]!
        if (bi < 0 || im > bm || (im === bm && (ic > bc || (ic === bc && ii < bi)))) {
          bm = im
          bc = ic
          bi = ii
        }
      }
      if (bi >= 0) break
    }
    if (bi < 0) return -1
    // Earlier blocks may hold the same (memory, cores) with lower indexes while this block's range starts within that key.
    for (; r > 0 && this.loM[order[r]!] === bm && this.loC[order[r]!] === bc; r--) {
      const b = order[r - 1]!
      for (let o = b * BW, end = o + this.len[b]! * IW; o < end; o += IW) {
        if (it[o] !== bm || it[o + 1] !== bc || (it[o + 3]! & mask) === 0 || it[o + 2]! < d || it[o + 4]! >= bi) continue
        bi = it[o + 4]!
      }
    }
    return bi
  }
}

