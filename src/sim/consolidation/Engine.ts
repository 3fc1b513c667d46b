/**
 * A deterministic re-implementation of CloudSim 3.0.3's power-aware datacenter
 * (`PowerDatacenter`, `PowerDatacenterNonPowerAware`, `HostDynamicWorkload`, `PowerHost`,
 * `VmSchedulerTimeSharedOverSubscription`, `PowerVm`, `CloudletSchedulerDynamicWorkload`,
 * `PowerVmAllocationPolicyMigrationAbstract`, `PowerVmAllocationPolicySimple`), driven the way
 * CloudSim's event loop drives them for the PlanetLab examples:
 *
 * - VMs are placed at t = 0 (PABFD for the migration policies, first fit for NPA/DVFS); cloudlets
 *   arrive at 0.1 (CloudSim's VM_CREATE_ACK delay), so the datacenter updates at 300.1, 600.1, …,
 *   until the 86,400 s limit.
 * - Each update: every host recomputes requested vs allocated MIPS (10 % degradation on a VM
 *   migrating out, 10 % of its MIPS charged to the target while it migrates in), energy for the frame
 *   by the trapezoid of the host's power model, VMs whose requested MIPS is 0 are removed (CloudSim's
 *   "completed VM" test), then the policy computes a migration map; each migration reserves its target
 *   at once and completes after RAM / (bandwidth / 2).
 *
 * Everything is plain mutable arrays inside one run (no I/O, no clock, no randomness but the seeded
 * generator), so a run is a pure function of its inputs. Wall-clock time of the consolidation step is
 * measured only through the optional `now` port and kept out of the result's deterministic part.
 */
import * as PowerModel from "../../model/power/PowerModel.js"
import * as Policy from "../../model/consolidation/Policy.js"
import * as Stats from "../../model/consolidation/Stats.js"

export interface HostSpec {
  readonly peMips: number
  readonly pes: number
  readonly ram: number
  /** kbit/s (CloudSim's 1 Gbit/s = 1,000,000). */
  readonly bw: number
  readonly storage: number
  readonly power: PowerModel.PowerModel
}

export interface VmSpec {
  readonly mips: number
  readonly ram: number
  readonly bw: number
  readonly size: number
  /** 289 utilisation fractions, one per 300 s (CloudSim's UtilizationModelPlanetLabInMemory data). */
  readonly utilization: Float64Array
}

export interface Config {
  readonly hosts: ReadonlyArray<HostSpec>
  readonly vms: ReadonlyArray<VmSpec>
  readonly policy: Policy.Policy
  readonly seed?: number
  readonly schedulingInterval?: number
  /** Simulation limit in seconds (CloudSim.terminateSimulation). */
  readonly limit?: number
  /**
   * Reproduce CloudSim's quirks (default true): a VM whose requested MIPS is exactly 0 at an update
   * is removed for good (`getCompletedVms`), and the targets of this round's overload migrations are
   * not excluded when looking for an underloaded host (CloudSim builds that exclusion from an empty
   * list). With false, idle VMs stay and those targets are excluded, as the paper describes.
   */
  readonly cloudsimCompatible?: boolean
  /** Wall clock in ms for the "execution time" metrics (outside the pure core). */
  readonly now?: () => number
  /** Called after each scheduling update with the simulated time. */
  readonly onProgress?: (time: number, limit: number) => void
  /** Sees every migration as it starts (for laws and traces): the decision and the target before it. */
  readonly onMigration?: (m: MigrationStart) => void
}

/** A migration as it starts: MigrateInstance's decision and the state it was taken in. */
export interface MigrationStart {
  readonly time: number
  readonly vm: number
  readonly from: number
  readonly to: number
  /** Seconds until it completes: RAM / (target bandwidth / 2). */
  readonly duration: number
  /** Requested MIPS on the target before the VM arrives (its VMs, including others migrating in), and the target's MIPS. */
  readonly targetRequestedBefore: number
  readonly vmRequested: number
  readonly targetTotalMips: number
  /** Was the target idle at the update this round's decisions were taken from (PABFD skips the overload check there)? */
  readonly targetWasIdle: boolean
}

export interface Migration {
  readonly time: number
  readonly vm: number
  readonly from: number
  readonly to: number
  readonly duration: number
}

export interface Metrics {
  readonly policy: string
  readonly hosts: number
  readonly vms: number
  readonly totalSimulationTime: number
  readonly energyKWh: number
  readonly migrations: number
  /** SLA violation = SLATAH × PDM (CloudSim's "SLA"). */
  readonly slav: number
  readonly slatah: number
  readonly pdm: number
  readonly slaOverall: number
  readonly slaAverage: number
  /** Energy × SLAV (the paper's ESV; kWh). */
  readonly esv: number
  readonly hostShutdowns: number
  readonly meanTimeBeforeHostShutdown: number
  readonly stDevTimeBeforeHostShutdown: number
  readonly meanTimeBeforeVmMigration: number
  readonly stDevTimeBeforeVmMigration: number
  /** VMs CloudSim's completed-VM test removed during the run. */
  readonly vmsRemoved: number
  readonly updates: number
}

export interface ExecutionTimes {
  /** Seconds, mean and standard deviation over the consolidation rounds (CloudSim's ExecutionTimeMeasurer). */
  readonly vmSelectionMean: number
  readonly vmSelectionStDev: number
  readonly hostSelectionMean: number
  readonly hostSelectionStDev: number
  readonly vmReallocationMean: number
  readonly vmReallocationStDev: number
  readonly totalMean: number
  readonly totalStDev: number
}

export interface Result {
  readonly metrics: Metrics
  /** Wall-clock figures: not deterministic, never compared. */
  readonly executionTimes: ExecutionTimes | undefined
  /** Energy (W·s) per scheduling update, and active hosts after it: for charts. */
  readonly timeline: ReadonlyArray<{ readonly time: number; readonly energyWs: number; readonly activeHosts: number; readonly migrations: number }>
}

export class EngineError extends Error {}

const NONE = -1

interface Entry {
  time: number
  alloc: number
  req: number
  flag: boolean
}

/** Runs the experiment to the limit. */
export const run = (cfg: Config): Result => new Datacenter(cfg).run()

class Datacenter {
  // configuration
  private readonly interval: number
  private readonly limit: number
  private readonly compat: boolean
  private readonly policy: Policy.Policy
  private readonly rng: Stats.JavaRandom
  private readonly now: (() => number) | undefined

