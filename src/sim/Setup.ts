/**
 * A simulation's fixed inputs, validated and compiled once, shared by both engines: the cloud
 * (through Cloud.make, so the engines start from the same state the real controller would), the
 * policy object, the simulated backend's delays, the seed, the horizon, and how trace requests map
 * to accounts. Experiment files compile to this (src/sim/Experiment.ts); tests build it directly.
 */
import { Either } from "effect"
import type * as Capacity from "../model/Capacity.js"
import * as Cloud from "../model/Cloud.js"
import * as Ids from "../model/Ids.js"
import * as Network from "../model/Network.js"
import type * as Policy from "../model/Policy.js"
import * as SecurityGroup from "../model/SecurityGroup.js"
import type * as State from "../model/State.js"
import * as Topology from "../model/Topology.js"
import * as VmType from "../model/VmType.js"
import * as Distribution from "./Distribution.js"
import type * as Metrics from "./Metrics.js"
import type * as Random from "./Random.js"

export interface Backend {
  /** From StartInstance to InstanceBooted (or InstanceFailed). */
  readonly boot: Distribution.Sampler
  /** Probability that a start fails (reported after the sampled boot delay). */
  readonly failureProbability: number
  /** From StopInstance to InstanceStopped. */
  readonly stop: Distribution.Sampler
  /** How long a woken node takes to come up when the policy does not say (POWERSAVE's wakeDelaySeconds does). */
  readonly wakeDelayMs: number
}

export const defaultBackend: Backend = {
  boot: Distribution.constantMs(30_000),
  failureProbability: 0,
  stop: Distribution.constantMs(2_000),
  wakeDelayMs: 60_000
}

/**
 * How trace requests are spread over accounts and their security groups. Each group is its own
 * network (its own VLAN and subnet in MANAGED), as in the real cloud.
 */
export interface Tenants {
  readonly accounts: number
  /** roundrobin: request k goes to account k mod N; random: a seeded draw per request. */
  readonly assign: "roundrobin" | "random"
  /** Security groups per account (1: the default group only); a request's group is a seeded draw among them. */
  readonly groups: number
}

/** At most this many security groups in all (accounts × groups): the fast engine keeps a record per group. */
export const MAX_TENANT_GROUPS = 1_000_000

export interface Setup {
  readonly name: string
  readonly seed: number
  readonly topology: Topology.Topology
  readonly vmTypes: VmType.VmTypeTable
  readonly networkSettings: Network.NetworkSettings
  readonly network: Network.Network
  readonly policy: Policy.Policy<any>
  readonly backend: Backend
  /** Nothing after this time is simulated (undefined: until the trace and every event are done). */
  readonly horizonMs: number | undefined
  readonly metricsIntervalMs: number
  readonly tenants: Tenants
  /** Addressing of launches (MANAGED: "public" takes a public address per instance). */
  readonly addressing: "public" | "private"
  readonly imageId: string
  /** The state the reference engine starts from (Cloud.make). */
  readonly initial: State.State
  /** Every node, zones in order. */
  readonly nodes: ReadonlyArray<Topology.NodeSpec>
  readonly zones: ReadonlyArray<{ readonly name: string; readonly first: number; readonly count: number }>
}

export interface Input {
  readonly name?: string
  readonly seed: number
  readonly topology: Topology.Topology
  readonly vmTypes?: VmType.VmTypeTable | undefined
  readonly network?: Network.NetworkSettings | undefined
  readonly policy: Policy.Policy<any>
  readonly backend?: Partial<Backend> | undefined
  readonly horizonMs?: number | undefined
  readonly metricsIntervalMs?: number | undefined
  readonly tenants?: Partial<Tenants> | undefined
  readonly addressing?: "public" | "private" | undefined
  readonly nodeState?: Capacity.NodeState
}

export interface SetupError {
  readonly field: string
  readonly message: string
}

export const DEFAULT_METRICS_INTERVAL_MS = 60_000

