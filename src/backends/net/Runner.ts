/**
 * Where network commands run. The applier only needs `run(argv, stdin?) → {code, stdout, stderr}`:
 * the local runner here executes on this machine (optionally inside a network namespace through
 * `ip netns exec`), and the Xen backend plugs in one that runs over SSH on the cluster head.
 * A command that ran and failed is a Result with its exit code; a RunnerError means it could not
 * be run at all (missing binary, timeout, broken connection).
 */
import { spawn } from "node:child_process"
import { Duration, Effect, Schema } from "effect"

export interface Result {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export class RunnerError extends Schema.TaggedError<RunnerError>()("RunnerError", {
  where: Schema.String,
  command: Schema.String,
  message: Schema.String
}) {}

export interface Runner {
  /** Where commands run, for messages: "local", "netns eu-head", "ssh root@head". */
  readonly where: string
  readonly run: (argv: ReadonlyArray<string>, stdin?: string) => Effect.Effect<Result, RunnerError>
}

export const DEFAULT_TIMEOUT_MS = 30_000

/** Runs argv on this machine, in `netns` if given (as root: `ip netns exec <netns> argv…`). */
export const local = (options: { readonly netns?: string | undefined; readonly timeoutMs?: number | undefined } = {}): Runner => {
  const where = options.netns === undefined ? "local" : `netns ${options.netns}`
  const timeout = Duration.millis(options.timeoutMs ?? DEFAULT_TIMEOUT_MS)
  return {
    where,
    run: (argv, stdin) => {
      const full = options.netns === undefined ? [...argv] : ["ip", "netns", "exec", options.netns, ...argv]
      const command = argv.join(" ")
      return Effect.async<Result, RunnerError>((resume) => {
        const child = spawn(full[0]!, full.slice(1), { stdio: ["pipe", "pipe", "pipe"] })
        let stdout = ""
        let stderr = ""
        child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d))
        child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d))
        child.on("error", (e) => resume(Effect.fail(new RunnerError({ where, command, message: e.message }))))
        child.on("close", (code, signal) =>
          resume(Effect.succeed({ code: code ?? (signal ? 128 : 1), stdout, stderr: signal ? `${stderr}killed by ${signal}` : stderr }))
        )
        // A command that does not read its stdin may close it early; that is not our failure.
        child.stdin.on("error", () => {})
        child.stdin.end(stdin ?? "")
        return Effect.sync(() => child.kill("SIGKILL"))
      }).pipe(
        Effect.timeoutFail({ duration: timeout, onTimeout: () => new RunnerError({ where, command, message: `no answer within ${Duration.format(timeout)}` }) })
      )
    }
  }
}
