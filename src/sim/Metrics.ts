/**
 * The numbers a run is judged by, computed from the recorder calls: requests accepted and rejected
 * (by reason), instances, wait until running, time-averaged utilisation per dimension, nodes on and
 * energy (linear idle/peak power model per node; asleep nodes draw nothing, waking nodes draw their
 * idle power), public addresses and VLANs in use — and a time series of per-zone samples every
 * `intervalMs` (a sample at T shows the cloud after every event at times ≤ T).
 *
 * Utilisation is used ÷ physical capacity of the whole cloud, averaged over [0, end]; with overcommit
 * it can exceed 1.
 */
import type * as Recorder from "./Recorder.js"

export interface NodeInfo {
  readonly zone: number
  /** Physical cores, MiB, GiB. */
  readonly cores: number
  readonly memoryMiB: number
  readonly diskGiB: number
  readonly idleWatts: number
  readonly peakWatts: number
  /** Powered on at time 0. */
  readonly on: boolean
}

export interface Sample {
  readonly timeMs: number
  readonly zone: string
  readonly usedVcpu: number
  readonly usedMiB: number
  readonly usedGiB: number
  /** Instances in state running. */
  readonly running: number
  /** Nodes up or waking. */
  readonly nodesOn: number
  /** Energy the zone's nodes used since time 0. */
  readonly energyWh: number
  /** Cloud-wide: public addresses from the pool held by instances, VLANs held by security groups. */
  readonly publicAddresses: number
  readonly vlans: number
}

export interface Summary {
  /** When the run ended (the horizon, or the last event). */
  readonly simulatedMs: number
  readonly events: number
  readonly requests: {
    readonly total: number
    readonly accepted: number
    readonly rejected: number
    /** Rejected requests by the rejection's tag, tags in alphabetical order. */
    readonly rejectedByReason: Readonly<Record<string, number>>
  }
  readonly instances: {
    readonly placed: number
    /** Reached running. */
    readonly started: number
    /** Their start failed. */
    readonly failed: number
    /** Ran and were terminated at the end of their lifetime. */
    readonly completed: number
    /** Still holding capacity when the run ended. */
    readonly liveAtEnd: number
  }
  /** From the request's arrival until the instance was running. */
  readonly waitMs: { readonly count: number; readonly mean: number; readonly p50: number; readonly p95: number; readonly max: number }
  readonly utilisation: { readonly cores: number; readonly memory: number; readonly disk: number }
  readonly nodes: { readonly total: number; readonly peakOn: number; readonly wakeUps: number; readonly powerDowns: number }
  readonly energyWh: number
  readonly network: { readonly peakPublicAddresses: number; readonly peakVlans: number }
  /** Only when some zone's storage controller has a capacity: time-averaged use of those zones' storage, and its peak. */
  readonly storage?: { readonly capacityGiB: number; readonly utilisation: number; readonly peakGiB: number }
}

export class Metrics implements Recorder.Recorder {
  /** Per node, side by side: zone, physical cores, idle watts, peak − idle watts, on (0/1), used cores, current watts. */
  private readonly nd: Float64Array
  private readonly nodeCount: number
  private readonly zC: Float64Array
  private readonly zM: Float64Array
  private readonly zD: Float64Array
  private readonly zRunning: Float64Array
  private readonly zOn: Float64Array
  private readonly zPower: Float64Array
  private readonly zEnergyJ: Float64Array
  /** Per zone, the time its energy is integrated up to (it is brought forward when its power changes). */
  private readonly zLast: Float64Array
  private readonly capC: number
  private readonly capM: number
  private readonly capD: number
  private last = 0
  private nextSample = 0
  private areaC = 0
  private areaM = 0
  private areaD = 0
  private totC = 0
  private totM = 0
  private totD = 0
  private nodesOn = 0
  private peakOn = 0
  private wakeUps = 0
  private powerDowns = 0
  private publicInUse = 0
  private peakPublic = 0
  private vlansInUse = 0
  private peakVlans = 0
  private requests = 0
  private accepted = 0
  private readonly rejectedBy = new Map<string, number>()
  private placedCount = 0
  private startedCount = 0
  private failedCount = 0
  private completedCount = 0
  private live = 0
  private waits = new Float64Array(1024)
  private nWaits = 0
  private result: Summary | undefined
  /** Storage of the zones that have a capacity: per zone (NaN: unlimited, not counted), the total, its area and peak. */
  private readonly zStorageCap: Float64Array
  private readonly capS: number
  private totS = 0
  private areaS = 0
  private peakS = 0

