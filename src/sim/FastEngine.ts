/**
 * The fast engine: a synchronous loop over a typed-array event queue, node and instance state in
 * typed arrays, nothing allocated per event. It decides with the SAME policy objects as the real
 * cloud (src/model/Policy.ts), through an IndexedCapacity per zone, and mirrors the decider's rules
 * step for step — request checks in Decide's order, LeastFullFirst zone choice, the network plan
 * (VLAN per security group, slots, public addresses, SYSTEM addresses, STATIC's MAC map, exhaustion
 * rejections), MinCount all-or-nothing, woken nodes, POWERSAVE ticks — and the simulated backend's
 * reactions (sampled boot delays, failures, stop delays, wake delays, departures).
 *
 * test/sim/Engines.prop.test.ts checks that it records exactly what the reference engine (which runs
 * Decide/Evolve/Effects themselves) records, on random experiments, for every shipped policy.
 *
 * One shortcut: when no node that is not down can hold the instance, a complete policy must reject,
 * so the engine rejects without calling it (the policy's reason text would cost a scan of the zone;
 * the rejection's tag is the same).
 */
import * as Capacity from "../model/Capacity.js"
import * as Decide from "../model/Decide.js"
import * as Ids from "../model/Ids.js"
import * as Ipv4 from "../model/Ipv4.js"
import * as Network from "../model/Network.js"
import type * as Policy from "../model/Policy.js"
import * as Resources from "../model/Resources.js"
import * as VmType from "../model/VmType.js"
import * as Consult from "./Consult.js"
import * as Engine from "./Engine.js"
import { EventQueue } from "./EventQueue.js"
import { IndexedCapacity } from "./IndexedCapacity.js"
import { LowestFree } from "./LowestFree.js"
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

const SYSTEM = 0
const STATIC = 1
const MANAGED = 2

