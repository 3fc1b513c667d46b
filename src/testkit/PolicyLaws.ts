/**
 * The laws every allocation policy must keep, checked with fast-check. A researcher writing a policy
 * imports this module and makes one call:
 *
 *   import * as PolicyLaws from "eucalyptus/testkit/PolicyLaws"
 *   PolicyLaws.check(myPolicy)          // throws with fast-check's counterexample if a law is broken
 *
 * The laws run the policy inside the real decider (src/model/Decide.ts) over random clusters and
 * random sequences of launches, terminations, node failures and recoveries and power ticks:
 *  1. never overcommits any dimension (beyond the policy's declared ratios);
 *  2. never places on a down node;
 *  3. is deterministic: the same state and command give the same decision;
 *  4. MinCount is all-or-nothing: an accepted launch places between MinCount and MaxCount instances
 *     in one zone, a rejected one changes nothing;
 *  5. capacity is conserved: what nodes hold equals what live instances hold, after every step;
 *  6. a complete policy (GREEDY, best-fit, …) rejects only when no eligible node fits.
 * `checkView` holds a fast capacity view to the naive reference: same answers to every query.
 */
import { FastCheck as fc } from "effect"
import * as Capacity from "../model/Capacity.js"
import type * as Commands from "../model/Commands.js"
import * as Decide from "../model/Decide.js"
import { evolveAll } from "../model/Evolve.js"
import * as Ids from "../model/Ids.js"
import * as Network from "../model/Network.js"
import type * as Policy from "../model/Policy.js"
import * as Resources from "../model/Resources.js"
import * as State from "../model/State.js"
import * as Units from "../model/Units.js"
import * as VmType from "../model/VmType.js"

export interface Options {
  /** Runs per law (fast-check's numRuns). Default 200. */
  readonly numRuns?: number
  /** Fix the seed to replay a failure (fast-check prints it). */
  readonly seed?: number
  readonly path?: string
}

// ------------------------------------------------------------------------------------------------
// Scenarios: a small cloud and a sequence of steps. Plain data, so a counterexample reads well.

type NodeSpec = readonly [cores: number, memoryMiB: number, diskGiB: number, state: Capacity.NodeState]

export type Step =
  | { readonly run: readonly [size: readonly [number, number, number], min: number, extra: number, zone: number | null] }
  | { readonly terminate: number }
  | { readonly stopped: number }
  | { readonly booted: number }
  | { readonly lose: number }
  | { readonly report: number }
  | { readonly tick: number }

export interface Scenario {
  readonly zones: ReadonlyArray<ReadonlyArray<NodeSpec>>
  readonly steps: ReadonlyArray<Step>
  /** Answers an external program would give (USER-style policies that consult). */
  readonly answers: ReadonlyArray<number>
}

const nodeArb: fc.Arbitrary<NodeSpec> = fc.tuple(
  fc.integer({ min: 1, max: 8 }),
  fc.constantFrom(256, 512, 1024, 2048, 4096),
  fc.integer({ min: 2, max: 60 }),
  fc.constantFrom<Capacity.NodeState>("up", "up", "up", "down", "asleep")
)

const sizeArb = fc.oneof(
  fc.constantFrom(...VmType.eucalyptusDefaults.map((t) => [t.cores, t.memoryMiB, t.diskGiB] as const)),
  fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 64, max: 2048 }), fc.integer({ min: 1, max: 20 }))
)

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ run: fc.tuple(sizeArb, fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 3 }), fc.option(fc.integer({ min: 0, max: 2 }))) }) },
  { weight: 2, arbitrary: fc.record({ terminate: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ stopped: fc.nat(20) }) },
  { weight: 2, arbitrary: fc.record({ booted: fc.nat(20) }) },
  { weight: 1, arbitrary: fc.record({ lose: fc.nat(10) }) },
  { weight: 1, arbitrary: fc.record({ report: fc.nat(10) }) },
  { weight: 1, arbitrary: fc.record({ tick: fc.integer({ min: 1, max: 900_000 }) }) }
)

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  zones: fc.array(fc.array(nodeArb, { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 2 }),
  steps: fc.array(stepArb, { minLength: 1, maxLength: 25 }),
  answers: fc.array(fc.integer({ min: 0, max: 6 }), { maxLength: 40 })
})

const account = Ids.accountId("kit")

