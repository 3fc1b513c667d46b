/** Helpers for the trace reader tests: read a spec whole, expect a TraceError, temporary directories. */
import * as Fs from "node:fs/promises"
import * as Os from "node:os"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import { Effect } from "effect"
import type * as TraceError from "../../../src/sim/traces/TraceError.js"
import * as TraceReader from "../../../src/sim/traces/TraceReader.js"
import * as TraceSpec from "../../../src/sim/traces/TraceSpec.js"

export const repo = Path.resolve(import.meta.dirname, "../../..")
export const traces = Path.join(repo, "traces")

/** Every request and the final stats of a trace (the reader is closed afterwards). */
export const readAll = (spec: TraceSpec.TraceSpec, baseDir = repo) =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(TraceSpec.open(spec, baseDir), TraceReader.readAll)))

/** The TraceError reading a trace fails with (the test fails if it reads fine). */
export const readError = (spec: TraceSpec.TraceSpec, baseDir = repo): Promise<TraceError.TraceError> =>
  Effect.runPromise(Effect.scoped(Effect.flatMap(TraceSpec.open(spec, baseDir), TraceReader.readAll)).pipe(Effect.flip))

/** Runs f with a fresh temporary directory, removed afterwards whatever happens. */
export const withTmp = async <A>(f: (dir: string) => Promise<A>): Promise<A> => {
  const dir = await Fs.mkdtemp(Path.join(Os.tmpdir(), "euca-traces-"))
  try {
    return await f(dir)
  } finally {
    await Fs.rm(dir, { recursive: true, force: true })
  }
}

/** The text of a bundled file, gunzipped if needed (test oracles only: these files are small). */
export const text = async (relative: string): Promise<string> => {
  const buf = await Fs.readFile(Path.join(traces, relative))
  return (buf[0] === 0x1f && buf[1] === 0x8b ? Zlib.gunzipSync(buf) : buf).toString("utf8")
}

export const sum = (xs: ReadonlyArray<number>): number => xs.reduce((a, b) => a + b, 0)
