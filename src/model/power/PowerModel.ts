/**
 * Host power models as CloudSim 3.0.3 defines them (`org.cloudbus.cloudsim.power.models`): power in
 * watts as a function of CPU utilisation in [0, 1]. Pure functions; a utilisation outside [0, 1] is
 * an error (CloudSim throws IllegalArgumentException there too).
 *
 * - linear / square / cubic / sqrt: idle power plus (max − idle) times u, u², u³, √u
 *   (CloudSim: `static = staticPowerPercent * maxPower`, then `static + (max − static) / f(100) * f(u * 100)`
 *   with f = identity, square, cube, square root).
 * - SPECpower tables: 11 measurements at 0 %, 10 %, …, 100 %, linearly interpolated between them,
 *   for the two HP ProLiant servers of the PlanetLab experiments (SPECpower_ssj2008 results).
 */

export type PowerModel =
  | { readonly kind: "linear"; readonly maxPower: number; readonly staticPowerPercent: number }
  | { readonly kind: "square"; readonly maxPower: number; readonly staticPowerPercent: number }
  | { readonly kind: "cubic"; readonly maxPower: number; readonly staticPowerPercent: number }
  | { readonly kind: "sqrt"; readonly maxPower: number; readonly staticPowerPercent: number }
  | { readonly kind: "specpower"; readonly name: string; readonly watts: ReadonlyArray<number> }

/** HP ProLiant ML110 G4 (1 × Xeon 3040, 2 cores × 1860 MHz, 4 GB): CloudSim's PowerModelSpecPowerHpProLiantMl110G4Xeon3040. */
export const hpProLiantMl110G4Xeon3040: PowerModel = {
  kind: "specpower",
  name: "HP ProLiant ML110 G4 (Xeon 3040)",
  watts: [86, 89.4, 92.6, 96, 99.5, 102, 106, 108, 112, 114, 117]
}

/** HP ProLiant ML110 G5 (1 × Xeon 3075, 2 cores × 2660 MHz, 4 GB): CloudSim's PowerModelSpecPowerHpProLiantMl110G5Xeon3075. */
export const hpProLiantMl110G5Xeon3075: PowerModel = {
  kind: "specpower",
  name: "HP ProLiant ML110 G5 (Xeon 3075)",
  watts: [93.7, 97, 101, 105, 110, 116, 121, 125, 129, 133, 135]
}

/** The other SPECpower tables CloudSim ships, for experiments that name them. */
export const specPowerTables: Readonly<Record<string, PowerModel>> = {
  "hp-ml110-g4": hpProLiantMl110G4Xeon3040,
  "hp-ml110-g5": hpProLiantMl110G5Xeon3075,
  "hp-ml110-g3": { kind: "specpower", name: "HP ProLiant ML110 G3 (Pentium D 930)", watts: [105, 112, 118, 125, 131, 137, 147, 153, 157, 164, 169] },
  "ibm-x3250-x3470": { kind: "specpower", name: "IBM x3250 (Xeon X3470)", watts: [41.6, 46.7, 52.3, 57.9, 65.4, 73, 80.7, 89.5, 99.6, 105, 113] },
  "ibm-x3250-x3480": { kind: "specpower", name: "IBM x3250 (Xeon X3480)", watts: [42.3, 46.7, 49.7, 55.4, 61.8, 69.3, 76.1, 87, 96.1, 106, 113] },
  "ibm-x3550-x5670": { kind: "specpower", name: "IBM x3550 (Xeon X5670)", watts: [66, 107, 120, 131, 143, 156, 173, 191, 211, 229, 247] },
  "ibm-x3550-x5675": { kind: "specpower", name: "IBM x3550 (Xeon X5675)", watts: [58.4, 98, 109, 118, 128, 140, 153, 170, 189, 205, 222] }
}

export class PowerModelError extends Error {
  constructor(readonly utilization: number) {
    super(`utilisation ${utilization} is outside [0, 1] (CloudSim's power models reject it)`)
  }
}

/** Watts at utilisation `u` in [0, 1], with CloudSim's exact arithmetic (so results match to the bit). */
export const power = (model: PowerModel, u: number): number => {
  if (u < 0 || u > 1) throw new PowerModelError(u)
  switch (model.kind) {
    case "specpower": {
      const w = model.watts
      // PowerModelSpecPower.getPower, literally (including its `% 0.1 == 0` test).
      if (u % 0.1 === 0) return w[Math.trunc(u * 10)]!
      const u1 = Math.floor(u * 10)
      const u2 = Math.ceil(u * 10)
      const p1 = w[u1]!
      const p2 = w[u2]!
      const delta = (p2 - p1) / 10
      return p1 + delta * (u - u1 / 10) * 100
    }
    default: {
      const staticPower = model.staticPowerPercent * model.maxPower
      const span = model.maxPower - staticPower
      if (model.kind === "linear") return staticPower + (span / 100) * u * 100
      if (model.kind === "square") return staticPower + (span / Math.pow(100, 2)) * Math.pow(u * 100, 2)
      if (model.kind === "cubic") return staticPower + (span / Math.pow(100, 3)) * Math.pow(u * 100, 3)
      return staticPower + (span / Math.sqrt(100)) * Math.sqrt(u * 100)
    }
  }
}

/** Watts at full load (CloudSim's PowerHost.getMaxPower: `getPower(1)`). */
export const maxPower = (model: PowerModel): number => power(model, 1)

/**
 * Energy (W·s) over `seconds` while utilisation moves linearly from `from` to `to`
 * (PowerHost.getEnergyLinearInterpolation: the trapezoid; a host idle at the start — `from == 0` —
 * is taken as switched off for the whole interval and consumes nothing).
 */
export const energyLinearInterpolation = (model: PowerModel, from: number, to: number, seconds: number): number => {
  if (from === 0) return 0
  const p0 = power(model, from)
  const p1 = power(model, to)
  return (p0 + (p1 - p0) / 2) * seconds
}
