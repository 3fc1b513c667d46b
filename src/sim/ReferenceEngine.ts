/**
 * The reference engine: the real decider, step by step. Every arrival and every backend observation
 * is a Command given to `Decide.decide`; the events it returns are applied with `Evolve.evolve`; the
 * effects `Effects.of` derives become future events (a boot after a sampled delay, a stop, a node
 * coming up). Slow — immutable state, linear scans — and meant for small experiments and for
 * checking the fast engine, which must record exactly the same things.
 */
import * as Decide from "../model/Decide.js"
import * as Effects from "../model/Effects.js"
import type * as Events from "../model/Events.js"
import { evolve } from "../model/Evolve.js"
import * as Ids from "../model/Ids.js"
import * as Ipv4 from "../model/Ipv4.js"
import type * as Commands from "../model/Commands.js"
import type * as Rejection from "../model/Rejection.js"
import * as Ebs from "../model/Ebs.js"
import * as SecurityGroup from "../model/SecurityGroup.js"
import * as State from "../model/State.js"
import * as Units from "../model/Units.js"
import * as Consult from "./Consult.js"
import * as Engine from "./Engine.js"
import { EventQueue } from "./EventQueue.js"
import * as Random from "./Random.js"
import type * as Recorder from "./Recorder.js"
import * as Setup from "./Setup.js"
import type * as TraceRequest from "./traces/TraceRequest.js"

export interface Options {
  readonly recorder: Recorder.Recorder
  readonly consult?: Consult.Consult | undefined
}

const addr = (ip: string | undefined): number => (ip === undefined ? -1 : Ipv4.parse(ip)!)

/** The zone a rejection is filed under: the one it names, else the one requested. */
export const rejectionZone = (r: Rejection.Rejection, requested: string | undefined): string | undefined =>
  r._tag === "InsufficientCapacity" || r._tag === "UnknownZone" || r._tag === "StorageFull" ? r.zone : requested

export class ReferenceEngine implements Engine.Engine {
  now = 0
  events = 0
  /** The cloud's state (exposed for tests). */
  state: State.State
  private readonly ctx: Decide.Context
  private readonly q = new EventQueue()
  private readonly rng: Random.Random
  private readonly rec: Recorder.Recorder
  private readonly consult: Consult.Consult
  private readonly horizon: number
  private readonly wakeDelay: number
  private readonly nodeIndex = new Map<string, number>()
  private readonly zoneIndex = new Map<string, number>()
  /** The request being decided (for the placed calls). */
  private req = 0

  constructor(
    private readonly setup: Setup.Setup,
    options: Options
  ) {
    this.state = setup.initial
    this.ctx = { policy: setup.policy }
    this.rng = Random.make(setup.seed)
    this.rec = options.recorder
    this.consult = options.consult ?? Consult.none
    this.horizon = setup.horizonMs ?? Number.POSITIVE_INFINITY
    this.wakeDelay = Setup.wakeDelayMs(setup)
    this.state.nodes.forEach((n, i) => this.nodeIndex.set(n.id, i))
    this.state.zones.forEach((z, i) => this.zoneIndex.set(z.name, i))
    const power = setup.policy.power
    if (power) {
      this.state.nodes.forEach((n, i) => {
        if (n.idleSince !== undefined) this.q.push(n.idleSince + power.idleThresholdMs + 1, Engine.TICK, i)
      })
    }
  }

  arrive(r: TraceRequest.TraceRequest, req: number, t: number): void {
    this.now = t
    this.events++
    this.req = req
    const tenant = Setup.tenantOf(this.setup, this.rng, req)
    const account = Setup.tenantAccount(this.setup, tenant)
    const group = Setup.tenantGroup(this.setup, tenant)
    // The default group is made by RunInstances on first use; the account's others, here, as a user would.
    const other = group !== SecurityGroup.DEFAULT_GROUP
    if (other && State.groupByName(this.state, account, group) === undefined) {
      this.command({ _tag: "CreateSecurityGroup", at: Units.ms(t), account, name: group, description: "a simulated tenant's group" }, t, false)
    }
    const base: Commands.RunInstances = {
      _tag: "RunInstances",
      at: Units.ms(t),
      account,
      ...(other ? { groupNames: [group] } : {}),
      imageId: this.setup.imageId,
      vmType: r.vmType,
      size: r.size,
      minCount: r.count,
      maxCount: r.count,
      zone: r.zone,
      addressing: this.setup.addressing,
      lifetimeMs: r.lifetimeMs,
      // A root volume from the zone's storage controller, gone with the instance.
      ...(r.rootVolumeGiB !== undefined ? { blockDevices: [{ device: "/dev/sda1", sizeGiB: r.rootVolumeGiB, deleteOnTermination: true }] } : {})
    }
    let answers: Array<number> = []
    for (;;) {
      const d = Decide.decide(this.ctx, this.state, { ...base, answers })
      if (d._tag === "Consult") {
        answers = [...answers, this.consult(d.query)]
        continue
      }
      if (d._tag === "Rejected") this.rec.rejected(t, req, d.rejection._tag, rejectionZone(d.rejection, r.zone))
      else this.applyEvents(d.events, t, false)
      return
    }
  }

