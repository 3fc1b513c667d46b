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

/** Queries whose answers are kept up to date. */
const HINTS = 16
/** A BEST / WORST hint that must be searched again. */
const STALE = -2

export class IndexedCapacity implements Capacity.MutableCapacity {
  readonly size: number
  private readonly ids: ReadonlyArray<Ids.NodeId>
  /**
   * Per node, side by side (one cache line holds two nodes): usable cores, memory, disk; used cores,
   * memory, disk; instances; state as a Capacity state bit (UP, ASLEEP, WAKING, DOWN).
   */
  private readonly nd: Int32Array
  /**
   * Per node, what searches read, side by side in 16 bytes: free cores, memory, disk (clamped at
   * zero) and the state bit. Kept from `nd` on every change. (Read by the indexes below; not for
   * other callers.)
   */
  readonly fr: Int32Array
  /** Bumped on every change. */
  version = 0
  /** Nodes per state (indexed by stateIndex of the state bit). */
  private readonly stateCounts = new Int32Array(4)
  // Answers kept up to date across changes, per query (kind, cores, memory, disk, effective state
  // mask), in HINTS slots reused round-robin. FIRST: a node index below which nothing fits (the first
  // fit from 0 is the first fit from there); BEST / WORST: the answer itself (−1: nothing fits) with
  // its free (memory, cores), or STALE. A change to node i moves them in O(1) each (see `touch`).
  private readonly hKind = new Int32Array(HINTS)
  private readonly hC = new Int32Array(HINTS)
  private readonly hM = new Int32Array(HINTS)
  private readonly hD = new Int32Array(HINTS)
  private readonly hMask = new Int32Array(HINTS)
  private readonly hVal = new Int32Array(HINTS)
  private readonly hKeyM = new Int32Array(HINTS)
  private readonly hKeyC = new Int32Array(HINTS)
  private hints = 0
  private hNext = 0
  // The last first fit from 0, while nothing changed (a caller asking "does anything fit?" and then
  // a policy asking the same costs one search).
  private fVersion = -1
  private fC = 0
  private fM = 0
  private fD = 0
  private fMask = 0
  private fFirst = -1
  private lastQuery = NONE
  private fits: FitSets | undefined
  private trees: RankTrees | undefined
  private seg: SegTree | undefined
  private sorted: SortedBlocks | undefined
  private slotCounter: SlotCounter | undefined