class Ctx implements Policy.PlaceContext {
  index = 0
  seq = 0
  zone = 0
  answers: Array<number> = []
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
  private readonly q = new EventQueue(4096)
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
  // network
  private readonly mode: number
  private readonly net: Network.Network
  private readonly wantsPublic: boolean
  private readonly rejectOnNoPublic: boolean
  private readonly slotsPerNet: number
  private readonly hosts: LowestFree
  private readonly vlans: LowestFree
  private readonly pub: LowestFree
  private readonly poolIps: Float64Array
  private readonly staticIps: Float64Array
  private readonly staticUse = new Map<number, number>()
  private readonly accounts: number
  private readonly randomTenants: boolean
  private readonly gVlan: Int32Array
  private readonly gLive: Int32Array
  private readonly gSlots: Array<LowestFree | undefined>
  // Instances, by slot (a slot is reused once its instance is gone). Each instance is one record of
  // 8 floats (seq, node, cores, memory, disk, launch time, lifetime or −1, state) and one of 4 ints
  // (account, address, public address, next in a list): an event touches one or two cache lines.
  private cap = 0
  private top = 0
  private freeSlot = -1
  private seq = 0
  private rf = new Float64Array(0)
  private ri = new Int32Array(0)
  // Per request scratch: the nodes placed on (zone-local), the nodes woken, the instance slots.
  private placedLocal = new Int32Array(16)
  private wokenLocal = new Int32Array(16)
  private slotBuf = new Int32Array(16)
  private staticFree: Array<number> = []
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
    const net = setup.network
    this.net = net
    this.mode = net.mode === "SYSTEM" ? SYSTEM : net.mode === "STATIC" ? STATIC : MANAGED
    this.wantsPublic = setup.addressing === "public"
    this.rejectOnNoPublic = net.onPublicExhausted === "reject"
    this.slotsPerNet = Network.slotsPerNetwork(net)
    this.hosts = new LowestFree(2, Ipv4.size(net.subnet) - 2)
    this.vlans = new LowestFree(net.vlanMin, net.vlanMax)
    this.pub = new LowestFree(0, net.publicIps.length - 1)
    this.poolIps = Float64Array.from(net.publicIps.map((ip) => Ipv4.parse(ip)!))
    this.staticIps = Float64Array.from(net.macMap.map((e) => Ipv4.parse(e.ip)!))
    this.accounts = setup.tenants.accounts
    this.randomTenants = setup.tenants.assign === "random"
    this.gVlan = new Int32Array(this.accounts).fill(-1)
    this.gLive = new Int32Array(this.accounts)
    this.gSlots = new Array(this.accounts).fill(undefined)
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
    const g = this.accounts === 1 ? 0 : this.randomTenants ? this.rng.int(this.accounts) : (req - 1) % this.accounts
    const count = r.count
    if (!Number.isInteger(count) || count < 1) return this.rec.rejected(t, req, "InvalidRequest", r.zone)
    let size: Resources.Resources | undefined = r.size
    if (size !== undefined) {
      if (size.cores <= 0 && size.memoryMiB <= 0 && size.diskGiB <= 0) return this.rec.rejected(t, req, "InvalidRequest", r.zone)
    } else {
      size = this.typeIndex.get(r.vmType ?? VmType.defaultTypeName)
      if (size === undefined) return this.rec.rejected(t, req, "UnknownVmType", r.zone)
    }
    // Zone: the one named, else LeastFullFirst.
    let zi: number
    const named = r.zone
    if (named !== undefined && named !== "" && named !== "default") {
      const z = this.zoneIndex.get(named)
      if (z === undefined) return this.rec.rejected(t, req, "UnknownZone", named)
      zi = z
    } else if (this.views.length === 1) zi = 0
    else {
      zi = -1
      let bestFree = -1
      for (let z = 0; z < this.views.length; z++) {
        const f = this.views[z]!.freeSlots(size)
        if (f > bestFree) {
          zi = z
          bestFree = f
        }
      }
    }
    // What the network can take bounds the count before any placement.
    let netMax: number
    let netTag: string
    if (this.mode === SYSTEM) {
      netMax = this.hosts.free
      netTag = "NoStaticAddress"
    } else if (this.mode === STATIC) {
      const free = this.staticFree
      free.length = 0
      for (let k = 0; k < this.staticIps.length; k++) if ((this.staticUse.get(this.staticIps[k]!) ?? 0) === 0) free.push(k)
      netMax = free.length
      netTag = "NoStaticAddress"
    } else if (this.gVlan[g]! < 0 && this.vlans.free === 0) {
      netMax = 0
      netTag = "NoVlanAvailable"
    } else {
      const slotsFree = this.slotsPerNet - this.gLive[g]!
      const publicLimit = this.wantsPublic && this.rejectOnNoPublic ? this.pub.free : Number.POSITIVE_INFINITY
      netMax = Math.min(slotsFree, publicLimit)
      // Whichever limit binds names the rejection (Decide's planNetwork).
      netTag = slotsFree <= publicLimit ? "SubnetFull" : "NoPublicAddress"
    }
    const maxCount = Math.min(count, netMax)
    if (maxCount < count) return this.rec.rejected(t, req, netTag, r.zone)