  runUntil(limit: number): void {
    const end = Math.min(limit, this.horizon)
    const q = this.q
    while (q.size > 0 && q.peekTime() <= end) {
      q.pop()
      const t = q.time
      const at = Units.ms(t)
      this.now = t
      this.events++
      const arg = q.arg
      switch (q.kind) {
        case Engine.BOOTED:
          this.command({ _tag: "InstanceBooted", at, instanceId: Ids.instanceId(arg) }, t, false)
          break
        case Engine.FAILED:
          this.command({ _tag: "InstanceFailed", at, instanceId: Ids.instanceId(arg), reason: "the simulated start failed" }, t, true)
          break
        case Engine.STOPPED:
          this.command({ _tag: "InstanceStopped", at, instanceId: Ids.instanceId(arg) }, t, false)
          break
        case Engine.DEPART:
          this.command(
            { _tag: "TerminateInstances", at, account: undefined, instanceIds: [Ids.instanceId(arg)], reason: Engine.LIFETIME_OVER },
            t,
            false
          )
          break
        case Engine.NODE_UP:
          this.command({ _tag: "NodeReported", at, nodeId: this.state.nodes[arg]!.id }, t, false)
          break
        case Engine.TICK:
          // Ticks due at the same time are one Tick.
          while (q.size > 0 && q.peekTime() === t && q.peekKind() === Engine.TICK) {
            q.pop()
            this.events++
          }
          this.command({ _tag: "Tick", at }, t, false)
          break
      }
    }
  }

  private command(c: Commands.Command, t: number, failed: boolean): void {
    const d = Decide.decide(this.ctx, this.state, c)
    if (d._tag !== "Accepted") throw new Error(`the simulator's ${c._tag} was not accepted: ${JSON.stringify(d)}`)
    this.applyEvents(d.events, t, failed)
  }

  private applyEvents(events: ReadonlyArray<Events.Event>, t: number, failed: boolean): void {
    for (const e of events) {
      const before = this.state
      const after = evolve(before, e)
      this.state = after
      this.record(before, e, after, t, failed)
      for (const eff of Effects.of(before, e, after)) this.effect(eff, t)
    }
  }

  private record(before: State.State, e: Events.Event, after: State.State, t: number, failed: boolean): void {
    const rec = this.rec
    switch (e._tag) {
      case "InstancesLaunched": {
        rec.launched(t, this.req, this.zoneIndex.get(e.zone)!, e.instances.length)
        for (const n of e.networks) rec.vlan(t, n.vlan, true)
        for (const w of e.woken) rec.woken(t, this.nodeIndex.get(w)!)
        for (const x of e.instances) {
          const i = State.instance(after, x.id)!
          rec.placed(t, this.req, i.seq, this.nodeIndex.get(x.node)!, i.size.cores, i.size.memoryMiB, i.size.diskGiB, addr(x.privateIp), addr(x.publicIp), x.vlan ?? -1)
        }
        break
      }
      case "InstanceBooted": {
        const i = State.instance(after, e.instance)!
        rec.booted(t, i.seq, this.nodeIndex.get(i.node)!, t - i.launchedAt)
        if (i.lifetimeMs !== undefined) this.q.push(t + i.lifetimeMs, Engine.DEPART, i.seq)
        break
      }
      case "InstancesTerminating":
        for (const id of e.instances) {
          const i = State.instance(after, id)!
          rec.terminating(t, i.seq, this.nodeIndex.get(i.node)!)
        }
        break
      case "InstanceTerminated": {
        const i = State.instance(before, e.instance)!
        const freed = Ebs.used(before.storage, i.zone) - Ebs.used(after.storage, i.zone)
        if (freed > 0) rec.storage(t, this.zoneIndex.get(i.zone)!, -freed)
        const node = this.nodeIndex.get(i.node)!
        rec.terminated(t, i.seq, node, i.size.cores, i.size.memoryMiB, i.size.diskGiB, addr(i.net.publicIp), failed)
        const g = i.groups[0]
        const vlan = g === undefined ? undefined : State.group(before, g)?.vlan
        if (vlan !== undefined && State.group(after, g!)?.vlan === undefined) rec.vlan(t, vlan, false)
        const power = this.setup.policy.power
        if (power && after.nodes[node]!.instances === 0) this.q.push(t + power.idleThresholdMs + 1, Engine.TICK, node)
        break
      }
      case "NodeReported":
        rec.nodeUp(t, this.nodeIndex.get(e.node)!)
        break
      case "VolumesCreated": {
        const byZone = new Map<string, number>()
        for (const v of e.volumes) byZone.set(v.zone, (byZone.get(v.zone) ?? 0) + v.sizeGiB)
        for (const [z, gib] of byZone) rec.storage(t, this.zoneIndex.get(z)!, gib)
        break
      }
      case "NodePoweredDown":
        rec.poweredDown(t, this.nodeIndex.get(e.node)!)
        break
      default:
        break
    }
  }

  private effect(eff: Effects.Effect, t: number): void {
    switch (eff._tag) {
      case "StartInstance": {
        const i = State.instance(this.state, eff.instance.id)!
        this.rec.started(t, i.seq, this.nodeIndex.get(i.node)!)
        const p = this.setup.backend.failureProbability
        const fails = p > 0 && this.rng.next() < p
        const delay = this.setup.backend.boot.sample(this.rng)
        this.q.push(t + delay, fails ? Engine.FAILED : Engine.BOOTED, i.seq)
        break
      }
      case "StopInstance": {
        const i = State.instance(this.state, eff.instanceId)!
        this.q.push(t + this.setup.backend.stop.sample(this.rng), Engine.STOPPED, i.seq)
        break
      }
      case "PowerUp":
        this.q.push(t + this.wakeDelay, Engine.NODE_UP, this.nodeIndex.get(eff.node)!)
        break
      case "PowerDown":
      case "RebootInstance":
      case "ApplyNetwork":
        break
    }
  }

  finish(): number {
    this.runUntil(this.horizon)
    const end = this.horizon === Number.POSITIVE_INFINITY ? this.now : this.horizon
    this.rec.finish(end, this.events)
    return end
  }
}

export const make = (setup: Setup.Setup, options: Options): ReferenceEngine => new ReferenceEngine(setup, options)
