/**
 * Experiments are files: JSON validated by the `Experiment` schema (unknown keys are errors — a
 * misspelt option must not be silently ignored), compiled into a Setup plus a trace. Every problem
 * comes back as an ExperimentError naming the file and the field path, e.g.
 * `exp.json: cloud.zones[0].nodes[0].cores: expected a positive number, got -2`.
 *
 *   {
 *     "name": "greedy-vs-kth", "seed": 1, "horizonSeconds": 86400,
 *     "cloud": { "zones": [{ "name": "zone-1", "nodes": [{ "prefix": "n", "count": 32, "cores": 8,
 *                "memoryMiB": 16384, "diskGiB": 500, "idleWatts": 120, "peakWatts": 260 }] }] },
 *     "policy": { "name": "greedy" },
 *     "network": { "mode": "MANAGED", "publicIps": ["198.51.100.10-198.51.100.200"] },
 *     "backend": { "bootDelay": { "kind": "lognormal", "medianSeconds": 40, "sigma": 0.4 }, "failureProbability": 0.01 },
 *     "trace": { "format": "swf", "path": "../../traces/swf/KTH-SP2-1996-2.1-cln.swf.gz", "rebase": true },
 *     "metricsIntervalSeconds": 300
 *   }
 */
import * as Path from "node:path"
import { FileSystem } from "@effect/platform"
import { Effect, Either, ParseResult, Schema } from "effect"
import * as ConfigFile from "../config/ConfigFile.js"
import * as Network from "../model/Network.js"
import * as PolicyConfig from "../model/PolicyConfig.js"
import * as Topology from "../model/Topology.js"
import * as VmType from "../model/VmType.js"
import * as Distribution from "./Distribution.js"
import * as Setup from "./Setup.js"
import * as Synthetic from "./Synthetic.js"
import * as TraceSpec from "./traces/TraceSpec.js"

const Seconds = Schema.Number.pipe(Schema.nonNegative(), Schema.finite())

export const Backend = Schema.Struct({
  /** From starting a VM to it running (or failing). Default: constant 30 s. */
  bootDelay: Schema.optional(Distribution.Distribution),
  /** Probability that a start fails (reported after the boot delay). Default 0. */
  failureProbability: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  /** From stopping a VM to it being gone. Default: constant 2 s. */
  stopDelay: Schema.optional(Distribution.Distribution),
  /** How long a woken node takes to come up, for policies without their own (POWERSAVE has wakeDelaySeconds). Default 60 s. */
  wakeDelaySeconds: Schema.optional(Seconds)
})

export const Tenants = Schema.Struct({
  /** Spread requests over this many accounts. */
  accounts: Schema.Int.pipe(Schema.between(1, 1_000_000)),
  /** roundrobin (request k → account k mod N, default) or random (a seeded draw per request). */
  assign: Schema.optional(Schema.Literal("roundrobin", "random")),
  /**
   * Security groups per account (default 1, the default group); each is its own network (its own
   * VLAN in MANAGED). A request goes to a seeded draw among its account's groups.
   */
  groups: Schema.optional(Schema.Int.pipe(Schema.between(1, 10_000)))
})

// Flat, so that the "format" literal picks the member and errors name that member's fields.
export const Trace = Schema.Union(...TraceSpec.TraceSpec.members, Synthetic.SyntheticSpec)
export type Trace = typeof Trace.Type

export const Engine = Schema.Literal("fast", "reference")
export type Engine = typeof Engine.Type

