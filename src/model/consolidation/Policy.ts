/**
 * Dynamic VM consolidation policies (Beloglazov & Buyya, CCPE 24(13), 2012, as CloudSim 3.0.3
 * implements them): host overload detection, VM selection, and the baselines. Pure functions of a
 * small view of one host; the simulator (src/sim/consolidation) owns the state they look at.
 */
import * as Stats from "./Stats.js"

export type Overload =
  /** THR: static threshold on requested MIPS / host MIPS. */
  | { readonly kind: "thr"; readonly threshold: number }
  /** IQR: upper threshold 1 − s·IQR(host utilisation history); THR(fallback) with < 12 samples. */
  | { readonly kind: "iqr"; readonly safety: number; readonly fallback: number }
  /** MAD: upper threshold 1 − s·MAD(history). */
  | { readonly kind: "mad"; readonly safety: number; readonly fallback: number }
  /** LR: overloaded when s × (linear-regression forecast of utilisation after the longest migration) ≥ 1. */
  | { readonly kind: "lr"; readonly safety: number; readonly fallback: number }
  /** LRR: LR with the robust (bisquare-reweighted) regression. */
  | { readonly kind: "lrr"; readonly safety: number; readonly fallback: number }

export type Selection = "mmt" | "mc" | "mu" | "rs"

export type Policy =
  /** NPA: no power awareness: first fit, no migrations, every host at full power all the time. */
  | { readonly kind: "npa" }
  /** DVFS: first fit, no migrations, power follows utilisation. */
  | { readonly kind: "dvfs" }
  /** Dynamic consolidation: overload detection + VM selection + PABFD placement, underload by least-utilised host. */
  | { readonly kind: "migration"; readonly overload: Overload; readonly selection: Selection }

/** What a detector sees of one host (after the tentative moves of the current round). */
export interface HostView {
  /** Σ requested MIPS of the VMs on the host (including VMs migrating in). */
  readonly requestedMips: number
  readonly totalMips: number
  /** The host's utilisation history, most recent first, zero tail trimmed (PowerHostUtilizationHistory). */
  readonly history: () => Float64Array
  /** Largest RAM (MB) of the VMs on the host, and the host's bandwidth (kbit/s) for LR's migration time. */
  readonly maxVmRam: () => number
  readonly bandwidth: number
  readonly schedulingInterval: number
}

export interface Verdict {
  readonly overloaded: boolean
  /** The threshold or forecast recorded in CloudSim's metric history (NaN when the fallback decided). */
  readonly metric: number
}

const thr = (h: HostView, threshold: number): Verdict => ({
  overloaded: h.requestedMips / h.totalMips > threshold,
  metric: threshold
})

/** PowerVmAllocationPolicyMigration*.isHostOverUtilized. */
export const isOverloaded = (o: Overload, h: HostView): Verdict => {
  switch (o.kind) {
    case "thr":
      return thr(h, o.threshold)
    case "iqr":
    case "mad": {
      const data = h.history()
      if (Stats.countNonZeroBeginning(data) < 12) return { ...thr(h, o.fallback), metric: Number.NaN }
      const upper = 1 - o.safety * (o.kind === "iqr" ? Stats.iqr(data) : Stats.mad(data))
      return { overloaded: h.requestedMips / h.totalMips > upper, metric: upper }
    }
    case "lr":
    case "lrr": {
      const data = h.history()
      const length = 10
      if (data.length < length) return { ...thr(h, o.fallback), metric: Number.NaN }
      const reversed = new Float64Array(length)
      for (let i = 0; i < length; i++) reversed[i] = data[length - i - 1]!
      let est: [number, number]
      try {
        est = o.kind === "lr" ? Stats.loessEstimates(reversed) : Stats.robustLoessEstimates(reversed)
      } catch {
        return { ...thr(h, o.fallback), metric: Number.NaN }
      }
      const migrationTime = h.maxVmRam() / (h.bandwidth / (2 * 8000))
      const intervals = Math.ceil(migrationTime / h.schedulingInterval)
      const predicted = (est[0] + est[1] * (length + intervals)) * o.safety
      return { overloaded: predicted >= 1, metric: predicted }
    }
  }
}

/** A VM a selection policy may pick (not already migrating). */
export interface Candidate {
  readonly ram: number
  /** Current CPU use in MIPS (MU). */
  readonly utilizationMips: number
  /** CPU utilisation history, most recent first (MC). */
  readonly history: ArrayLike<number>
}

