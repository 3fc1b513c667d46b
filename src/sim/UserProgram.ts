/**
 * The shell side of the USER policy for simulations: runs the placement program synchronously with
 * Eucalyptus's contract — `program resfile instfile mem disk cores instId userdatafile platform`, the
 * exit code is the 1-based node index (0: nothing fits), 8 s timeout — and hands the exit code back
 * to the engine. A program that cannot be started stops the run with a clear error; a program that
 * times out or is killed counts as "no node" (Eucalyptus failed that placement too).
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import type * as Consult from "./Consult.js"

export class UserProgramError extends Error {}

/** A Consult running real programs; `dispose` removes its scratch directory. */
export const make = (): { readonly consult: Consult.Consult; readonly dispose: () => void } => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-sim-user-"))
  const res = Path.join(dir, "resources")
  const inst = Path.join(dir, "instances")
  const userData = Path.join(dir, "userdata")
  Fs.writeFileSync(userData, "")
  const consult: Consult.Consult = (q) => {
    Fs.writeFileSync(res, q.resources)
    Fs.writeFileSync(inst, q.instances)
    const r = ChildProcess.spawnSync(q.program, [res, inst, ...q.args, userData, "linux"], { timeout: q.timeoutMs, stdio: "ignore" })
    if (r.error !== undefined && (r.error as NodeJS.ErrnoException).code !== "ETIMEDOUT") {
      throw new UserProgramError(`cannot run the placement program ${q.program}: ${r.error.message}`)
    }
    return r.status ?? 0
  }
  return { consult, dispose: () => Fs.rmSync(dir, { recursive: true, force: true }) }
}