  constructor(
    nodes: ReadonlyArray<NodeInfo>,
    private readonly zoneNames: ReadonlyArray<string>,
    private readonly intervalMs: number,
    /** Counts public addresses (pool addresses exist only in the MANAGED modes). */
    private readonly countsPublic: boolean,
    private readonly onSample?: (s: Sample) => void,
    /** GiB per zone of its storage controller (undefined: unlimited). */
    storageCapGiB: ReadonlyArray<number | undefined> = []
  ) {
    this.zStorageCap = Float64Array.from(zoneNames.map((_, z) => storageCapGiB[z] ?? Number.NaN))
    this.capS = this.zStorageCap.reduce((a, c) => (Number.isNaN(c) ? a : a + c), 0)
    const n = nodes.length
    const z = zoneNames.length
    this.nd = new Float64Array(n * 8)
    this.nodeCount = n
    this.zC = new Float64Array(z)
    this.zM = new Float64Array(z)
    this.zD = new Float64Array(z)
    this.zRunning = new Float64Array(z)
    this.zOn = new Float64Array(z)
    this.zPower = new Float64Array(z)
    this.zEnergyJ = new Float64Array(z)
    this.zLast = new Float64Array(z)
    let c = 0, m = 0, d = 0
    for (let i = 0; i < n; i++) {
      const x = nodes[i]!
      const b = i * 8
      this.nd[b] = x.zone
      this.nd[b + 1] = x.cores
      this.nd[b + 2] = x.idleWatts
      this.nd[b + 3] = x.peakWatts - x.idleWatts
      c += x.cores
      m += x.memoryMiB
      d += x.diskGiB
      if (x.on) {
        this.nd[b + 4] = 1
        this.nodesOn++
        this.zOn[x.zone]! += 1
        this.setPower(i, 0)
      }
    }
    this.peakOn = this.nodesOn
    this.capC = c
    this.capM = m
    this.capD = d
  }

  private setPower(i: number, t: number): void {
    const nd = this.nd
    const b = i * 8
    let p = 0
    if (nd[b + 4] === 1) {
      const cores = nd[b + 1]!
      const u = cores > 0 ? Math.min(1, nd[b + 5]! / cores) : 0
      p = nd[b + 2]! + nd[b + 3]! * u
    }
    const old = nd[b + 6]!
    if (p === old) return
    const z = nd[b]!
    this.energyTo(z, t)
    this.zPower[z]! += p - old
    nd[b + 6] = p
  }

  /** Integrates zone z's energy up to t. */
  private energyTo(z: number, t: number): void {
    const dt = t - this.zLast[z]!
    if (dt > 0) {
      this.zEnergyJ[z]! += (this.zPower[z]! * dt) / 1000
      this.zLast[z] = t
    }
  }

  /** Integrates from the last time to t, emitting the samples strictly before t. */
  private advance(t: number): void {
    if (t <= this.last) return
    while (this.nextSample < t) {
      this.integrate(this.nextSample)
      this.emit(this.nextSample)
      this.nextSample += this.intervalMs
    }
    this.integrate(t)
  }

  private integrate(t: number): void {
    const dt = t - this.last
    if (dt <= 0) return
    this.areaC += this.totC * dt
    this.areaM += this.totM * dt
    this.areaD += this.totD * dt
    this.areaS += this.totS * dt
    this.last = t
  }

  private emit(t: number): void {
    const f = this.onSample
    if (f === undefined) return
    for (let z = 0; z < this.zoneNames.length; z++) {
      this.energyTo(z, t)
      f({
        timeMs: t,
        zone: this.zoneNames[z]!,
        usedVcpu: this.zC[z]!,
        usedMiB: this.zM[z]!,
        usedGiB: this.zD[z]!,
        running: this.zRunning[z]!,
        nodesOn: this.zOn[z]!,
        energyWh: this.zEnergyJ[z]! / 3600,
        publicAddresses: this.publicInUse,
        vlans: this.vlansInUse
      })
    }
  }

  private hold(t: number, node: number, c: number, m: number, d: number): void {
    const z = this.nd[node * 8]!
    this.zC[z]! += c
    this.zM[z]! += m
    this.zD[z]! += d
    this.totC += c
    this.totM += m
    this.totD += d
    this.nd[node * 8 + 5]! += c
    this.setPower(node, t)
  }

  private power(t: number, node: number, on: boolean): void {
    const was = this.nd[node * 8 + 4] === 1
    if (was === on) return
    this.nd[node * 8 + 4] = on ? 1 : 0
    const k = on ? 1 : -1
    this.nodesOn += k
    this.zOn[this.nd[node * 8]!]! += k
    if (this.nodesOn > this.peakOn) this.peakOn = this.nodesOn
    this.setPower(node, t)
  }

