import { describe, expect, it } from "@effect/vitest"
import * as Distribution from "../../src/sim/Distribution.js"
import * as Random from "../../src/sim/Random.js"

describe("Random and the delay distributions", () => {
  it("gives the same sequence for the same seed and another for another seed", () => {
    const a = Random.make(42)
    const b = Random.make(42)
    const c = Random.make(43)
    const xs = Array.from({ length: 50 }, () => [a.nextU32(), a.normal()])
    expect(Array.from({ length: 50 }, () => [b.nextU32(), b.normal()])).toEqual(xs)
    expect(Array.from({ length: 50 }, () => [c.nextU32(), c.normal()])).not.toEqual(xs)
  })

  it("samples with the intended means and shapes (integer ms, never negative)", () => {
    const rng = Random.make(7)
    const n = 40_000
    const mean = (s: Distribution.Sampler) => {
      let sum = 0
      for (let i = 0; i < n; i++) {
        const x = s.sample(rng)
        expect(Number.isInteger(x) && x >= 0).toBe(true)
        sum += x
      }
      return sum / n
    }
    expect(mean(Distribution.constantMs(1234))).toBe(1234)
    expect(Math.abs(mean(Distribution.uniformMs(10_000, 30_000)) - 20_000)).toBeLessThan(300)
    expect(Math.abs(mean(Distribution.exponentialMs(5_000)) - 5_000)).toBeLessThan(200)
    const ln = Distribution.logNormalMs(30_000, 0.5)
    expect(Math.abs(mean(ln) - ln.meanMs) / ln.meanMs).toBeLessThan(0.03)
    // The median of a log-normal is its median parameter.
    const xs = Array.from({ length: n }, () => ln.sample(rng)).sort((a, b) => a - b)
    expect(Math.abs(xs[n / 2]! - 30_000) / 30_000).toBeLessThan(0.03)
  })
})