  constructor(rows: ReadonlyArray<Capacity.NodeRow>, readonly ratios: Capacity.Ratios = Capacity.noOvercommit) {
    const n = rows.length
    this.size = n
    this.ids = rows.map((r) => r.id)
    const nd = (this.nd = new Int32Array(n * 8))
    this.fr = new Int32Array(n * 4)
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
      this.refresh(i)
    }
  }

  /** Node i's search row from its usable, used and state. */
  private refresh(i: number): void {
    const nd = this.nd
    const b = i * 8
    const o = i * 4
    const fc = nd[b]! - nd[b + 3]!
    const fm = nd[b + 1]! - nd[b + 4]!
    const fd = nd[b + 2]! - nd[b + 5]!
    const fr = this.fr
    fr[o] = fc > 0 ? fc : 0
    fr[o + 1] = fm > 0 ? fm : 0
    fr[o + 2] = fd > 0 ? fd : 0
    fr[o + 3] = nd[b + 7]!
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
    return Capacity.stateOfBit(this.fr[i * 4 + 3]!)
  }
  /** The node's state as a Capacity state bit. */
  stateBit(i: number): number {
    return this.fr[i * 4 + 3]!
  }
  freeCores(i: number): number {
    return this.fr[i * 4]!
  }
  freeMemory(i: number): number {
    return this.fr[i * 4 + 1]!
  }
  freeDisk(i: number): number {
    return this.fr[i * 4 + 2]!
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
   * For the first FIT_KEYS queries (size and effective state mask) seen, from a bitmap of the nodes
   * where the size fits, kept up to date on every change: the first set bit at or after `from`. For
   * others, from the first-fit tree: the first fit from 0 (searched from its hint, which is usually
   * the answer itself); if that is at or after `from` it is the answer; otherwise search [from, n)
   * and, when wrapping, fall back to it.
   */
  firstFit(d: Resources.Resources, states: Capacity.StateMask, from: number, wrap: boolean): number {
    const n = this.size
    const mask = states & this.present
    if (n === 0 || mask === 0) return -1
    const c = d.cores
    const m = d.memoryMiB
    const k = d.diskGiB
    this.lastQuery = FIRST
    const fits = (this.fits ??= new FitSets(this))
    const key = fits.key(c, m, k, mask)
    if (key >= 0) {
      const j = from < n ? fits.next(key, from) : -1
      if (j >= 0 || !wrap || from <= 0) return j
      return fits.next(key, 0)
    }
    const seg = (this.seg ??= new SegTree(this))
    let j: number
    if (this.fVersion === this.version && this.fC === c && this.fM === m && this.fD === k && this.fMask === mask) j = this.fFirst
    else {
      let h = this.hint(FIRST, c, m, k, mask)
      if (h < 0) {
        h = this.newHint(FIRST, c, m, k, mask)
        this.hVal[h] = 0
      }
      // Nothing fits before hVal: the first fit from 0 is the first fit from there.
      const lo = this.hVal[h]!
      j = lo < n ? seg.first(c, m, k, mask, lo) : -1
      this.hVal[h] = j < 0 ? n : j
      this.fVersion = this.version
      this.fC = c
      this.fM = m
      this.fD = k
      this.fMask = mask
      this.fFirst = j
    }
    if (j < 0 || j >= from) return j
    const r = from < n ? seg.first(c, m, k, mask, from) : -1
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
    const trees = (this.trees ??= new RankTrees(this))
    const t = trees.key(kind === BEST, c, m, k, mask)
    if (t >= 0) return trees.answer(t)
    let h = this.hint(kind, c, m, k, mask)
    if (h >= 0 && this.hVal[h] !== STALE) return this.hVal[h]!
    const sorted = (this.sorted ??= new SortedBlocks(this))
    const r = kind === BEST ? sorted.best(c, m, k, mask) : sorted.worst(c, m, k, mask)
    if (h < 0) h = this.newHint(kind, c, m, k, mask)
    this.hVal[h] = r
    if (r >= 0) {
      this.hKeyM[h] = this.freeMemory(r)
      this.hKeyC[h] = this.freeCores(r)
    }
    return r
  }

  private hint(kind: number, c: number, m: number, d: number, mask: number): number {
    for (let h = 0; h < this.hints; h++) {
      if (this.hKind[h] === kind && this.hC[h] === c && this.hM[h] === m && this.hD[h] === d && this.hMask[h] === mask) return h
    }
    return -1
  }

  private newHint(kind: number, c: number, m: number, d: number, mask: number): number {
    let h: number
    if (this.hints < HINTS) h = this.hints++
    else {
      h = this.hNext
      this.hNext = (h + 1) % HINTS
    }
    this.hKind[h] = kind
    this.hC[h] = c
    this.hM[h] = m
    this.hD[h] = d
    this.hMask[h] = mask
    return h
  }

  /** Node i changed (free capacity or state): bring every hint up to date. */
  private touch(i: number): void {
    const st = this.fr[i * 4 + 3]!
    const fc = this.freeCores(i)
    const fm = this.freeMemory(i)
    const fd = this.freeDisk(i)
    for (let h = 0; h < this.hints; h++) {
      const a = this.hVal[h]!
      const fits = (st & this.hMask[h]!) !== 0 && this.hC[h]! <= fc && this.hM[h]! <= fm && this.hD[h]! <= fd
      switch (this.hKind[h]) {
        case FIRST:
          // Node i may now fit, below the first fit: it is the first fit.
          if (fits && i < a) this.hVal[h] = i
          break
        case BEST: {
          if (a === STALE) break
          const km = this.hKeyM[h]!
          const kc = this.hKeyC[h]!
          if (i === a) {
            // Still fits with no more free than before: still the least free.
            if (fits && (fm < km || (fm === km && fc <= kc))) {
              this.hKeyM[h] = fm
              this.hKeyC[h] = fc
            } else this.hVal[h] = STALE
          } else if (fits && (a < 0 || fm < km || (fm === km && (fc < kc || (fc === kc && i < a))))) {
            this.hVal[h] = i
            this.hKeyM[h] = fm
            this.hKeyC[h] = fc
          }
          break
        }
        case WORST: {
          if (a === STALE) break
          const km = this.hKeyM[h]!
          const kc = this.hKeyC[h]!
          if (i === a) {
            // Still fits with no less free than before: still the most free.
            if (fits && (fm > km || (fm === km && fc >= kc))) {
              this.hKeyM[h] = fm
              this.hKeyC[h] = fc
            } else this.hVal[h] = STALE
          } else if (fits && (a < 0 || fm > km || (fm === km && (fc > kc || (fc === kc && i < a))))) {
            this.hVal[h] = i
            this.hKeyM[h] = fm
            this.hKeyC[h] = fc
          }
          break
        }
      }
    }
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
    this.changed(i)
  }

  setState(i: number, s: Capacity.NodeState): void {
    const b = Capacity.stateBit(s)
    const old = this.nd[i * 8 + 7]!
    if (old === b) return
    this.stateCounts[stateIndex(old)]! -= 1
    this.stateCounts[stateIndex(b)]! += 1
    this.nd[i * 8 + 7] = b
    this.changed(i)
  }

  /** A node reported a different physical capacity. */
  setCapacity(i: number, physical: Resources.Resources): void {
    this.nd[i * 8] = Capacity.usable(physical.cores, this.ratios.cores)
    this.nd[i * 8 + 1] = Capacity.usable(physical.memoryMiB, this.ratios.memory)
    this.nd[i * 8 + 2] = Capacity.usable(physical.diskGiB, this.ratios.disk)
    this.changed(i)
  }

  /** Node i's usable, used or state changed: its search row and every index follow. */
  private changed(i: number): void {
    this.refresh(i)
    this.version++
    if (this.hints > 0) this.touch(i)
    if (this.fits !== undefined) this.fits.update(i)
    if (this.trees !== undefined) this.trees.update(i)
    if (this.seg !== undefined) this.seg.update(i)
    if (this.sorted !== undefined) this.sorted.update(i)
    if (this.slotCounter !== undefined) this.slotCounter.update(i)
  }
}

/** Queries (size, effective state mask) answered from bitmaps; further ones use the tree. */
const FIT_KEYS = 16

/**
 * The nodes where a size fits, for each of up to FIT_KEYS (size, state mask) queries, as bitmaps
 * with summary levels (a bit per non-zero word of the level below): the first fit at or after any
 * node is a descent of a few words, and a change to a node sets or clears one bit per query.
 */
class FitSets {
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
class Bits {
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
class RankTrees {
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
class SegTree {
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

class SortedBlocks {
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
