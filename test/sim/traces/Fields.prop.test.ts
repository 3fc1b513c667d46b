import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as Fields from "../../../src/sim/traces/Fields.js"

/** Tokens as they appear in SWF files, plus some that are not numbers. */
const token = FastCheck.oneof(
  FastCheck.integer({ min: -1_000_000, max: 2 ** 40 }).map(String),
  FastCheck.tuple(FastCheck.integer({ min: -1000, max: 100_000 }), FastCheck.integer({ min: 0, max: 999 })).map(
    ([a, b]) => `${a}.${String(b).padStart(2, "0")}`
  ),
  FastCheck.constantFrom("-1", "0", "-0", "1e3", "+5", ".5", "-.5", "5.", "abc", "1x", "-", "0x10", "1.2.3", "Infinity")
)
const space = FastCheck.stringMatching(/^[ \t]{1,4}$/)

/** What Number() says, restricted to what a trace field may be. */
const reference = (t: string): number => {
  const n = Number(t)
  return /^[-+]?(\d+\.?\d*|\.\d+)(e\d+)?$/i.test(t) && Number.isFinite(n) ? n : Number.NaN
}

describe("wsNumbers (the SWF tokenizer)", () => {
  it("parses whitespace-separated tokens exactly as Number() would, NaN for non-numbers", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.array(FastCheck.tuple(space, token), { maxLength: 25 }), space, (parts, tail) => {
        const line = parts.map(([s, t]) => s + t).join("") + tail
        const out = new Float64Array(25)
        const n = Fields.wsNumbers(line, out)
        expect(n).toBe(parts.length)
        const got = Array.from(out.subarray(0, n))
        const want = parts.map(([, t]) => reference(t))
        // Decimal fractions may differ from Number() in the last bit; integers must be exact.
        got.forEach((g, i) => {
          if (Number.isNaN(want[i]!)) expect(g).toBeNaN()
          else expect(g).toBeCloseTo(want[i]!, 9)
        })
      }),
      { numRuns: 500 }
    )
  })

  it("digits accepts plain non-negative integers only", () => {
    FastCheck.assert(
      FastCheck.property(FastCheck.string({ maxLength: 20 }), (s) => {
        expect(Fields.digits(s)).toBe(/^\d+$/.test(s) ? Number(s) : -1)
      }),
      { numRuns: 500 }
    )
  })
})
