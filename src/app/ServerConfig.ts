/**
 * The server's configuration file (JSON), validated by a Schema. Every field has a default, so
 * `euca serve` with no file runs a simulated two-zone cloud in MANAGED mode.
 */
import { dirname, resolve } from "node:path"
import { Effect, Schema } from "effect"
import * as ConfigFile from "../config/ConfigFile.js"
import * as Network from "../model/Network.js"
import * as PolicyConfig from "../model/PolicyConfig.js"
import * as Topology from "../model/Topology.js"
import * as VmType from "../model/VmType.js"
import * as Backends from "./Backends.js"

export const ServerConfig = Schema.Struct({
  region: Schema.optional(Schema.String.pipe(Schema.pattern(/^[a-z0-9-]{1,32}$/))),
  /** Other region names a SigV4 credential scope may name (clients configured for another region); any other is refused. */
  regionAliases: Schema.optional(Schema.Array(Schema.String.pipe(Schema.pattern(/^[a-z0-9-]{1,32}$/)))),
  cloud: Schema.optional(Topology.Topology),
  vmTypes: Schema.optional(VmType.VmTypeTable),
  policy: Schema.optional(PolicyConfig.PolicyConfig),
  network: Schema.optional(Network.NetworkSettings),
  backend: Schema.optional(Backends.Config),
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
  readonly regionAliases: ReadonlyArray<string>
  readonly cloud: Topology.Topology
  readonly vmTypes: VmType.VmTypeTable
  readonly policy: PolicyConfig.PolicyConfig
  readonly network: Network.NetworkSettings
  readonly backend: Backends.Config
  readonly tickSeconds: number
  /** Directory relative paths in the file resolve against. */
  readonly baseDir: string
}

export { ConfigError } from "../config/ConfigFile.js"

export const resolveConfig = (c: ServerConfig, baseDir: string): Resolved => ({
  region: c.region ?? defaults.region,
  regionAliases: c.regionAliases ?? [],
  cloud: c.cloud ?? (Schema.decodeUnknownSync(Topology.Topology)(defaults.cloud)),
  vmTypes: c.vmTypes ?? VmType.eucalyptusDefaults,
  policy: c.policy ?? (defaults.policy as PolicyConfig.PolicyConfig),
  network: c.network ?? defaults.network,
  backend: c.backend ?? (defaults.backend as Resolved["backend"]),
  tickSeconds: c.tickSeconds ?? defaults.tickSeconds,
  baseDir
})

/** Reads and validates a config file (none: the defaults); errors name the file, line and field. */
export const load = (path: string | undefined): Effect.Effect<Resolved, ConfigFile.ConfigError> =>
  path === undefined
    ? Effect.succeed(resolveConfig({}, process.cwd()))
    : ConfigFile.load(ServerConfig, path).pipe(Effect.map((c) => resolveConfig(c, dirname(resolve(path)))))
