import { describe, expect, it } from "vitest"
import * as PowerModel from "../../src/model/power/PowerModel.js"

describe("power models (CloudSim 3.0.3)", () => {
  const g4 = PowerModel.hpProLiantMl110G4Xeon3040
  const g5 = PowerModel.hpProLiantMl110G5Xeon3075
  it("SPECpower tables at the measured points and interpolated between them", () => {
    expect(PowerModel.power(g4, 0)).toBe(86)
    expect(PowerModel.power(g4, 1)).toBe(117)
    expect(PowerModel.power(g5, 0.5)).toBe(116)
    expect(PowerModel.power(g5, 0.55)).toBeCloseTo(118.5, 10)
    expect(PowerModel.power(g4, 0.3)).toBeCloseTo(96, 10)
    expect(PowerModel.maxPower(g4) + PowerModel.maxPower(g5)).toBe(252)
  })
  it("linear, square, cubic and sqrt between idle (static %) and max", () => {
    const m = { maxPower: 200, staticPowerPercent: 0.5 }
    expect(PowerModel.power({ kind: "linear", ...m }, 0.5)).toBeCloseTo(150, 10)
    expect(PowerModel.power({ kind: "square", ...m }, 0.5)).toBeCloseTo(125, 10)
    expect(PowerModel.power({ kind: "cubic", ...m }, 0.5)).toBeCloseTo(112.5, 10)
    expect(PowerModel.power({ kind: "sqrt", ...m }, 0.25)).toBeCloseTo(150, 10)
    for (const kind of ["linear", "square", "cubic", "sqrt"] as const) {
      expect(PowerModel.power({ kind, ...m }, 0)).toBeCloseTo(100, 10)
      expect(PowerModel.power({ kind, ...m }, 1)).toBeCloseTo(200, 10)
    }
  })
  it("rejects a utilisation outside [0, 1] and integrates energy by the trapezoid (idle start = off)", () => {
    expect(() => PowerModel.power(g4, 1.2)).toThrow(/outside \[0, 1\]/)
    expect(PowerModel.energyLinearInterpolation(g5, 0.5, 0.6, 300)).toBeCloseTo((116 + 121) / 2 * 300, 8)
    expect(PowerModel.energyLinearInterpolation(g5, 0, 0.6, 300)).toBe(0)
  })
})
