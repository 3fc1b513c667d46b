/**
 * A capacity view for big clusters that answers every query exactly as Capacity.ArrayCapacity does
 * (test/sim/IndexedCapacity.prop.test.ts holds it to that), without scanning every node:
 *
 * - firstFit: a segment tree over the nodes in configuration order; each tree node keeps, per node
 *   state, the largest free cores, memory and disk below it, so whole runs of full (or wrong-state)
 *   nodes are skipped. The maxima are necessary, not sufficient, so the search may look into a
 *   subtree and come back empty; it is still exact.
 * - bestFit / worstFit: the nodes sorted by (free memory, free cores, index) in blocks of at most 64,
 *   each block carrying the largest free cores, memory, disk and the states present, searched for the
 *   first (last) node that fits.
 * - free slots per size (Eucalyptus's LeastFullFirst arithmetic): kept per size incrementally.
 *
 * Each index is built the first time a query needs it, so a policy that never asks for best fit
 * never pays for keeping the sorted blocks up to date.
 */
import * as Capacity from "../model/Capacity.js"
import type * as Ids from "../model/Ids.js"
import type * as Resources from "../model/Resources.js"

const stateIndex = (bit: number): number => 31 - Math.clz32(bit)

const NONE = 0
const FIRST = 1
const BEST = 2
const WORST = 3

export class IndexedCapacity implements Capacity.MutableCapacity {
  readonly size: number
  private readonly ids: ReadonlyArray<Ids.NodeId>
  /**
   * Per node, side by side (one cache line holds two nodes): usable cores, memory, disk; used cores,
   * memory, disk; instances; state as a Capacity state bit (UP, ASLEEP, WAKING, DOWN).
   */
  private readonly nd: Int32Array
  /** Bumped on every change. */
  version = 0
  /** Nodes per state (indexed by stateIndex of the state bit). */
  private readonly stateCounts = new Int32Array(4)
  // The last first-fit-from-0 answer, valid while `version` is unchanged.
  private cVersion = -1
  private cC = 0
  private cM = 0
  private cD = 0
  private cMask = 0
  private cFirst = -1
  // The last bestFit / worstFit answers: version, mask, cores, memory, disk, result.
  private readonly bCache = new Float64Array([-1, 0, 0, 0, 0, -1])
  private readonly wCache = new Float64Array([-1, 0, 0, 0, 0, -1])
  private lastQuery = NONE
  private seg: SegTree | undefined
  private sorted: SortedBlocks | undefined
  private slotCounter: SlotCounter | undefined

  constructor(rows: ReadonlyArray<Capacity.NodeRow>, readonly ratios: Capacity.Ratios = Capacity.noOvercommit) {
    const n = rows.length
    this.size = n
    this.ids = rows.map((r) => r.id)
    const nd = (this.nd = new Int32Array(n * 8))
    for (let i = 0; i < n; i++) {
      const r = rows[i]!
      const b = i * 8
      nd[b] = Capacity.usable(r.capacity.cores, ratios.cores)
      nd[b + 1] = Capacity.usable(r.capacity.memoryMiB, ratios.memory)
      nd[b + 2] = Capacity.usable(r.capacity.diskGiB, ratios.disk)
      nd[b + 3] = r.used.cores
      nd[b + 4] = r.used.memoryMiB
      nd[b + 5] = r.used.diskGiB
      nd[b + 6] = r.instances
      nd[b + 7] = Capacity.stateBit(r.state)
      this.stateCounts[stateIndex(nd[b + 7]!)]! += 1
    }
  }

  /** The states at least one node is in, as a mask. */
  get present(): number {
    const k = this.stateCounts
    return (k[0]! > 0 ? 1 : 0) | (k[1]! > 0 ? 2 : 0) | (k[2]! > 0 ? 4 : 0) | (k[3]! > 0 ? 8 : 0)
  }

