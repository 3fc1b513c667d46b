/**
 * A run's results in the form charts read (and the cache stores): the summary flattened to dotted
 * fields plus derived ones (percentages, kWh), and the time series as columns — cloud totals,
 * per-zone values, utilisation in percent, and requests accepted/rejected so far (by reason) taken
 * from the placements. Everything a declarative chart can name is listed by `fields`.
 */
import type * as RunResult from "./RunResult.js"

/** Bump when the derivation changes: it is part of the cache key. */
export const VERSION = 3

export interface Dataset {
  readonly summary: Readonly<Record<string, number | string>>
  /** Column name → values, every column the same length, ordered by time. */
  readonly timeseries: Readonly<Record<string, ReadonlyArray<number | null>>>
  /** Rejected requests by reason over the whole run. */
  readonly rejections: Readonly<Record<string, number>>
  readonly trace: Readonly<Record<string, unknown>>
  readonly measurement?: RunResult.Measurement | undefined
  readonly machine?: RunResult.Machine | undefined
}

const flatten = (o: unknown, prefix: string, out: Record<string, number | string>): void => {
  if (typeof o === "number" || typeof o === "string") {
    out[prefix] = o
    return
  }
  if (typeof o === "boolean") {
    out[prefix] = o ? 1 : 0
    return
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return
  for (const [k, v] of Object.entries(o)) flatten(v, prefix === "" ? k : `${prefix}.${k}`, out)
}

const num = (s: Record<string, number | string>, k: string): number | undefined => {
  const v = s[k]
  return typeof v === "number" ? v : undefined
}

const pct = (a: number, b: number): number | null => (b > 0 ? (a / b) * 100 : null)

export const derive = (
  r: RunResult.RunResult,
  measured?: { readonly measurement: RunResult.Measurement; readonly machine: RunResult.Machine }
): Dataset => {
  const summary: Record<string, number | string> = {}
  flatten(r.summary, "", summary)
  const total = num(summary, "requests.total")
  const accepted = num(summary, "requests.accepted")
  if (total !== undefined && accepted !== undefined) {
    const p = pct(accepted, total)
    if (p !== null) summary["acceptance_pct"] = p
    summary["rejection_pct"] = total > 0 ? 100 - (p ?? 0) : 0
  }
  for (const d of ["cores", "memory", "disk"]) {
    const u = num(summary, `utilisation.${d}`)
    if (u !== undefined) summary[`util_${d}_pct`] = u * 100
  }
  const wh = num(summary, "energyWh")
  if (wh !== undefined) summary["energy_kwh"] = wh / 1000
  const wait = num(summary, "waitMs.mean")
  if (wait !== undefined) summary["wait_mean_s"] = wait / 1000
  const p95 = num(summary, "waitMs.p95")
  if (p95 !== undefined) summary["wait_p95_s"] = p95 / 1000
  summary["capacity.nodes"] = r.capacity.nodes
  summary["capacity.cores"] = r.capacity.cores
  summary["capacity.memoryMiB"] = r.capacity.memoryMiB
  summary["capacity.diskGiB"] = r.capacity.diskGiB
  if (measured) flatten(measured.measurement, "measure", summary)

  const rejections: Record<string, number> = {}
  for (const d of r.decisions) if (d.outcome === "rejected") rejections[d.reason ?? "unknown"] = (rejections[d.reason ?? "unknown"] ?? 0) + 1

  const timeseries = series(r, Object.keys(rejections).sort())
  // Sample means and peaks of the levels (samples are evenly spaced, so the mean is the time average).
  for (const c of ["running", "nodes_on", "public_addresses", "vlans", "used_vcpu", "used_mib", "util_cores_pct", "util_memory_pct", "util_disk_pct"]) {
    const xs = (timeseries[c] ?? []).filter((v): v is number => v !== null)
    if (xs.length === 0) continue
    summary[`mean.${c}`] = xs.reduce((a, b) => a + b, 0) / xs.length
    summary[`peak.${c}`] = xs.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY)
  }
  return {
    summary,
    timeseries,
    rejections,
    trace: r.trace,
    ...(measured ? { measurement: measured.measurement, machine: measured.machine } : {})
  }
}