  // VMs
  private readonly nv: number
  private readonly vMips: Float64Array
  private readonly vRam: Float64Array
  private readonly vBw: Float64Array
  private readonly vSize: Float64Array
  private readonly vUtil: ReadonlyArray<Float64Array>
  private readonly vInst: Uint8Array
  private readonly vCloudlet: Uint8Array
  private readonly vInMig: Uint8Array
  private readonly vHost: Int32Array
  private readonly vInDc: Uint8Array
  private readonly vSchedPrev: Float64Array
  private readonly vShare: Float64Array
  private readonly vHasShare: Uint8Array
  private readonly vDone: Float64Array
  private readonly vLength: number
  private readonly vPrevTime: Float64Array
  private readonly vHist: Array<Array<number>>
  private readonly vTable: Int32Array
  // VM state history, folded as it is written
  private readonly vPending: Array<Entry | undefined>
  private readonly vLast: Array<Entry | undefined>
  private totalAllocated = 0
  private totalRequested = 0
  private underMigration = 0
  private slaViolationSum = 0
  private slaViolationCount = 0
  private readonly vPrevMig: Uint8Array
  private readonly vMigStart: Float64Array
  private readonly vmMigrationTimes: Array<number> = []
  private vPerVm: Float64Array
  private vPerVmReq: Float64Array
  private vPerVmUnder: Float64Array

  // hosts
  private readonly nh: number
  private readonly h: ReadonlyArray<HostSpec>
  private readonly hTotal: Float64Array
  private readonly hVms: Array<Array<number>>
  private readonly hMigIn: Array<Array<number>>
  private readonly sIn: Array<Set<number>>
  private readonly sOut: Array<Set<number>>
  private readonly sReq: Array<Map<number, number>>
  private readonly sAlloc: Array<Map<number, number>>
  private readonly sAvail: Float64Array
  /** Σ allocated MIPS per host as findHostForVm sums it (migrating-in VMs at 10×), recomputed when dirty. */
  private readonly allocSum: Float64Array
  private readonly allocDirty: Uint8Array
  private readonly ramAvail: Float64Array
  private readonly ramTable: Array<Map<number, number>>
  private readonly bwAvail: Float64Array
  private readonly bwTable: Array<Map<number, number>>
  private readonly storage: Float64Array
  private readonly uMips: Float64Array
  private readonly uPrev: Float64Array
  private readonly hPending: Array<Entry | undefined>
  private readonly hLast: Array<Entry | undefined>
  private readonly hPrevActive: Uint8Array
  private readonly hLastOn: Float64Array
  private readonly shutdownTimes: Array<number> = []
  private slaViolationTime = 0
  private activeTime = 0

  // datacenter
  private clock = 0
  private lastProcess = 0
  private energyWs = 0
  private migrationCount = 0
  private removed = 0
  private updates = 0
  private readonly events: Array<{ time: number; seq: number; vm: number; host: number }> = []
  private seq = 0
  private readonly timeline: Array<{ time: number; energyWs: number; activeHosts: number; migrations: number }> = []
  private readonly exec = { sel: [] as Array<number>, host: [] as Array<number>, realloc: [] as Array<number>, total: [] as Array<number> }

  constructor(private readonly cfg: Config) {
    this.interval = cfg.schedulingInterval ?? 300
    this.limit = cfg.limit ?? 86400
    this.compat = cfg.cloudsimCompatible ?? true
    this.policy = cfg.policy
    this.rng = new Stats.JavaRandom(cfg.seed ?? 1)
    this.now = cfg.now
    const nv = (this.nv = cfg.vms.length)
    this.vMips = Float64Array.from(cfg.vms, (v) => v.mips)
    this.vRam = Float64Array.from(cfg.vms, (v) => v.ram)
    this.vBw = Float64Array.from(cfg.vms, (v) => v.bw)
    this.vSize = Float64Array.from(cfg.vms, (v) => v.size)
    this.vUtil = cfg.vms.map((v) => v.utilization)
    this.vInst = new Uint8Array(nv).fill(1)
    this.vCloudlet = new Uint8Array(nv)
    this.vInMig = new Uint8Array(nv)
    this.vHost = new Int32Array(nv).fill(NONE)
    this.vInDc = new Uint8Array(nv)
    this.vSchedPrev = new Float64Array(nv)
    this.vShare = new Float64Array(nv)
    this.vHasShare = new Uint8Array(nv)
    this.vDone = new Float64Array(nv)
    // Constants.CLOUDLET_LENGTH = 2500 × SIMULATION_LIMIT (MI), tracked in instructions as ResCloudlet does.
    this.vLength = 2500 * Math.trunc(this.limit) * 1e6
    this.vPrevTime = new Float64Array(nv)
    this.vHist = Array.from({ length: nv }, () => [])
    this.vTable = new Int32Array(nv).fill(NONE)
    this.vPending = new Array(nv).fill(undefined)
    this.vLast = new Array(nv).fill(undefined)
    this.vPrevMig = new Uint8Array(nv)
    this.vMigStart = new Float64Array(nv)
    this.vPerVm = new Float64Array(nv)
    this.vPerVmReq = new Float64Array(nv)
    this.vPerVmUnder = new Float64Array(nv)

    const nh = (this.nh = cfg.hosts.length)
    this.h = cfg.hosts
    this.hTotal = Float64Array.from(cfg.hosts, (x) => x.peMips * x.pes)
    this.hVms = Array.from({ length: nh }, () => [])
    this.hMigIn = Array.from({ length: nh }, () => [])
    this.sIn = Array.from({ length: nh }, () => new Set())
    this.sOut = Array.from({ length: nh }, () => new Set())
    this.sReq = Array.from({ length: nh }, () => new Map())
    this.sAlloc = Array.from({ length: nh }, () => new Map())
    this.sAvail = Float64Array.from(this.hTotal)
    this.allocSum = new Float64Array(nh)
    this.allocDirty = new Uint8Array(nh).fill(1)
    this.ramAvail = Float64Array.from(cfg.hosts, (x) => x.ram)
    this.ramTable = Array.from({ length: nh }, () => new Map())
    this.bwAvail = Float64Array.from(cfg.hosts, (x) => x.bw)
    this.bwTable = Array.from({ length: nh }, () => new Map())
    this.storage = Float64Array.from(cfg.hosts, (x) => x.storage)
    this.uMips = new Float64Array(nh)
    this.uPrev = new Float64Array(nh)
    this.hPending = new Array(nh).fill(undefined)
    this.hLast = new Array(nh).fill(undefined)
    this.hPrevActive = new Uint8Array(nh).fill(1)
    this.hLastOn = new Float64Array(nh)
  }