  rejected(t: number, _req: number, tag: string): void {
    this.advance(t)
    this.requests++
    this.rejectedBy.set(tag, (this.rejectedBy.get(tag) ?? 0) + 1)
  }
  launched(t: number): void {
    this.advance(t)
    this.requests++
    this.accepted++
  }
  vlan(t: number, _vlan: number, acquired: boolean): void {
    this.advance(t)
    this.vlansInUse += acquired ? 1 : -1
    if (this.vlansInUse > this.peakVlans) this.peakVlans = this.vlansInUse
  }
  woken(t: number, node: number): void {
    this.advance(t)
    this.wakeUps++
    this.power(t, node, true)
  }
  placed(t: number, _req: number, _seq: number, node: number, c: number, m: number, d: number, _ip: number, pub: number): void {
    this.advance(t)
    this.placedCount++
    this.live++
    this.hold(t, node, c, m, d)
    if (pub >= 0 && this.countsPublic) {
      this.publicInUse++
      if (this.publicInUse > this.peakPublic) this.peakPublic = this.publicInUse
    }
  }
  started(t: number): void {
    this.advance(t)
  }
  booted(t: number, _seq: number, node: number, waitMs: number): void {
    this.advance(t)
    this.startedCount++
    this.zRunning[this.nd[node * 8]!]! += 1
    if (this.nWaits === this.waits.length) {
      const w = new Float64Array(this.waits.length * 2)
      w.set(this.waits)
      this.waits = w
    }
    this.waits[this.nWaits++] = waitMs
  }
  terminating(t: number, _seq: number, node: number): void {
    this.advance(t)
    this.zRunning[this.nd[node * 8]!]! -= 1
  }
  terminated(t: number, _seq: number, node: number, c: number, m: number, d: number, pub: number, failed: boolean): void {
    this.advance(t)
    this.live--
    if (failed) this.failedCount++
    else this.completedCount++
    this.hold(t, node, -c, -m, -d)
    if (pub >= 0 && this.countsPublic) this.publicInUse--
  }
  nodeUp(t: number, node: number): void {
    this.advance(t)
    this.power(t, node, true)
  }
  poweredDown(t: number, node: number): void {
    this.advance(t)
    this.powerDowns++
    this.power(t, node, false)
  }

  storage(t: number, zone: number, deltaGiB: number): void {
    if (Number.isNaN(this.zStorageCap[zone]!)) return
    this.advance(t)
    this.totS += deltaGiB
    if (this.totS > this.peakS) this.peakS = this.totS
  }

  finish(t: number, events: number): void {
    this.advance(t)
    while (this.nextSample <= t) {
      this.integrate(this.nextSample)
      this.emit(this.nextSample)
      this.nextSample += this.intervalMs
    }
    // Percentiles by selection, not a full sort (a million waits would cost a noticeable sort).
    const n = this.nWaits
    const waits = this.waits.slice(0, n)
    let sum = 0
    let max = 0
    for (let i = 0; i < n; i++) {
      sum += waits[i]!
      if (waits[i]! > max) max = waits[i]!
    }
    const rank = (p: number) => (n === 0 ? 0 : select(waits, Math.max(0, Math.ceil(p * n) - 1)))
    const byReason: Record<string, number> = {}
    for (const k of [...this.rejectedBy.keys()].sort()) byReason[k] = this.rejectedBy.get(k)!
    const dur = t
    let energyJ = 0
    for (let z = 0; z < this.zEnergyJ.length; z++) {
      this.energyTo(z, t)
      energyJ += this.zEnergyJ[z]!
    }
    const ratio = (area: number, cap: number) => (dur > 0 && cap > 0 ? area / (cap * dur) : 0)
    this.result = {
      simulatedMs: t,
      events,
      requests: { total: this.requests, accepted: this.accepted, rejected: this.requests - this.accepted, rejectedByReason: byReason },
      instances: {
        placed: this.placedCount,
        started: this.startedCount,
        failed: this.failedCount,
        completed: this.completedCount,
        liveAtEnd: this.live
      },
      waitMs: { count: n, mean: n === 0 ? 0 : sum / n, p50: rank(0.5), p95: rank(0.95), max },
      utilisation: { cores: ratio(this.areaC, this.capC), memory: ratio(this.areaM, this.capM), disk: ratio(this.areaD, this.capD) },
      nodes: { total: this.nodeCount, peakOn: this.peakOn, wakeUps: this.wakeUps, powerDowns: this.powerDowns },
      energyWh: energyJ / 3600,
      network: { peakPublicAddresses: this.peakPublic, peakVlans: this.peakVlans },
      ...(this.zStorageCap.some((c) => !Number.isNaN(c)) ? { storage: { capacityGiB: this.capS, utilisation: ratio(this.areaS, this.capS), peakGiB: this.peakS } } : {})
    }
  }

  /** The summary, once finish has been called. */
  summary(): Summary {
    if (this.result === undefined) throw new Error("Metrics.summary() before finish()")
    return this.result
  }
}

/** The k-th smallest value (0-based) of a, rearranging a (Hoare's selection, middle pivot: deterministic). */
export const select = (a: Float64Array, k: number): number => {
  let lo = 0
  let hi = a.length - 1
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!
    let i = lo
    let j = hi
    while (i <= j) {
      while (a[i]! < pivot) i++
      while (a[j]! > pivot) j--
      if (i <= j) {
        const t = a[i]!
        a[i] = a[j]!
        a[j] = t
        i++
        j--
      }
    }
    if (k <= j) hi = j
    else if (k >= i) lo = i
    else return a[k]!
  }
  return a[k]!
}