const initial = (sc: Scenario, policy: Policy.Policy<any>): State.State => {
  const nodes = sc.zones.flatMap((zone, zi) =>
    zone.map(([cores, memoryMiB, diskGiB], k) => ({
      id: Ids.nodeId(`z${zi + 1}n${k + 1}`),
      zone: Ids.zoneName(`zone-${zi + 1}`),
      capacity: Resources.make(cores, memoryMiB, diskGiB),
      group: 0,
      idleWatts: 100,
      peakWatts: 200
    }))
  )
  const network = Network.validate(Network.systemSettings)
  if (network._tag === "Left") throw new Error(network.left.message)
  const s = State.make({ nodes, vmTypes: VmType.eucalyptusDefaults, network: network.right, policyInitial: policy.initial })
  // Start each node in its scenario state.
  const states = sc.zones.flatMap((z) => z.map((n) => n[3]))
  return { ...s, nodes: s.nodes.map((n, i) => ({ ...n, state: states[i]! })) }
}

const commandOf = (s: State.State, step: Step, t: number): Commands.Command | undefined => {
  const at = Units.ms(t)
  const live = State.liveInstances(s)
  const pick = <A>(xs: ReadonlyArray<A>, i: number): A | undefined => (xs.length === 0 ? undefined : xs[i % xs.length])
  if ("run" in step) {
    const [[cores, memoryMiB, diskGiB], min, extra, zone] = step.run
    return {
      _tag: "RunInstances",
      at,
      account,
      imageId: "emi-kit",
      size: Resources.make(cores, memoryMiB, diskGiB),
      minCount: min,
      maxCount: min + extra,
      zone: zone === null ? undefined : s.zones[zone % s.zones.length]!.name
    }
  }
  if ("terminate" in step) {
    const i = pick(live, step.terminate)
    return i && { _tag: "TerminateInstances", at, account, instanceIds: [i.id] }
  }
  if ("stopped" in step) {
    const i = pick(live.filter((x) => x.state === "shutting-down"), step.stopped)
    return i && { _tag: "InstanceStopped", at, instanceId: i.id }
  }
  if ("booted" in step) {
    const i = pick(live.filter((x) => x.state === "pending" && x.dispatched), step.booted)
    return i && { _tag: "InstanceBooted", at, instanceId: i.id }
  }
  if ("lose" in step) {
    const n = pick(s.nodes, step.lose)
    return n && { _tag: "NodeLost", at, nodeId: n.id, reason: "kit" }
  }
  if ("report" in step) {
    const n = pick(s.nodes, step.report)
    return n && { _tag: "NodeReported", at, nodeId: n.id }
  }
  return { _tag: "Tick", at }
}

/** Decide, answering consultations from the scenario's answers (then 0 = "no fit"); returns the command as finally decided. */
const decideWith = (
  ctx: Decide.Context,
  s: State.State,
  c: Commands.Command,
  sc: Scenario,
  cursor: { n: number }
): { readonly decision: Decide.Decision; readonly command: Commands.Command } => {
  if (c._tag !== "RunInstances") return { decision: Decide.decide(ctx, s, c), command: c }
  const answers: Array<number> = []
  for (;;) {
    const command = { ...c, answers: [...answers] }
    const decision = Decide.decide(ctx, s, command)
    if (decision._tag !== "Consult") return { decision, command }
    answers.push(sc.answers[cursor.n++] ?? 0)
  }
}

export class LawBroken extends Error {
  override readonly name = "LawBroken"
}

const fail = (law: string, message: string): never => {
  throw new LawBroken(`${law}: ${message}`)
}

const usedOf = (s: State.State) => {
  const held = new Map<string, [number, number, number]>()
  for (const i of State.liveInstances(s)) {
    const h = held.get(i.node) ?? [0, 0, 0]
    held.set(i.node, [h[0] + i.size.cores, h[1] + i.size.memoryMiB, h[2] + i.size.diskGiB])
  }
  return held
}

