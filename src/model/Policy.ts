/**
 * Allocation policies: pure functions of (capacity view, demand, policy state). One call places one
 * instance; the decider calls it once per instance of a request on a view that already holds the
 * earlier placements. A rejection is a value, never an exception.
 *
 * Eucalyptus's policies are reproduced from its cluster controller (cluster/handlers.c):
 * GREEDY, ROUNDROBIN, POWERSAVE and USER; best-fit, worst-fit and overcommit ratios go beyond it.
 */
import * as Capacity from "./Capacity.js"
import type * as Resources from "./Resources.js"
import * as Units from "./Units.js"

export type Decision<S> =
  | { readonly _tag: "Placed"; readonly node: number; readonly state: S }
  | { readonly _tag: "Rejected"; readonly reason: string }
  /** Ask someone outside the core (the shell runs a program); the answer comes back in `ctx.answers`. */
  | { readonly _tag: "Consult"; readonly query: ExternalQuery }

export interface ExternalQuery {
  /** Content of Eucalyptus's resources file: one line per node. */
  readonly resources: string
  /** Content of the instances file: one line per instance in the zone. */
  readonly instances: string
  /** Arguments after the two file names: mem disk cores instId (the shell adds userdata file and platform). */
  readonly args: ReadonlyArray<string>
  readonly program: string
  readonly timeoutMs: number
}

export interface PlaceContext {
  /** 0-based index of this instance within its request. */
  readonly index: number
  readonly instanceId: string
  /** Answers the shell got from consultations of this request, one per instance so far (answers[index] is this one's). */
  readonly answers: ReadonlyArray<number>
  /** Lines describing the zone's instances, for policies that consult a program (USER). */
  readonly instancesFile: () => string
}

export interface PowerSettings {
  /** A node with no instances for this long is powered down. Eucalyptus clamps below 300 s up to 300 s. */
  readonly idleThresholdMs: Units.Millis
  /** How long a woken node takes before it reports up (the simulator uses it; a real node just reports). */
  readonly wakeDelayMs: Units.Millis
}

export interface Policy<S = unknown> {
  readonly name: string
  /** A complete policy rejects only when no eligible node fits (the kit checks it). */
  readonly complete: boolean
  /** Eucalyptus's policies require a VM type table totally ordered by (cpu, memory, disk). */
  readonly requiresOrderedVmTypes: boolean
  readonly ratios: Capacity.Ratios
  readonly power?: PowerSettings
  /** The state of a fresh zone (e.g. the round-robin cursor at 0). Must be JSON-serialisable: it is journaled. */
  readonly initial: S
  place(view: Capacity.CapacityView, demand: Resources.Resources, state: S, ctx: PlaceContext): Decision<S>
}

const rejected = (view: Capacity.CapacityView, demand: Resources.Resources, states: Capacity.StateMask) =>
  ({ _tag: "Rejected", reason: Capacity.formatReport(Capacity.explain(view, demand, states)) }) as const

/**
 * Eucalyptus's GREEDY (schedule_instance_greedy): first node in configuration order that fits, among
 * awake nodes (up or waking); if none fits, the first asleep node that fits (the decider wakes it).
 */
export const greedyPlace = <S>(view: Capacity.CapacityView, demand: Resources.Resources, state: S): Decision<S> => {
  const awake = view.firstFit(demand, Capacity.AWAKE, 0, false)
  if (awake >= 0) return { _tag: "Placed", node: awake, state }
  const asleep = view.firstFit(demand, Capacity.ASLEEP, 0, false)
  if (asleep >= 0) return { _tag: "Placed", node: asleep, state }
  return rejected(view, demand, Capacity.NOT_DOWN)
}

export const greedy = (ratios: Capacity.Ratios = Capacity.noOvercommit): Policy<null> => ({
  name: "greedy",
  complete: true,
  requiresOrderedVmTypes: true,
  ratios,
  initial: null,
  place: (v, d, s) => greedyPlace(v, d, s)
})

export interface Cursor {
  readonly cursor: number
}

/**
 * Eucalyptus's ROUNDROBIN (schedule_instance_roundrobin): first fit among nodes that are not down,
 * starting at the cursor and wrapping; after a success the cursor moves to the node after the chosen
 * one (wrapping to 0); after a failure it stays.
 */
export const roundRobin = (ratios: Capacity.Ratios = Capacity.noOvercommit): Policy<Cursor> => ({
  name: "roundrobin",
  complete: true,
  requiresOrderedVmTypes: true,
  ratios,
  initial: { cursor: 0 },
  place: (view, demand, state) => {
    const start = view.size === 0 ? 0 : state.cursor % view.size
    const i = view.firstFit(demand, Capacity.NOT_DOWN, start, true)
    if (i < 0) return rejected(view, demand, Capacity.NOT_DOWN)
    return { _tag: "Placed", node: i, state: { cursor: i + 1 >= view.size ? 0 : i + 1 } }
  }
})

export const MIN_POWER_THRESHOLD_MS = Units.seconds(300)

