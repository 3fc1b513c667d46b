/**
 * Axis labels and units of the fields a chart can name, so that a chart gets "vCPUs in use (vCPU)"
 * without the notebook spelling it out. A chart's own xLabel/yLabel/xUnit/yUnit win.
 */

export interface Described {
  readonly label: string
  readonly unit: string
}

const known: Record<string, Described> = {
  time_ms: { label: "simulated time", unit: "ms" },
  time_s: { label: "simulated time", unit: "s" },
  time_min: { label: "simulated time", unit: "min" },
  time_h: { label: "simulated time", unit: "h" },
  time_d: { label: "simulated time", unit: "days" },
  used_vcpu: { label: "vCPUs in use", unit: "vCPU" },
  used_mib: { label: "memory in use", unit: "MiB" },
  used_gib: { label: "disk in use", unit: "GiB" },
  running: { label: "running instances", unit: "instances" },
  nodes_on: { label: "nodes powered on", unit: "nodes" },
  energy_kwh: { label: "energy so far", unit: "kWh" },
  public_addresses: { label: "public addresses in use", unit: "addresses" },
  vlans: { label: "VLANs in use", unit: "VLANs" },
  util_cores_pct: { label: "CPU (vCPU) utilisation", unit: "%" },
  util_memory_pct: { label: "memory utilisation", unit: "%" },
  util_disk_pct: { label: "disk utilisation", unit: "%" },
  requests: { label: "requests so far", unit: "requests" },
  accepted: { label: "requests accepted so far", unit: "requests" },
  rejected: { label: "requests rejected so far", unit: "requests" },
  acceptance_pct: { label: "requests accepted", unit: "%" },
  rejection_pct: { label: "requests rejected", unit: "%" },
  energy_kwh_summary: { label: "energy", unit: "kWh" },
  wait_mean_s: { label: "mean wait until running", unit: "s" },
  wait_p95_s: { label: "95th percentile wait until running", unit: "s" },
  simulatedMs: { label: "simulated time", unit: "ms" },
  events: { label: "events", unit: "events" },
  energyWh: { label: "energy", unit: "Wh" },
  "requests.total": { label: "requests", unit: "requests" },
  "requests.accepted": { label: "requests accepted", unit: "requests" },
  "requests.rejected": { label: "requests rejected", unit: "requests" },
  "instances.placed": { label: "instances placed", unit: "instances" },
  "instances.started": { label: "instances started", unit: "instances" },
  "instances.failed": { label: "instances failed", unit: "instances" },
  "instances.completed": { label: "instances completed", unit: "instances" },
  "instances.liveAtEnd": { label: "instances live at the end", unit: "instances" },
  "nodes.total": { label: "nodes", unit: "nodes" },
  "nodes.peakOn": { label: "peak nodes powered on", unit: "nodes" },
  "nodes.wakeUps": { label: "node wake-ups", unit: "wake-ups" },
  "nodes.powerDowns": { label: "node power-downs", unit: "power-downs" },
  "network.peakPublicAddresses": { label: "peak public addresses in use", unit: "addresses" },
  "network.peakVlans": { label: "peak VLANs in use", unit: "VLANs" },
  "capacity.nodes": { label: "nodes in the cloud", unit: "nodes" },
  "capacity.cores": { label: "physical cores", unit: "vCPU" },
  "measure.wallMs": { label: "wall time", unit: "ms" },
  "measure.events": { label: "events processed", unit: "events" },
  "measure.eventsPerSecond": { label: "throughput", unit: "events/s" },
  "measure.peakRssMiB": { label: "peak resident memory", unit: "MiB" },
  "measure.baselineRssMiB": { label: "resident memory before the run", unit: "MiB" },
  "measure.requests": { label: "trace requests", unit: "requests" },
  "measure.hosts": { label: "hosts", unit: "hosts" }
}

const zoneMetric: Record<string, Described> = {
  used_vcpu: known["used_vcpu"]!,
  used_mib: known["used_mib"]!,
  used_gib: known["used_gib"]!,
  running: known["running"]!,
  nodes_on: known["nodes_on"]!,
  energy_kwh: known["energy_kwh"]!
}

/** Label and unit of a field; unknown fields get their own name and no unit. */
export const describe = (field: string, where: "timeseries" | "summary" | "rejections"): Described => {
  if (where === "summary" && field === "energy_kwh") return known["energy_kwh_summary"]!
  if (where === "summary" && field.startsWith("util_")) {
    const d = known[field]
    if (d) return { label: `mean ${d.label}`, unit: d.unit }
  }
  const k = known[field]
  if (k) return k
  let m = /^zone\.(.+)\.([a-z_]+)$/.exec(field)
  if (m && zoneMetric[m[2]!]) return { label: `${zoneMetric[m[2]!]!.label} in ${m[1]}`, unit: zoneMetric[m[2]!]!.unit }
  m = /^rejected\.(.+)$/.exec(field)
  if (m) return { label: `rejected so far: ${m[1]}`, unit: "requests" }
  m = /^requests\.rejectedByReason\.(.+)$/.exec(field)
  if (m) return { label: `rejected: ${m[1]}`, unit: "requests" }
  m = /^(mean|peak)\.(.+)$/.exec(field)
  if (m && known[m[2]!]) return { label: `${m[1] === "mean" ? "mean" : "peak"} ${known[m[2]!]!.label}`, unit: known[m[2]!]!.unit }
  m = /^param\.(.+)$/.exec(field)
  if (m) return { label: m[1]!, unit: "" }
  if (where === "rejections") return { label: "requests rejected", unit: "requests" }
  return { label: field, unit: "" }
}
