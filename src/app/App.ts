/**
 * The composition root. `euca serve` is this app: the data directory's database, the bootstrap
 * (first start or restart), the backend the config chooses (src/app/Backends.ts), the controller
 * and the HTTP server (src/api), all scoped: SIGTERM or Ctrl-C closes them in order, and a restart
 * picks up where the journal left off.
 */
import { resolve } from "node:path"
import type { SqlClient } from "@effect/sql"
import { Console, Effect, Layer, Option, type Scope } from "effect"
import * as Server from "../api/Server.js"
import type * as BackendPort from "../controller/Backend.js"
import * as Controller from "../controller/Controller.js"
import * as Database from "../store/Database.js"
import * as Backends from "./Backends.js"
import * as Bootstrap from "./Bootstrap.js"
import * as ServerConfig from "./ServerConfig.js"

export interface Options {
  readonly host: string
  readonly port: number
  readonly dataDir: string
  readonly configPath?: string | undefined
  /** Print the banner (first-start credentials, the endpoint). */
  readonly banner?: boolean
  /** Override the config's backend kind (`--backend`). */
  readonly backendKind?: Backends.Kind | undefined
  /** The nodes file (`--nodes`), instead of the config's `backend.nodesFile`. */
  readonly nodesFile?: string | undefined
  /** Replace the backend the config names (tests). */
  readonly backend?: Layer.Layer<BackendPort.Backend, unknown, SqlClient.SqlClient>
}

export interface Running {
  readonly url: string
  readonly region: string
  readonly firstStart: Option.Option<{ readonly accessKeyId: string; readonly secretAccessKey: string }>
}

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

/** Runs the whole server for the life of the scope. */
export const start = (options: Options): Effect.Effect<Running, unknown, Scope.Scope> =>
  Effect.gen(function* () {
    const dataDir = resolve(options.dataDir)
    const config = yield* ServerConfig.load(options.configPath)
    const chosen = yield* Backends.choose(config.backend, { kind: options.backendKind, nodesFile: options.nodesFile })
    const prepared: Backends.Prepared =
      options.backend !== undefined
        ? { layer: options.backend, topology: Option.none(), nodeState: chosen.kind === "sim" ? "up" : "down" }
        : yield* Backends.prepare(chosen, config.baseDir)
    const cloudConfig = Option.match(prepared.topology, { onNone: () => config, onSome: (cloud) => ({ ...config, cloud }) })
    yield* Effect.logInfo(`backend: ${chosen.kind}`)
    const db = yield* Layer.build(Database.layer(dataDir))
    return yield* Effect.gen(function* () {
      const opened = yield* Bootstrap.open(cloudConfig, { now: Date.now(), nodeState: prepared.nodeState })
      const backendCtx = yield* Layer.build(prepared.layer)
      return yield* Effect.gen(function* () {
        const controller = yield* Controller.make({ policy: opened.policy, genesis: opened.genesis, tickEvery: `${config.tickSeconds} seconds` })
        const notes = yield* opened.reconcile(controller)
        for (const n of notes) yield* Effect.logInfo(`configuration: ${n}`)
        const listening = yield* Server.start({ host: options.host, port: options.port, region: opened.region, regionAliases: config.regionAliases }).pipe(
          Effect.provideService(Controller.Controller, controller)
        )
        yield* Effect.addFinalizer(() => Effect.logInfo("eucalyptus: shutting down (the journal is complete; a restart carries on from it)"))
        const running: Running = { url: listening.url, region: opened.region, firstStart: opened.firstStart }
        if (options.banner ?? true) yield* Console.log(banner(running, dataDir))
        return running
      }).pipe(Effect.provide(backendCtx))
    }).pipe(Effect.provide(db))
  })

/** The app as a layer: `Layer.launch(App.layer(options))` serves until interrupted. */
export const layer = (options: Options): Layer.Layer<never, unknown> => Layer.scopedDiscard(start(options))
