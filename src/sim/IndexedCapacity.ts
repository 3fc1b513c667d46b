/**
 * A capacity view for big clusters that answers every query exactly as Capacity.ArrayCapacity does
 * (test/sim/IndexedCapacity.prop.test.ts holds it to that), without scanning every node. This class
 * is the facade: it owns the per-node numbers (`nd`, and `fr`, what searches read), a few answers
 * kept up to date across changes (hints), and three indexes, each built the first time a query needs
 * it and told of every change after that:
 *
 * - first fit (capacity/FirstFitIndex.ts): bitmaps of where a size fits for the first queries seen,
 *   then a 16-ary tree of upper bounds over the nodes in configuration order;
 * - best / worst fit (capacity/RankIndex.ts): tournament trees for the first queries seen, then the
 *   nodes in sorted blocks by (free memory, free cores, index);
 * - free slots per size (capacity/SlotCounter.ts): Eucalyptus's LeastFullFirst arithmetic, per size.
 *
 * So a policy that never asks for best fit never pays for keeping its index up to date.
 */
import * as Capacity from "../model/Capacity.js"
import type * as Ids from "../model/Ids.js"
import type * as Resources from "../model/Resources.js"
import { FitSets, SegTree } from "./capacity/FirstFitIndex.js"
import { RankTrees, SortedBlocks } from "./capacity/RankIndex.js"
import { SlotCounter } from "./capacity/SlotCounter.js"

/** The index (0…3) of a Capacity state bit. */
export const stateIndex = (bit: number): number => 31 - Math.clz32(bit)

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
