/** One benchmark case of bench/sim.ts: builds the cloud and the synthetic workload, runs the fast engine, measures. */
import { Either } from "effect"
import * as Ids from "../src/model/Ids.js"
import * as PolicyConfig from "../src/model/PolicyConfig.js"
import * as Units from "../src/model/Units.js"
import * as Distribution from "../src/sim/Distribution.js"
import * as Engine from "../src/sim/Engine.js"
import * as FastEngine from "../src/sim/FastEngine.js"
import { Metrics } from "../src/sim/Metrics.js"
import * as Setup from "../src/sim/Setup.js"
import * as Synthetic from "../src/sim/Synthetic.js"

export interface Case {
  readonly hosts: number
  readonly requests: number
  readonly policy: "greedy" | "roundrobin" | "bestfit"
}

export interface Figure extends Case {
  readonly wallSeconds: number
  /** CPU time of the process during the run (less disturbed than wall time on a shared machine). */
  readonly cpuSeconds: number
  readonly eventsPerSecond: number
  readonly peakRssMiB: number
  readonly events: number
  readonly acceptedShare: number
  readonly coreUtilisation: number
}

const ZONES = 4

/** Runs the case once; with `warmup`, first runs it untimed with a tenth of the requests (JIT warm-up). */
export const runCase = (c: Case, options: { readonly warmup?: boolean } = {}): Figure => {
  if (options.warmup) once({ ...c, requests: Math.max(1, Math.floor(c.requests / 10)) })
  return once(c)
}

const once = (c: Case): Figure => {
  const per = Math.ceil(c.hosts / ZONES)
  const topology = {
    zones: Array.from({ length: ZONES }, (_, z) => ({
      name: Ids.zoneName(`zone-${z + 1}`),
      nodes: [{ prefix: `z${z + 1}n`, count: Math.min(per, c.hosts - z * per), cores: Units.vcpu(16), memoryMiB: Units.mib(65536), diskGiB: Units.gib(1000) }]
    }))
  }
  const policy = PolicyConfig.make({ name: c.policy })
  if (Either.isLeft(policy)) throw new Error(policy.left)
  const setup = Setup.make({
    name: `bench-${c.hosts}x${c.requests}-${c.policy}`,
    seed: 1,
    topology,
    network: { mode: "SYSTEM", subnet: "10.0.0.0/8" },
    policy: policy.right,
    backend: { boot: Distribution.uniformMs(20_000, 60_000), stop: Distribution.constantMs(2_000) }
  })
  if (Either.isLeft(setup)) throw new Error(`${setup.left.field}: ${setup.left.message}`)
  const s = setup.right
  const spec: Synthetic.SyntheticSpec = { format: "synthetic", requests: c.requests, cycleHours: 6, lifetimeSigma: 0.5 }
  const t0 = process.hrtime.bigint()
  const cpu0 = process.cpuUsage()
  const plan = Synthetic.plan(spec, c.hosts * 16, s.vmTypes)
  const metrics = new Metrics(Setup.metricNodes(s), Setup.zoneNames(s), s.metricsIntervalMs, false)
  const engine = FastEngine.make(s, { recorder: metrics })
  Engine.runSync(engine, Synthetic.batches(spec, plan, s.seed), undefined)
  const wall = Number(process.hrtime.bigint() - t0) / 1e9
  const cpu = process.cpuUsage(cpu0)
  const sum = metrics.summary()
  return {
    ...c,
    wallSeconds: wall,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    eventsPerSecond: sum.events / wall,
    peakRssMiB: process.resourceUsage().maxRSS / 1024,
    events: sum.events,
    acceptedShare: sum.requests.accepted / sum.requests.total,
    coreUtilisation: sum.utilisation.cores
  }
}