  // ----------------------------------------------------------------------------------------------
  // VM and cloudlet (PowerVm, CloudletSchedulerDynamicWorkload, UtilizationModelPlanetLabInMemory)

  private utilization(v: number, time: number): number {
    const data = this.vUtil[v]!
    const iv = this.interval
    if (time % iv === 0) return data[Math.trunc(Math.trunc(time) / Math.trunc(iv))]!
    const t1 = Math.floor(time / iv)
    const t2 = Math.ceil(time / iv)
    const u1 = data[t1]!
    const u2 = data[t2]!
    const delta = (u2 - u1) / ((t2 - t1) * iv)
    return u1 + delta * (time - t1 * iv)
  }

  /** Vm.getCurrentRequestedTotalMips (one PE). */
  private requested(v: number): number {
    if (this.vInst[v]) return this.vMips[v]!
    if (!this.vCloudlet[v]) return 0
    return this.utilization(v, this.vSchedPrev[v]!) * this.vMips[v]!
  }

  private requestedRam(v: number): number {
    return this.vInst[v] ? this.vRam[v]! : 0
  }

  private requestedBw(v: number): number {
    return this.vInst[v] ? this.vBw[v]! : 0
  }

  /** Vm.getTotalUtilizationOfCpuMips(clock). */
  private utilizationMips(v: number, time: number): number {
    return this.vCloudlet[v] ? this.utilization(v, time) * this.vMips[v]! : 0
  }

  /** PowerVm.updateVmProcessing with the host's current allocation (null → nothing but the history test). */
  private updateVm(v: number, time: number, share: number | undefined): void {
    if (share !== undefined) {
      const span = time - this.vSchedPrev[v]!
      if (this.vCloudlet[v]) {
        const req = this.utilization(v, this.vSchedPrev[v]!) * this.vMips[v]!
        const alloc = req > share ? share : req
        this.vDone[v]! += Math.trunc(span * alloc * 1e6)
        if (Math.floor((this.vLength - this.vDone[v]!) / 1e6) <= 0) this.vCloudlet[v] = 0
      }
      this.vSchedPrev[v] = time
    }
    if (time > this.vPrevTime[v]! && (time - 0.1) % this.interval === 0) {
      const u = this.vCloudlet[v] ? this.utilization(v, this.vSchedPrev[v]!) : 0
      if (time !== 0 || u !== 0) {
        const hist = this.vHist[v]!
        hist.unshift(u)
        if (hist.length > 30) hist.pop()
      }
      this.vPrevTime[v] = time
    }
  }

  private vmState(v: number, time: number, alloc: number, req: number, mig: boolean): void {
    const p = this.vPending[v]
    if (p !== undefined && p.time === time) {
      p.alloc = alloc
      p.req = req
      p.flag = mig
      return
    }
    if (p !== undefined) this.commitVm(v, p)
    this.vPending[v] = { time, alloc, req, flag: mig }
  }

  private commitVm(v: number, e: Entry): void {
    const prev = this.vLast[v]
    if (prev !== undefined) {
      const dt = e.time - prev.time
      this.vPerVm[v]! += prev.alloc * dt
      this.vPerVmReq[v]! += prev.req * dt
      if (prev.alloc < prev.req) {
        this.slaViolationSum += (prev.req - prev.alloc) / prev.req
        this.slaViolationCount++
        if (prev.flag) this.vPerVmUnder[v]! += (prev.req - prev.alloc) * dt
      }
    }
    if (this.vPrevMig[v] && !e.flag) this.vmMigrationTimes.push(e.time - this.vMigStart[v]!)
    if (!this.vPrevMig[v] && e.flag) this.vMigStart[v] = e.time
    this.vPrevMig[v] = e.flag ? 1 : 0
    this.vLast[v] = e
  }

  private hostState(h: number, time: number, alloc: number, req: number, active: boolean): void {
    const p = this.hPending[h]
    const last = this.hLast[h]
    if (p !== undefined && !active && !p.flag && last !== undefined && !last.flag) {
      // Off, off and off again: committing the pending entry would change nothing but its time.
      p.time = time
      p.alloc = alloc
      p.req = req
      return
    }
    if (p !== undefined && p.time === time) {
      p.alloc = alloc
      p.req = req
      p.flag = active
      return
    }
    if (p !== undefined) this.commitHost(h, p)
    this.hPending[h] = { time, alloc, req, flag: active }
  }

  private commitHost(h: number, e: Entry): void {
    const prev = this.hLast[h]
    if (prev !== undefined && prev.flag) {
      const dt = e.time - prev.time
      this.activeTime += dt
      if (prev.alloc < prev.req) this.slaViolationTime += dt
    }
    if (this.hPrevActive[h] && !e.flag) this.shutdownTimes.push(e.time - this.hLastOn[h]!)
    if (!this.hPrevActive[h] && e.flag) this.hLastOn[h] = e.time
    this.hPrevActive[h] = e.flag ? 1 : 0
    this.hLast[h] = e
  }

  // ----------------------------------------------------------------------------------------------
  // VmSchedulerTimeSharedOverSubscription

  private allocatePes(h: number, v: number, requested: number): void {
    if (this.vInMig[v]) {
      if (!this.sIn[h]!.has(v) && !this.sOut[h]!.has(v)) this.sOut[h]!.add(v)
    } else this.sOut[h]!.delete(v)
    this.allocateUid(h, v, requested)
  }

  private allocateUid(h: number, v: number, requested: number): void {
    this.allocDirty[h] = 1
    const pe = this.h[h]!.peMips
    const capped = requested > pe ? pe : requested
    this.sReq[h]!.set(v, requested)
    let total = capped
    const migIn = this.sIn[h]!.has(v)
    if (migIn) total *= 0.1
    if (this.sAvail[h]! >= total) {
      let a = capped
      if (this.sOut[h]!.has(v)) a *= 0.9
      else if (migIn) a *= 0.1
      this.sAlloc[h]!.set(v, a)
      this.sAvail[h]! -= total
    } else this.redistribute(h)
  }

