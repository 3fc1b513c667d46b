/**
 * The fast engine: a synchronous loop over a typed-array event queue, node and instance state in
 * typed arrays, nothing allocated per event. A launch goes through the decider's own planner
 * (LaunchPlan.planLaunch: zone choice, network and storage bounds, all-or-nothing placement with the
 * SAME policy objects as the real cloud, woken nodes) on an IndexedCapacity per zone, with
 * FastNetwork as its network allocator (the network plan's rules per mode, on typed arrays). The
 * rest mirrors the decider and evolve — request checks in Decide's order, releases, POWERSAVE ticks
 * — and the simulated backend's reactions (sampled boot delays, failures, stop delays, wake delays,
 * departures).
 *
 * test/sim/Engines.prop.test.ts checks that it records exactly what the reference engine (which runs
 * Decide/Evolve/Effects themselves) records, on random experiments, for every shipped policy.
 *
 * One shortcut: when no node that is not down can hold the instance, a complete policy must reject,
 * so the planner does not call it (IndexedCapacity's nothingFits; the policy's reason text would cost
 * a scan of the zone; the rejection's tag is the same).
 */
import * as Capacity from "../model/Capacity.js"
import * as LaunchPlan from "../model/LaunchPlan.js"
import * as Ids from "../model/Ids.js"
import * as Ipv4 from "../model/Ipv4.js"
import type * as Policy from "../model/Policy.js"
import * as Resources from "../model/Resources.js"
import * as VmType from "../model/VmType.js"
import * as Consult from "./Consult.js"
import * as Engine from "./Engine.js"
import { FastQueue } from "./FastQueue.js"
import { IndexedCapacity } from "./IndexedCapacity.js"
import * as FastNetwork from "./FastNetwork.js"
import * as Random from "./Random.js"
import type * as Recorder from "./Recorder.js"
import * as Setup from "./Setup.js"
import type * as TraceRequest from "./traces/TraceRequest.js"

// Instance states.
const FREE = 0
/** Pending, its node still waking: the VM is not started yet. */
const WAITING = 1
const PENDING = 2
const RUNNING = 3
const SHUTTING = 4


// An instance record: 64 bytes (one cache line) in one buffer, seen as 8 floats and as 16 ints.
/** Floats (index x·8 + …): launch time, lifetime (−1: none). */
const F_LAUNCH = 0
const F_LIFE = 1
/** Ints (index x·16 + …), after the two floats: */
const I_SEQ = 4
const I_NODE = 5
const I_CORES = 6
const I_MEM = 7
const I_DISK = 8
const I_STATE = 9
/** Its tenant: account × groups + security group (Setup.tenantOf). */
const I_GROUP = 10
/** SYSTEM: host number; STATIC: MAC map entry; MANAGED: slot in the group's network. */
const I_ADDR = 11
/** Public address pool position, −1 for none. */
const I_PUB = 12
/** Next in a list (the free slots, a node's waiting instances). */
const I_NEXT = 13
/** Its root volume's GiB in its zone's storage (0: none). */
const I_VOL = 14

/** A refusal by the network or the storage: the rejection's tag and the zone it is filed under. */
interface Rejected {
  readonly tag: string
  readonly zone: string | undefined
}

/** The network's side of a launch for the planner: the bound FastNetwork gives, and its assignment into scratch arrays. */
class NetBound implements LaunchPlan.NetworkAllocator<number, Rejected> {
  max = 0
  group = 0
  zone: string | undefined = undefined
  /** Per placed instance k: what the mode hands out, and its public pool position (−1: none). */
  addr = new Int32Array(16)
  pub = new Int32Array(16)
  constructor(private readonly network: FastNetwork.FastNetwork) {}
  rejection(): Rejected {
    return { tag: this.network.tag, zone: this.zone }
  }
  /** Returns the group's VLAN (−1: none). */
  assign(count: number): number {
    if (this.addr.length < count) {
      this.addr = new Int32Array(count * 2)
      this.pub = new Int32Array(count * 2)
    }
    return this.network.assign(this.group, count, this.addr, this.pub)
  }
}

