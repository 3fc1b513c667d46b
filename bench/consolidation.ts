/**
 * The consolidation benchmark: CloudSim's PlanetLab experiments on the engine of src/sim/consolidation.
 *
 *   npm run bench:consolidation [-- --json] [-- --one] [-- --days 20110303,20110306] [-- --policies thr-mmt-0.8,npa] [-- --workers 2]
 *
 * First the whole 20110303 day for THR-MMT-0.8 (one pair; the target is < 1 s), then the
 * sweep: every day × every policy (NPA, DVFS and the 20 consolidation pairs), spread over worker
 * threads (default: 2, one per core), a progress bar on stderr. Prints wall seconds and each run's
 * CPU seconds; with --json {one: {...}, sweep: {wallSeconds, runs: [{day, policy, wallMs, cpuMs, metrics}]}}.
 * On a shared machine, CPU seconds are the steadier figure.
 */
import * as Path from "node:path"
import * as Url from "node:url"
import * as WorkerThreads from "node:worker_threads"
import * as Policy from "../src/model/consolidation/Policy.js"
import * as Engine from "../src/sim/consolidation/Engine.js"
import * as Setup from "../src/sim/consolidation/PlanetLab.js"
import * as PlanetLab from "../src/sim/traces/PlanetLab.js"

const here = Path.dirname(Url.fileURLToPath(import.meta.url))
const archive = Path.resolve(here, "../../traces/planetlab/planetlab-cloudsim-10days.tar.gz")

interface Job {
  readonly day: string
  readonly policy: string
}

interface Done extends Job {
  readonly wallMs: number
  readonly cpuMs: number
  readonly metrics: Engine.Metrics
}

const runJob = (day: PlanetLab.PlanetLabDay, policy: string): Omit<Done, "day" | "policy"> => {
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  const r = Engine.run({ hosts: Setup.hosts(), vms: Setup.vms(day), policy: Policy.parse(policy)!, seed: 1 })
  const c = process.cpuUsage(c0)
  return { wallMs: performance.now() - t0, cpuMs: (c.user + c.system) / 1000, metrics: r.metrics }
}

if (!WorkerThreads.isMainThread) {
  const days = new Map<string, PlanetLab.PlanetLabDay>()
  WorkerThreads.parentPort!.on("message", async (job: Job | null) => {
    if (job === null) return process.exit(0)
    let day = days.get(job.day)
    if (day === undefined) {
      day = await PlanetLab.readDay(archive, job.day)
      days.set(job.day, day)
    }
    WorkerThreads.parentPort!.postMessage({ ...job, ...runJob(day, job.policy) })
  })
} else {
  const args = process.argv.slice(2)
  const flag = (name: string) => args.includes(`--${name}`)
  const value = (name: string) => {
    const i = args.indexOf(`--${name}`)
    return i >= 0 ? args[i + 1] : undefined
  }
  const json = flag("json")
  const allDays = await PlanetLab.listDays(archive)
  const days = value("days")?.split(",") ?? allDays
  const policies = value("policies")?.split(",") ?? ["npa", ...Policy.all().map(Policy.name)]
  const workers = Number(value("workers") ?? 2)
  const log = (s: string) => {
    if (!json) console.log(s)
  }

  const d0303 = await PlanetLab.readDay(archive, "20110303")
  runJob(d0303, "thr-mmt-0.8") // warm-up (JIT), untimed
  const one = runJob(d0303, "thr-mmt-0.8")
  log(`one pair, whole day: 20110303 THR-MMT-0.8 (1,052 VMs, 800 hosts, 24 h): ${(one.wallMs / 1000).toFixed(2)} s wall, ${(one.cpuMs / 1000).toFixed(2)} s CPU; ${one.metrics.migrations} migrations, ${one.metrics.energyKWh.toFixed(2)} kWh`)

  if (!flag("one")) {
    const jobs: Array<Job> = days.flatMap((day) => policies.map((policy) => ({ day, policy })))
    const done: Array<Done> = []
    const t0 = performance.now()
    const tty = process.stderr.isTTY === true
    const draw = () => {
      if (!tty) return
      const frac = done.length / jobs.length
      process.stderr.write(`\r\x1b[K[${"#".repeat(Math.round(frac * 30)).padEnd(30, ".")}] ${done.length}/${jobs.length} runs, ${((performance.now() - t0) / 1000).toFixed(0)} s`)
    }
    await new Promise<void>((resolve, reject) => {
      let next = 0
      let live = 0
      for (let w = 0; w < Math.max(1, Math.min(workers, jobs.length)); w++) {
        const worker = new WorkerThreads.Worker(Url.fileURLToPath(import.meta.url))
        live++
        const feed = () => {
          if (next < jobs.length) worker.postMessage(jobs[next++])
          else {
            worker.postMessage(null)
          }
        }
        worker.on("message", (m: Done) => {
          done.push(m)
          draw()
          feed()
        })
        worker.on("error", reject)
        worker.on("exit", () => {
          if (--live === 0) resolve()
        })
        feed()
      }
    })
    if (tty) process.stderr.write("\r\x1b[K")
    const wall = (performance.now() - t0) / 1000
    const cpu = done.reduce((a, d) => a + d.cpuMs, 0) / 1000
    log(`sweep: ${days.length} days × ${policies.length} policies = ${jobs.length} runs on ${workers} worker(s): ${wall.toFixed(1)} s wall, ${cpu.toFixed(1)} s CPU in the runs`)
    for (const d of done.sort((a, b) => (a.day + a.policy < b.day + b.policy ? -1 : 1))) {
      log(`  ${d.day} ${d.policy.padEnd(12)} ${(d.wallMs / 1000).toFixed(2).padStart(7)} s  ${d.metrics.energyKWh.toFixed(2).padStart(8)} kWh  ${String(d.metrics.migrations).padStart(6)} migrations  SLAV ${(d.metrics.slav * 100).toFixed(5)}%`)
    }
    if (json) console.log(JSON.stringify({ one, sweep: { wallSeconds: wall, cpuSeconds: cpu, runs: done } }, null, 2))
  } else if (json) console.log(JSON.stringify({ one }, null, 2))
}