export interface Draw {
  nextInt(bound: number): number
}

/** MMT: the least RAM (first on ties). */
export const minimumMigrationTime = (c: ReadonlyArray<Candidate>): number => {
  let best = -1
  let min = Number.MAX_VALUE
  for (let i = 0; i < c.length; i++) {
    if (c[i]!.ram < min) {
      min = c[i]!.ram
      best = i
    }
  }
  return best
}

/** MU: the lowest current MIPS (first on ties). */
export const minimumUtilization = (c: ReadonlyArray<Candidate>): number => {
  let best = -1
  let min = Number.MAX_VALUE
  for (let i = 0; i < c.length; i++) {
    if (c[i]!.utilizationMips < min) {
      min = c[i]!.utilizationMips
      best = i
    }
  }
  return best
}

/**
 * MC: the VM whose utilisation history is best explained (highest R²) by the others'; MMT when the
 * regression has no degrees of freedom (fewer samples than VMs + 1) or a single candidate.
 */
export const maximumCorrelation = (c: ReadonlyArray<Candidate>): number => {
  if (c.length < 2) return minimumMigrationTime(c)
  let m = Number.MAX_SAFE_INTEGER
  for (const v of c) m = Math.min(m, v.history.length)
  const rows = c.map((v) => Float64Array.from({ length: m }, (_, j) => v.history[j]!))
  let metrics: Array<number>
  try {
    metrics = rows.map((y, i) => Stats.rSquared(rows.filter((_, j) => j !== i), y))
  } catch {
    return minimumMigrationTime(c)
  }
  let max = Number.MIN_VALUE
  let index = 0
  for (let i = 0; i < metrics.length; i++) {
    if (metrics[i]! > max) {
      max = metrics[i]!
      index = i
    }
  }
  return index
}

/** The index of the VM to migrate among `c`, or −1 when there is none. */
export const select = (s: Selection, c: ReadonlyArray<Candidate>, draw: Draw): number => {
  if (c.length === 0) return -1
  switch (s) {
    case "mmt":
      return minimumMigrationTime(c)
    case "mu":
      return minimumUtilization(c)
    case "mc":
      return maximumCorrelation(c)
    case "rs":
      return draw.nextInt(c.length)
  }
}

/** The names CloudSim's examples use: `npa`, `dvfs`, `thr-mmt-0.8`, `iqr-mc-1.5`, `lrr-rs-1.2`, … */
export const parse = (name: string): Policy | undefined => {
  const n = name.trim().toLowerCase()
  if (n === "npa") return { kind: "npa" }
  if (n === "dvfs") return { kind: "dvfs" }
  const m = /^(thr|iqr|mad|lr|lrr)-(mmt|mc|mu|rs)(?:-([0-9]*\.?[0-9]+))?$/.exec(n)
  if (!m) return undefined
  const kind = m[1] as Overload["kind"]
  const param = m[3] === undefined ? defaultParameter[kind] : Number(m[3])
  const overload: Overload = kind === "thr" ? { kind, threshold: param } : { kind, safety: param, fallback: 0.7 }
  return { kind: "migration", overload, selection: m[2] as Selection }
}

/** The parameters of CloudSim's planetlab examples (ThrMmt 0.8, IqrMmt 1.5, MadMmt 2.5, LrMmt 1.2, LrrMmt 1.2). */
export const defaultParameter: Readonly<Record<Overload["kind"], number>> = { thr: 0.8, iqr: 1.5, mad: 2.5, lr: 1.2, lrr: 1.2 }

export const name = (p: Policy): string => {
  if (p.kind !== "migration") return p.kind
  const o = p.overload
  return `${o.kind}-${p.selection}-${o.kind === "thr" ? o.threshold : o.safety}`
}

/** The 21 pairs of the reproduction: NPA, DVFS, and {THR, IQR, MAD, LR, LRR} × {MMT, MC, MU, RS}… minus none: 2 + 20 = 22; the 21 omit NPA. */
export const all = (): Array<Policy> => [
  { kind: "dvfs" },
  ...(["thr", "iqr", "mad", "lr", "lrr"] as const).flatMap((o) =>
    (["mmt", "mc", "mu", "rs"] as const).map((s) => parse(`${o}-${s}`)!)
  )
]