class Ctx implements Policy.PlaceContext {
  index = 0
  seq = 0
  zone = 0
  answers: ReadonlyArray<number> = []
  constructor(private readonly engine: FastEngine) {}
  get instanceId(): string {
    return Ids.instanceId(this.seq)
  }
  readonly instancesFile = (): string => this.engine.instancesFile(this.zone)
}

export interface Options {
  readonly recorder: Recorder.Recorder
  readonly consult?: Consult.Consult | undefined
}

export class FastEngine implements Engine.Engine {
  now = 0
  events = 0
  private readonly q = new FastQueue(4096)
  private readonly rng: Random.Random
  private readonly rec: Recorder.Recorder
  private readonly consult: Consult.Consult
  private readonly policy: Policy.Policy<any>
  private readonly horizon: number
  private readonly views: Array<IndexedCapacity>
  private readonly pstate: Array<unknown>
  private readonly zoneNames: Array<string>
  private readonly zoneIndex = new Map<string, number>()
  private readonly zoneFirst: Int32Array
  private readonly zoneOfNode: Int32Array
  private readonly nodeIds: Array<string>
  private readonly idleSince: Float64Array
  private readonly waitHead: Int32Array
  private readonly waitTail: Int32Array
  private readonly typeIndex = new Map<string, Resources.Resources>()
  private readonly powerThreshold: number
  private readonly wakeDelay: number
  private readonly failP: number
  private readonly boot: Setup.Backend["boot"]
  private readonly stop: Setup.Backend["stop"]
  private readonly ctx: Ctx
  /** The planner's view of the zones: the indexed views, with their "nothing fits" shortcut. */
  private readonly zones: LaunchPlan.Zones
  /** Addresses and networks: one allocator for the network's mode. */
  private readonly network: FastNetwork.FastNetwork
  /** The planner's network bound and allocator for the request being planned. */
  private readonly netBound: NetBound
  /** Per zone: the storage controller's GiB (Infinity: unlimited) and the GiB its volumes hold. */
  private readonly storageCap: Float64Array
  private readonly storageUsed: Float64Array
  // Instances, by slot (a slot is reused once its instance is gone). Each instance is one 64-byte
  // record (see F_… and I_…): an event touches one cache line of instance data.
  private cap = 0
  private top = 0
  private freeSlot = -1
  private seq = 0
  private rf = new Float64Array(0)
  private ri = new Int32Array(0)
  // Per request scratch: the instance slots.
  private slotBuf = new Int32Array(16)
  private tickNodes: Array<number> = []