export const Experiment = Schema.Struct({
  name: Schema.optional(Schema.String),
  description: Schema.optional(Schema.String),
  /** Seed of the one PRNG (boot delays, failures, stop delays, random tenants, synthetic workloads). */
  seed: Schema.Int,
  /** Nothing after this time is simulated; give at most one of the two. Default: until everything is done. */
  horizonSeconds: Schema.optional(Schema.Number.pipe(Schema.positive(), Schema.finite())),
  horizonMs: Schema.optional(Schema.Int.pipe(Schema.positive())),
  cloud: Topology.Topology,
  /** Default: Eucalyptus's table (m1.small … c1.xlarge). */
  vmTypes: Schema.optional(VmType.VmTypeTable),
  policy: PolicyConfig.PolicyConfig,
  /** Default: { "mode": "SYSTEM" }. */
  network: Schema.optional(Network.NetworkSettings),
  backend: Schema.optional(Backend),
  tenants: Schema.optional(Tenants),
  /** Addressing of the launches: "public" (default; MANAGED gives each instance a public address) or "private". */
  addressing: Schema.optional(Schema.Literal("public", "private")),
  trace: Trace,
  /** Interval of timeseries.csv (default 60 s). */
  metricsIntervalSeconds: Schema.optional(Schema.Number.pipe(Schema.positive(), Schema.finite())),
  /** "fast" (default) or "reference" (the decider itself, for small experiments). */
  engine: Schema.optional(Engine)
})
export type Experiment = typeof Experiment.Type

export class ExperimentError extends Schema.TaggedError<ExperimentError>()("ExperimentError", {
  file: Schema.String,
  /** Dotted path of the field, e.g. cloud.zones[0].nodes[0].cores; absent when the file as a whole is wrong. */
  field: Schema.optional(Schema.String),
  /** The full sentence, naming file and field. */
  message: Schema.String
}) {}

const fail = (file: string, field: string | undefined, detail: string) =>
  new ExperimentError({ file, ...(field === undefined ? {} : { field }), message: `${file}: ${field === undefined ? "" : `${field}: `}${detail}` })

/** An experiment ready to run: the compiled setup, the trace, and where relative paths start. */
export interface Loaded {
  readonly file: string
  readonly dir: string
  readonly experiment: Experiment
  readonly setup: Setup.Setup
  readonly trace: Trace
  readonly engine: Engine
}

const pathOf = (path: ReadonlyArray<PropertyKey>): string => {
  let out = ""
  for (const k of path) out += typeof k === "number" ? `[${k}]` : out === "" ? String(k) : `.${String(k)}`
  return out
}

/**
 * The first schema issue as (field, message). A literal union reports one issue per alternative and an
 * optional field one more ("Expected undefined"): those are merged into one "expected a | b | c" sentence.
 */
const firstIssue = (e: ParseResult.ParseError): { readonly field: string | undefined; readonly message: string } => {
  const all = ParseResult.ArrayFormatter.formatErrorSync(e)
  const issues = all.filter((i) => !i.message.startsWith("Expected undefined,"))
  const first = issues[0] ?? all[0]
  if (first === undefined) return { field: undefined, message: e.message }
  const field = pathOf(first.path)
  const same = issues.filter((i) => pathOf(i.path) === field)
  const literal = /^Expected (.+), actual (.+)$/s
  let message = first.message
  if (same.length > 1 && same.every((i) => literal.test(i.message))) {
    const expected = same.map((i) => literal.exec(i.message)![1]!)
    message = `Expected ${expected.join(" | ")}, actual ${literal.exec(first.message)![2]}`
  }
  return { field: field === "" ? undefined : field, message }
}

