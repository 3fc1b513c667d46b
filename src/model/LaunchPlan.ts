/**
 * The launch planner: where a RunInstances goes, decided once for both the decider and the fast
 * simulator. `planLaunch` chooses the zone (the one named, else Eucalyptus's LeastFullFirst), bounds
 * the count by what the network and the zone's storage can take, places the instances one at a time
 * through the policy (all or nothing: MinCount or none), wakes the asleep nodes it chose, and lets
 * the network allocator assign addresses to what was placed.
 *
 * It reads and changes capacity only through `Zones` (Decide passes plain ArrayCapacity views built
 * from the state, the fast engine its IndexedCapacity per zone) and addresses only through a
 * `NetworkAllocator` (Decide's works on the state's sets, the fast engine's on typed arrays). On
 * success the views hold the placements and the woken nodes are "waking"; on any other outcome every
 * tentative change has been undone.
 */
import * as Availability from "./Availability.js"
import * as Capacity from "./Capacity.js"
import type * as Policy from "./Policy.js"
import * as Resources from "./Resources.js"

/**
 * A policy returned a node it must not use. That is a bug in the policy (a defect, not a rejection):
 * the planner refuses to apply it, and the policy kit reports it as a broken law.
 */
export class PolicyDefect extends Error {
  override readonly name = "PolicyDefect"
  constructor(readonly policy: string, readonly rule: "exists" | "down" | "fits", detail: string) {
    super(`policy ${policy} ${detail}: a policy must only return nodes that are up (or asleep/waking) and fit`)
  }
}

/** The zones' capacity, as the planner sees it. */
export interface Zones {
  readonly count: number
  /** The zone's index, −1 if there is none of that name. */
  index(name: string): number
  view(zone: number): Capacity.MutableCapacity
  /** Eucalyptus's free slots for `size` in the zone (Availability.slots(view, size).free), for LeastFullFirst. */
  freeSlots(zone: number, size: Resources.Resources): number
  /**
   * A shortcut some views offer: true when no node in `states` can take `size`. A complete policy must
   * then reject, so it is not asked (the rejection's reason text, a scan of the zone, is not wanted).
   */
  nothingFits?(zone: number, size: Resources.Resources, states: Capacity.StateMask): boolean
}

/** How many instances something can take now, and why it takes fewer than asked. */
export interface Bound<R> {
  readonly max: number
  rejection(): R
}

/** Addresses for a launch: a bound on the count, and the assignment once the instances are placed. */
export interface NetworkAllocator<A, R> extends Bound<R> {
  /** Addresses (and a network, if the group has none yet) for `count` placed instances; called at most once. */
  assign(count: number): A
}

export interface Launch<A, R> {
  readonly policy: Policy.Policy<any>
  readonly size: Resources.Resources
  readonly minCount: number
  readonly maxCount: number
  /** The zone asked for; undefined, "" or "default" for LeastFullFirst. */
  readonly zone: string | undefined
  readonly network: NetworkAllocator<A, R>
  /** What the zone's storage controller can hold of the instances' volumes; `invalid` refuses the request outright. */
  storage(zone: number): Bound<R> | { readonly invalid: R }
  /** The zone's policy state before this launch. */
  policyState(zone: number): unknown
  /** The policy's context for instance k of the request. */
  context(zone: number, k: number, answers: ReadonlyArray<number>): Policy.PlaceContext
  /** Answers of earlier consultations of this request (USER), one per instance so far. */
  readonly answers?: ReadonlyArray<number>
  /** Runs the external program at once; without it a consultation is returned to the caller. */
  readonly consult?: ((q: Policy.ExternalQuery) => number) | undefined
}

export type Plan<A, R> =
  | {
      readonly _tag: "Placed"
      readonly zone: number
      /** The node (zone-local index) of each instance, in launch order. */
      readonly nodes: ReadonlyArray<number>
      /** The asleep nodes chosen, now waking, in the order chosen. */
      readonly woken: ReadonlyArray<number>
      readonly policyState: unknown
      readonly assigned: A
    }
  | { readonly _tag: "UnknownZone"; readonly zone: string }
  /** The network or the storage takes fewer than MinCount (or the storage refused the request). */
  | { readonly _tag: "Refused"; readonly rejection: R }
  | { readonly _tag: "InsufficientCapacity"; readonly zone: number; readonly placeable: number; readonly reason: string }
  /** Run the external program and plan again with its answer appended to `answers`. */
  | { readonly _tag: "Consult"; readonly query: Policy.ExternalQuery; readonly index: number }