/** Eucalyptus clamps POWER_IDLETHRESH below 300 s up to 300 s. */
export const clampIdleThreshold = (msValue: number): Units.Millis =>
  Units.ms(Math.max(MIN_POWER_THRESHOLD_MS, Math.round(msValue)))

/**
 * Eucalyptus's POWERSAVE: GREEDY placement; nodes idle for longer than the threshold are powered down
 * (the decider does it on a power tick) and asleep nodes are woken when GREEDY picks one.
 */
export const powerSave = (
  settings: { readonly idleThresholdMs?: number; readonly wakeDelayMs?: number } = {},
  ratios: Capacity.Ratios = Capacity.noOvercommit
): Policy<null> => ({
  name: "powersave",
  complete: true,
  requiresOrderedVmTypes: true,
  ratios,
  power: {
    idleThresholdMs: clampIdleThreshold(settings.idleThresholdMs ?? 300_000),
    wakeDelayMs: Units.ms(settings.wakeDelayMs ?? 60_000)
  },
  initial: null,
  place: (v, d, s) => greedyPlace(v, d, s)
})

/** Best fit: the awake node left with the least free memory (then cores, then lowest index); asleep nodes only if no awake node fits. */
export const bestFit = (ratios: Capacity.Ratios = Capacity.noOvercommit): Policy<null> => ({
  name: "bestfit",
  complete: true,
  requiresOrderedVmTypes: false,
  ratios,
  initial: null,
  place: (view, demand, state) => {
    const awake = view.bestFit(demand, Capacity.AWAKE)
    if (awake >= 0) return { _tag: "Placed", node: awake, state }
    const asleep = view.bestFit(demand, Capacity.ASLEEP)
    if (asleep >= 0) return { _tag: "Placed", node: asleep, state }
    return rejected(view, demand, Capacity.NOT_DOWN)
  }
})

/** Worst fit (spread): the awake node with the most free memory (then cores, then lowest index). */
export const worstFit = (ratios: Capacity.Ratios = Capacity.noOvercommit): Policy<null> => ({
  name: "worstfit",
  complete: true,
  requiresOrderedVmTypes: false,
  ratios,
  initial: null,
  place: (view, demand, state) => {
    const awake = view.worstFit(demand, Capacity.AWAKE)
    if (awake >= 0) return { _tag: "Placed", node: awake, state }
    const asleep = view.worstFit(demand, Capacity.ASLEEP)
    if (asleep >= 0) return { _tag: "Placed", node: asleep, state }
    return rejected(view, demand, Capacity.NOT_DOWN)
  }
})

const EUCA_STATE: Record<Capacity.NodeState, number> = { down: 0, up: 1, asleep: 2, waking: 3 }

/** Eucalyptus's resources file for USER: `idx=N,ip=..,state=..,availmem=..,availdisk=..,availcores=..` (idx 0-based). */
export const resourcesFile = (view: Capacity.CapacityView): string => {
  let out = ""
  for (let i = 0; i < view.size; i++) {
    out += `idx=${i},ip=${view.id(i)},state=${EUCA_STATE[view.state(i)]},availmem=${view.freeMemory(i)},` +
      `availdisk=${view.freeDisk(i)},availcores=${view.freeCores(i)}\n`
  }
  return out
}

export const USER_TIMEOUT_MS = 8_000

/**
 * Eucalyptus's USER policy: an external program decides. It is called as
 * `program resfile instfile mem disk cores instId userdatafile platform` and its exit code is the
 * 1-based node index (0: nothing fits). The core asks (Consult) and the shell answers; an answer that
 * names a node that does not fit, is down, or does not exist is a rejection, never an overcommit.
 */
export const user = (program: string, ratios: Capacity.Ratios = Capacity.noOvercommit): Policy<null> => ({
  name: "user",
  complete: false,
  requiresOrderedVmTypes: true,
  ratios,
  initial: null,
  place: (view, demand, state, ctx) => {
    if (ctx.index >= ctx.answers.length) {
      return {
        _tag: "Consult",
        query: {
          program,
          timeoutMs: USER_TIMEOUT_MS,
          resources: resourcesFile(view),
          instances: ctx.instancesFile(),
          args: [String(demand.memoryMiB), String(demand.diskGiB), String(demand.cores), ctx.instanceId]
        }
      }
    }
    const answer = ctx.answers[ctx.index]!
    if (answer === 0) return { _tag: "Rejected", reason: `the placement program ${program} found no node (exit 0)` }
    const i = answer - 1
    if (!Number.isInteger(answer) || i < 0 || i >= view.size) {
      return { _tag: "Rejected", reason: `the placement program ${program} answered ${answer}, not a node index 1…${view.size}` }
    }
    if (view.state(i) === "down") return { _tag: "Rejected", reason: `the placement program chose node ${view.id(i)}, which is down` }
    if (!Capacity.fitsAt(view, i, demand)) {
      return { _tag: "Rejected", reason: `the placement program chose node ${view.id(i)}, where the instance does not fit` }
    }
    return { _tag: "Placed", node: i, state }
  }
})
