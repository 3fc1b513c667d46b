/**
 * Laws for dynamic-consolidation policies, checked with fast-check over small random data centres
 * and random utilisation traces, with shrunk counterexamples. An author states the laws of their own
 * policy (or takes the ones below) and makes one call:
 *
 *   import * as ConsolidationLaws from "eucalyptus/testkit/ConsolidationLaws"
 *   ConsolidationLaws.check(policy, { laws: [ConsolidationLaws.neverToOwnHost, ConsolidationLaws.energyConserves] })
 *   ConsolidationLaws.compare(a, b, (ra, rb) => ra.result.metrics.energyKWh <= rb.result.metrics.energyKWh ? undefined : "a used more energy")
 *
 * A law looks at one run: the scenario, every migration as it started (`Engine.MigrationStart`) and
 * the result; it returns undefined when it holds, or a sentence saying how it is broken.
 */
import { FastCheck as fc } from "effect"
import * as Policy from "../model/consolidation/Policy.js"
import * as PowerModel from "../model/power/PowerModel.js"
import * as Engine from "../sim/consolidation/Engine.js"
import * as Setup from "../sim/consolidation/PlanetLab.js"

export interface Scenario {
  /** Host types (0 = HP ML110 G4, 1 = G5), in host order. */
  readonly hosts: ReadonlyArray<0 | 1>
  /** VM type (0–3, CloudSim's four) and utilisation levels in percent, each held for an equal share of the day. */
  readonly vms: ReadonlyArray<{ readonly type: 0 | 1 | 2 | 3; readonly levels: ReadonlyArray<number> }>
  /** Simulated seconds. */
  readonly limit: number
  readonly seed: number
}

export interface RunRecord {
  readonly scenario: Scenario
  readonly policy: Policy.Policy
  readonly migrations: ReadonlyArray<Engine.MigrationStart>
  readonly result: Engine.Result
  readonly config: Engine.Config
}

export interface Law {
  readonly name: string
  readonly holds: (run: RunRecord) => string | undefined
}

export interface Options {
  readonly laws?: ReadonlyArray<Law>
  /** Runs per law (fast-check's numRuns). Default 100. */
  readonly numRuns?: number
  readonly seed?: number
  readonly cloudsimCompatible?: boolean
}

export class LawBroken extends Error {
  constructor(readonly law: string, readonly scenario: Scenario, readonly detail: string) {
    super(`${law} is broken: ${detail}\n  smallest counterexample: ${JSON.stringify(scenario)}`)
  }
}

const samples = 289

/** The utilisation array of a VM: each level repeated for an equal share of the 289 samples. */
export const utilization = (levels: ReadonlyArray<number>): Float64Array => {
  const out = new Float64Array(samples)
  const per = Math.ceil(samples / Math.max(1, levels.length))
  for (let i = 0; i < samples; i++) out[i] = (levels[Math.min(levels.length - 1, Math.floor(i / per))] ?? 0) / 100
  return out
}

export const config = (sc: Scenario, policy: Policy.Policy, extra: Partial<Engine.Config> = {}): Engine.Config => ({
  hosts: sc.hosts.map((t) => Setup.hostTypes[t]!),
  vms: sc.vms.map((v) => ({ mips: Setup.vmTypes[v.type]!.mips, ram: Setup.vmTypes[v.type]!.ram, bw: 100_000, size: 2500, utilization: utilization(v.levels) })),
  policy,
  seed: sc.seed,
  limit: sc.limit,
  ...extra
})

/** Runs a policy on a scenario, recording every migration. */
export const runScenario = (policy: Policy.Policy, sc: Scenario, cloudsimCompatible = true): RunRecord => {
  const migrations: Array<Engine.MigrationStart> = []
  const cfg = config(sc, policy, { cloudsimCompatible, onMigration: (m) => migrations.push(m) })
  return { scenario: sc, policy, migrations, result: Engine.run(cfg), config: cfg }
}

export const scenarioArb: fc.Arbitrary<Scenario> = fc.record({
  hosts: fc.array(fc.constantFrom<0 | 1>(0, 1), { minLength: 1, maxLength: 6 }),
  vms: fc.array(
    fc.record({ type: fc.constantFrom<0 | 1 | 2 | 3>(0, 1, 2, 3), levels: fc.array(fc.integer({ min: 0, max: 100 }), { minLength: 1, maxLength: 8 }) }),
    { minLength: 1, maxLength: 10 }
  ),
  limit: fc.constantFrom(3600, 7200, 14400),
  seed: fc.integer({ min: 1, max: 1_000_000 })
})

// ------------------------------------------------------------------------------------------------
// The laws every consolidation policy keeps

