/**
 * A fresh process that runs one experiment and reports how long it took and how much memory it
 * needed: the parent (SimRunner.measure) forks it per measured run, so each peak RSS is the run's own.
 * Wall time covers the run only (trace reading included), not Node's start-up or module loading.
 * Samples and placements are not collected here: a measured run costs what `euca sim run` costs
 * without writing its files, and the scale notebook reads only the summary.
 */
import { Cause, Effect, Runtime } from "effect"
import * as SimRunner from "./SimRunner.js"
import * as Simulator from "./Simulator.js"

const mib = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10

process.once("message", (m: { experiment: Record<string, unknown>; baseDir: string }) => {
  void (async () => {
    try {
      const baseline = process.memoryUsage().rss
      const t0 = performance.now()
      const result = await Effect.runPromise(
        SimRunner.runInProcess(m.experiment, m.baseDir, { collect: false }).pipe(Effect.catchAllDefect((d) => Effect.fail(d)))
      )
      const wallMs = performance.now() - t0
      const events = Number((result.summary as { events?: unknown }).events ?? 0)
      const requests = Number((result.trace as { requests?: unknown }).requests ?? 0)
      // maxRSS is in KiB on Linux and macOS.
      const peak = process.resourceUsage().maxRSS * 1024
      process.send!({
        ok: true,
        result,
        measurement: {
          wallMs,
          events,
          eventsPerSecond: wallMs > 0 ? events / (wallMs / 1000) : 0,
          peakRssMiB: mib(peak),
          baselineRssMiB: mib(baseline),
          requests,
          hosts: result.capacity.nodes
        }
      })
    } catch (thrown) {
      // Effect.runPromise rejects with a FiberFailure wrapping the typed error.
      const e = Runtime.isFiberFailure(thrown) ? Cause.squash((thrown as unknown as { [Runtime.FiberFailureCauseId]: Cause.Cause<unknown> })[Runtime.FiberFailureCauseId]) : thrown
      const error =
        e instanceof Simulator.RunError
          ? { ...(e.field === undefined ? {} : { field: e.field }), message: e.message }
          : { message: e instanceof Error ? (e.stack ?? e.message) : String(e) }
      process.send!({ ok: false, error })
    } finally {
      process.disconnect()
    }
  })()
})
