/** The `euca` command. */
import { Command, ValidationError } from "@effect/cli"
import { NodeContext, NodeRuntime } from "@effect/platform-node"
import { Cause, Console, Effect, Exit } from "effect"
import { adminCommand } from "./AdminCommand.js"
import { notebookCommand } from "./NotebookCommand.js"
import { serveCommand } from "./ServeCommand.js"
import { simCommand } from "./SimCommand.js"

const euca = Command.make("euca").pipe(
  Command.withDescription("Eucalyptus in TypeScript: an EC2-compatible cloud, its simulator and its operator tools"),
  Command.withSubcommands([serveCommand, adminCommand, simCommand, notebookCommand])
)

const cli = Command.run(euca, { name: "euca", version: "0.1.0" })

/** A user's mistake (a bad file, a bad option) is one readable line, not a stack trace. */
const readable = (e: unknown): string => {
  if (typeof e === "object" && e !== null && "message" in e && typeof (e as { message: unknown }).message === "string") {
    const m = (e as { message: string }).message
    return m === "" && "_tag" in e ? String((e as { _tag: unknown })._tag) : m
  }
  return String(e)
}

cli(process.argv).pipe(
  Effect.exit,
  Effect.flatMap((exit) => {
    if (Exit.isSuccess(exit)) return Effect.void
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "Some") {
      // @effect/cli has already shown what was wrong with the arguments.
      if (ValidationError.isValidationError(failure.value)) return Effect.sync(() => (process.exitCode = 2))
      return Console.error(`euca: ${readable(failure.value)}`).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 1))))
    }
    if (Cause.isInterruptedOnly(exit.cause)) return Effect.void
    return Console.error(`euca: internal error\n${Cause.pretty(exit.cause)}`).pipe(Effect.zipRight(Effect.sync(() => (process.exitCode = 70))))
  }),
  Effect.provide(NodeContext.layer),
  NodeRuntime.runMain({ disableErrorReporting: true })
)
