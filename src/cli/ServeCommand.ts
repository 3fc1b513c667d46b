/** `euca serve`: run the EC2 API over a simulated or real cloud until SIGTERM / Ctrl-C. */
import { Command, Options } from "@effect/cli"
import { Layer, Option } from "effect"
import * as App from "../app/App.js"
import * as Backends from "../app/Backends.js"

const host = Options.text("host").pipe(Options.withDefault("127.0.0.1"), Options.withDescription("address to listen on"))
const port = Options.integer("port").pipe(Options.withDefault(8773), Options.withDescription("port to listen on (Eucalyptus's 8773)"))
const data = Options.directory("data").pipe(Options.withDefault("./data"), Options.withDescription("data directory (SQLite database; created if missing)"))
const config = Options.file("config", { exists: "yes" }).pipe(Options.optional, Options.withDescription("config file (JSON): zones, nodes, VM types, policy, network, backend"))
const backend = Options.choice("backend", Backends.kinds).pipe(Options.optional, Options.withDescription("override the config's backend"))
const nodes = Options.file("nodes", { exists: "yes" }).pipe(Options.optional, Options.withDescription("the nodes file (with --backend xen or kvm)"))

export const serveCommand = Command.make("serve", { host, port, data, config, backend, nodes }, (o) =>
  Layer.launch(
    App.layer({
      host: o.host,
      port: o.port,
      dataDir: o.data,
      configPath: Option.getOrUndefined(o.config),
      backendKind: Option.getOrUndefined(o.backend),
      nodesFile: Option.getOrUndefined(o.nodes)
    })
  )
).pipe(Command.withDescription("run the EC2-compatible API (the main job)"))
