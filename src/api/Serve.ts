/**
 * `euca serve`: the API over a cloud — the data directory's database, the bootstrap (first start or
 * restart), the backend (simulated or Xen), the controller and the HTTP server, all scoped: SIGTERM
 * or Ctrl-C closes them in order, and a restart picks up where the journal left off.
 */
import { resolve } from "node:path"
import type { SqlClient } from "@effect/sql"
import { Console, Effect, Either, Layer, Option, type Scope } from "effect"
import type * as BackendPort from "../controller/Backend.js"
import * as NodesFile from "../backends/xen/NodesFile.js"
import * as XenBackend from "../backends/xen/XenBackend.js"
import * as KvmBackend from "../backends/kvm/KvmBackend.js"
import * as Controller from "../controller/Controller.js"
import * as Ids from "../model/Ids.js"
import type * as Topology from "../model/Topology.js"
import * as Units from "../model/Units.js"
import * as Distribution from "../sim/Distribution.js"
import * as SimBackend from "../sim/SimBackend.js"
import * as Database from "../store/Database.js"
import * as Bootstrap from "./Bootstrap.js"
import * as Server from "./Server.js"
import * as ServerConfig from "./ServerConfig.js"

export interface Options {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  readonly configPath?: string | undefined
  /** Print the banner (first-start credentials, the endpoint). */
  readonly banner?: boolean
  /** Override the config's backend kind (`--backend`). */
  readonly backendKind?: "sim" | "xen" | "kvm" | undefined
  /** The Xen nodes file (`--nodes`), instead of the config's `backend.nodesFile`. */
  readonly nodesFile?: string | undefined
  /** Replace the backend the config names (tests). */
  readonly backend?: Layer.Layer<BackendPort.Backend, unknown, SqlClient.SqlClient>
}

export interface Running {
  readonly url: string
  readonly region: string
  readonly firstStart: Option.Option<{ readonly accessKeyId: string; readonly secretAccessKey: string }>
}

const sampler = (d: Distribution.Distribution | undefined, fallback: Distribution.Sampler, field: string) => {
  if (d === undefined) return Effect.succeed(fallback)
  const s = Distribution.compile(d)
  return Either.isLeft(s) ? Effect.fail(new ServerConfig.ConfigError({ message: `backend.${field}.${s.left.field}: ${s.left.message}` })) : Effect.succeed(s.right)
}

const simLayer = (c: ServerConfig.Resolved) =>
  Effect.gen(function* () {
    const b = c.backend.kind === "sim" ? c.backend : { kind: "sim" as const }
    return SimBackend.layer({
      seed: b.seed ?? 1,
      bootDelay: yield* sampler(b.bootDelay, Distribution.logNormalMs(3000, 0.3), "bootDelay"),
      stopDelay: yield* sampler(b.stopDelay, Distribution.constantMs(1000), "stopDelay"),
      failureProbability: b.failureProbability ?? 0,
      wakeDelayMs: Math.round((b.wakeDelaySeconds ?? 60) * 1000)
    })
  })

const banner = (r: Running, dataDir: string) => {
  const lines = [`eucalyptus: EC2 API at ${r.url} (region ${r.region}), data in ${dataDir}`]
  if (Option.isSome(r.firstStart)) {
    const k = r.firstStart.value
    lines.push(
      "",
      "First start: the admin account's access key (shown once; `euca admin credentials` prints it again):",
      `  export AWS_ACCESS_KEY_ID=${k.accessKeyId}`,
      `  export AWS_SECRET_ACCESS_KEY=${k.secretAccessKey}`,
      `  export AWS_DEFAULT_REGION=${r.region}`,
      "Then try:",
      `  aws ec2 describe-availability-zones --endpoint-url ${r.url} --region ${r.region}`,
      ""
    )
  }
  return lines.join("\n")
}

/** Zones and nodes as the nodes file lists them, with placeholder capacity until each node reports. */
const topologyOf = (nodes: NodesFile.NodesFile): Topology.Topology => {
  const zones: Array<{ name: Ids.ZoneName; nodes: Array<Topology.NodeGroup> }> = []
  for (const n of nodes.nodes) {
    let z = zones.find((x) => x.name === n.zone)
    if (!z) zones.push((z = { name: Ids.zoneName(n.zone), nodes: [] }))
    z.nodes.push({ prefix: n.name, count: 1, cores: Units.vcpu(1), memoryMiB: Units.mib(1), diskGiB: Units.gib(1) })
  }
  return { zones }
}

/** Runs the whole server for the life of the scope. */
export const start = (options: Options): Effect.Effect<Running, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const dataDir = resolve(options.dataDir)
    const loaded = ServerConfig.load(options.configPath)
    if (Either.isLeft(loaded)) return yield* loaded.left
    const config = loaded.right
    const kind = options.backendKind ?? config.backend.kind
    let cloudConfig = config
    let backendLayer: Layer.Layer<BackendPort.Backend, unknown, SqlClient.SqlClient>
    if (options.backend !== undefined) backendLayer = options.backend
    else if (kind === "xen" || kind === "kvm") {
      const path = options.nodesFile ?? (config.backend.kind === "xen" || config.backend.kind === "kvm" ? resolve(config.baseDir, config.backend.nodesFile) : undefined)
      if (path === undefined) return yield* new ServerConfig.ConfigError({ message: `--backend ${kind} needs a nodes file: --nodes FILE, or backend.nodesFile in the config` })
      const nodes = yield* NodesFile.load(path)
      // The nodes file is the cloud's shape; capacity comes from `xl info` when each node reports.
      cloudConfig = { ...config, cloud: topologyOf(nodes) }
      backendLayer = kind === "kvm" ? KvmBackend.layer({ nodes }) : XenBackend.layer({ nodes })
    } else backendLayer = yield* simLayer(config)
    const nodeState = kind === "sim" ? "up" : "down"
    const db = yield* Layer.build(Database.layer(dataDir))
    return yield* Effect.gen(function* () {
      const opened = yield* Bootstrap.open(cloudConfig, { now: Date.now(), nodeState })
      const backendCtx = yield* Layer.build(backendLayer)
      return yield* Effect.gen(function* () {
        const controller = yield* Controller.make({ policy: opened.policy, genesis: opened.genesis, tickEvery: `${config.tickSeconds} seconds` })
        const notes = yield* opened.reconcile(controller)
        for (const n of notes) yield* Effect.logInfo(`configuration: ${n}`)
        const listening = yield* Server.start({ host: options.host, port: options.port, region: opened.region }).pipe(
          Effect.provideService(Controller.Controller, controller)
        )
        yield* Effect.addFinalizer(() => Effect.logInfo("eucalyptus: shutting down (the journal is complete; a restart carries on from it)"))
        const running: Running = { url: listening.url, region: opened.region, firstStart: opened.firstStart }
        if (options.banner ?? true) yield* Console.log(banner(running, dataDir))
        return running
      }).pipe(Effect.provide(backendCtx))
    }).pipe(Effect.provide(db))
  })