  id(i: number): Ids.NodeId {
    return this.ids[i]!
  }
  state(i: number): Capacity.NodeState {
    return Capacity.stateOfBit(this.nd[i * 8 + 7]!)
  }
  /** The node's state as a Capacity state bit. */
  stateBit(i: number): number {
    return this.nd[i * 8 + 7]!
  }
  freeCores(i: number): number {
    const f = this.nd[i * 8]! - this.nd[i * 8 + 3]!
    return f > 0 ? f : 0
  }
  freeMemory(i: number): number {
    const f = this.nd[i * 8 + 1]! - this.nd[i * 8 + 4]!
    return f > 0 ? f : 0
  }
  freeDisk(i: number): number {
    const f = this.nd[i * 8 + 2]! - this.nd[i * 8 + 5]!
    return f > 0 ? f : 0
  }
  capCores(i: number): number {
    return this.nd[i * 8]!
  }
  capMemory(i: number): number {
    return this.nd[i * 8 + 1]!
  }
  capDisk(i: number): number {
    return this.nd[i * 8 + 2]!
  }
  instances(i: number): number {
    return this.nd[i * 8 + 6]!
  }

  /**
   * Answered from the first fit from node 0 (cached until the next change, so that a caller asking
   * "does anything fit?" and then a policy asking the same costs one search): if that is at or after
   * `from` it is the answer; otherwise search [from, n) and, when wrapping, fall back to it.
   */
  firstFit(d: Resources.Resources, states: Capacity.StateMask, from: number, wrap: boolean): number {
    const n = this.size
    const mask = states & this.present
    if (n === 0 || mask === 0) return -1
    const c = d.cores
    const m = d.memoryMiB
    const k = d.diskGiB
    const seg = (this.seg ??= new SegTree(this))
    this.lastQuery = FIRST
    let j: number
    if (this.cVersion === this.version && this.cMask === mask && this.cC === c && this.cM === m && this.cD === k) j = this.cFirst
    else {
      j = seg.first(c, m, k, mask, 0, n)
      this.cVersion = this.version
      this.cMask = mask
      this.cC = c
      this.cM = m
      this.cD = k
      this.cFirst = j
    }
    if (j < 0 || j >= from) return j
    const r = from < n ? seg.first(c, m, k, mask, from, n) : -1
    if (r >= 0) return r
    return wrap ? j : -1
  }

  /**
   * True only if `d` certainly fits on no node whose state is in `states` (false: it may fit). Asked
   * with the index the policy itself queries (the one it used last), so that the answer — cached
   * until the next change — usually answers the policy's own query too, and a best-fit cloud never
   * builds the segment tree. Before any query it does not know, and says false.
   */
  nothingFits(d: Resources.Resources, states: Capacity.StateMask): boolean {
    switch (this.lastQuery) {
      case FIRST:
        return this.firstFit(d, states, 0, false) < 0
      case BEST:
        return this.bestFit(d, states) < 0
      case WORST:
        return this.worstFit(d, states) < 0
      default:
        return false
    }
  }

  bestFit(d: Resources.Resources, states: Capacity.StateMask): number {
    return this.ranked(BEST, d, states)
  }

  worstFit(d: Resources.Resources, states: Capacity.StateMask): number {
    return this.ranked(WORST, d, states)
  }

  private ranked(kind: number, d: Resources.Resources, states: Capacity.StateMask): number {
    this.lastQuery = kind
    const mask = states & this.present
    if (this.size === 0 || mask === 0) return -1
    const c = d.cores
    const m = d.memoryMiB
    const k = d.diskGiB
    const x = kind === BEST ? this.bCache : this.wCache
    if (x[0] === this.version && x[1] === mask && x[2] === c && x[3] === m && x[4] === k) return x[5]!
    const sorted = (this.sorted ??= new SortedBlocks(this))
    const r = kind === BEST ? sorted.best(c, m, k, mask) : sorted.worst(c, m, k, mask)
    x[0] = this.version
    x[1] = mask
    x[2] = c
    x[3] = m
    x[4] = k
    x[5] = r
    return r
  }