const series = (r: RunResult.RunResult, reasons: ReadonlyArray<string>): Record<string, Array<number | null>> => {
  // Group the per-zone samples by time (they come zone by zone for each time, times increasing).
  const times: Array<number> = []
  const index = new Map<number, number>()
  const zones: Array<string> = []
  for (const s of r.samples) {
    if (!index.has(s.timeMs)) {
      index.set(s.timeMs, times.length)
      times.push(s.timeMs)
    }
    if (!zones.includes(s.zone)) zones.push(s.zone)
  }
  const n = times.length
  const col = () => new Array<number | null>(n).fill(0)
  const cols: Record<string, Array<number | null>> = {}
  const metrics = ["used_vcpu", "used_mib", "used_gib", "running", "nodes_on", "energy_kwh"] as const
  for (const m of metrics) cols[m] = col()
  cols["public_addresses"] = col()
  cols["vlans"] = col()
  const perZone = zones.length > 1
  if (perZone) for (const z of zones) for (const m of metrics) cols[`zone.${z}.${m}`] = col()
  for (const s of r.samples) {
    const i = index.get(s.timeMs)!
    const values: Record<(typeof metrics)[number], number> = {
      used_vcpu: s.usedVcpu,
      used_mib: s.usedMiB,
      used_gib: s.usedGiB,
      running: s.running,
      nodes_on: s.nodesOn,
      energy_kwh: s.energyWh / 1000
    }
    for (const m of metrics) {
      cols[m]![i] = (cols[m]![i] as number) + values[m]
      if (perZone) cols[`zone.${s.zone}.${m}`]![i] = values[m]
    }
    cols["public_addresses"]![i] = s.publicAddresses
    cols["vlans"]![i] = s.vlans
  }
  cols["time_ms"] = times
  cols["time_s"] = times.map((t) => t / 1000)
  cols["time_min"] = times.map((t) => t / 60_000)
  cols["time_h"] = times.map((t) => t / 3_600_000)
  cols["time_d"] = times.map((t) => t / 86_400_000)
  const cap = r.capacity
  cols["util_cores_pct"] = cols["used_vcpu"]!.map((v) => pct(v as number, cap.cores))
  cols["util_memory_pct"] = cols["used_mib"]!.map((v) => pct(v as number, cap.memoryMiB))
  cols["util_disk_pct"] = cols["used_gib"]!.map((v) => pct(v as number, cap.diskGiB))

  // Decisions so far at each sample time (a sample at T includes every event at times ≤ T).
  const decisions = [...r.decisions].sort((a, b) => a.timeMs - b.timeMs)
  const req = col()
  const acc = col()
  const rej = col()
  const byReason: Record<string, Array<number | null>> = {}
  for (const why of reasons) byReason[why] = col()
  const seen = new Set<number>()
  let nReq = 0, nAcc = 0, nRej = 0
  const nBy: Record<string, number> = {}
  let k = 0
  for (let i = 0; i < n; i++) {
    while (k < decisions.length && decisions[k]!.timeMs <= times[i]!) {
      const d = decisions[k]!
      if (!seen.has(d.requestId)) {
        seen.add(d.requestId)
        nReq++
        if (d.outcome === "rejected") {
          nRej++
          const why = d.reason ?? "unknown"
          nBy[why] = (nBy[why] ?? 0) + 1
        } else nAcc++
      }
      k++
    }
    req[i] = nReq
    acc[i] = nAcc
    rej[i] = nRej
    for (const why of reasons) byReason[why]![i] = nBy[why] ?? 0
  }
  cols["requests"] = req
  cols["accepted"] = acc
  cols["rejected"] = rej
  cols["acceptance_pct"] = req.map((q, i) => pct(acc[i] as number, q as number))
  for (const why of reasons) cols[`rejected.${why}`] = byReason[why]!
  return cols
}
