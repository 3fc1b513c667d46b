/** Helpers for simulator tests: build a Setup, run an engine over requests, collect what it recorded. */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { Either } from "effect"
import * as Ids from "../../src/model/Ids.js"
import type * as Network from "../../src/model/Network.js"
import type * as Policy from "../../src/model/Policy.js"
import * as Resources from "../../src/model/Resources.js"
import type * as Topology from "../../src/model/Topology.js"
import * as Units from "../../src/model/Units.js"
import type * as Consult from "../../src/sim/Consult.js"
import * as Engine from "../../src/sim/Engine.js"
import { EventLog } from "../../src/sim/EventLog.js"
import * as FastEngine from "../../src/sim/FastEngine.js"
import { Metrics } from "../../src/sim/Metrics.js"
import * as Placements from "../../src/sim/Placements.js"
import * as Recorder from "../../src/sim/Recorder.js"
import * as ReferenceEngine from "../../src/sim/ReferenceEngine.js"
import * as Setup from "../../src/sim/Setup.js"
import * as Text from "../../src/sim/Text.js"
import * as TraceRequest from "../../src/sim/traces/TraceRequest.js"

/** One zone per entry; nodes as [cores, memoryMiB, diskGiB]; node k of zone z is named z<z>n<k>. */
export { topology } from "../support/cloud.js"

export const setup = (input: Omit<Setup.Input, "seed"> & { readonly seed?: number }): Setup.Setup => {
  const s = Setup.make({ seed: 1, ...input })
  if (Either.isLeft(s)) throw new Error(`${s.left.field}: ${s.left.message}`)
  return s.right
}

/** A request of a VM type (arrival and lifetime in seconds). */
export const typed = (arrivalS: number, lifetimeS: number | undefined, vmType = "m1.small", count = 1, zone?: string): TraceRequest.TraceRequest =>
  TraceRequest.typed(1, arrivalS * 1000, lifetimeS === undefined ? undefined : lifetimeS * 1000, vmType, count, zone)

export const sized = (
  arrivalS: number,
  lifetimeS: number | undefined,
  size: readonly [number, number, number],
  count = 1,
  zone?: string
): TraceRequest.TraceRequest =>
  TraceRequest.sized(1, arrivalS * 1000, lifetimeS === undefined ? undefined : lifetimeS * 1000, Resources.make(...size), count, zone)

export interface Outcome {
  readonly log: string
  readonly placements: ReadonlyArray<Placements.Row>
  readonly summary: ReturnType<Metrics["summary"]>
  readonly feed: Engine.FeedStats
  readonly engine: Engine.Engine
}

export const run = (
  s: Setup.Setup,
  requests: ReadonlyArray<TraceRequest.TraceRequest>,
  options: { readonly engine?: "fast" | "reference"; readonly consult?: Consult.Consult; readonly batch?: number; readonly samples?: Array<unknown> } = {}
): Outcome => {
  const log = new Text.Collect()
  const rows: Array<Placements.Row> = []
  const metrics = new Metrics(Setup.metricNodes(s), Setup.zoneNames(s), s.metricsIntervalMs, Setup.countsPublic(s), (x) => options.samples?.push(x), Setup.storageCapacity(s))
  const recorder = Recorder.tee(
    new EventLog(Setup.nodeIds(s), Setup.zoneNames(s), log.sink),
    new Placements.Placements(Setup.nodeIds(s), Setup.nodeZones(s), (r) => rows.push(r)),
    metrics
  )
  const engine =
    options.engine === "reference"
      ? ReferenceEngine.make(s, { recorder, consult: options.consult })
      : FastEngine.make(s, { recorder, consult: options.consult })
  const size = options.batch ?? 4096
  const batches: Array<ReadonlyArray<TraceRequest.TraceRequest>> = []
  for (let i = 0; i < requests.length; i += size) batches.push(requests.slice(i, i + size))
  const { feed } = Engine.runSync(engine, batches, s.horizonMs)
  return { log: log.text, placements: rows, summary: metrics.summary(), feed, engine }
}

/** A placement program's stand-in (USER): the last node that is up and fits; sometimes a wrong answer. */
export const lastFitProgram: Consult.Consult = (q: Policy.ExternalQuery) => {
  const [mem, disk, cores, id] = q.args
  const h = parseInt(id!.slice(2), 16)
  if (h % 11 === 0) return 99 // not a node: the policy must reject, never overcommit
  let answer = 0
  for (const line of q.resources.trim().split("\n")) {
    if (line === "") continue
    const f = Object.fromEntries(line.split(",").map((kv) => kv.split("=") as [string, string]))
    if (f.state === "1" && +f.availmem! >= +mem! && +f.availdisk! >= +disk! && +f.availcores! >= +cores!) answer = +f.idx! + 1
  }
  return answer
}

export type NetworkSettings = Network.NetworkSettings

/** A fresh directory removed afterwards, whatever happens. */
export const withTempDir = async <A>(f: (dir: string) => Promise<A> | A): Promise<A> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-sim-test-"))
  try {
    return await f(dir)
  } finally {
    Fs.rmSync(dir, { recursive: true, force: true })
  }
}

/** Writes files into dir (name → content) and returns the path of the first. */
export const writeFiles = (dir: string, files: Readonly<Record<string, string | object>>): string => {
  let first: string | undefined
  for (const [name, content] of Object.entries(files)) {
    const p = Path.join(dir, name)
    Fs.mkdirSync(Path.dirname(p), { recursive: true })
    Fs.writeFileSync(p, typeof content === "string" ? content : JSON.stringify(content, null, 2))
    first ??= p
  }
  return first!
}

export const read = (file: string): string => Fs.readFileSync(file, "utf8")

/** placements.csv rows as objects. */
export const placementsCsv = (file: string): Array<Record<string, string>> => {
  const [header, ...lines] = read(file).trim().split("\n")
  const cols = header!.split(",")
  return lines.map((l) => Object.fromEntries(l.split(",").map((v, i) => [cols[i]!, v])))
}