/** The zone a request goes to: the one named, else the one with the most free slots for its size (ties: the first). */
export const chooseZone = (zones: Zones, named: string | undefined, size: Resources.Resources): number | { readonly unknown: string } => {
  if (named !== undefined && named !== "" && named !== "default") {
    const z = zones.index(named)
    return z < 0 ? { unknown: named } : z
  }
  if (zones.count === 1) return 0
  let best = -1
  let bestFree = -1
  for (let z = 0; z < zones.count; z++) {
    const f = zones.freeSlots(z, size)
    if (f > bestFree) {
      best = z
      bestFree = f
    }
  }
  return best
}

const defect = (policy: string, view: Capacity.CapacityView, i: number, size: Resources.Resources): PolicyDefect | undefined => {
  if (i < 0 || i >= view.size) return new PolicyDefect(policy, "exists", `chose node index ${i}; the zone has ${view.size} nodes`)
  if (view.state(i) === "down") return new PolicyDefect(policy, "down", `chose node ${view.id(i)}, which is down`)
  if (!Capacity.fitsAt(view, i, size)) {
    return new PolicyDefect(
      policy,
      "fits",
      `chose node ${view.id(i)} for ${Resources.format(size)} with only ${view.freeCores(i)} vCPU / ${view.freeMemory(i)} MiB / ${view.freeDisk(i)} GiB free`
    )
  }
  return undefined
}

export const planLaunch = <A, R>(zones: Zones, launch: Launch<A, R>): Plan<A, R> => {
  const { policy, size } = launch
  const chosen = chooseZone(zones, launch.zone, size)
  if (typeof chosen !== "number") return { _tag: "UnknownZone", zone: chosen.unknown }
  const zi = chosen

  // What the network and the storage can take bound the count before any placement.
  const net = launch.network
  const storage = launch.storage(zi)
  if ("invalid" in storage) return { _tag: "Refused", rejection: storage.invalid }
  const maxCount = Math.min(launch.maxCount, net.max, storage.max)
  if (maxCount < launch.minCount) return { _tag: "Refused", rejection: net.max < launch.minCount ? net.rejection() : storage.rejection() }

  // Placement, one instance at a time on a view that holds the earlier ones.
  const view = zones.view(zi)
  let pstate = launch.policyState(zi)
  const nodes: Array<number> = []
  const woken: Array<number> = []
  const answers = launch.answers === undefined ? [] : launch.answers.slice()
  let reason = ""
  const undo = () => {
    for (let k = nodes.length - 1; k >= 0; k--) view.release(nodes[k]!, size)
    for (const w of woken) view.setState(w, "asleep")
  }
  for (let k = 0; k < maxCount; k++) {
    if (policy.complete && zones.nothingFits?.(zi, size, Capacity.NOT_DOWN) === true) break
    let d = policy.place(view, size, pstate, launch.context(zi, k, answers))
    while (d._tag === "Consult") {
      if (launch.consult === undefined) {
        undo()
        return { _tag: "Consult", query: d.query, index: k }
      }
      answers.push(launch.consult(d.query))
      d = policy.place(view, size, pstate, launch.context(zi, k, answers))
    }
    if (d._tag === "Rejected") {
      reason = d.reason
      break
    }
    const i = d.node
    const bad = defect(policy.name, view, i, size)
    if (bad !== undefined) {
      undo()
      throw bad
    }
    if (view.state(i) === "asleep") {
      view.setState(i, "waking")
      woken.push(i)
    }
    view.allocate(i, size)
    nodes.push(i)
    pstate = d.state
  }
  if (nodes.length < launch.minCount) {
    undo()
    return { _tag: "InsufficientCapacity", zone: zi, placeable: nodes.length, reason }
  }
  return { _tag: "Placed", zone: zi, nodes, woken, policyState: pstate, assigned: net.assign(nodes.length) }
}

/** Zones over plain views (the decider's): free slots by Availability's arithmetic. */
export const plainZones = (names: ReadonlyArray<string>, views: ReadonlyArray<Capacity.MutableCapacity>): Zones => ({
  count: views.length,
  index: (name) => names.indexOf(name),
  view: (z) => views[z]!,
  freeSlots: (z, size) => Availability.slots(views[z]!, size).free
})
