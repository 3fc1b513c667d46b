/**
 * The capacity view: how a policy reads the cluster. Read-only to the policy; the decider (and the
 * simulator) own the mutations. `ArrayCapacity` is the naive reference: plain arrays and linear scans.
 * Faster views (the simulator's indexed one) must answer every query exactly as this one does;
 * `test/sim/IndexedCapacity.prop.test.ts` holds the simulator's indexed view to it.
 */
import type * as Ids from "./Ids.js"
import type * as Resources from "./Resources.js"

export type NodeState = "up" | "asleep" | "waking" | "down"

/** A set of node states, as a bit mask. */
export type StateMask = number
export const UP = 1
export const ASLEEP = 2
export const WAKING = 4
export const DOWN = 8
export const AWAKE: StateMask = UP | WAKING
export const NOT_DOWN: StateMask = UP | WAKING | ASLEEP
export const stateBit = (s: NodeState): number => (s === "up" ? UP : s === "asleep" ? ASLEEP : s === "waking" ? WAKING : DOWN)
export const stateOfBit = (b: number): NodeState => (b === UP ? "up" : b === ASLEEP ? "asleep" : b === WAKING ? "waking" : "down")

/** Overcommit ratios per dimension: usable = floor(physical × ratio). 1 means none (Eucalyptus). */
export interface Ratios {
  readonly cores: number
  readonly memory: number
  readonly disk: number
}
export const noOvercommit: Ratios = { cores: 1, memory: 1, disk: 1 }

export const usable = (physical: number, ratio: number): number => Math.floor(physical * ratio)

export interface CapacityView {
  /** Number of nodes, in configuration order; node indexes are 0 … size−1. */
  readonly size: number
  id(i: number): Ids.NodeId
  state(i: number): NodeState
  /** Free capacity after the overcommit ratios: floor(physical × ratio) − allocated. Never negative. */
  freeCores(i: number): number
  freeMemory(i: number): number
  freeDisk(i: number): number
  /** Usable capacity (physical × ratio, floored). */
  capCores(i: number): number
  capMemory(i: number): number
  capDisk(i: number): number
  /** Instances holding capacity on the node. */
  instances(i: number): number
  /**
   * The first node, scanning from `from` to the end and then (if `wrap`) from 0 to `from − 1`, whose
   * state is in `states` and where `demand` fits in every dimension; −1 if none.
   */
  firstFit(demand: Resources.Resources, states: StateMask, from: number, wrap: boolean): number
  /** Among nodes in `states` where `demand` fits: least free memory, then least free cores, then lowest index; −1 if none. */
  bestFit(demand: Resources.Resources, states: StateMask): number
  /** Among nodes in `states` where `demand` fits: most free memory, then most free cores, then lowest index; −1 if none. */
  worstFit(demand: Resources.Resources, states: StateMask): number
}

export const fitsAt = (v: CapacityView, i: number, d: Resources.Resources): boolean =>
  d.cores <= v.freeCores(i) && d.memoryMiB <= v.freeMemory(i) && d.diskGiB <= v.freeDisk(i)

/** A view the owner can change: what placements are made through while a request is being planned. */
export interface MutableCapacity extends CapacityView {
  allocate(i: number, d: Resources.Resources): void
  release(i: number, d: Resources.Resources): void
  setState(i: number, s: NodeState): void
}

export interface NodeRow {
  readonly id: Ids.NodeId
  readonly state: NodeState
  readonly capacity: Resources.Resources
  readonly used: Resources.Resources
  readonly instances: number
}

/** The naive reference view: arrays and linear scans. */
export class ArrayCapacity implements MutableCapacity {
  readonly size: number
  private readonly ids: Array<Ids.NodeId>
  private readonly states: Array<NodeState>
  private readonly cap: Array<[number, number, number]>
  private readonly used: Array<[number, number, number]>
  private readonly count: Array<number>

  constructor(rows: ReadonlyArray<NodeRow>, readonly ratios: Ratios = noOvercommit) {
    this.size = rows.length
    this.ids = rows.map((r) => r.id)
    this.states = rows.map((r) => r.state)
    this.cap = rows.map((r) => [
      usable(r.capacity.cores, ratios.cores),
      usable(r.capacity.memoryMiB, ratios.memory),
      usable(r.capacity.diskGiB, ratios.disk)
    ])
    this.used = rows.map((r) => [r.used.cores, r.used.memoryMiB, r.used.diskGiB])
    this.count = rows.map((r) => r.instances)
  }