/** Runs a scenario and checks every law after every step; throws LawBroken naming the law. */
export const runScenario = (policy: Policy.Policy<any>, sc: Scenario): void => {
  const ctx: Decide.Context = { policy }
  let s = initial(sc, policy)
  const cursor = { n: 0 }
  let t = 0
  for (const step of sc.steps) {
    t += "tick" in step ? step.tick : 1000
    const c = commandOf(s, step, t)
    if (!c) continue
    const before = s
    let decided: ReturnType<typeof decideWith>
    try {
      decided = decideWith(ctx, s, c, sc, cursor)
    } catch (e) {
      if (e instanceof Decide.PolicyDefect) {
        return fail(e.rule === "down" ? "never places on a down node" : "never overcommits", e.message)
      }
      throw e
    }
    const { decision: d, command } = decided
    const again = Decide.decide(ctx, s, command)
    if (JSON.stringify(again) !== JSON.stringify(d)) fail("deterministic", `the same state and ${c._tag} gave two different decisions`)
    if (d._tag === "Consult") return fail("deterministic", "a consultation was left unanswered")
    if (d._tag === "Rejected") {
      const r = d.rejection
      if (c._tag === "RunInstances" && policy.complete && r._tag === "InsufficientCapacity") {
        // A complete policy may only fall short of MinCount if MinCount instances do not fit.
        const zone = s.zones.find((z) => z.name === r.zone)!
        const view = new Capacity.ArrayCapacity(State.nodeRows(s, zone), policy.ratios)
        let placed = 0
        for (; placed < c.minCount; placed++) {
          const i = view.firstFit(c.size!, Capacity.NOT_DOWN, 0, false)
          if (i < 0) break
          view.allocate(i, c.size!)
        }
        if (placed >= c.minCount) {
          fail("complete", `rejected ${c.minCount}×${Resources.format(c.size!)} in ${zone.name}, but first-fit places them all (${r.detail})`)
        }
      }
      continue
    }
    s = evolveAll(s, d.events)
    for (const e of d.events) {
      if (e._tag !== "InstancesLaunched" || c._tag !== "RunInstances") continue
      const n = e.instances.length
      if (n < c.minCount || n > c.maxCount) fail("MinCount all-or-nothing", `placed ${n}, asked for ${c.minCount}…${c.maxCount}`)
      for (const x of e.instances) {
        const node = before.nodes.find((y) => y.id === x.node)!
        if (node.state === "down") fail("never places on a down node", `${x.id} went to ${x.node}, which is down`)
        if (node.zone !== e.zone) fail("MinCount all-or-nothing", `the request was split: ${x.node} is not in ${e.zone}`)
      }
    }
    const held = usedOf(s)
    for (const n of s.nodes) {
      const h = held.get(n.id) ?? [0, 0, 0]
      if (h[0] !== n.used.cores || h[1] !== n.used.memoryMiB || h[2] !== n.used.diskGiB) {
        fail("capacity conserved", `${n.id} holds ${Resources.format(n.used)} but its live instances hold ${h.join("/")}`)
      }
      const over = [
        [h[0], Capacity.usable(n.capacity.cores, policy.ratios.cores), "cores"],
        [h[1], Capacity.usable(n.capacity.memoryMiB, policy.ratios.memory), "memory"],
        [h[2], Capacity.usable(n.capacity.diskGiB, policy.ratios.disk), "disk"]
      ] as const
      for (const [used, cap, dim] of over) {
        if (used > cap) fail("never overcommits", `${n.id} holds ${used} ${dim} but may hold at most ${cap}`)
      }
    }
  }
}

/** A complete policy's `place` rejects only when no eligible (not down) node fits. */
export const completenessProperty = (policy: Policy.Policy<any>) =>
  fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 8 }), sizeArb, fc.array(fc.integer({ min: 0, max: 30 }), { maxLength: 8 }), (nodes, size, used) => {
    const rows: Array<Capacity.NodeRow> = nodes.map(([cores, memoryMiB, diskGiB, state], i) => {
      const u = used[i] ?? 0
      return {
        id: Ids.nodeId(`n${i + 1}`),
        state,
        capacity: Resources.make(cores, memoryMiB, diskGiB),
        used: Resources.make(Math.min(cores, u % (cores + 1)), Math.min(memoryMiB, u * 64), Math.min(diskGiB, u)),
        instances: u
      }
    })
    const view = new Capacity.ArrayCapacity(rows, policy.ratios)
    const demand = Resources.make(size[0], size[1], size[2])
    const d = policy.place(view, demand, policy.initial, { index: 0, instanceId: "i-00000001", answers: [], instancesFile: () => "" })
    if (d._tag === "Rejected" && view.firstFit(demand, Capacity.NOT_DOWN, 0, false) >= 0) {
      fail("complete", `rejected ${Resources.format(demand)} although node ${view.id(view.firstFit(demand, Capacity.NOT_DOWN, 0, false))} fits`)
    }
    if (d._tag === "Placed" && (view.state(d.node) === "down" || !Capacity.fitsAt(view, d.node, demand))) {
      fail("never overcommits", `placed ${Resources.format(demand)} on ${view.id(d.node)}, which is ${view.state(d.node)} or too small`)
    }
  })

const assertLaw = (policy: Policy.Policy<any>, what: string, property: fc.IProperty<any>, options: Options) => {
  try {
    fc.assert(property, {
      numRuns: options.numRuns ?? 200,
      ...(options.seed !== undefined ? { seed: options.seed } : {}),
      ...(options.path !== undefined ? { path: options.path } : {})
    })
  } catch (e) {
    throw new LawBroken(`policy "${policy.name}" breaks a law (${what}).\n${e instanceof Error ? e.message : String(e)}`)
  }
}