/** Validates and compiles an experiment already parsed from JSON. */
export const compile = (file: string, json: unknown, overrides: Overrides = {}): Either.Either<Loaded, ExperimentError> => {
  const decoded = Schema.decodeUnknownEither(Experiment, { onExcessProperty: "error", errors: "all" })(json)
  if (Either.isLeft(decoded)) {
    const i = firstIssue(decoded.left)
    return Either.left(fail(file, i.field, i.message))
  }
  const x0 = decoded.right
  const x: Experiment = {
    ...x0,
    ...(overrides.seed !== undefined ? { seed: overrides.seed } : {}),
    ...(overrides.policy !== undefined ? { policy: { ...x0.policy, name: overrides.policy } } : {})
  }
  if (x.horizonSeconds !== undefined && x.horizonMs !== undefined) {
    return Either.left(fail(file, "horizonMs", `give either "horizonSeconds" or "horizonMs", not both`))
  }
  const policy = PolicyConfig.make(x.policy)
  if (Either.isLeft(policy)) return Either.left(fail(file, "policy", policy.left))
  const dist = (d: Distribution.Distribution | undefined, field: string, dflt: Distribution.Sampler) => {
    if (d === undefined) return Either.right(dflt)
    return Either.mapLeft(Distribution.compile(d), (e) => fail(file, `${field}.${e.field}`, e.message))
  }
  const boot = dist(x.backend?.bootDelay, "backend.bootDelay", Setup.defaultBackend.boot)
  if (Either.isLeft(boot)) return Either.left(boot.left)
  const stop = dist(x.backend?.stopDelay, "backend.stopDelay", Setup.defaultBackend.stop)
  if (Either.isLeft(stop)) return Either.left(stop.left)
  const setup = Setup.make({
    name: x.name ?? Path.basename(file).replace(/\.json$/i, ""),
    seed: x.seed,
    topology: x.cloud,
    vmTypes: x.vmTypes,
    network: x.network,
    policy: policy.right,
    backend: {
      boot: boot.right,
      stop: stop.right,
      failureProbability: x.backend?.failureProbability ?? 0,
      wakeDelayMs: Math.round((x.backend?.wakeDelaySeconds ?? Setup.defaultBackend.wakeDelayMs / 1000) * 1000)
    },
    horizonMs: x.horizonMs ?? (x.horizonSeconds === undefined ? undefined : Math.round(x.horizonSeconds * 1000)),
    metricsIntervalMs: x.metricsIntervalSeconds === undefined ? undefined : Math.round(x.metricsIntervalSeconds * 1000),
    tenants: x.tenants === undefined ? undefined : { accounts: x.tenants.accounts, assign: x.tenants.assign ?? "roundrobin", groups: x.tenants.groups ?? 1 },
    addressing: x.addressing
  })
  if (Either.isLeft(setup)) return Either.left(fail(file, setup.left.field, setup.left.message))
  if (x.trace.format === "synthetic") {
    try {
      Synthetic.plan(x.trace, totalCores(setup.right), setup.right.vmTypes)
    } catch (e) {
      return Either.left(fail(file, "trace.mix", (e as Error).message))
    }
  }
  return Either.right({
    file,
    dir: Path.dirname(Path.resolve(file)),
    experiment: x,
    setup: setup.right,
    trace: x.trace,
    engine: overrides.engine ?? x.engine ?? "fast"
  })
}

export interface Overrides {
  readonly engine?: Engine | undefined
  readonly seed?: number | undefined
  readonly policy?: PolicyConfig.PolicyName | undefined
}

/** Reads, parses, validates and compiles an experiment file. */
export const load = (file: string, overrides: Overrides = {}): Effect.Effect<Loaded, ExperimentError, FileSystem.FileSystem> =>
  Effect.gen(function* () {
    const fs = yield* FileSystem.FileSystem
    const text = yield* fs.readFileString(file).pipe(
      Effect.mapError((e) =>
        fail(file, undefined, e._tag === "SystemError" && e.reason === "NotFound" ? "cannot read the file: no such file" : `cannot read the file: ${e.message}`)
      )
    )
    const json = ConfigFile.parseJson(text)
    if (Either.isLeft(json)) {
      return yield* Effect.fail(fail(file, undefined, `not valid JSON: ${json.left.message} (line ${json.left.line}, column ${json.left.column})`))
    }
    const loaded = compile(file, json.right, overrides)
    return Either.isLeft(loaded) ? yield* Effect.fail(loaded.left) : loaded.right
  })

export const totalCores = (setup: Setup.Setup): number => setup.nodes.reduce((n, x) => n + x.capacity.cores, 0)