  constructor(
    private readonly setup: Setup.Setup,
    options: Options
  ) {
    this.rng = Random.make(setup.seed)
    this.rec = options.recorder
    this.consult = options.consult ?? Consult.none
    this.policy = setup.policy
    this.horizon = setup.horizonMs ?? Number.POSITIVE_INFINITY
    const s = setup.initial
    this.zoneNames = s.zones.map((z) => z.name)
    this.zoneNames.forEach((z, i) => this.zoneIndex.set(z, i))
    this.zoneFirst = Int32Array.from(s.zones.map((z) => z.first))
    this.zoneOfNode = new Int32Array(s.nodes.length)
    s.zones.forEach((z, zi) => this.zoneOfNode.fill(zi, z.first, z.first + z.count))
    this.nodeIds = s.nodes.map((n) => n.id)
    this.views = s.zones.map(
      (z) =>
        new IndexedCapacity(
          s.nodes.slice(z.first, z.first + z.count).map((n) => ({ id: n.id, state: n.state, capacity: n.capacity, used: n.used, instances: n.instances })),
          this.policy.ratios
        )
    )
    this.pstate = s.zones.map((z) => s.policyState[z.name] ?? this.policy.initial)
    this.idleSince = Float64Array.from(s.nodes.map((n) => (n.idleSince === undefined ? Number.NaN : n.idleSince)))
    this.waitHead = new Int32Array(s.nodes.length).fill(-1)
    this.waitTail = new Int32Array(s.nodes.length).fill(-1)
    for (const t of s.vmTypes) this.typeIndex.set(t.name, VmType.size(t))
    this.powerThreshold = this.policy.power?.idleThresholdMs ?? -1
    this.wakeDelay = Setup.wakeDelayMs(setup)
    this.failP = setup.backend.failureProbability
    this.boot = setup.backend.boot
    this.stop = setup.backend.stop
    this.ctx = new Ctx(this)
    const views = this.views
    this.zones = {
      count: views.length,
      index: (name) => this.zoneIndex.get(name) ?? -1,
      view: (z) => views[z]!,
      freeSlots: (z, size) => views[z]!.freeSlots(size),
      nothingFits: (z, size, states) => views[z]!.nothingFits(size, states)
    }
    this.network = FastNetwork.make(setup.network, setup.tenants.accounts * setup.tenants.groups, setup.addressing === "public")
    this.netBound = new NetBound(this.network)
    this.storageCap = Float64Array.from(s.zones.map((z) => s.storage.capacity[z.name] ?? Number.POSITIVE_INFINITY))
    this.storageUsed = Float64Array.from(s.zones.map((z) => s.storage.used[z.name] ?? 0))
    this.grow(1024)
    // Every node starts idle: POWERSAVE looks at each once its threshold has passed.
    if (this.powerThreshold >= 0) {
      for (let n = 0; n < s.nodes.length; n++) {
        const since = this.idleSince[n]!
        if (!Number.isNaN(since)) this.q.push(since + this.powerThreshold + 1, Engine.TICK, n)
      }
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests

  arrive(r: TraceRequest.TraceRequest, req: number, t: number): void {
    this.now = t
    this.events++
    // Drawn first, whatever happens to the request (the reference engine draws at the same point).
    const g = Setup.tenantOf(this.setup, this.rng, req)
    const count = r.count
    if (!Number.isInteger(count) || count < 1) return this.rec.rejected(t, req, "InvalidRequest", r.zone)
    let size: Resources.Resources | undefined = r.size
    if (size !== undefined) {
      if (size.cores <= 0 && size.memoryMiB <= 0 && size.diskGiB <= 0) return this.rec.rejected(t, req, "InvalidRequest", r.zone)
    } else {
      size = this.typeIndex.get(r.vmType ?? VmType.defaultTypeName)
      if (size === undefined) return this.rec.rejected(t, req, "UnknownVmType", r.zone)
    }
    // What the network can take bounds the count before any placement (the planner checks it once the zone is known).
    const net = this.netBound
    net.group = g
    net.max = this.network.bound(g)
    net.zone = r.zone
    const vol = r.rootVolumeGiB ?? 0
    this.storageVol = vol

    // Zone choice, bounds, all-or-nothing placement and wake-ups: the decider's own planner, on the indexed views.
    const plan = LaunchPlan.planLaunch(this.zones, {
      policy: this.policy,
      size,
      minCount: count,
      maxCount: count,
      zone: r.zone,
      network: net,
      storage: this.storageOf,
      policyState: this.policyStateOf,
      context: this.contextOf,
      consult: this.consult
    })
    switch (plan._tag) {
      case "UnknownZone":
        return this.rec.rejected(t, req, "UnknownZone", plan.zone)
      case "Refused":
        return this.rec.rejected(t, req, plan.rejection.tag, plan.rejection.zone)
      case "InsufficientCapacity":
        return this.rec.rejected(t, req, "InsufficientCapacity", this.zoneNames[plan.zone])
      case "Consult":
        throw new Error("the fast engine consults the placement program itself")
      case "Placed":
        this.commit(t, req, plan.zone, g, size, r.lifetimeMs, plan.nodes, plan.woken, vol, plan.assigned)
        this.pstate[plan.zone] = plan.policyState
    }
  }

  /** The root volume GiB per instance of the request being planned (0: none). */
  private storageVol = 0
  /** The zone storage's bound: its free GiB over the request's root volume GiB per instance (one object, reused). */
  private readonly storageBound = {
    max: 0,
    zone: undefined as string | undefined,
    rejection(): Rejected {
      return { tag: "StorageFull", zone: this.zone }
    }
  }
  private readonly storageOf = (zi: number): LaunchPlan.Bound<Rejected> => {
    const vol = this.storageVol
    const b = this.storageBound
    b.max = vol > 0 ? Math.floor(Math.max(0, this.storageCap[zi]! - this.storageUsed[zi]!) / vol) : Number.POSITIVE_INFINITY
    b.zone = this.zoneNames[zi]
    return b
  }
  private readonly policyStateOf = (zi: number): unknown => this.pstate[zi]
  private readonly contextOf = (zi: number, k: number, answers: ReadonlyArray<number>): Policy.PlaceContext => {
    const ctx = this.ctx
    ctx.zone = zi
    ctx.index = k
    ctx.seq = this.seq + k + 1
    ctx.answers = answers
    return ctx
  }

  private commit(
    t: number,
    req: number,
    zi: number,
    g: number,
    size: Resources.Resources,
    lifetime: number | undefined,
    placed: ReadonlyArray<number>,
    woken: ReadonlyArray<number>,
    vol: number,
    vlan: number
  ): void {
    const n = placed.length
    const nWoken = woken.length
    const rec = this.rec
    const first = this.zoneFirst[zi]!
    const view = this.views[zi]!
    rec.launched(t, req, zi, n)
    if (this.network.fresh) rec.vlan(t, vlan, true)
    for (let k = 0; k < nWoken; k++) rec.woken(t, first + woken[k]!)
    const addr = this.netBound.addr
    const pub = this.netBound.pub
    const network = this.network
    if (this.slotBuf.length < n) this.slotBuf = new Int32Array(n * 2)
    const slots = this.slotBuf
    const cores = size.cores
    const mem = size.memoryMiB
    const disk = size.diskGiB
    const life = lifetime === undefined ? -1 : lifetime
    for (let k = 0; k < n; k++) {
      const local = placed[k]!
      const node = first + local
      const x = this.alloc()
      slots[k] = x
      const seq = ++this.seq
      const rf = this.rf
      const ri = this.ri
      const b = x * 16
      rf[x * 8 + F_LAUNCH] = t
      rf[x * 8 + F_LIFE] = life
      ri[b + I_SEQ] = seq
      ri[b + I_NODE] = node
      ri[b + I_CORES] = cores
      ri[b + I_MEM] = mem
      ri[b + I_DISK] = disk
      ri[b + I_GROUP] = g
      ri[b + I_VOL] = vol
      this.idleSince[node] = Number.NaN
      ri[b + I_ADDR] = addr[k]!
      ri[b + I_PUB] = pub[k]!
      ri[b + I_STATE] = view.stateBit(local) === Capacity.UP ? PENDING : WAITING
      rec.placed(t, req, seq, node, cores, mem, disk, network.privateIp(g, addr[k]!), network.publicIp(addr[k]!, pub[k]!), vlan)
    }
    if (vol > 0) {
      this.storageUsed[zi] += vol * n
      rec.storage(t, zi, vol * n)
    }
    // Effects, in Effects.of's order: wake the chosen asleep nodes, start what can start.
    for (let k = 0; k < nWoken; k++) this.q.push(t + this.wakeDelay, Engine.NODE_UP, first + woken[k]!)
    const ri = this.ri
    for (let k = 0; k < n; k++) {
      const x = slots[k]!
      if (ri[x * 16 + I_STATE] === PENDING) this.start(x, t)
      else {
        // Started when its node is up, in launch order.
        const node = ri[x * 16 + I_NODE]!
        ri[x * 16 + I_NEXT] = -1
        if (this.waitTail[node]! < 0) this.waitHead[node] = x
        else ri[this.waitTail[node]! * 16 + I_NEXT] = x
        this.waitTail[node] = x
      }
    }
  }

  /** StartInstance: the VM boots after a sampled delay, or fails. */
  private start(x: number, t: number): void {
    const ri = this.ri
    ri[x * 16 + I_STATE] = PENDING
    this.rec.started(t, ri[x * 16 + I_SEQ]!, ri[x * 16 + I_NODE]!)
    const fails = this.failP > 0 && this.rng.next() < this.failP
    const delay = this.boot.sample(this.rng)
    this.q.push(t + delay, fails ? Engine.FAILED : Engine.BOOTED, x)
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduled events

  runUntil(limit: number): void {
    const end = limit < this.horizon ? limit : this.horizon
    const q = this.q
    while (q.popUntil(end)) {
      const t = q.time
      this.now = t
      this.events++
      const x = q.arg
      switch (q.kind) {
        case Engine.BOOTED:
          this.booted(x, t)
          break
        case Engine.DEPART:
          this.depart(x, t)
          break
        case Engine.STOPPED:
          if (this.ri[x * 16 + I_STATE] === SHUTTING) this.release(x, t, false)
          break
        case Engine.FAILED:
          if (this.ri[x * 16 + I_STATE] !== FREE) this.release(x, t, true)
          break
        case Engine.NODE_UP:
          this.nodeUp(x, t)
          break
        case Engine.TICK:
          this.tick(x, t)
          break
      }
    }
  }

  /** InstanceBooted: running; its departure is scheduled at the end of its lifetime. */
  private booted(x: number, t: number): void {
    const ri = this.ri
    const b = x * 16
    if (ri[b + I_STATE] !== PENDING) return
    ri[b + I_STATE] = RUNNING
    const rf = this.rf
    this.rec.booted(t, ri[b + I_SEQ]!, ri[b + I_NODE]!, t - rf[x * 8 + F_LAUNCH]!)
    const life = rf[x * 8 + F_LIFE]!
    if (life >= 0) this.q.push(t + life, Engine.DEPART, x)
  }

  /** TerminateInstances at the end of the lifetime (the simulator's, any account). */
  private depart(x: number, t: number): void {
    const ri = this.ri
    const b = x * 16
    const s = ri[b + I_STATE]!
    if (s === WAITING) {
      this.unwait(x)
      this.release(x, t, false)
    } else if (s === PENDING || s === RUNNING) {
      ri[b + I_STATE] = SHUTTING
      this.rec.terminating(t, ri[b + I_SEQ]!, ri[b + I_NODE]!)
      this.q.push(t + this.stop.sample(this.rng), Engine.STOPPED, x)
    }
  }

  private unwait(x: number): void {
    const ri = this.ri
    const node = ri[x * 16 + I_NODE]!
    let prev = -1
    for (let y = this.waitHead[node]!; y >= 0; prev = y, y = ri[y * 16 + I_NEXT]!) {
      if (y !== x) continue
      const next = ri[y * 16 + I_NEXT]!
      if (prev < 0) this.waitHead[node] = next
      else ri[prev * 16 + I_NEXT] = next
      if (this.waitTail[node] === x) this.waitTail[node] = prev
      return
    }
  }

  /** InstanceTerminated: capacity, addresses and (with the group's last instance) the VLAN go back. */
  private release(x: number, t: number, failed: boolean): void {
    const ri = this.ri
    const b = x * 16
    const node = ri[b + I_NODE]!
    const zi = this.zoneOfNode[node]!
    const local = node - this.zoneFirst[zi]!
    const view = this.views[zi]!
    const c = ri[b + I_CORES]!
    const m = ri[b + I_MEM]!
    const d = ri[b + I_DISK]!
    view.add(local, -c, -m, -d, -1)
    const vol = ri[b + I_VOL]!
    if (vol > 0) {
      this.storageUsed[zi] -= vol
      this.rec.storage(t, zi, -vol)
    }
    const g = ri[b + I_GROUP]!
    const a = ri[b + I_ADDR]!
    const p = ri[b + I_PUB]!
    const pubIp = this.network.publicIp(a, p)
    const released = this.network.release(g, a, p)
    this.rec.terminated(t, ri[b + I_SEQ]!, node, c, m, d, pubIp, failed)
    if (released >= 0) this.rec.vlan(t, released, false)
    ri[b + I_STATE] = FREE
    ri[b + I_NEXT] = this.freeSlot
    this.freeSlot = x
    if (view.instances(local) === 0) {
      this.idleSince[node] = t
      if (this.powerThreshold >= 0) this.q.push(t + this.powerThreshold + 1, Engine.TICK, node)
    }
  }

  /** NodeReported: a woken node is up; the instances waiting for it start, in launch order. */
  private nodeUp(node: number, t: number): void {
    const zi = this.zoneOfNode[node]!
    const view = this.views[zi]!
    const local = node - this.zoneFirst[zi]!
    if (view.stateBit(local) === Capacity.UP) return
    view.setState(local, "up")
    this.rec.nodeUp(t, node)
    let x = this.waitHead[node]!
    this.waitHead[node] = -1
    this.waitTail[node] = -1
    while (x >= 0) {
      const next = this.ri[x * 16 + I_NEXT]!
      this.start(x, t)
      x = next
    }
  }

  /** A power tick: every node idle for longer than the threshold goes to sleep, in node order. */
  private tick(first: number, t: number): void {
    const nodes = this.tickNodes
    nodes.length = 0
    nodes.push(first)
    const q = this.q
    // Ticks due at the same time are one tick (the reference engine decides one Tick command).
    while (q.peekTime() === t && q.peekKind() === Engine.TICK) {
      q.pop()
      this.events++
      nodes.push(q.arg)
    }
    if (nodes.length > 1) nodes.sort((a, b) => a - b)
    let prev = -1
    for (const node of nodes) {
      if (node === prev) continue
      prev = node
      const zi = this.zoneOfNode[node]!
      const view = this.views[zi]!
      const local = node - this.zoneFirst[zi]!
      const since = this.idleSince[node]!
      if (view.stateBit(local) === Capacity.UP && view.instances(local) === 0 && !Number.isNaN(since) && t - since > this.powerThreshold) {
        view.setState(local, "asleep")
        this.rec.poweredDown(t, node)
      }
    }
  }

  finish(): number {
    this.runUntil(this.horizon)
    const end = this.horizon === Number.POSITIVE_INFINITY ? this.now : this.horizon
    this.rec.finish(end, this.events)
    return end
  }

  // ---------------------------------------------------------------------------------------------
  // Instance slots

  private alloc(): number {
    if (this.freeSlot >= 0) {
      const x = this.freeSlot
      this.freeSlot = this.ri[x * 16 + I_NEXT]!
      return x
    }
    if (this.top === this.cap) this.grow(this.cap * 2)
    return this.top++
  }

  private grow(cap: number): void {
    const buf = new ArrayBuffer(cap * 64)
    new Int32Array(buf).set(this.ri)
    this.rf = new Float64Array(buf)
    this.ri = new Int32Array(buf)
    this.cap = cap
  }

  /** Eucalyptus's instances file for USER (Decide.instancesFile): the zone's live instances in launch order. */
  instancesFile(zone: number): string {
    const ri = this.ri
    const xs: Array<number> = []
    for (let x = 0; x < this.top; x++) if (ri[x * 16 + I_STATE] !== FREE && this.zoneOfNode[ri[x * 16 + I_NODE]!] === zone) xs.push(x)
    xs.sort((a, b) => ri[a * 16 + I_SEQ]! - ri[b * 16 + I_SEQ]!)
    let out = ""
    for (const x of xs) {
      const b = x * 16
      const st = ri[b + I_STATE] === RUNNING ? "Extant" : ri[b + I_STATE] === SHUTTING ? "Teardown" : "Pending"
      const g = ri[b + I_GROUP]!
      const a = ri[b + I_ADDR]!
      const p = ri[b + I_PUB]!
      const vlan = this.network.vlanOf(g)
      const ip = Ipv4.format(this.network.privateIp(g, a))
      const publicIp = this.network.publicIp(a, p)
      const pub = publicIp < 0 ? "0.0.0.0" : Ipv4.format(publicIp)
      out += `${Ids.instanceId(ri[b + I_SEQ]!)},${st},${this.nodeIds[ri[b + I_NODE]!]},${ri[b + I_MEM]!},${ri[b + I_DISK]!},${ri[b + I_CORES]!},${vlan},${pub},${ip}\n`
    }
    return out
  }

  /** Live instances (for tests and reports). */
  get live(): number {
    let n = 0
    for (let x = 0; x < this.top; x++) if (this.ri[x * 16 + I_STATE] !== FREE) n++
    return n
  }
}

export const make = (setup: Setup.Setup, options: Options): FastEngine => new FastEngine(setup, options)