  /**
   * Free slots for `size` with Availability.slots's arithmetic (per node how many copies fit, summed
   * over nodes that are not down): what LeastFullFirst compares between zones.
   */
  freeSlots(size: Resources.Resources): number {
    return (this.slotCounter ??= new SlotCounter(this)).free(size.cores, size.memoryMiB, size.diskGiB)
  }

  allocate(i: number, d: Resources.Resources): void {
    this.add(i, d.cores, d.memoryMiB, d.diskGiB, 1)
  }

  release(i: number, d: Resources.Resources): void {
    this.add(i, -d.cores, -d.memoryMiB, -d.diskGiB, -1)
  }

  /** allocate/release by numbers (the engine's hot path: no Resources object at hand). */
  add(i: number, cores: number, memoryMiB: number, diskGiB: number, instances: number): void {
    const b = i * 8
    const nd = this.nd
    nd[b + 3]! += cores
    nd[b + 4]! += memoryMiB
    nd[b + 5]! += diskGiB
    nd[b + 6]! += instances
    this.changed(i, nd[b + 7]!)
  }

  setState(i: number, s: Capacity.NodeState): void {
    const b = Capacity.stateBit(s)
    const old = this.nd[i * 8 + 7]!
    if (old === b) return
    this.stateCounts[stateIndex(old)]! -= 1
    this.stateCounts[stateIndex(b)]! += 1
    this.nd[i * 8 + 7] = b
    this.changed(i, old)
  }

  /** A node reported a different physical capacity. */
  setCapacity(i: number, physical: Resources.Resources): void {
    this.nd[i * 8] = Capacity.usable(physical.cores, this.ratios.cores)
    this.nd[i * 8 + 1] = Capacity.usable(physical.memoryMiB, this.ratios.memory)
    this.nd[i * 8 + 2] = Capacity.usable(physical.diskGiB, this.ratios.disk)
    this.changed(i, this.nd[i * 8 + 7]!)
  }

  private changed(i: number, oldBit: number): void {
    this.version++
    if (this.seg !== undefined) this.seg.update(i, oldBit)
    if (this.sorted !== undefined) this.sorted.update(i)
    if (this.slotCounter !== undefined) this.slotCounter.update(i)
  }
}

/**
 * The segment tree: for each of the 4 node states its own array, where tree node k holds at 4k the
 * largest free cores, memory and disk of the leaves below it that are in that state (−1: none).
 * One array per state keeps the common case dense: with every node up, an update and a search touch
 * only the UP array, four tree nodes per cache line.
 */
class SegTree {
  private readonly p: number
  private readonly t: Array<Int32Array>

  constructor(private readonly v: IndexedCapacity) {
    let p = 1
    while (p < v.size) p <<= 1
    this.p = p
    this.t = [0, 1, 2, 3].map(() => new Int32Array(2 * p * 4).fill(-1))
    for (let i = 0; i < v.size; i++) {
      const a = this.t[stateIndex(v.stateBit(i))]!
      const b = (p + i) * 4
      a[b] = v.freeCores(i)
      a[b + 1] = v.freeMemory(i)
      a[b + 2] = v.freeDisk(i)
    }
    for (const a of this.t) for (let k = p - 1; k >= 1; k--) pull(a, k)
  }

  /** Node i changed (its state was `oldBit`): only its old and new state's arrays can change. */
  update(i: number, oldBit: number): void {
    const v = this.v
    const leaf = (this.p + i) * 4
    const ns = stateIndex(v.stateBit(i))
    const os = stateIndex(oldBit)
    const a = this.t[ns]!
    a[leaf] = v.freeCores(i)
    a[leaf + 1] = v.freeMemory(i)
    a[leaf + 2] = v.freeDisk(i)
    for (let k = (this.p + i) >> 1; k >= 1 && pull(a, k); k >>= 1);
    if (os !== ns) {
      const o = this.t[os]!
      o[leaf] = -1
      o[leaf + 1] = -1
      o[leaf + 2] = -1
      for (let k = (this.p + i) >> 1; k >= 1 && pull(o, k); k >>= 1);
    }
  }