  id(i: number) { return this.ids[i]! }
  state(i: number) { return this.states[i]! }
  freeCores(i: number) { return Math.max(0, this.cap[i]![0] - this.used[i]![0]) }
  freeMemory(i: number) { return Math.max(0, this.cap[i]![1] - this.used[i]![1]) }
  freeDisk(i: number) { return Math.max(0, this.cap[i]![2] - this.used[i]![2]) }
  capCores(i: number) { return this.cap[i]![0] }
  capMemory(i: number) { return this.cap[i]![1] }
  capDisk(i: number) { return this.cap[i]![2] }
  instances(i: number) { return this.count[i]! }

  private ok(i: number, d: Resources.Resources, states: StateMask): boolean {
    return (stateBit(this.states[i]!) & states) !== 0 && fitsAt(this, i, d)
  }

  firstFit(d: Resources.Resources, states: StateMask, from: number, wrap: boolean): number {
    for (let i = Math.max(0, from); i < this.size; i++) if (this.ok(i, d, states)) return i
    if (wrap) for (let i = 0; i < Math.min(from, this.size); i++) if (this.ok(i, d, states)) return i
    return -1
  }

  bestFit(d: Resources.Resources, states: StateMask): number {
    let best = -1
    for (let i = 0; i < this.size; i++) {
      if (!this.ok(i, d, states)) continue
      if (
        best < 0 ||
        this.freeMemory(i) < this.freeMemory(best) ||
        (this.freeMemory(i) === this.freeMemory(best) && this.freeCores(i) < this.freeCores(best))
      ) best = i
    }
    return best
  }

  worstFit(d: Resources.Resources, states: StateMask): number {
    let best = -1
    for (let i = 0; i < this.size; i++) {
      if (!this.ok(i, d, states)) continue
      if (
        best < 0 ||
        this.freeMemory(i) > this.freeMemory(best) ||
        (this.freeMemory(i) === this.freeMemory(best) && this.freeCores(i) > this.freeCores(best))
      ) best = i
    }
    return best
  }

  allocate(i: number, d: Resources.Resources): void {
    const u = this.used[i]!
    u[0] += d.cores
    u[1] += d.memoryMiB
    u[2] += d.diskGiB
    this.count[i]! += 1
  }

  release(i: number, d: Resources.Resources): void {
    const u = this.used[i]!
    u[0] -= d.cores
    u[1] -= d.memoryMiB
    u[2] -= d.diskGiB
    this.count[i]! -= 1
  }

  setState(i: number, s: NodeState): void {
    this.states[i] = s
  }
}

/** Why nothing fits: how many nodes each check ruled out (a node counts under its first failing check). */
export interface FitReport {
  readonly nodes: number
  readonly down: number
  readonly wrongState: number
  readonly cores: number
  readonly memory: number
  readonly disk: number
}

export const explain = (v: CapacityView, d: Resources.Resources, states: StateMask): FitReport => {
  let down = 0, wrongState = 0, cores = 0, memory = 0, disk = 0
  for (let i = 0; i < v.size; i++) {
    const s = v.state(i)
    if (s === "down") down++
    else if ((stateBit(s) & states) === 0) wrongState++
    else if (d.cores > v.freeCores(i)) cores++
    else if (d.memoryMiB > v.freeMemory(i)) memory++
    else if (d.diskGiB > v.freeDisk(i)) disk++
  }
  return { nodes: v.size, down, wrongState, cores, memory, disk }
}

export const formatReport = (r: FitReport): string => {
  const parts: Array<string> = []
  if (r.down) parts.push(`${r.down} down`)
  if (r.wrongState) parts.push(`${r.wrongState} not eligible (asleep or waking)`)
  if (r.cores) parts.push(`${r.cores} short of cores`)
  if (r.memory) parts.push(`${r.memory} short of memory`)
  if (r.disk) parts.push(`${r.disk} short of disk`)
  return `${r.nodes} node(s): ${parts.length ? parts.join(", ") : "none ruled out"}`
}
