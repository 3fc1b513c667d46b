/**
 * The cloud's shape: availability zones (Eucalyptus clusters) of nodes, both in configuration order.
 * Order matters: GREEDY and ROUNDROBIN walk nodes in the order of Eucalyptus's NODES="…" list.
 */
import { Schema } from "effect"
import * as Ids from "./Ids.js"
import * as Resources from "./Resources.js"
import * as Units from "./Units.js"

/** A homogeneous group of nodes, expanded to `<prefix><n>` for n = 1..count (zero-padded to the count's width). */
export const NodeGroup = Schema.Struct({
  prefix: Schema.NonEmptyTrimmedString,
  count: Schema.Int.pipe(Schema.between(1, 1_000_000)),
  cores: Units.Vcpu.pipe(Schema.positive()),
  memoryMiB: Units.MiB.pipe(Schema.positive()),
  diskGiB: Units.GiB.pipe(Schema.positive()),
  /** Linear power model: watts when on and idle, and at full CPU use. */
  idleWatts: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  peakWatts: Schema.optional(Schema.Number.pipe(Schema.nonNegative()))
})
export type NodeGroup = typeof NodeGroup.Type

export const ZoneSpec = Schema.Struct({
  name: Ids.ZoneName,
  nodes: Schema.Array(NodeGroup).pipe(Schema.minItems(1)),
  /** GiB of volumes the zone's storage controller holds (EBS); unlimited when absent. */
  storageGiB: Schema.optional(Units.GiB.pipe(Schema.nonNegative()))
})
export type ZoneSpec = typeof ZoneSpec.Type

export const Topology = Schema.Struct({ zones: Schema.Array(ZoneSpec).pipe(Schema.minItems(1)) })
export type Topology = typeof Topology.Type

/** One node, as the core sees it at start. */
export interface NodeSpec {
  readonly id: Ids.NodeId
  readonly zone: Ids.ZoneName
  readonly capacity: Resources.Resources
  /** Index of the node group it came from, within its zone (for the power model). */
  readonly group: number
  readonly idleWatts: number
  readonly peakWatts: number
}

export const DEFAULT_IDLE_WATTS = 100
export const DEFAULT_PEAK_WATTS = 250

export const expandGroup = (zone: Ids.ZoneName, g: NodeGroup, group: number): Array<NodeSpec> => {
  const width = String(g.count).length
  const out: Array<NodeSpec> = []
  for (let n = 1; n <= g.count; n++) {
    out.push({
      id: Ids.nodeId(g.count === 1 ? g.prefix : `${g.prefix}${String(n).padStart(width, "0")}`),
      zone,
      capacity: Resources.make(g.cores, g.memoryMiB, g.diskGiB),
      group,
      idleWatts: g.idleWatts ?? DEFAULT_IDLE_WATTS,
      peakWatts: g.peakWatts ?? DEFAULT_PEAK_WATTS
    })
  }
  return out
}

/** Every node of every zone, zones in order, nodes in configuration order within a zone. */
export const expand = (t: Topology): Array<NodeSpec> =>
  t.zones.flatMap((z) => z.nodes.flatMap((g, i) => expandGroup(z.name, g, i)))

export class TopologyError extends Schema.TaggedError<TopologyError>()("TopologyError", {
  message: Schema.String
}) {}

/** Each zone's storage capacity, for the zones that set one. */
export const storage = (t: Topology): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const z of t.zones) if (z.storageGiB !== undefined) out[z.name] = z.storageGiB
  return out
}

/** Unique zone names and node ids across the cloud. */
export const check = (t: Topology): TopologyError | undefined => {
  const zones = new Set<string>()
  for (const z of t.zones) {
    if (zones.has(z.name)) return new TopologyError({ message: `zone ${z.name} is defined twice` })
    zones.add(z.name)
  }
  const ids = new Set<string>()
  for (const n of expand(t)) {
    if (ids.has(n.id)) return new TopologyError({ message: `node ${n.id} is defined twice (check the node group prefixes)` })
    ids.add(n.id)
  }
  return undefined
}