    // Placement, one instance at a time on the zone's view.
    const view = this.views[zi]!
    const policy = this.policy
    const ctx = this.ctx
    ctx.zone = zi
    if (ctx.answers.length > 0) ctx.answers = []
    let pstate = this.pstate[zi]
    if (this.placedLocal.length < maxCount) this.placedLocal = new Int32Array(maxCount * 2)
    if (this.wokenLocal.length < maxCount) this.wokenLocal = new Int32Array(maxCount * 2)
    const placed = this.placedLocal
    const woken = this.wokenLocal
    let nPlaced = 0
    let nWoken = 0
    for (let k = 0; k < maxCount; k++) {
      if (policy.complete && view.nothingFits(size, Capacity.NOT_DOWN)) break
      ctx.index = k
      ctx.seq = this.seq + k + 1
      let d = policy.place(view, size, pstate, ctx)
      while (d._tag === "Consult") {
        ctx.answers.push(this.consult(d.query))
        d = policy.place(view, size, pstate, ctx)
      }
      if (d._tag === "Rejected") break
      const i = d.node
      if (i < 0 || i >= view.size || view.stateBit(i) === Capacity.DOWN || !Capacity.fitsAt(view, i, size)) throw this.defect(view, i, size)
      if (view.stateBit(i) === Capacity.ASLEEP) {
        view.setState(i, "waking")
        woken[nWoken++] = i
      }
      view.add(i, size.cores, size.memoryMiB, size.diskGiB, 1)
      placed[nPlaced++] = i
      pstate = d.state
    }
    if (nPlaced < count) {
      // All or nothing: undo the tentative placements.
      for (let k = nPlaced - 1; k >= 0; k--) view.add(placed[k]!, -size.cores, -size.memoryMiB, -size.diskGiB, -1)
      for (let k = 0; k < nWoken; k++) view.setState(woken[k]!, "asleep")
      return this.rec.rejected(t, req, "InsufficientCapacity", this.zoneNames[zi])
    }
    this.commit(t, req, zi, g, size, r.lifetimeMs, nPlaced, nWoken)
    this.pstate[zi] = pstate
  }

  /** The decider's PolicyDefect for a node a policy must not have chosen (same rules, same messages). */
  private defect(view: IndexedCapacity, i: number, size: Resources.Resources): Decide.PolicyDefect {
    const name = this.policy.name
    if (i < 0 || i >= view.size) return new Decide.PolicyDefect(name, "exists", `chose node index ${i}; the zone has ${view.size} nodes`)
    if (view.stateBit(i) === Capacity.DOWN) return new Decide.PolicyDefect(name, "down", `chose node ${view.id(i)}, which is down`)
    return new Decide.PolicyDefect(
      name,
      "fits",
      `chose node ${view.id(i)} for ${Resources.format(size)} with only ${view.freeCores(i)} vCPU / ${view.freeMemory(i)} MiB / ${view.freeDisk(i)} GiB free`
    )
  }

  private commit(t: number, req: number, zi: number, g: number, size: Resources.Resources, lifetime: number | undefined, n: number, nWoken: number): void {
    const rec = this.rec
    const first = this.zoneFirst[zi]!
    const view = this.views[zi]!
    rec.launched(t, req, zi, n)
    let vlan = -1
    if (this.mode === MANAGED) {
      vlan = this.gVlan[g]!
      if (vlan < 0) {
        vlan = this.vlans.take()
        this.gVlan[g] = vlan
        rec.vlan(t, vlan, true)
      }
    }
    for (let k = 0; k < nWoken; k++) rec.woken(t, first + this.wokenLocal[k]!)
    const slotsOf = this.mode === MANAGED ? (this.gSlots[g] ??= new LowestFree(Network.firstSlot, Network.lastSlot(this.net))) : undefined
    if (this.slotBuf.length < n) this.slotBuf = new Int32Array(n * 2)
    const slots = this.slotBuf
    for (let k = 0; k < n; k++) {
      const node = first + this.placedLocal[k]!
      const x = this.alloc()
      slots[k] = x
      const seq = ++this.seq
      this.rf[x * 8] = seq
      this.rf[x * 8 + 1] = node
      this.rf[x * 8 + 2] = size.cores
      this.rf[x * 8 + 3] = size.memoryMiB
      this.rf[x * 8 + 4] = size.diskGiB
      this.ri[x * 4] = g
      this.rf[x * 8 + 5] = t
      this.rf[x * 8 + 6] = lifetime === undefined ? -1 : lifetime
      this.idleSince[node] = Number.NaN
      this.gLive[g] += 1
      let ip: number
      let pubIp: number
      let pubIdx = -1
      if (this.mode === SYSTEM) {
        const h = this.hosts.take()
        this.ri[x * 4 + 1] = h
        ip = this.net.subnet.base + h
        pubIp = ip
      } else if (this.mode === STATIC) {
        const e = this.staticFree[k]!
        this.ri[x * 4 + 1] = e
        ip = this.staticIps[e]!
        this.staticUse.set(ip, (this.staticUse.get(ip) ?? 0) + 1)
        pubIp = ip
      } else {
        const slot = slotsOf!.take()
        this.ri[x * 4 + 1] = slot
        ip = Network.vlanNetwork(this.net, vlan) + slot
        pubIdx = this.wantsPublic ? this.pub.take() : -1
        pubIp = pubIdx >= 0 ? this.poolIps[pubIdx]! : -1
      }
      this.ri[x * 4 + 2] = pubIdx
      this.rf[x * 8 + 7] = view.stateBit(this.placedLocal[k]!) === Capacity.UP ? PENDING : WAITING
      rec.placed(t, req, seq, node, size.cores, size.memoryMiB, size.diskGiB, ip, pubIp, vlan)
    }
    // Effects, in Effects.of's order: wake the chosen asleep nodes, start what can start.
    for (let k = 0; k < nWoken; k++) this.q.push(t + this.wakeDelay, Engine.NODE_UP, first + this.wokenLocal[k]!)
    for (let k = 0; k < n; k++) {
      const x = slots[k]!
      if (this.rf[x * 8 + 7]! === PENDING) this.start(x, t)
      else {
        // Started when its node is up, in launch order.
        const node = (this.rf[x * 8 + 1]! | 0)
        this.ri[x * 4 + 3] = -1
        if (this.waitTail[node]! < 0) this.waitHead[node] = x
        else this.ri[this.waitTail[node]! * 4 + 3] = x
        this.waitTail[node] = x
      }
    }
  }

  /** StartInstance: the VM boots after a sampled delay, or fails. */
  private start(x: number, t: number): void {
    this.rf[x * 8 + 7] = PENDING
    this.rec.started(t, (this.rf[x * 8]! | 0), (this.rf[x * 8 + 1]! | 0))
    const fails = this.failP > 0 && this.rng.next() < this.failP
    const delay = this.boot.sample(this.rng)
    this.q.push(t + delay, fails ? Engine.FAILED : Engine.BOOTED, x)
  }

  // ---------------------------------------------------------------------------------------------
  // Scheduled events

  runUntil(limit: number): void {
    const end = limit < this.horizon ? limit : this.horizon
    const q = this.q
    while (q.size > 0 && q.peekTime() <= end) {
      q.pop()
      const t = q.time
      this.now = t
      this.events++
      const x = q.arg
      switch (q.kind) {
        case Engine.BOOTED:
          if (this.rf[x * 8 + 7]! === PENDING) {
            this.rf[x * 8 + 7] = RUNNING
            this.rec.booted(t, (this.rf[x * 8]! | 0), (this.rf[x * 8 + 1]! | 0), t - this.rf[x * 8 + 5]!)
            const life = this.rf[x * 8 + 6]!
            if (life >= 0) q.push(t + life, Engine.DEPART, x)
          }
          break
        case Engine.DEPART:
          this.depart(x, t)
          break
        case Engine.STOPPED:
          if (this.rf[x * 8 + 7]! === SHUTTING) this.release(x, t, false)
          break
        case Engine.FAILED:
          if (this.rf[x * 8 + 7]! !== FREE) this.release(x, t, true)
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

  /** TerminateInstances at the end of the lifetime (the simulator's, any account). */
  private depart(x: number, t: number): void {
    const s = this.rf[x * 8 + 7]!
    if (s === WAITING) {
      this.unwait(x)
      this.release(x, t, false)
    } else if (s === PENDING || s === RUNNING) {
      this.rf[x * 8 + 7] = SHUTTING
      this.rec.terminating(t, (this.rf[x * 8]! | 0), (this.rf[x * 8 + 1]! | 0))
      this.q.push(t + this.stop.sample(this.rng), Engine.STOPPED, x)
    }
  }

  private unwait(x: number): void {
    const node = (this.rf[x * 8 + 1]! | 0)
    let prev = -1
    for (let y = this.waitHead[node]!; y >= 0; prev = y, y = this.ri[y * 4 + 3]!) {
      if (y !== x) continue
      const next = this.ri[y * 4 + 3]!
      if (prev < 0) this.waitHead[node] = next
      else this.ri[prev * 4 + 3] = next
      if (this.waitTail[node] === x) this.waitTail[node] = prev
      return
    }
  }

  /** InstanceTerminated: capacity, addresses and (with the group's last instance) the VLAN go back. */
  private release(x: number, t: number, failed: boolean): void {
    const node = (this.rf[x * 8 + 1]! | 0)
    const zi = this.zoneOfNode[node]!
    const local = node - this.zoneFirst[zi]!
    const view = this.views[zi]!
    const c = this.rf[x * 8 + 2]!
    const m = this.rf[x * 8 + 3]!
    const d = this.rf[x * 8 + 4]!
    view.add(local, -c, -m, -d, -1)
    const g = this.ri[x * 4]!
    this.gLive[g] -= 1
    let pubIp = -1
    let released = -1
    if (this.mode === SYSTEM) {
      this.hosts.give(this.ri[x * 4 + 1]!)
      pubIp = this.net.subnet.base + this.ri[x * 4 + 1]!
    } else if (this.mode === STATIC) {
      const ip = this.staticIps[this.ri[x * 4 + 1]!]!
      this.staticUse.set(ip, this.staticUse.get(ip)! - 1)
      pubIp = ip
    } else {
      this.gSlots[g]!.give(this.ri[x * 4 + 1]!)
      const p = this.ri[x * 4 + 2]!
      if (p >= 0) {
        this.pub.give(p)
        pubIp = this.poolIps[p]!
      }
      if (this.gLive[g] === 0) {
        released = this.gVlan[g]!
        this.vlans.give(released)
        this.gVlan[g] = -1
      }
    }
    this.rec.terminated(t, (this.rf[x * 8]! | 0), node, c, m, d, pubIp, failed)
    if (released >= 0) this.rec.vlan(t, released, false)
    this.rf[x * 8 + 7] = FREE
    this.ri[x * 4 + 3] = this.freeSlot
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
      const next = this.ri[x * 4 + 3]!
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
    while (q.size > 0 && q.peekTime() === t && q.peekKind() === Engine.TICK) {
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
      this.freeSlot = this.ri[x * 4 + 3]!
      return x
    }
    if (this.top === this.cap) this.grow(this.cap * 2)
    return this.top++
  }

  private grow(cap: number): void {
    const rf = new Float64Array(cap * 8)
    rf.set(this.rf)
    const ri = new Int32Array(cap * 4)
    ri.set(this.ri)
    this.rf = rf
    this.ri = ri
    this.cap = cap
  }

  /** Eucalyptus's instances file for USER (Decide.instancesFile): the zone's live instances in launch order. */
  instancesFile(zone: number): string {
    const xs: Array<number> = []
    for (let x = 0; x < this.top; x++) if (this.rf[x * 8 + 7]! !== FREE && this.zoneOfNode[(this.rf[x * 8 + 1]! | 0)] === zone) xs.push(x)
    xs.sort((a, b) => this.rf[a * 8]! - this.rf[b * 8]!)
    let out = ""
    for (const x of xs) {
      const st = this.rf[x * 8 + 7]! === RUNNING ? "Extant" : this.rf[x * 8 + 7]! === SHUTTING ? "Teardown" : "Pending"
      let vlan = 0
      let ip = "0.0.0.0"
      let pub = "0.0.0.0"
      if (this.mode === SYSTEM) {
        ip = Ipv4.format(this.net.subnet.base + this.ri[x * 4 + 1]!)
        pub = ip
      } else if (this.mode === STATIC) {
        ip = Ipv4.format(this.staticIps[this.ri[x * 4 + 1]!]!)
        pub = ip
      } else {
        vlan = this.gVlan[this.ri[x * 4]!]!
        ip = Ipv4.format(Network.vlanNetwork(this.net, vlan) + this.ri[x * 4 + 1]!)
        if (this.ri[x * 4 + 2]! >= 0) pub = Ipv4.format(this.poolIps[this.ri[x * 4 + 2]!]!)
      }
      out += `${Ids.instanceId((this.rf[x * 8]! | 0))},${st},${this.nodeIds[(this.rf[x * 8 + 1]! | 0)]},${this.rf[x * 8 + 3]!},${this.rf[x * 8 + 4]!},${this.rf[x * 8 + 2]!},${vlan},${pub},${ip}\n`
    }
    return out
  }

  /** Live instances (for tests and reports). */
  get live(): number {
    let n = 0
    for (let x = 0; x < this.top; x++) if (this.rf[x * 8 + 7]! !== FREE) n++
    return n
  }
}

export const make = (setup: Setup.Setup, options: Options): FastEngine => new FastEngine(setup, options)
