/**
 * The shell side of Eucalyptus's USER policy: write the resources and instances files, run the
 * placement program as `program resfile instfile mem disk cores instId userdatafile platform` with an
 * 8 s timeout, and hand its exit code (1-based node index; 0 = no fit) back to the core.
 * A program that times out, cannot be started or dies on a signal counts as "no fit" (0), with a
 * diagnostic: the core then rejects the request with a reason instead of guessing.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect } from "effect"
import type * as Decide from "../model/Decide.js"
import type * as Policy from "../model/Policy.js"

export interface Answer {
  readonly code: number
  /** Why the answer is 0 when the program did not exit normally. */
  readonly diagnostic?: string
}

const stage = (q: Policy.ExternalQuery, userData: string | undefined) => {
  const dir = mkdtempSync(join(tmpdir(), "euca-user-policy-"))
  const res = join(dir, "resources")
  const inst = join(dir, "instances")
  const ud = join(dir, "userdata")
  writeFileSync(res, q.resources)
  writeFileSync(inst, q.instances)
  writeFileSync(ud, userData ?? "")
  const args = [res, inst, ...q.args, ud, "linux"]
  return { dir, args }
}

const interpret = (status: number | null, signal: string | null, error: Error | undefined, timedOut: boolean, q: Policy.ExternalQuery): Answer => {
  if (timedOut) return { code: 0, diagnostic: `${q.program} did not answer within ${q.timeoutMs} ms` }
  if (error) return { code: 0, diagnostic: `${q.program} could not be run: ${error.message}` }
  if (status === null) return { code: 0, diagnostic: `${q.program} was killed by ${signal}` }
  return { code: status }
}

/** Runs the program without blocking the event loop. */
export const run = (q: Policy.ExternalQuery, userData?: string): Effect.Effect<Answer> =>
  Effect.acquireUseRelease(
    Effect.sync(() => stage(q, userData)),
    ({ args }) =>
      Effect.async<Answer>((resume) => {
        let timedOut = false
        const child = spawn(q.program, args, { stdio: "ignore" })
        const timer = setTimeout(() => {
          timedOut = true
          child.kill("SIGKILL")
        }, q.timeoutMs)
        child.once("error", (error) => {
          clearTimeout(timer)
          resume(Effect.succeed(interpret(null, null, error, false, q)))
        })
        child.once("exit", (code, signal) => {
          clearTimeout(timer)
          resume(Effect.succeed(interpret(code, signal, undefined, timedOut, q)))
        })
        return Effect.sync(() => {
          clearTimeout(timer)
          child.kill("SIGKILL")
        })
      }),
    ({ dir }) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

/**
 * Decide a command, consulting the external program as often as the core asks (once per instance of
 * a USER-policy launch), without blocking.
 */
export const decideEffect = (
  decide: (answers: ReadonlyArray<number>) => Decide.Decision,
  userData?: string
): Effect.Effect<Decide.Decision> =>
  Effect.gen(function* () {
    const answers: Array<number> = []
    for (;;) {
      const d = decide(answers)
      if (d._tag !== "Consult") return d
      answers.push((yield* run(d.query, userData)).code)
    }
  })