  private redistribute(h: number): void {
    this.allocDirty[h] = 1
    const pe = this.h[h]!.peMips
    let required = 0
    for (const [v, r] of this.sReq[h]!) {
      let x = r > pe ? pe : r
      if (this.sIn[h]!.has(v)) x *= 0.1
      required += x
    }
    const scaling = this.hTotal[h]! / required
    const alloc = this.sAlloc[h]!
    alloc.clear()
    for (const [v, r] of this.sReq[h]!) {
      let m = r > pe ? pe : r
      if (this.sOut[h]!.has(v)) {
        m *= scaling
        m *= 0.9
      } else if (this.sIn[h]!.has(v)) {
        m *= 0.1
        m *= scaling
      } else m *= scaling
      alloc.set(v, Math.floor(m))
    }
    this.sAvail[h] = 0
  }

  private deallocatePes(h: number, v: number): void {
    this.allocDirty[h] = 1
    const req = this.sReq[h]!
    req.delete(v)
    this.sAlloc[h]!.clear()
    this.sAvail[h] = this.hTotal[h]!
    this.allocateInOrder(h)
  }

  /**
   * allocateUid for every entry of the requested map, in its order, from an empty allocation. Once
   * one does not fit, CloudSim redistributes over all entries so far, and every later allocation
   * (availability now 0) either gets its share of 0 or redistributes again over all: the end state is
   * one redistribution over all entries. Doing it once at the end gives the same bits in O(k).
   */
  private allocateInOrder(h: number): void {
    this.allocDirty[h] = 1
    const pe = this.h[h]!.peMips
    const alloc = this.sAlloc[h]!
    let avail = this.sAvail[h]!
    let over = false
    for (const [v, requested] of this.sReq[h]!) {
      const capped = requested > pe ? pe : requested
      const migIn = this.sIn[h]!.has(v)
      const total = migIn ? capped * 0.1 : capped
      if (over) continue
      if (avail >= total) {
        let a = capped
        if (this.sOut[h]!.has(v)) a *= 0.9
        else if (migIn) a *= 0.1
        alloc.set(v, a)
        avail -= total
      } else over = true
    }
    this.sAvail[h] = avail
    if (over) this.redistribute(h)
  }

  private deallocateAllPes(h: number): void {
    this.allocDirty[h] = 1
    this.sReq[h]!.clear()
    this.sAlloc[h]!.clear()
    this.sAvail[h] = this.hTotal[h]!
  }

  // ----------------------------------------------------------------------------------------------
  // RAM / BW provisioners (simple), Host

  private allocateRam(h: number, v: number, ram: number): boolean {
    if (ram >= this.vRam[v]!) ram = this.vRam[v]!
    this.deallocateRam(h, v)
    if (this.ramAvail[h]! >= ram) {
      this.ramAvail[h]! -= ram
      this.ramTable[h]!.set(v, ram)
      return true
    }
    return false
  }

  private deallocateRam(h: number, v: number): void {
    const t = this.ramTable[h]!
    const r = t.get(v)
    if (r !== undefined) {
      this.ramAvail[h]! += r
      t.delete(v)
    }
  }

  private allocateBw(h: number, v: number, bw: number): boolean {
    if (bw >= this.vBw[v]!) bw = this.vBw[v]!
    this.deallocateBw(h, v)
    if (this.bwAvail[h]! >= bw) {
      this.bwAvail[h]! -= bw
      this.bwTable[h]!.set(v, bw)
      return true
    }
    return false
  }

  private deallocateBw(h: number, v: number): void {
    const t = this.bwTable[h]!
    const r = t.get(v)
    if (r !== undefined) {
      this.bwAvail[h]! += r
      t.delete(v)
    }
  }

  private isSuitable(h: number, v: number): boolean {
    const req = this.requested(v)
    const ram = Math.min(this.requestedRam(v), this.vRam[v]!)
    const bw = Math.min(this.requestedBw(v), this.vBw[v]!)
    return (
      this.h[h]!.peMips >= req &&
      this.sAvail[h]! >= req &&
      this.ramAvail[h]! + (this.ramTable[h]!.get(v) ?? 0) >= ram &&
      this.bwAvail[h]! + (this.bwTable[h]!.get(v) ?? 0) >= bw
    )
  }

  private vmCreate(h: number, v: number): boolean {
    this.allocDirty[h] = 1
    if (this.storage[h]! < this.vSize[v]!) return false
    if (!this.allocateRam(h, v, this.requestedRam(v))) return false
    if (!this.allocateBw(h, v, this.requestedBw(v))) {
      this.deallocateRam(h, v)
      return false
    }
    this.allocatePes(h, v, this.requested(v))
    this.storage[h]! -= this.vSize[v]!
    this.hVms[h]!.push(v)
    this.vHost[v] = h
    return true
  }

  private vmDeallocate(h: number, v: number): void {
    this.deallocateRam(h, v)
    this.deallocateBw(h, v)
    this.deallocatePes(h, v)
    this.storage[h]! += this.vSize[v]!
  }

  private vmDestroy(h: number, v: number): void {
    this.allocDirty[h] = 1
    this.vmDeallocate(h, v)
    remove(this.hVms[h]!, v)
    this.vHost[v] = NONE
  }

  private vmDestroyAll(h: number): void {
    this.allocDirty[h] = 1
    this.ramAvail[h] = this.h[h]!.ram
    this.ramTable[h]!.clear()
    this.bwAvail[h] = this.h[h]!.bw
    this.bwTable[h]!.clear()
    this.deallocateAllPes(h)
    for (const v of this.hVms[h]!) {
      this.vHost[v] = NONE
      this.storage[h]! += this.vSize[v]!
    }
    this.hVms[h] = []
  }

  private reallocateMigratingIn(h: number): void {
    this.allocDirty[h] = 1
    for (const v of this.hMigIn[h]!) {
      if (!this.hVms[h]!.includes(v)) this.hVms[h]!.push(v)
      this.sIn[h]!.add(v)
      this.allocateRam(h, v, this.requestedRam(v))
      this.allocateBw(h, v, this.requestedBw(v))
      this.allocatePes(h, v, this.requested(v))
      this.storage[h]! -= this.vSize[v]!
    }
  }