/** Check every law; throws LawBroken with fast-check's shrunk counterexample and seed. */
export const check = (policy: Policy.Policy<any>, options: Options = {}): void => {
  assertLaw(policy, "scenarios through the decider", fc.property(scenarioArb, (sc) => runScenario(policy, sc)), options)
  if (policy.complete) assertLaw(policy, "completeness of place()", completenessProperty(policy), options)
}

// ------------------------------------------------------------------------------------------------
// Fast views against the naive reference.

type ViewOp =
  | { readonly allocate: readonly [number, readonly [number, number, number]] }
  | { readonly release: number }
  | { readonly state: readonly [number, Capacity.NodeState] }
  | { readonly query: readonly [readonly [number, number, number], number, number, boolean] }

const viewOpArb: fc.Arbitrary<ViewOp> = fc.oneof(
  fc.record({ allocate: fc.tuple(fc.nat(63), sizeArb) }),
  fc.record({ release: fc.nat(63) }),
  fc.record({ state: fc.tuple(fc.nat(63), fc.constantFrom<Capacity.NodeState>("up", "asleep", "waking", "down")) }),
  fc.record({ query: fc.tuple(sizeArb, fc.integer({ min: 1, max: 15 }), fc.nat(63), fc.boolean()) })
)

/**
 * A fast view must answer firstFit / bestFit / worstFit and every per-node read exactly as
 * Capacity.ArrayCapacity does, through any sequence of allocations, releases and state changes.
 */
export const checkView = (
  make: (rows: ReadonlyArray<Capacity.NodeRow>, ratios: Capacity.Ratios) => Capacity.MutableCapacity,
  options: Options = {}
): void => {
  const property = fc.property(
    fc.array(nodeArb, { minLength: 1, maxLength: 64 }),
    fc.constantFrom<Capacity.Ratios>(Capacity.noOvercommit, { cores: 2, memory: 1.5, disk: 1 }),
    fc.array(viewOpArb, { maxLength: 60 }),
    (nodes, ratios, ops) => {
      const rows = nodes.map(([cores, memoryMiB, diskGiB, state], i) => ({
        id: Ids.nodeId(`n${i}`),
        state,
        capacity: Resources.make(cores, memoryMiB, diskGiB),
        used: Resources.zero,
        instances: 0
      }))
      const ref = new Capacity.ArrayCapacity(rows, ratios)
      const fast = make(rows, ratios)
      const held: Array<Array<Resources.Resources>> = rows.map(() => [])
      for (const op of ops) {
        if ("allocate" in op) {
          const i = op.allocate[0] % rows.length
          const d = Resources.make(...op.allocate[1])
          if (!Capacity.fitsAt(ref, i, d)) continue
          ref.allocate(i, d)
          fast.allocate(i, d)
          held[i]!.push(d)
        } else if ("release" in op) {
          const i = op.release % rows.length
          const d = held[i]!.pop()
          if (!d) continue
          ref.release(i, d)
          fast.release(i, d)
        } else if ("state" in op) {
          const i = op.state[0] % rows.length
          ref.setState(i, op.state[1])
          fast.setState(i, op.state[1])
        } else {
          const [[c, m, k], states, from, wrap] = op.query
          const d = Resources.make(c, m, k)
          const start = from % rows.length
          const pairs: Array<[string, number, number]> = [
            ["firstFit", ref.firstFit(d, states, start, wrap), fast.firstFit(d, states, start, wrap)],
            ["bestFit", ref.bestFit(d, states), fast.bestFit(d, states)],
            ["worstFit", ref.worstFit(d, states), fast.worstFit(d, states)]
          ]
          for (const [q, a, b] of pairs) {
            if (a !== b) fail("view equivalence", `${q}(${Resources.format(d)}, states ${states}${q === "firstFit" ? `, from ${start}, wrap ${wrap}` : ""}) = ${b}, reference says ${a}`)
          }
        }
      }
      for (let i = 0; i < rows.length; i++) {
        const a = [ref.state(i), ref.freeCores(i), ref.freeMemory(i), ref.freeDisk(i), ref.instances(i)].join()
        const b = [fast.state(i), fast.freeCores(i), fast.freeMemory(i), fast.freeDisk(i), fast.instances(i)].join()
        if (a !== b) fail("view equivalence", `node ${i}: ${b}, reference says ${a}`)
      }
    }
  )
  try {
    fc.assert(property, { numRuns: options.numRuns ?? 300, ...(options.seed !== undefined ? { seed: options.seed } : {}) })
  } catch (e) {
    throw new LawBroken(`the capacity view differs from the reference.\n${e instanceof Error ? e.message : String(e)}`)
  }
}