  private may(k: number, c: number, m: number, d: number, mask: number): boolean {
    const b = k * 4
    const t = this.t
    if ((mask & 1) !== 0) {
      const a = t[0]!
      if (a[b]! >= c && a[b + 1]! >= m && a[b + 2]! >= d) return true
    }
    if ((mask & 2) !== 0) {
      const a = t[1]!
      if (a[b]! >= c && a[b + 1]! >= m && a[b + 2]! >= d) return true
    }
    if ((mask & 4) !== 0) {
      const a = t[2]!
      if (a[b]! >= c && a[b + 1]! >= m && a[b + 2]! >= d) return true
    }
    if ((mask & 8) !== 0) {
      const a = t[3]!
      if (a[b]! >= c && a[b + 1]! >= m && a[b + 2]! >= d) return true
    }
    return false
  }

  /** The leftmost leaf in [lo, hi) whose state is in `mask` and where (c, m, d) fits; −1 if none. */
  first(c: number, m: number, d: number, mask: number, lo: number, hi: number): number {
    if (lo === 0 && hi >= this.v.size) return this.leftmost(c, m, d, mask)
    return this.find(1, 0, this.p, c, m, d, mask, lo, hi)
  }

  /** The leftmost fitting leaf of the whole tree: descend left first, back up where a subtree came out empty. */
  private leftmost(c: number, m: number, d: number, mask: number): number {
    if (!this.may(1, c, m, d, mask)) return -1
    const p = this.p
    let k = 1
    while (k < p) {
      const l = 2 * k
      if (this.may(l, c, m, d, mask)) k = l
      else if (this.may(l + 1, c, m, d, mask)) k = l + 1
      else {
        // Both children empty although their maxima said maybe: take the next right sibling up the path.
        for (;;) {
          if (k === 1) return -1
          if ((k & 1) === 0 && this.may(k + 1, c, m, d, mask)) {
            k = k + 1
            break
          }
          k >>= 1
        }
      }
    }
    return k - p
  }

  private find(k: number, nl: number, nr: number, c: number, m: number, d: number, mask: number, lo: number, hi: number): number {
    if (nr <= lo || nl >= hi || !this.may(k, c, m, d, mask)) return -1
    if (k >= this.p) return k - this.p
    const mid = (nl + nr) >> 1
    const r = this.find(2 * k, nl, mid, c, m, d, mask, lo, hi)
    if (r >= 0) return r
    return this.find(2 * k + 1, mid, nr, c, m, d, mask, lo, hi)
  }
}

/** Recomputes tree node k of one state's array from its children; false if nothing changed. */
const pull = (a: Int32Array, k: number): boolean => {
  const b = k * 4
  const l = 2 * b
  const r = l + 4
  const c = a[l]! > a[r]! ? a[l]! : a[r]!
  const m = a[l + 1]! > a[r + 1]! ? a[l + 1]! : a[r + 1]!
  const d = a[l + 2]! > a[r + 2]! ? a[l + 2]! : a[r + 2]!
  if (a[b] === c && a[b + 1] === m && a[b + 2] === d) return false
  a[b] = c
  a[b + 1] = m
  a[b + 2] = d
  return true
}

/**
 * Nodes in the order (free memory, free cores, index), as a list of sorted blocks of at most
 * BLOCK_MAX nodes. Each block keeps the largest free cores and disk of its nodes (its largest free
 * memory is its last node's) and how many of them are in each state, always exact (a removal rescans
 * its block only when the last node holding a maximum leaves), so a search skips whole blocks. The key a node is
 * filed under is kept apart (kM, kC, with kD and kS its disk and state at filing time), so a node
 * whose free capacity changed is found where it was filed, taken out, and filed again.
 */
const BLOCK_MAX = 64