  private addMigratingIn(h: number, v: number): void {
    this.allocDirty[h] = 1
    this.vInMig[v] = 1
    if (this.hMigIn[h]!.includes(v)) return
    if (this.storage[h]! < this.vSize[v]!) throw new EngineError(`VM #${v} cannot migrate to host #${h}: no storage (CloudSim exits here)`)
    if (!this.allocateRam(h, v, this.requestedRam(v))) throw new EngineError(`VM #${v} cannot migrate to host #${h}: no RAM (CloudSim exits here)`)
    if (!this.allocateBw(h, v, this.requestedBw(v))) throw new EngineError(`VM #${v} cannot migrate to host #${h}: no bandwidth (CloudSim exits here)`)
    this.sIn[h]!.add(v)
    this.allocatePes(h, v, this.requested(v))
    this.storage[h]! -= this.vSize[v]!
    this.hMigIn[h]!.push(v)
    this.hVms[h]!.push(v)
    this.updateHost(h, this.clock)
    const src = this.vHost[v]!
    if (src === NONE) throw new EngineError(`VM #${v} migrates without a source host`)
    this.updateHost(src, this.clock)
  }

  private removeMigratingIn(h: number, v: number): void {
    this.allocDirty[h] = 1
    this.vmDeallocate(h, v)
    remove(this.hMigIn[h]!, v)
    remove(this.hVms[h]!, v)
    this.sIn[h]!.delete(v)
    this.vInMig[v] = 0
  }

  /** HostDynamicWorkload.updateVmsProcessing; returns the earliest cloudlet completion (∞ if none). */
  private updateHost(h: number, time: number): number {
    let smaller = Infinity
    const vms = this.hVms[h]!
    if (vms.length === 0) {
      // An empty host: the same bookkeeping as below, without the allocation work.
      this.uPrev[h] = this.uMips[h]!
      if (this.sReq[h]!.size > 0 || this.sAlloc[h]!.size > 0) this.deallocateAllPes(h)
      else this.sAvail[h] = this.hTotal[h]!
      this.uMips[h] = 0
      this.hostState(h, time, 0, 0, false)
      return smaller
    }
    for (const v of vms) {
      const share = this.sAlloc[h]!.get(v)
      this.updateVm(v, time, share)
      if (share !== undefined && this.vCloudlet[v]) {
        const req = this.utilization(v, time) * this.vMips[v]!
        const alloc = req > share ? share : req
        let t = time + Math.floor((this.vLength - this.vDone[v]!) / 1e6) / alloc
        if (t - time < 0.1) t = time + 0.1
        if (t > 0 && t < smaller) smaller = t
      }
    }
    this.uPrev[h] = this.uMips[h]!
    let util = 0
    let hostReq = 0
    this.deallocateAllPes(h)
    for (const v of vms) {
      if (this.vInMig[v]) {
        if (!this.sIn[h]!.has(v) && !this.sOut[h]!.has(v)) this.sOut[h]!.add(v)
      } else this.sOut[h]!.delete(v)
      this.sReq[h]!.set(v, this.requested(v))
    }
    this.allocateInOrder(h)
    const migIn = this.hMigIn[h]!
    for (const v of vms) {
      const req = this.requested(v)
      let alloc = this.sAlloc[h]!.get(v) ?? 0
      if (!migIn.includes(v)) {
        this.vmState(v, time, alloc, req, this.vInMig[v] === 1)
        if (this.vInMig[v]) alloc /= 0.9
      }
      util += alloc
      hostReq += req
    }
    this.uMips[h] = util
    this.hostState(h, time, util, hostReq, util > 0)
    return smaller
  }

  private cpu(h: number): number {
    const u = this.uMips[h]! / this.hTotal[h]!
    return u > 1 && u < 1.01 ? 1 : u
  }

  private prevCpu(h: number): number {
    const u = this.uPrev[h]! / this.hTotal[h]!
    return u > 1 && u < 1.01 ? 1 : u
  }

  private hostPower(h: number, u: number): number {
    try {
      return PowerModel.power(this.h[h]!.power, u)
    } catch (e) {
      throw new EngineError(`host #${h} at ${this.clock.toFixed(2)} s: ${(e as Error).message}; CloudSim exits here`)
    }
  }

  // ----------------------------------------------------------------------------------------------
  // PowerDatacenter

  /** updateCloudetProcessingWithoutSchedulingFutureEventsForce. */
  private forceUpdate(): number {
    const time = this.clock
    const dt = time - this.lastProcess
    let min = Infinity
    for (let h = 0; h < this.nh; h++) {
      const t = this.updateHost(h, time)
      if (t < min) min = t
    }
    if (dt > 0) {
      let e = 0
      for (let h = 0; h < this.nh; h++) {
        const from = this.prevCpu(h)
        if (from === 0) continue
        const p0 = this.hostPower(h, from)
        const p1 = this.hostPower(h, this.cpu(h))
        e += (p0 + (p1 - p0) / 2) * dt
      }
      this.energyWs += e
    }
    this.removeCompleted()
    this.lastProcess = time
    return min
  }

  /** The "completed" VMs: not migrating and requesting 0 MIPS (CloudSim also counts an idle VM as completed). */
  private removeCompleted(): void {
    for (let h = 0; h < this.nh; h++) {
      const done: Array<number> = []
      for (const v of this.hVms[h]!) {
        if (this.vInMig[v]) continue
        const req = this.requested(v)
        if (req === 0 && (this.compat || !this.vCloudlet[v])) done.push(v)
      }
      for (const v of done) {
        this.deallocateHostForVm(v)
        if (this.vInDc[v]) {
          this.vInDc[v] = 0
          this.removed++
        }
      }
    }
  }

  private deallocateHostForVm(v: number): void {
    const h = this.vTable[v]!
    this.vTable[v] = NONE
    if (h !== NONE) this.vmDestroy(h, v)
  }

  private allocateHostForVm(v: number, h: number): boolean {
    if (h === NONE) return false
    if (this.vmCreate(h, v)) {
      this.vTable[v] = h
      return true
    }
    return false
  }