export const make = (input: Input): Either.Either<Setup, SetupError> => {
  const networkSettings = input.network ?? Network.systemSettings
  const initial = Cloud.make(
    { topology: input.topology, vmTypes: input.vmTypes, network: networkSettings, ...(input.nodeState ? { nodeState: input.nodeState } : {}) },
    input.policy
  )
  if (Either.isLeft(initial)) return Either.left(initial.left)
  const network = Network.validate(networkSettings)
  if (Either.isLeft(network)) return Either.left({ field: `network.${network.left.field}`, message: network.left.message })
  const accounts = input.tenants?.accounts ?? 1
  if (!Number.isInteger(accounts) || accounts < 1) return Either.left({ field: "tenants.accounts", message: `must be an integer ≥ 1, got ${accounts}` })
  const groups = input.tenants?.groups ?? 1
  if (!Number.isInteger(groups) || groups < 1) return Either.left({ field: "tenants.groups", message: `must be an integer ≥ 1, got ${groups}` })
  if (accounts * groups > MAX_TENANT_GROUPS) {
    return Either.left({
      field: "tenants.groups",
      message: `${accounts} accounts × ${groups} groups is ${accounts * groups} security groups; at most ${MAX_TENANT_GROUPS} in all`
    })
  }
  const interval = input.metricsIntervalMs ?? DEFAULT_METRICS_INTERVAL_MS
  if (!(interval >= 1)) return Either.left({ field: "metricsIntervalSeconds", message: `must be at least 1 ms, got ${interval} ms` })
  const backend = { ...defaultBackend, ...input.backend }
  if (!(backend.failureProbability >= 0 && backend.failureProbability <= 1)) {
    return Either.left({ field: "backend.failureProbability", message: `must be between 0 and 1, got ${backend.failureProbability}` })
  }
  const s = initial.right
  return Either.right({
    name: input.name ?? "experiment",
    seed: input.seed,
    topology: input.topology,
    vmTypes: s.vmTypes,
    networkSettings,
    network: network.right,
    policy: input.policy,
    backend,
    horizonMs: input.horizonMs,
    metricsIntervalMs: interval,
    tenants: { accounts, assign: input.tenants?.assign ?? "roundrobin", groups },
    addressing: input.addressing ?? "public",
    imageId: "emi-00000001",
    initial: s,
    nodes: Topology.expand(input.topology),
    zones: s.zones.map((z) => ({ name: z.name, first: z.first, count: z.count }))
  })
}

/** Account k (0-based) of the experiment's tenants: "sim" alone, else "sim-1" … "sim-N". */
export const accountName = (setup: Setup, k: number): Ids.AccountId =>
  Ids.accountId(setup.tenants.accounts === 1 ? "sim" : `sim-${k + 1}`)

/**
 * The tenant of request `req` (1-based) as one number, account × groups + group. Both engines call
 * this first thing for every request, whatever then happens to it, so they draw from the seeded RNG
 * at the same points: the account (random assignment only), then the group (several groups only).
 */
export const tenantOf = (setup: Setup, rng: Random.Random, req: number): number => {
  const { accounts, assign, groups } = setup.tenants
  const k = accounts === 1 ? 0 : assign === "random" ? rng.int(accounts) : (req - 1) % accounts
  return groups === 1 ? k : k * groups + rng.int(groups)
}

/** Tenant t's account (see tenantOf). */
export const tenantAccount = (setup: Setup, t: number): Ids.AccountId => accountName(setup, Math.floor(t / setup.tenants.groups))

/** Tenant t's security group name: the account's default group, else "group-2" … "group-G". */
export const tenantGroup = (setup: Setup, t: number): string => {
  const j = t % setup.tenants.groups
  return j === 0 ? SecurityGroup.DEFAULT_GROUP : `group-${j + 1}`
}

/** The wake delay in effect: the policy's (POWERSAVE) or the backend's. */
export const wakeDelayMs = (setup: Setup): number => setup.policy.power?.wakeDelayMs ?? setup.backend.wakeDelayMs

/** The node facts the metrics need. */
export const metricNodes = (setup: Setup): Array<Metrics.NodeInfo> =>
  setup.initial.nodes.map((n) => ({
    zone: setup.zones.findIndex((z) => z.name === n.zone),
    cores: n.capacity.cores,
    memoryMiB: n.capacity.memoryMiB,
    diskGiB: n.capacity.diskGiB,
    idleWatts: n.idleWatts,
    peakWatts: n.peakWatts,
    on: n.state === "up" || n.state === "waking"
  }))

export const nodeIds = (setup: Setup): Array<string> => setup.initial.nodes.map((n) => n.id)
export const nodeZones = (setup: Setup): Array<string> => setup.initial.nodes.map((n) => n.zone)
export const zoneNames = (setup: Setup): Array<string> => setup.zones.map((z) => z.name)

export const countsPublic = (setup: Setup): boolean => Network.isManaged(setup.network)

export { VmType }

/** Each zone's storage controller GiB, in zone order (undefined: unlimited), for the metrics. */
export const storageCapacity = (s: Setup): Array<number | undefined> => s.initial.zones.map((z) => s.initial.storage.capacity[z.name])