class SortedBlocks {
  private readonly kM: Int32Array
  private readonly kC: Int32Array
  private readonly kD: Int32Array
  private readonly kS: Uint8Array
  private readonly blockOf: Int32Array
  /** Block ids in key order. */
  private readonly order: Array<number> = []
  private readonly items: Array<Int32Array> = []
  private readonly len: Array<number> = []
  private readonly aC: Array<number> = []
  private readonly aD: Array<number> = []
  /** How many of the block's nodes hold each maximum. */
  private readonly nC: Array<number> = []
  private readonly nD: Array<number> = []
  /** Per block, nodes in each of the 4 states (4 counters per block). */
  private sc: Int32Array = new Int32Array(64)
  private readonly spare: Array<number> = []

  constructor(private readonly v: IndexedCapacity) {
    const n = v.size
    this.kM = new Int32Array(n)
    this.kC = new Int32Array(n)
    this.kD = new Int32Array(n)
    this.kS = new Uint8Array(n)
    this.blockOf = new Int32Array(n)
    const all: Array<number> = []
    for (let i = 0; i < n; i++) {
      this.file(i)
      all.push(i)
    }
    all.sort((a, b) => (this.less(a, b) ? -1 : 1))
    for (let k = 0; k < n; k += BLOCK_MAX / 2) {
      const b = this.newBlock()
      const end = Math.min(n, k + BLOCK_MAX / 2)
      for (let j = k; j < end; j++) {
        this.items[b]![j - k] = all[j]!
        this.blockOf[all[j]!] = b
      }
      this.len[b] = end - k
      this.refresh(b)
      this.order.push(b)
    }
  }

  private newBlock(): number {
    const b = this.spare.length > 0 ? this.spare.pop()! : this.items.length
    if (b === this.items.length) {
      this.items.push(new Int32Array(BLOCK_MAX + 1))
      this.len.push(0)
      this.aC.push(-1)
      this.aD.push(-1)
      this.nC.push(0)
      this.nD.push(0)
      if (this.sc.length < (b + 1) * 4) {
        const sc = new Int32Array(this.sc.length * 2)
        sc.set(this.sc)
        this.sc = sc
      }
    }
    this.len[b] = 0
    this.aC[b] = -1
    this.aD[b] = -1
    this.nC[b] = 0
    this.nD[b] = 0
    this.sc.fill(0, b * 4, b * 4 + 4)
    return b
  }

  private file(i: number): void {
    const v = this.v
    this.kM[i] = v.freeMemory(i)
    this.kC[i] = v.freeCores(i)
    this.kD[i] = v.freeDisk(i)
    this.kS[i] = v.stateBit(i)
  }

  /** Is a filed before b? */
  private less(a: number, b: number): boolean {
    const ma = this.kM[a]!
    const mb = this.kM[b]!
    if (ma !== mb) return ma < mb
    const ca = this.kC[a]!
    const cb = this.kC[b]!
    if (ca !== cb) return ca < cb
    return a < b
  }

  /** Is node a filed below the key (m, c) (any index)? */
  private below(a: number, m: number, c: number): boolean {
    const ma = this.kM[a]!
    return ma < m || (ma === m && this.kC[a]! < c)
  }

  /** Recomputes block b's largest free cores and disk, their counts, and the state counts from its nodes. */
  private refresh(b: number): void {
    const xs = this.items[b]!
    let c = -1, d = -1, nc = 0, nd = 0
    const sc = this.sc
    sc.fill(0, b * 4, b * 4 + 4)
    for (let k = 0, n = this.len[b]!; k < n; k++) {
      const i = xs[k]!
      const ci = this.kC[i]!
      const di = this.kD[i]!
      if (ci > c) {
        c = ci
        nc = 1
      } else if (ci === c) nc++
      if (di > d) {
        d = di
        nd = 1
      } else if (di === d) nd++
      sc[b * 4 + stateIndex(this.kS[i]!)]! += 1
    }
    this.aC[b] = c
    this.aD[b] = d
    this.nC[b] = nc
    this.nD[b] = nd
  }