  run(): Result {
    const migrationPolicy = this.policy.kind === "migration"
    // t = 0: the broker's VM creations, in VM order.
    for (let v = 0; v < this.nv; v++) {
      const h = migrationPolicy ? this.findHostForVm(v, new HostSet(this.nh)) : this.firstFit(v)
      if (this.allocateHostForVm(v, h)) {
        this.vInDc[v] = 1
        this.vInst[v] = 0
        this.updateVm(v, 0, this.sAlloc[h]!.get(v))
      }
    }
    // t = 0.1: cloudlets submitted (one per created VM); the first update comes one interval later.
    for (let v = 0; v < this.nv; v++) if (this.vInDc[v]) this.vCloudlet[v] = 1
    let next = 0.1 + this.interval
    while (next <= this.limit || this.events.length > 0) {
      const ev = this.events[0]
      if (ev !== undefined && (ev.time < next || next > this.limit) && ev.time <= this.limit) {
        this.clock = ev.time
        this.processMigrations()
        continue
      }
      if (next > this.limit) break
      this.clock = next
      const more = this.scheduledUpdate()
      this.cfg.onProgress?.(this.clock, this.limit)
      if (!more) break
      next = this.clock + this.interval
    }
    return this.results()
  }

  private scheduledUpdate(): boolean {
    this.updates++
    const before = this.energyWs
    const migrationsBefore = this.migrationCount
    if (this.policy.kind === "npa") {
      const dt = this.clock - this.lastProcess
      for (let h = 0; h < this.nh; h++) this.energyWs += PowerModel.maxPower(this.h[h]!.power) * dt
      let min = Infinity
      for (let h = 0; h < this.nh; h++) {
        const t = this.updateHost(h, this.clock)
        if (t < min) min = t
      }
      this.removeCompleted()
      this.lastProcess = this.clock
      this.pushTimeline(before, migrationsBefore)
      return min !== Infinity
    }
    const min = this.forceUpdate()
    if (this.policy.kind === "migration") {
      const map = this.optimize(this.policy.overload, this.policy.selection)
      const idle = this.cfg.onMigration === undefined ? undefined : Uint8Array.from(this.uMips, (u) => (u === 0 ? 1 : 0))
      for (const [v, target] of map) {
        const delay = this.vRam[v]! / (this.h[target]!.bw / (2 * 8000))
        if (this.cfg.onMigration !== undefined) {
          let before = 0
          for (const w of this.hVms[target]!) before += this.requested(w)
          this.cfg.onMigration({
            time: this.clock,
            vm: v,
            from: this.vHost[v]!,
            to: target,
            duration: delay,
            targetRequestedBefore: before,
            vmRequested: this.requested(v),
            targetTotalMips: this.hTotal[target]!,
            targetWasIdle: idle![target] === 1
          })
        }
        this.addMigratingIn(target, v)
        this.migrationCount++
        this.schedule(this.clock + delay, v, target)
      }
    }
    this.lastProcess = this.clock
    this.pushTimeline(before, migrationsBefore)
    return min !== Infinity
  }

  private energyPushed = 0

  /** One timeline row per update: the energy since the previous row (migration completions in between included). */
  private pushTimeline(_before: number, migrationsBefore: number): void {
    let active = 0
    for (let h = 0; h < this.nh; h++) if (this.uMips[h]! > 0) active++
    this.timeline.push({ time: this.clock, energyWs: this.energyWs - this.energyPushed, activeHosts: active, migrations: this.migrationCount - migrationsBefore })
    this.energyPushed = this.energyWs
  }

  private schedule(time: number, vm: number, host: number): void {
    const e = { time, seq: this.seq++, vm, host }
    // Insertion keeps (time, seq) order; the queue is short (one interval's migrations).
    let i = this.events.length
    while (i > 0 && this.events[i - 1]!.time > time) i--
    this.events.splice(i, 0, e)
  }

  /** All VM_MIGRATE events at the current time, in order (PowerDatacenter.processVmMigrate). */
  private processMigrations(): void {
    const time = this.clock
    while (this.events.length > 0 && this.events[0]!.time === time) {
      const ev = this.events.shift()!
      if (time > this.lastProcess) this.forceUpdate()
      // Datacenter.processVmMigrate
      this.deallocateHostForVm(ev.vm)
      this.removeMigratingIn(ev.host, ev.vm)
      if (!this.allocateHostForVm(ev.vm, ev.host)) {
        throw new EngineError(`VM #${ev.vm} could not be allocated to host #${ev.host} at the end of its migration (CloudSim exits here)`)
      }
      this.vInMig[ev.vm] = 0
      const another = this.events.length > 0 && this.events[0]!.time === time
      if (!another) this.forceUpdate()
    }
  }

  // ----------------------------------------------------------------------------------------------
  // Allocation policies

  private firstFit(v: number): number {
    for (let h = 0; h < this.nh; h++) if (this.isSuitable(h, v)) return h
    return NONE
  }

  /** The detector's view of host `h`, as if VM `extra` were also on it (CloudSim creates it, asks, destroys it). */
  private hostView(h: number, extra = NONE): Policy.HostView {
    let req = 0
    for (const v of this.hVms[h]!) req += this.requested(v)
    if (extra !== NONE) req += this.requested(extra)
    return {
      requestedMips: req,
      totalMips: this.hTotal[h]!,
      history: () => this.hostHistory(h, extra),
      maxVmRam: () => {
        let max = -2147483648
        for (const v of this.hVms[h]!) if (this.vRam[v]! > max) max = this.vRam[v]!
        if (extra !== NONE && this.vRam[extra]! > max) max = this.vRam[extra]!
        return max
      },
      bandwidth: this.h[h]!.bw,
      schedulingInterval: this.interval
    }
  }

  private hostHistory(h: number, extra = NONE): Float64Array {
    const hist = new Float64Array(30)
    const total = this.hTotal[h]!
    const add = (v: number) => {
      const vh = this.vHist[v]!
      for (let i = 0; i < vh.length; i++) hist[i]! += (vh[i]! * this.vMips[v]!) / total
    }
    for (const v of this.hVms[h]!) add(v)
    if (extra !== NONE) add(extra)
    return Stats.trimZeroTail(hist)
  }

  private overloaded(o: Policy.Overload, h: number): boolean {
    return Policy.isOverloaded(o, this.hostView(h)).overloaded
  }

  /** P(current utilisation) per host: constant while a round is computed (CloudSim reads the last update's value). */
  private powerNow: Float64Array | undefined

