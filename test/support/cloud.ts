/** Small hand-made clouds for tests: a decider context and a state, and a helper that applies commands. */
import { Either } from "effect"
import * as Cloud from "../../src/model/Cloud.js"
import type * as Commands from "../../src/model/Commands.js"
import * as Decide from "../../src/model/Decide.js"
import type * as Events from "../../src/model/Events.js"
import { evolveAll } from "../../src/model/Evolve.js"
import * as Ids from "../../src/model/Ids.js"
import type * as Network from "../../src/model/Network.js"
import type * as Policy from "../../src/model/Policy.js"
import type * as State from "../../src/model/State.js"
import type * as Topology from "../../src/model/Topology.js"
import * as Units from "../../src/model/Units.js"
import type * as VmType from "../../src/model/VmType.js"

export const alice = Ids.accountId("alice")
export const bob = Ids.accountId("bob")

/** One zone per entry; each entry lists its nodes as [cores, memoryMiB, diskGiB]. Nodes are named z<zone>n<k>. */
export const topology = (...zones: ReadonlyArray<ReadonlyArray<readonly [number, number, number]>>): Topology.Topology => ({
  zones: zones.map((nodes, zi) => ({
    name: Ids.zoneName(`zone-${zi + 1}`),
    nodes: nodes.map(([cores, memoryMiB, diskGiB], k) => ({
      prefix: `z${zi + 1}n${k + 1}`,
      count: 1,
      cores: Units.vcpu(cores),
      memoryMiB: Units.mib(memoryMiB),
      diskGiB: Units.gib(diskGiB)
    }))
  }))
})

export interface TestCloud {
  readonly ctx: Decide.Context
  state: State.State
  readonly log: Array<Events.Event>
  /** Decide and apply; returns the decision. */
  run(c: Commands.Command): Decide.Decision
  /** Decide and apply, failing the test on anything but acceptance. */
  ok(c: Commands.Command): ReadonlyArray<Events.Event>
}

export const make = (
  policy: Policy.Policy<any>,
  topo: Topology.Topology,
  options: { readonly network?: Network.NetworkSettings; readonly vmTypes?: VmType.VmTypeTable } = {}
): TestCloud => {
  const made = Cloud.make({ topology: topo, network: options.network, vmTypes: options.vmTypes }, policy)
  if (Either.isLeft(made)) throw new Error(`${made.left.field}: ${made.left.message}`)
  const ctx: Decide.Context = { policy }
  const cloud: TestCloud = {
    ctx,
    state: made.right,
    log: [],
    run(c) {
      const d = Decide.decide(ctx, cloud.state, c)
      if (d._tag === "Accepted") {
        cloud.state = evolveAll(cloud.state, d.events)
        cloud.log.push(...d.events)
      }
      return d
    },
    ok(c) {
      const d = cloud.run(c)
      if (d._tag !== "Accepted") throw new Error(`expected acceptance of ${c._tag}, got ${JSON.stringify(d)}`)
      return d.events
    }
  }
  return cloud
}

export const at = (n: number) => Units.ms(n)

export const runCmd = (
  fields: Partial<Omit<Commands.RunInstances, "_tag">> & { readonly minCount?: number; readonly maxCount?: number } = {}
): Commands.RunInstances => ({
  _tag: "RunInstances",
  at: Units.ms(0),
  account: alice,
  imageId: "emi-00000001",
  minCount: 1,
  maxCount: 1,
  ...fields
})

/** The node each launched instance landed on, in launch order. */
export const placements = (events: ReadonlyArray<Events.Event>): Array<string> =>
  events.flatMap((e) => (e._tag === "InstancesLaunched" ? e.instances.map((i) => i.node as string) : []))

/** Ids of the instances launched, in launch order. */
export const launchedIds = (events: ReadonlyArray<Events.Event>): Array<string> =>
  events.flatMap((e) => (e._tag === "InstancesLaunched" ? e.instances.map((i) => i.id as string) : []))