  update(i: number): void {
    const v = this.v
    if (this.kM[i] === v.freeMemory(i) && this.kC[i] === v.freeCores(i) && this.kD[i] === v.freeDisk(i) && this.kS[i] === v.stateBit(i)) return
    this.remove(i)
    this.file(i)
    this.insert(i)
  }

  private remove(i: number): void {
    const b = this.blockOf[i]!
    const xs = this.items[b]!
    const n = this.len[b]!
    const pos = xs.indexOf(i)
    xs.copyWithin(pos, pos + 1, n)
    this.len[b] = n - 1
    if (n === 1) {
      this.order.splice(this.order.indexOf(b), 1)
      this.spare.push(b)
    } else {
      this.sc[b * 4 + stateIndex(this.kS[i]!)]! -= 1
      let stale = false
      if (this.kC[i] === this.aC[b] && --this.nC[b]! === 0) stale = true
      if (this.kD[i] === this.aD[b] && --this.nD[b]! === 0) stale = true
      if (stale) this.refresh(b)
    }
  }

  private insert(i: number): void {
    const order = this.order
    if (order.length === 0) {
      const b = this.newBlock()
      order.push(b)
      this.put(b, 0, i)
      return
    }
    // The first block whose last node is filed after i (else the last block).
    let lo = 0
    let hi = order.length - 1
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const b = order[mid]!
      if (this.less(this.items[b]![this.len[b]! - 1]!, i)) lo = mid + 1
      else hi = mid
    }
    const ob = lo
    const b = order[ob]!
    const xs = this.items[b]!
    let p = 0
    let q = this.len[b]!
    while (p < q) {
      const mid = (p + q) >> 1
      if (this.less(xs[mid]!, i)) p = mid + 1
      else q = mid
    }
    this.put(b, p, i)
    if (this.len[b]! > BLOCK_MAX) this.split(ob)
  }

  private put(b: number, pos: number, i: number): void {
    const xs = this.items[b]!
    const n = this.len[b]!
    xs.copyWithin(pos + 1, pos, n)
    xs[pos] = i
    this.len[b] = n + 1
    this.blockOf[i] = b
    const ci = this.kC[i]!
    const di = this.kD[i]!
    if (ci > this.aC[b]!) {
      this.aC[b] = ci
      this.nC[b] = 1
    } else if (ci === this.aC[b]) this.nC[b]! += 1
    if (di > this.aD[b]!) {
      this.aD[b] = di
      this.nD[b] = 1
    } else if (di === this.aD[b]) this.nD[b]! += 1
    this.sc[b * 4 + stateIndex(this.kS[i]!)]! += 1
  }

  private split(ob: number): void {
    const b = this.order[ob]!
    const xs = this.items[b]!
    const n = this.len[b]!
    const half = n >> 1
    const nb = this.newBlock()
    const ys = this.items[nb]!
    for (let k = half; k < n; k++) {
      ys[k - half] = xs[k]!
      this.blockOf[xs[k]!] = nb
    }
    this.len[nb] = n - half
    this.len[b] = half
    this.refresh(b)
    this.refresh(nb)
    this.order.splice(ob + 1, 0, nb)
  }

  private mayFit(b: number, c: number, m: number, d: number, mask: number): boolean {
    // Memory is the first sort key: the block's largest free memory is its last node's.
    if (!(this.aC[b]! >= c && this.kM[this.items[b]![this.len[b]! - 1]!]! >= m && this.aD[b]! >= d)) return false
    const sc = this.sc
    const o = b * 4
    return ((mask & 1) !== 0 && sc[o]! > 0) || ((mask & 2) !== 0 && sc[o + 1]! > 0) || ((mask & 4) !== 0 && sc[o + 2]! > 0) || ((mask & 8) !== 0 && sc[o + 3]! > 0)
  }

  private fits(i: number, c: number, m: number, d: number, mask: number): boolean {
    return (this.kS[i]! & mask) !== 0 && this.kC[i]! >= c && this.kM[i]! >= m && this.kD[i]! >= d
  }

  /** The first node in order, filed at or after (lowM, lowC), that fits. */
  private firstFrom(lowM: number, lowC: number, c: number, m: number, d: number, mask: number): number {
    const order = this.order
    let lo = 0
    let hi = order.length
    // The first block whose last node is not below the bound.
    while (lo < hi) {
      const mid = (lo + hi) >> 1
      const b = order[mid]!
      if (this.below(this.items[b]![this.len[b]! - 1]!, lowM, lowC)) lo = mid + 1
      else hi = mid
    }
    for (let ob = lo; ob < order.length; ob++) {
      const b = order[ob]!
      if (!this.mayFit(b, c, m, d, mask)) continue
      const xs = this.items[b]!
      for (let k = 0, n = this.len[b]!; k < n; k++) {
        const i = xs[k]!
        if (!this.below(i, lowM, lowC) && this.fits(i, c, m, d, mask)) return i
      }
    }
    return -1
  }

  /** Least free memory, then least free cores, then lowest index. */
  best(c: number, m: number, d: number, mask: number): number {
    return this.firstFrom(m, c, c, m, d, mask)
  }

  /** Most free memory, then most free cores, then lowest index. */
  worst(c: number, m: number, d: number, mask: number): number {
    const order = this.order
    for (let ob = order.length - 1; ob >= 0; ob--) {
      const b = order[ob]!
      if (!this.mayFit(b, c, m, d, mask)) continue
      const xs = this.items[b]!
      for (let k = this.len[b]! - 1; k >= 0; k--) {
        const x = xs[k]!
        // The lowest index among the fitting nodes with x's (memory, cores).
        if (this.fits(x, c, m, d, mask)) return this.firstFrom(this.kM[x]!, this.kC[x]!, c, m, d, mask)
      }
    }
    return -1
  }
}

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

