import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { select } from "../../src/sim/Metrics.js"

describe("Metrics.select", () => {
  it("finds the k-th smallest value, as sorting would", () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 200 }), fc.nat(), (xs, r) => {
        const k = r % xs.length
        const sorted = [...xs].sort((a, b) => a - b)
        expect(select(Float64Array.from(xs), k)).toBe(sorted[k])
      }),
      { numRuns: 500 }
    )
  })
})
