import { describe, expect, it } from "vitest"
import * as Stats from "../../../src/model/consolidation/Stats.js"

// Expected values printed by Commons Math 3.6.1 on the JVM (Debian's libcommons-math3-java):
// new OLSMultipleLinearRegression().newSampleData(y, xᵀ) and calculateRSquared(), as CloudSim 3.0.3's
// PowerVmSelectionPolicyMaximumCorrelation calls it.
describe("Stats.rSquared (MC's R², Commons Math 3's OLS)", () => {
  it("gives Commons Math's bits for an ordinary fit", () => {
    const x = [
      [0.31, 0.12, 0.5, 0.44, 0.27, 0.9],
      [0.05, 0.2, 0.33, 0.41, 0.07, 0.12]
    ]
    expect(Stats.rSquared(x, [0.2, 0.25, 0.61, 0.58, 0.22, 0.71])).toBe(0.9868053256223164)
  })

  it("accepts as many observations as coefficients (an exact fit: 1), where flanagan refused", () => {
    expect(Stats.rSquared([[0.1, 0.2, 0.3], [0.3, 0.1, 0.7]], [0.5, 0.4, 0.9])).toBe(1)
  })

  it("throws where Commons Math throws, so MC falls back to MMT: a singular R, too few observations", () => {
    expect(() => Stats.rSquared([[0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]], [0.5, 0.4, 0.9, 0.2])).toThrow(RangeError)
    expect(() => Stats.rSquared([[0.1, 0.2], [0.3, 0.1], [0.2, 0.2]], [0.5, 0.4])).toThrow(RangeError)
  })
})
