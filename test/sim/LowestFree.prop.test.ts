import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { LowestFree } from "../../src/sim/LowestFree.js"

describe("LowestFree", () => {
  it("takes the lowest free value of its range, as a scan of the taken set would, whatever is given back", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 100_000 }),
        fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 5000 })),
        fc.array(fc.oneof(fc.constant(-1), fc.nat()), { maxLength: 3000 }),
        (lo, span, ops) => {
          const hi = lo + span - 1
          const free = new LowestFree(lo, hi)
          const taken = new Set<number>()
          const held: Array<number> = []
          for (const op of ops) {
            if (op < 0 || held.length === 0 || op % 3 !== 0) {
              let want = -1
              for (let v = lo; v <= hi; v++) {
                if (!taken.has(v)) {
                  want = v
                  break
                }
              }
              const got = free.take()
              expect(got).toBe(want)
              if (got >= 0) {
                taken.add(got)
                held.push(got)
              }
            } else {
              const v = held.splice(op % held.length, 1)[0]!
              taken.delete(v)
              free.give(v)
            }
            expect(free.used).toBe(taken.size)
            expect(free.free).toBe(span - taken.size)
          }
        }
      ),
      { numRuns: 200 }
    )
  })

  it("gives back and takes values across many bitmap words", () => {
    const free = new LowestFree(10, 10 + 3_000_000)
    let wrong = 0
    for (let k = 0; k < 2_000_000; k++) if (free.take() !== 10 + k) wrong++
    expect(wrong).toBe(0)
    for (const v of [1_999_999, 1_048_576, 40_000, 33_000, 32, 31, 0]) free.give(10 + v)
    for (const v of [0, 31, 32, 33_000, 40_000, 1_048_576, 1_999_999, 2_000_000]) expect(free.take()).toBe(10 + v)
  })
})
