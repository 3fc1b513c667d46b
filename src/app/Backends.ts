/**
 * The backends a cloud can run on, and how a config's `backend` section becomes one. Each backend
 * owns its config schema and its layer (in its own folder); this table is the only place that
 * knows them all. Adding a backend: its `Config` in the union, and one case in `prepare`.
 */
import { resolve } from "node:path"
import type { SqlClient } from "@effect/sql"
import { Effect, Either, type Layer, Option, Schema } from "effect"
import * as KvmBackend from "../backends/kvm/KvmBackend.js"
import * as NodesFile from "../backends/xen/NodesFile.js"
import * as XenBackend from "../backends/xen/XenBackend.js"
import { ConfigError } from "../config/ConfigFile.js"
import type * as Backend from "../controller/Backend.js"
import type * as Capacity from "../model/Capacity.js"
import type * as Topology from "../model/Topology.js"
import * as SimBackend from "../sim/SimBackend.js"

export const Config = Schema.Union(SimBackend.Config, XenBackend.Config, KvmBackend.Config)
export type Config = typeof Config.Type
export type Kind = Config["kind"]
export const kinds: ReadonlyArray<Kind> = ["sim", "xen", "kvm"]

export interface Prepared {
  readonly layer: Layer.Layer<Backend.Backend, unknown, SqlClient.SqlClient>
  /** The cloud's shape when the backend defines it (a nodes file); none: the config's `cloud`. */
  readonly topology: Option.Option<Topology.Topology>
  /** How nodes start: up (simulated), or down until they report. */
  readonly nodeState: Capacity.NodeState
}

/**
 * The backend section to run: the config's, or — when `--backend KIND` names another kind — that
 * kind's, with `--nodes FILE` as its nodes file where it has one.
 */
export const choose = (
  configured: Config,
  override: { readonly kind?: Kind | undefined; readonly nodesFile?: string | undefined }
): Either.Either<Config, ConfigError> => {
  const kind = override.kind ?? configured.kind
  const base = configured.kind === kind ? configured : undefined
  switch (kind) {
    case "sim":
      return Either.right(base ?? { kind: "sim" })
    case "xen":
    case "kvm": {
      const nodesFile = override.nodesFile ?? (base !== undefined && base.kind !== "sim" ? base.nodesFile : undefined)
      if (nodesFile === undefined) return Either.left(new ConfigError({ message: `--backend ${kind} needs a nodes file: --nodes FILE, or backend.nodesFile in the config` }))
      return Either.right({ kind, nodesFile })
    }
  }
}

/** Builds the chosen backend; relative paths resolve against `baseDir` (the config file's folder). */
export const prepare = (config: Config, baseDir: string): Effect.Effect<Prepared, ConfigError> => {
  switch (config.kind) {
    case "sim":
      return Either.match(SimBackend.layerFromConfig(config), {
        onLeft: (e) => Effect.fail(new ConfigError({ message: `backend.${e.field}: ${e.message}` })),
        onRight: (layer) => Effect.succeed<Prepared>({ layer, topology: Option.none(), nodeState: "up" })
      })
    case "xen":
    case "kvm":
      return NodesFile.load(resolve(baseDir, config.nodesFile)).pipe(
        Effect.mapError((e) => new ConfigError({ message: e.message })),
        // The nodes file is the cloud's shape; capacity comes from `xl info` / `virsh nodeinfo` when each node reports.
        Effect.map((nodes): Prepared => ({
          layer: config.kind === "kvm" ? KvmBackend.layer({ nodes }) : XenBackend.layer({ nodes }), topology: Option.some(NodesFile.topology(nodes)),
          nodeState: "down"
        }))
      )
  }
}