class SlotCounter {
  /** Tracked sizes as (cores, memory, disk) triples. */
  private readonly sizes: Array<number> = []
  private readonly sums: Array<number> = []
  /** Per tracked size, what each node contributes. */
  private readonly contrib: Array<Int32Array> = []
  private cacheKey = ""
  private cacheVersion = -1
  private cacheValue = 0

  constructor(private readonly v: IndexedCapacity) {}

  private one(i: number, c: number, m: number, d: number): number {
    const v = this.v
    return v.stateBit(i) === Capacity.DOWN ? 0 : copies(c, m, d, v.freeCores(i), v.freeMemory(i), v.freeDisk(i))
  }

  private scan(c: number, m: number, d: number, into?: Int32Array): number {
    let sum = 0
    for (let i = 0; i < this.v.size; i++) {
      const k = this.one(i, c, m, d)
      if (into !== undefined) into[i] = k
      sum += k
    }
    return sum
  }

  free(c: number, m: number, d: number): number {
    const s = this.sizes
    for (let k = 0; k < s.length; k += 3) if (s[k] === c && s[k + 1] === m && s[k + 2] === d) return this.sums[k / 3]!
    if (s.length < MAX_TRACKED * 3) {
      s.push(c, m, d)
      const into = new Int32Array(this.v.size)
      const sum = this.scan(c, m, d, into)
      this.contrib.push(into)
      this.sums.push(sum)
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
    const s = this.sizes
    const v = this.v
    const on = v.stateBit(i) !== Capacity.DOWN
    const fc = v.freeCores(i)
    const fm = v.freeMemory(i)
    const fd = v.freeDisk(i)
    for (let k = 0, j = 0; k < s.length; k += 3, j++) {
      const now = on ? copies(s[k]!, s[k + 1]!, s[k + 2]!, fc, fm, fd) : 0
      const was = this.contrib[j]!
      const before = was[i]!
      if (now !== before) {
        this.sums[j]! += now - before
        was[i] = now
      }
    }
  }
}