  /** getUtilizationOfCpuMips(host), summed in the host's VM order as CloudSim does, cached until the host's allocation changes. */
  private allocatedMips(h: number): number {
    if (this.allocDirty[h] === 0) return this.allocSum[h]!
    let util = 0
    const migIn = this.hMigIn[h]!
    const alloc = this.sAlloc[h]!
    for (const w of this.hVms[h]!) {
      const a = alloc.get(w) ?? 0
      if (migIn.length > 0 && migIn.includes(w)) util += (a * 0.9) / 0.1
      util += a
    }
    this.allocSum[h] = util
    this.allocDirty[h] = 0
    return util
  }

  /** PowerVmAllocationPolicyMigrationAbstract.findHostForVm (PABFD). */
  private findHostForVm(v: number, excluded: HostSet, o?: Policy.Overload): number {
    let minPower = Number.MAX_VALUE
    let chosen = NONE
    const req = this.requested(v)
    const ram = Math.min(this.requestedRam(v), this.vRam[v]!)
    const bw = Math.min(this.requestedBw(v), this.vBw[v]!)
    for (let h = 0; h < this.nh; h++) {
      if (excluded.has(h)) continue
      // Host.isSuitableForVm, with the VM's requests computed once.
      if (!(this.h[h]!.peMips >= req && this.sAvail[h]! >= req)) continue
      if (!(this.ramAvail[h]! + (this.ramTable[h]!.get(v) ?? 0) >= ram && this.bwAvail[h]! + (this.bwTable[h]!.get(v) ?? 0) >= bw)) continue
      if (this.uMips[h] !== 0 && o !== undefined && this.overloadedAfterAllocation(o, h, v)) continue
      // CloudSim 3.0.3's getUtilizationOfCpuMips(host): the MIPS allocated now to the VMs on the host
      // (including this round's tentative placements), a migrating-in VM counted at its full 10×.
      // Not host.getUtilizationOfCpuMips() (the last update's figure), which older trunk versions read.
      const util = this.allocatedMips(h)
      const after = this.hostPower(h, (util + req) / this.hTotal[h]!)
      const diff = after - (this.powerNow !== undefined ? this.powerNow[h]! : this.hostPower(h, this.cpu(h)))
      if (diff < minPower) {
        minPower = diff
        chosen = h
      }
    }
    return chosen
  }

  /**
   * isHostOverUtilizedAfterAllocation: CloudSim creates the VM on the host, asks the detector and
   * destroys it again. That round trip leaves the host's allocation as it was (the scheduler rebuilds
   * it in the same order) except for two traces we keep: the VM is no longer "migrating out" of that
   * host, and the VM has no host. A creation fails only for lack of storage (RAM and bandwidth
   * requests are 0 once a VM runs), and a failed creation counts as overloaded.
   */
  private overloadedAfterAllocation(o: Policy.Overload, h: number, v: number): boolean {
    if (this.storage[h]! < this.vSize[v]!) return true
    const result = Policy.isOverloaded(o, this.hostView(h, v)).overloaded
    this.sOut[h]!.delete(v)
    this.vHost[v] = NONE
    return result
  }

  private candidates(h: number): Array<number> {
    return this.hVms[h]!.filter((v) => !this.vInMig[v])
  }

  private selectVm(s: Policy.Selection, h: number): number {
    const vms = this.candidates(h)
    const i = Policy.select(
      s,
      vms.map((v) => ({ ram: this.vRam[v]!, utilizationMips: this.utilizationMips(v, this.clock), history: this.vHist[v]! })),
      this.rng
    )
    return i < 0 ? NONE : vms[i]!
  }

  /** PowerVmList.sortByCpuUtilization: decreasing current MIPS, stable. */
  private sortByUtilization(vms: Array<number>): Array<number> {
    const keyed = vms.map((v, i) => ({ v, i, u: this.utilizationMips(v, this.clock) }))
    keyed.sort((a, b) => (b.u > a.u ? 1 : b.u < a.u ? -1 : a.i - b.i))
    return keyed.map((k) => k.v)
  }

  private timed<A>(bucket: Array<number>, f: () => A): A {
    if (this.now === undefined) return f()
    const t0 = this.now()
    const a = f()
    bucket.push((this.now() - t0) / 1000)
    return a
  }

  /** PowerVmAllocationPolicyMigrationAbstract.optimizeAllocation: the migration map [vm, target]. */
  private optimize(o: Policy.Overload, s: Policy.Selection): Array<[number, number]> {
    this.powerNow = Float64Array.from({ length: this.nh }, (_, h) => this.hostPower(h, this.cpu(h)))
    try {
      return this.optimizeRound(o, s)
    } finally {
      this.powerNow = undefined
    }
  }

  private optimizeRound(o: Policy.Overload, s: Policy.Selection): Array<[number, number]> {
    return this.timed(this.exec.total, () => {
      const over = this.timed(this.exec.host, () => {
        const list: Array<number> = []
        for (let h = 0; h < this.nh; h++) if (this.overloaded(o, h)) list.push(h)
        return list
      })
      // saveAllocation
      const saved: Array<[number, number]> = []
      for (let h = 0; h < this.nh; h++) for (const v of this.hVms[h]!) if (!this.hMigIn[h]!.includes(v)) saved.push([h, v])
      const toMigrate = this.timed(this.exec.sel, () => {
        const list: Array<number> = []
        for (const h of over) {
          for (;;) {
            const v = this.selectVm(s, h)
            if (v === NONE) break
            list.push(v)
            this.vmDestroy(h, v)
            if (!this.overloaded(o, h)) break
          }
        }
        return list
      })
      const overSet = new HostSet(this.nh, over)
      const map = this.timed(this.exec.realloc, () => {
        const m: Array<[number, number]> = []
        for (const v of this.sortByUtilization(toMigrate)) {
          const h = this.findHostForVm(v, overSet, o)
          if (h !== NONE) {
            this.vmCreate(h, v)
            m.push([v, h])
          }
        }
        return m
      })
      for (const x of this.underloaded(o, over, map)) map.push(x)
      this.restore(saved)
      return map
    })
  }

