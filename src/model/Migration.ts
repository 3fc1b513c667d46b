/**
 * Live migration as a command and its events, for a placement of instances on hosts:
 * `MigrateInstance` → `MigrationStarted` (the target's capacity reserved at once), then, after
 * RAM / (bandwidth / 2) — CloudSim's model, half the host's bandwidth for the copy —
 * `MigrationFinished` (the source freed). While it runs the instance gets 90 % of its CPU request on
 * the source and the target is charged 10 % of it (`cpuShares`).
 *
 * Pure: `decide` checks a command against the state and returns the events or a rejection with the
 * reason; `evolve` folds an event into the state. The consolidation simulator (src/sim/consolidation)
 * follows the same rules inside its CloudSim port; the API's admin action and the KVM backend are
 * not wired to this yet.
 */

export interface HostSlot {
  readonly id: string
  readonly cpuMips: number
  readonly memoryMiB: number
  /** kbit/s (CloudSim's unit). */
  readonly bandwidthKbps: number
  readonly up: boolean
}

export interface Placed {
  readonly instance: string
  readonly host: string
  readonly cpuMips: number
  readonly memoryMiB: number
  /** Set while the instance migrates. */
  readonly migratingTo?: string
}

export interface State {
  readonly hosts: ReadonlyArray<HostSlot>
  readonly instances: ReadonlyArray<Placed>
}

export interface MigrateInstance {
  readonly _tag: "MigrateInstance"
  readonly instance: string
  readonly target: string
  /** Seconds (simulated or wall). */
  readonly at: number
}

export interface MigrationStarted {
  readonly _tag: "MigrationStarted"
  readonly instance: string
  readonly source: string
  readonly target: string
  readonly at: number
  /** When MigrationFinished is due: at + RAM / (target bandwidth / 2). */
  readonly finishesAt: number
}

export interface MigrationFinished {
  readonly _tag: "MigrationFinished"
  readonly instance: string
  readonly source: string
  readonly target: string
  readonly at: number
}

export type MigrationEvent = MigrationStarted | MigrationFinished

export type Rejection =
  | { readonly _tag: "UnknownInstance"; readonly instance: string }
  | { readonly _tag: "UnknownHost"; readonly host: string }
  | { readonly _tag: "AlreadyMigrating"; readonly instance: string; readonly target: string }
  | { readonly _tag: "SameHost"; readonly instance: string; readonly host: string }
  | { readonly _tag: "TargetDown"; readonly host: string }
  | { readonly _tag: "InsufficientCapacity"; readonly host: string; readonly resource: "cpu" | "memory"; readonly free: number; readonly needed: number }

export type Decision = { readonly _tag: "Accepted"; readonly events: ReadonlyArray<MigrationEvent> } | { readonly _tag: "Rejected"; readonly reason: Rejection }

/** Seconds a migration takes: RAM (MB) / (bandwidth (kbit/s) / (2 × 8000)), as CloudSim's PowerDatacenter. */
export const duration = (memoryMiB: number, bandwidthKbps: number): number => memoryMiB / (bandwidthKbps / (2 * 8000))

/** What a host holds: every instance placed there, plus the instances migrating in (reserved in full). */
export const used = (s: State, host: string): { readonly cpuMips: number; readonly memoryMiB: number } => {
  let cpu = 0
  let mem = 0
  for (const i of s.instances) {
    if (i.host === host || i.migratingTo === host) {
      cpu += i.cpuMips
      mem += i.memoryMiB
    }
  }
  return { cpuMips: cpu, memoryMiB: mem }
}

export const decide = (s: State, cmd: MigrateInstance): Decision => {
  const reject = (reason: Rejection): Decision => ({ _tag: "Rejected", reason })
  const inst = s.instances.find((i) => i.instance === cmd.instance)
  if (inst === undefined) return reject({ _tag: "UnknownInstance", instance: cmd.instance })
  const target = s.hosts.find((h) => h.id === cmd.target)
  if (target === undefined) return reject({ _tag: "UnknownHost", host: cmd.target })
  if (inst.migratingTo !== undefined) return reject({ _tag: "AlreadyMigrating", instance: inst.instance, target: inst.migratingTo })
  if (inst.host === cmd.target) return reject({ _tag: "SameHost", instance: inst.instance, host: inst.host })
  if (!target.up) return reject({ _tag: "TargetDown", host: target.id })
  const u = used(s, target.id)
  if (u.cpuMips + inst.cpuMips > target.cpuMips) {
    return reject({ _tag: "InsufficientCapacity", host: target.id, resource: "cpu", free: target.cpuMips - u.cpuMips, needed: inst.cpuMips })
  }
  if (u.memoryMiB + inst.memoryMiB > target.memoryMiB) {
    return reject({ _tag: "InsufficientCapacity", host: target.id, resource: "memory", free: target.memoryMiB - u.memoryMiB, needed: inst.memoryMiB })
  }
  const started: MigrationStarted = {
    _tag: "MigrationStarted",
    instance: inst.instance,
    source: inst.host,
    target: target.id,
    at: cmd.at,
    finishesAt: cmd.at + duration(inst.memoryMiB, target.bandwidthKbps)
  }
  return { _tag: "Accepted", events: [started] }
}

/** The event a started migration is due to produce when it completes. */
export const finish = (e: MigrationStarted): MigrationFinished => ({ _tag: "MigrationFinished", instance: e.instance, source: e.source, target: e.target, at: e.finishesAt })

export const evolve = (s: State, e: MigrationEvent): State => ({
  hosts: s.hosts,
  instances: s.instances.map((i) => {
    if (i.instance !== e.instance) return i
    if (e._tag === "MigrationStarted") return { ...i, migratingTo: e.target }
    const { migratingTo: _done, ...rest } = i
    return { ...rest, host: e.target }
  })
})

/** CPU shares while migrating (CloudSim): the source runs the instance at 90 % of its request, the target is charged 10 %. */
export const cpuShares = (requestedMips: number): { readonly source: number; readonly target: number } => ({
  source: requestedMips * 0.9,
  target: requestedMips * 0.1
})