export const neverToOwnHost: Law = {
  name: "a migration never moves a VM to the host it is on",
  holds: (r) => {
    const m = r.migrations.find((x) => x.from === x.to)
    return m === undefined ? undefined : `VM #${m.vm} "migrated" from host #${m.from} to itself at ${m.time.toFixed(1)} s`
  }
}

/**
 * For THR: a migration never takes an active target over the threshold (requested MIPS of the target
 * with the VM / host MIPS ≤ threshold). Idle targets are exempt: PABFD checks only hosts in use, as
 * CloudSim does.
 */
export const neverOverloadsTarget: Law = {
  name: "a migration never overloads an active target (THR)",
  holds: (r) => {
    if (r.policy.kind !== "migration" || r.policy.overload.kind !== "thr") return undefined
    const thr = r.policy.overload.threshold
    const m = r.migrations.find((x) => !x.targetWasIdle && (x.targetRequestedBefore + x.vmRequested) / x.targetTotalMips > thr)
    return m === undefined
      ? undefined
      : `VM #${m.vm} to host #${m.to} at ${m.time.toFixed(1)} s takes it to ${((100 * (m.targetRequestedBefore + m.vmRequested)) / m.targetTotalMips).toFixed(1)} % > ${100 * thr} %`
  }
}

/** Energy accounting conserves: the per-update energies sum to the total, which lies between 0 and all hosts at full power. */
export const energyConserves: Law = {
  name: "energy accounting conserves",
  holds: (r) => {
    const total = r.result.metrics.energyKWh * 3600 * 1000
    const sum = r.result.timeline.reduce((a, t) => a + t.energyWs, 0)
    const bound = r.config.hosts.reduce((a, h) => a + PowerModel.maxPower(h.power), 0) * (r.scenario.limit + 1)
    if (!(total >= 0 && total <= bound)) return `total ${total} W·s outside [0, ${bound}] (all hosts at full power)`
    if (Math.abs(sum - total) > 1e-9 * Math.max(1, total)) return `the timeline's energies sum to ${sum} W·s, the total is ${total} W·s`
    return undefined
  }
}

/** The same scenario and seed give the same metrics (wall-clock figures aside). */
export const deterministic: Law = {
  name: "deterministic",
  holds: (r) => {
    const { onMigration: _ignored, ...cfg } = r.config
    const again = Engine.run(cfg)
    return JSON.stringify(again.metrics) === JSON.stringify(r.result.metrics) ? undefined : "a second run with the same seed gave other metrics"
  }
}

/** A host that is alone has nowhere to send a VM: no migrations at all. */
export const aloneNeverMigrates: Law = {
  name: "with one host, nothing migrates",
  holds: (r) => (r.scenario.hosts.length === 1 && r.migrations.length > 0 ? `${r.migrations.length} migrations with a single host` : undefined)
}

export const defaultLaws: ReadonlyArray<Law> = [neverToOwnHost, neverOverloadsTarget, energyConserves, deterministic, aloneNeverMigrates]

/** Checks each law over random scenarios; throws LawBroken with fast-check's shrunk scenario. */
export const check = (policy: Policy.Policy, options: Options = {}): void => {
  for (const law of options.laws ?? defaultLaws) {
    const result = fc.check(
      fc.property(scenarioArb, (sc) => law.holds(runScenario(policy, sc, options.cloudsimCompatible ?? true)) === undefined),
      { numRuns: options.numRuns ?? 100, ...(options.seed === undefined ? {} : { seed: options.seed }) }
    )
    if (result.failed && result.counterexample !== null) {
      const sc = result.counterexample[0]
      throw new LawBroken(law.name, sc, law.holds(runScenario(policy, sc, options.cloudsimCompatible ?? true)) ?? "(failed)")
    }
  }
}

/**
 * Compares two policies on the same random scenarios: `law(a's run, b's run)` returns undefined when
 * it holds. Throws LawBroken with the smallest scenario where it does not.
 */
export const compare = (
  a: Policy.Policy,
  b: Policy.Policy,
  law: (ra: RunRecord, rb: RunRecord) => string | undefined,
  options: Omit<Options, "laws"> & { readonly name?: string } = {}
): void => {
  const compat = options.cloudsimCompatible ?? true
  const holds = (sc: Scenario) => law(runScenario(a, sc, compat), runScenario(b, sc, compat))
  const result = fc.check(fc.property(scenarioArb, (sc) => holds(sc) === undefined), {
    numRuns: options.numRuns ?? 100,
    ...(options.seed === undefined ? {} : { seed: options.seed })
  })
  if (result.failed && result.counterexample !== null) {
    const sc = result.counterexample[0]
    throw new LawBroken(options.name ?? `${Policy.name(a)} vs ${Policy.name(b)}`, sc, holds(sc) ?? "(failed)")
  }
}