  private underloaded(o: Policy.Overload, over: ReadonlyArray<number>, overMap: ReadonlyArray<[number, number]>): Array<[number, number]> {
    const map: Array<[number, number]> = []
    const switchedOff: Array<number> = []
    for (let h = 0; h < this.nh; h++) if (this.cpu(h) === 0) switchedOff.push(h)
    const exclUnder = new HostSet(this.nh, [...over, ...switchedOff])
    // CloudSim adds the targets of `migrationMap` here, a fresh empty list: nothing (a quirk).
    if (!this.compat) for (const [, h] of overMap) exclUnder.add(h)
    const exclPlace = new HostSet(this.nh, [...over, ...switchedOff])
    const cpu = Float64Array.from({ length: this.nh }, (_, h) => this.cpu(h))
    this.byUtilization = Array.from({ length: this.nh }, (_, h) => h).sort((a, b) => cpu[a]! - cpu[b]! || a - b)
    this.skipped = 0
    for (;;) {
      if (this.nh === exclUnder.size) break
      const u = this.underloadedHost(exclUnder)
      if (u === NONE) break
      exclUnder.add(u)
      exclPlace.add(u)
      const vms = this.candidates(u)
      if (vms.length === 0) continue
      const placed: Array<[number, number]> = []
      let ok = true
      for (const v of this.sortByUtilization(vms)) {
        const h = this.findHostForVm(v, exclPlace, o)
        if (h === NONE) {
          ok = false
          break
        }
        this.vmCreate(h, v)
        placed.push([v, h])
      }
      if (!ok) {
        for (const [v, h] of placed) this.vmDestroy(h, v)
        placed.length = 0
      }
      for (const [, h] of placed) exclUnder.add(h)
      for (const p of placed) map.push(p)
    }
    return map
  }

  /** Hosts by (utilisation, id), for this round; and how many leading ones are excluded for good. */
  private byUtilization: Array<number> = []
  private skipped = 0

  /** getUnderUtilizedHost: the least utilised host with 0 < u < 1 not excluded (lowest id on ties). */
  private underloadedHost(excluded: HostSet): number {
    const order = this.byUtilization
    while (this.skipped < order.length && excluded.has(order[this.skipped]!)) this.skipped++
    for (let i = this.skipped; i < order.length; i++) {
      const h = order[i]!
      if (excluded.has(h)) continue
      const u = this.cpu(h)
      if (!(u > 0 && u < 1)) continue
      if (!this.allMigratingOutOrAnyIn(h)) return h
    }
    return NONE
  }

  private allMigratingOutOrAnyIn(h: number): boolean {
    for (const v of this.hVms[h]!) {
      if (!this.vInMig[v]) return false
      if (this.hMigIn[h]!.includes(v)) return true
    }
    return true
  }

  private restore(saved: ReadonlyArray<[number, number]>): void {
    for (let h = 0; h < this.nh; h++) {
      this.vmDestroyAll(h)
      this.reallocateMigratingIn(h)
    }
    for (const [h, v] of saved) {
      if (!this.vmCreate(h, v)) throw new EngineError(`couldn't restore VM #${v} on host #${h} (CloudSim exits here)`)
      this.vTable[v] = h
    }
  }

  // ----------------------------------------------------------------------------------------------

  private results(): Result {
    if (this.energyWs !== this.energyPushed) {
      let active = 0
      for (let h = 0; h < this.nh; h++) if (this.uMips[h]! > 0) active++
      this.timeline.push({ time: this.lastProcess, energyWs: this.energyWs - this.energyPushed, activeHosts: active, migrations: 0 })
      this.energyPushed = this.energyWs
    }
    for (let v = 0; v < this.nv; v++) {
      const p = this.vPending[v]
      if (p !== undefined) this.commitVm(v, p)
      this.vPending[v] = undefined
    }
    for (let h = 0; h < this.nh; h++) {
      const p = this.hPending[h]
      if (p !== undefined) this.commitHost(h, p)
      this.hPending[h] = undefined
    }
    for (let v = 0; v < this.nv; v++) {
      this.totalAllocated += this.vPerVm[v]!
      this.totalRequested += this.vPerVmReq[v]!
      this.underMigration += this.vPerVmUnder[v]!
    }
    const slatah = this.slaViolationTime / this.activeTime
    const pdm = this.underMigration / this.totalRequested
    const energyKWh = this.energyWs / (3600 * 1000)
    const slav = slatah * pdm
    const ms = (xs: ReadonlyArray<number>): [number, number] => (xs.length === 0 ? [Number.NaN, Number.NaN] : [Stats.mean(xs), Stats.stDev(xs)])
    const [mhs, shs] = ms(this.shutdownTimes)
    const [mvm, svm] = ms(this.vmMigrationTimes)
    const metrics: Metrics = {
      policy: Policy.name(this.policy),
      hosts: this.nh,
      vms: this.nv,
      totalSimulationTime: this.limit,
      energyKWh,
      migrations: this.migrationCount,
      slav,
      slatah,
      pdm,
      slaOverall: (this.totalRequested - this.totalAllocated) / this.totalRequested,
      slaAverage: this.slaViolationCount === 0 ? 0 : this.slaViolationSum / this.slaViolationCount,
      esv: energyKWh * slav,
      hostShutdowns: this.shutdownTimes.length,
      meanTimeBeforeHostShutdown: mhs,
      stDevTimeBeforeHostShutdown: shs,
      meanTimeBeforeVmMigration: mvm,
      stDevTimeBeforeVmMigration: svm,
      vmsRemoved: this.removed,
      updates: this.updates
    }
    const e = this.exec
    const executionTimes: ExecutionTimes | undefined =
      this.now === undefined || e.total.length === 0
        ? undefined
        : {
            vmSelectionMean: Stats.mean(e.sel),
            vmSelectionStDev: Stats.stDev(e.sel),
            hostSelectionMean: Stats.mean(e.host),
            hostSelectionStDev: Stats.stDev(e.host),
            vmReallocationMean: Stats.mean(e.realloc),
            vmReallocationStDev: Stats.stDev(e.realloc),
            totalMean: Stats.mean(e.total),
            totalStDev: Stats.stDev(e.total)
          }
    return { metrics, executionTimes, timeline: this.timeline }
  }
}

/** A set of host indices as flags (the hot loops test membership for every host, every VM). */
class HostSet {
  private readonly flags: Uint8Array
  size = 0
  constructor(n: number, items: Iterable<number> = []) {
    this.flags = new Uint8Array(n)
    for (const h of items) this.add(h)
  }
  has(h: number): boolean {
    return this.flags[h] === 1
  }
  add(h: number): void {
    if (this.flags[h] === 0) {
      this.flags[h] = 1
      this.size++
    }
  }
}

const remove = (xs: Array<number>, x: number): void => {
  const i = xs.indexOf(x)
  if (i >= 0) xs.splice(i, 1)
}
