/**
 * Runs a consolidation experiment: every day × policy, each a deterministic Engine run, with CloudSim's
 * printed summary. The wall clock is read here (for the execution-time metrics and the progress
 * bar), never inside the engine.
 */
import * as PlanetLab from "../traces/PlanetLab.js"
import * as Engine from "./Engine.js"
import * as Experiment from "./Experiment.js"
import * as Setup from "./PlanetLab.js"
import * as Policy from "../../model/consolidation/Policy.js"

export interface DayRun {
  readonly day: string
  readonly policy: string
  readonly result: Engine.Result
  /** Wall-clock ms of the whole run. */
  readonly wallMs: number
}

export interface Progress {
  readonly run: number
  readonly runs: number
  readonly label: string
  readonly simulated: number
  readonly limit: number
}

export const runExperiment = async (
  exp: Experiment.ConsolidationExperiment,
  options: { readonly onProgress?: (p: Progress) => void; readonly now?: () => number } = {}
): Promise<Array<DayRun>> => {
  const now = options.now ?? (() => performance.now())
  const out: Array<DayRun> = []
  const runs = exp.days.length * exp.policies.length
  let i = 0
  for (const day of exp.days) {
    const read = await PlanetLab.readDay(exp.archive, day)
    const order = Experiment.fileOrderFor(exp, day)
    const trace = order === undefined ? read : Setup.inFileOrder(read, order)
    const vms = Setup.vms(trace)
    const hosts = Setup.hosts(exp.hosts)
    for (const policy of exp.policies) {
      const label = `${day} ${Policy.name(policy)}`
      const run = i++
      const t0 = now()
      const result = Engine.run({
        hosts,
        vms,
        policy,
        seed: exp.seed,
        cloudsimCompatible: exp.cloudsimCompatible,
        now,
        onProgress: (t, limit) => options.onProgress?.({ run, runs, label, simulated: t, limit })
      })
      out.push({ day, policy: Policy.name(policy), result, wallMs: now() - t0 })
    }
  }
  return out
}

const f = (x: number, d: number): string => (Number.isNaN(x) ? "NaN" : x.toFixed(d))

/** The summary in CloudSim's Helper.printResults wording (plus ESV and the run's wall time). */
export const printCloudSim = (r: DayRun): string => {
  const m = r.result.metrics
  const lines = [
    `Experiment name: ${r.day}_${m.policy}`,
    `Number of hosts: ${m.hosts}`,
    `Number of VMs: ${m.vms}`,
    `Total simulation time: ${f(m.totalSimulationTime, 2)} sec`,
    `Energy consumption: ${f(m.energyKWh, 2)} kWh`,
    `Number of VM migrations: ${m.migrations}`,
    `SLA: ${f(m.slav * 100, 5)}%`,
    `SLA perf degradation due to migration: ${f(m.pdm * 100, 2)}%`,
    `SLA time per active host: ${f(m.slatah * 100, 2)}%`,
    `Overall SLA violation: ${f(m.slaOverall * 100, 2)}%`,
    `Average SLA violation: ${f(m.slaAverage * 100, 2)}%`,
    `ESV (energy × SLA): ${f(m.esv, 5)}`,
    `Number of host shutdowns: ${m.hostShutdowns}`,
    `Mean time before a host shutdown: ${f(m.meanTimeBeforeHostShutdown, 2)} sec`,
    `StDev time before a host shutdown: ${f(m.stDevTimeBeforeHostShutdown, 2)} sec`,
    `Mean time before a VM migration: ${f(m.meanTimeBeforeVmMigration, 2)} sec`,
    `StDev time before a VM migration: ${f(m.stDevTimeBeforeVmMigration, 2)} sec`
  ]
  const e = r.result.executionTimes
  if (e !== undefined) {
    lines.push(
      `Execution time - VM selection mean: ${f(e.vmSelectionMean, 5)} sec`,
      `Execution time - VM selection stDev: ${f(e.vmSelectionStDev, 5)} sec`,
      `Execution time - host selection mean: ${f(e.hostSelectionMean, 5)} sec`,
      `Execution time - host selection stDev: ${f(e.hostSelectionStDev, 5)} sec`,
      `Execution time - VM reallocation mean: ${f(e.vmReallocationMean, 5)} sec`,
      `Execution time - VM reallocation stDev: ${f(e.vmReallocationStDev, 5)} sec`,
      `Execution time - total mean: ${f(e.totalMean, 5)} sec`,
      `Execution time - total stDev: ${f(e.totalStDev, 5)} sec`
    )
  }
  lines.push(`Run time (whole simulation, this machine): ${f(r.wallMs / 1000, 3)} sec`)
  return lines.join("\n")
}
