/**
 * Every example experiment in examples/experiments/ runs on its bundled trace (one per format), and
 * every request the reader handed out is accounted for: accepted or rejected with a reason. The
 * consolidation experiments (`"kind": "consolidation"`, PlanetLab) have their own runner and tests
 * (test/sim/consolidation/); here they only have to compile.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { NodeContext } from "@effect/platform-node"
import { Effect } from "effect"
import * as Consolidation from "../../src/sim/consolidation/Experiment.js"
import * as Experiment from "../../src/sim/Experiment.js"
import * as Run from "../../src/sim/Run.js"

const dir = Path.join(import.meta.dirname, "../../examples/experiments")
const all = Fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()
const parsed = (f: string) => JSON.parse(Fs.readFileSync(Path.join(dir, f), "utf8")) as { kind?: string; trace?: { format: string }; workload?: { format: string } }
const consolidation = all.filter((f) => parsed(f).kind === "consolidation")
const files = all.filter((f) => parsed(f).kind !== "consolidation")

describe("example experiments", () => {
  it("cover every trace format", () => {
    const formats = new Set(all.map((f) => parsed(f).trace?.format ?? parsed(f).workload?.format))
    expect([...formats].sort()).toEqual(["alibaba", "azure", "csv", "google", "planetlab", "swf", "synthetic"])
  })

  for (const f of consolidation) {
    it(`${f} compiles as a consolidation experiment`, () => {
      const exp = Consolidation.load(Path.join(dir, f))
      expect(exp.days.length).toBeGreaterThan(0)
      expect(exp.policies.length).toBeGreaterThan(0)
    })
  }

  for (const f of files) {
    it(`${f} runs to the end`, async () => {
      const summary = await Effect.runPromise(
        Experiment.load(Path.join(dir, f)).pipe(
          Effect.flatMap((loaded) => Run.run(loaded)),
          Effect.map((o) => o.summary),
          Effect.provide(NodeContext.layer)
        )
      )
      expect(summary.requests.total).toBeGreaterThan(0)
      expect(summary.requests.total).toBe(summary.trace.requests)
      expect(summary.requests.accepted + summary.requests.rejected).toBe(summary.requests.total)
      const byReason = Object.values(summary.requests.rejectedByReason).reduce((a, b) => a + b, 0)
      expect(byReason).toBe(summary.requests.rejected)
      expect(summary.instances.started + summary.instances.failed).toBeLessThanOrEqual(summary.instances.placed)
      expect(summary.energyWh).toBeGreaterThan(0)
    }, 60_000)
  }
})
