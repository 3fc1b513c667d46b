/** Runs `euca sim …` in-process, as the lead's main will: the real command, Node's file system, stdout captured. */
import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { Console, Effect, Exit } from "effect"
import { simCommand } from "../../../src/cli/SimCommand.js"

export interface CliOutcome {
  readonly stdout: string
  readonly exit: Exit.Exit<void, unknown>
  /** The typed failure, if the command failed with one. */
  readonly error: { readonly _tag: string; readonly message: string } | undefined
}

const capturing = (lines: Array<string>): Console.Console => {
  const push = (...args: ReadonlyArray<unknown>) => Effect.sync(() => void lines.push(args.map(String).join(" ")))
  const unsafe = { ...globalThis.console, log: (...a: ReadonlyArray<unknown>) => void lines.push(a.map(String).join(" ")) }
  return {
    [Console.TypeId]: Console.TypeId,
    assert: () => Effect.void,
    clear: Effect.void,
    count: () => Effect.void,
    countReset: () => Effect.void,
    debug: push,
    dir: push,
    dirxml: push,
    error: push,
    group: () => Effect.void,
    groupEnd: Effect.void,
    info: push,
    log: push,
    table: push,
    time: () => Effect.void,
    timeEnd: () => Effect.void,
    timeLog: () => Effect.void,
    trace: push,
    warn: push,
    unsafe
  } as unknown as Console.Console
}

export const runCli = async (args: ReadonlyArray<string>): Promise<CliOutcome> => {
  const lines: Array<string> = []
  const cli = Command.run(Command.make("euca").pipe(Command.withSubcommands([simCommand])), { name: "euca", version: "test" })
  const exit = await Effect.runPromiseExit(
    cli(["node", "euca", ...args]).pipe(Effect.withConsole(capturing(lines)), Effect.provide(NodeContext.layer))
  )
  let error: CliOutcome["error"]
  if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
    const e = exit.cause.error as { _tag?: string; message?: string }
    error = { _tag: e._tag ?? "unknown", message: e.message ?? String(e) }
  }
  return { stdout: lines.join("\n"), exit, error }
}
