/**
 * The server's configuration file (JSON), validated by a Schema. Every field has a default, so
 * `euca serve` with no file runs a simulated two-zone cloud in MANAGED mode.
 */
import { readFileSync } from "node:fs"
import { dirname, resolve } from "node:path"
import { Either, ParseResult, Schema } from "effect"
import * as Network from "../model/Network.js"
import * as PolicyConfig from "../model/PolicyConfig.js"
import * as Topology from "../model/Topology.js"
import * as VmType from "../model/VmType.js"
import * as Distribution from "../sim/Distribution.js"

export const SimBackendConfig = Schema.Struct({
  kind: Schema.Literal("sim"),
  /** How long a simulated instance takes to boot (default: lognormal, median 3 s). */
  bootDelay: Schema.optional(Distribution.Distribution),
  /** How long a terminated simulated instance takes to shut down (default: constant 1 s). */
  stopDelay: Schema.optional(Distribution.Distribution),
  /** Probability that a simulated boot fails. */
  failureProbability: Schema.optional(Schema.Number.pipe(Schema.between(0, 1))),
  /** POWERSAVE: how long a woken node takes to report (default 60 s). */
  wakeDelaySeconds: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  seed: Schema.optional(Schema.Int)
})

export const XenBackendConfig = Schema.Struct({
  kind: Schema.Literal("xen"),
  /** The nodes file (see the operator's guide); relative to the config file. */
  nodesFile: Schema.String
})

export const KvmBackendConfig = Schema.Struct({
  kind: Schema.Literal("kvm"),
  /** The nodes file (as for Xen, with each node's `kvm` section); relative to the config file. */
  nodesFile: Schema.String
})

export const ServerConfig = Schema.Struct({
  region: Schema.optional(Schema.String.pipe(Schema.pattern(/^[a-z0-9-]{1,32}$/))),
  cloud: Schema.optional(Topology.Topology),
  vmTypes: Schema.optional(VmType.VmTypeTable),
  policy: Schema.optional(PolicyConfig.PolicyConfig),
  network: Schema.optional(Network.NetworkSettings),
  backend: Schema.optional(Schema.Union(SimBackendConfig, XenBackendConfig, KvmBackendConfig)),
  /** How often the core's clock ticks (POWERSAVE idle checks), seconds. */
  tickSeconds: Schema.optional(Schema.Number.pipe(Schema.positive()))
})
export type ServerConfig = typeof ServerConfig.Type

const node = (prefix: string, count: number) => ({ prefix, count, cores: 8, memoryMiB: 16384, diskGiB: 500 })

/** The default cloud: two zones of four 8-core / 16 GiB / 500 GiB nodes, GREEDY, MANAGED networking, simulated. */
export const defaults = {
  region: "euca-1",
  cloud: {
    zones: [
      { name: "euca-1a", nodes: [node("node-a", 4)] },
      { name: "euca-1b", nodes: [node("node-b", 4)] }
    ]
  },
  policy: { name: "greedy" },
  network: {
    ...Network.defaultSettings,
    metadata: "127.0.0.1:8773"
  },
  backend: {
    kind: "sim",
    bootDelay: { kind: "lognormal", medianSeconds: 3, sigma: 0.3 },
    stopDelay: { kind: "constant", seconds: 1 },
    failureProbability: 0,
    seed: 1
  },
  tickSeconds: 10
} as const

export interface Resolved {
  readonly region: string
  readonly cloud: Topology.Topology
  readonly vmTypes: VmType.VmTypeTable
  readonly policy: PolicyConfig.PolicyConfig
  readonly network: Network.NetworkSettings
  readonly backend: typeof SimBackendConfig.Type | typeof XenBackendConfig.Type | typeof KvmBackendConfig.Type
  readonly tickSeconds: number
  /** Directory relative paths in the file resolve against. */
  readonly baseDir: string
}

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", { message: Schema.String }) {}

const decode = Schema.decodeUnknownEither(ServerConfig, { errors: "all", onExcessProperty: "error" })

export const resolveConfig = (c: ServerConfig, baseDir: string): Resolved => ({
  region: c.region ?? defaults.region,
  cloud: c.cloud ?? (Schema.decodeUnknownSync(Topology.Topology)(defaults.cloud)),
  vmTypes: c.vmTypes ?? VmType.eucalyptusDefaults,
  policy: c.policy ?? (defaults.policy as PolicyConfig.PolicyConfig),
  network: c.network ?? defaults.network,
  backend: c.backend ?? (defaults.backend as Resolved["backend"]),
  tickSeconds: c.tickSeconds ?? defaults.tickSeconds,
  baseDir
})

/** Reads and validates a config file; errors name the file and the field path. */
export const load = (path: string | undefined): Either.Either<Resolved, ConfigError> => {
  if (path === undefined) return Either.right(resolveConfig({}, process.cwd()))
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (e) {
    return Either.left(new ConfigError({ message: `${path}: cannot read the config file (${(e as Error).message})` }))
  }
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (e) {
    return Either.left(new ConfigError({ message: `${path}: not valid JSON (${(e as Error).message})` }))
  }
  const r = decode(json)
  if (Either.isLeft(r)) {
    const issues = ParseResult.ArrayFormatter.formatErrorSync(r.left)
    const lines = issues.map((i) => `  ${i.path.length ? i.path.join(".") : "(top level)"}: ${i.message}`)
    return Either.left(new ConfigError({ message: `${path}: invalid configuration\n${lines.join("\n")}` }))
  }
  return Either.right(resolveConfig(r.right, dirname(resolve(path))))
}
