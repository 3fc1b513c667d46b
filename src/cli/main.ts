/** The `euca` command. */
import { Command } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Effect } from "effect"
import { adminCommand } from "./AdminCommand.js"
import { notebookCommand } from "./NotebookCommand.js"
import { serveCommand } from "./ServeCommand.js"
import { simCommand } from "./SimCommand.js"

const euca = Command.make("euca").pipe(
  Command.withDescription("Eucalyptus in TypeScript: an EC2-compatible cloud, its simulator and its operator tools"),
  Command.withSubcommands([serveCommand, adminCommand, simCommand, notebookCommand])
)

const cli = Command.run(euca, { name: "euca", version: "0.1.0" })

cli(process.argv).pipe(Effect.provide(NodeContext.layer), NodeRuntime.runMain({ disableErrorReporting: false }))
