/**
 * "free / max" per zone and VM type with Eucalyptus's arithmetic (the CC's doDescribeResources): per
 * node, how many instances of the type fit (floor on each dimension, the least of the three), summed
 * over the zone's nodes; `free` from what is left, `max` from the node's capacity. Down nodes count 0.
 * The per-node floor never counts fragments spread over several nodes.
 */
import * as Capacity from "./Capacity.js"
import * as Resources from "./Resources.js"
import type * as VmType from "./VmType.js"

export interface Slots {
  readonly free: number
  readonly max: number
}

export const slots = (view: Capacity.CapacityView, size: Resources.Resources): Slots => {
  let free = 0
  let max = 0
  for (let i = 0; i < view.size; i++) {
    if (view.state(i) === "down") continue
    free += Resources.copiesThatFit(size, Resources.make(view.freeCores(i), view.freeMemory(i), view.freeDisk(i)))
    max += Resources.copiesThatFit(size, Resources.make(view.capCores(i), view.capMemory(i), view.capDisk(i)))
  }
  return { free, max }
}

/**
 * Eucalyptus's LeastFullFirst (conf/rules/allocation/default.groovy): when no zone is named, the zone
 * with the most free slots for the requested size. Ties go to the zone listed first.
 */
export const leastFullFirst = (views: ReadonlyArray<Capacity.CapacityView>, size: Resources.Resources): number => {
  let best = -1
  let bestFree = -1
  for (let z = 0; z < views.length; z++) {
    const f = slots(views[z]!, size).free
    if (f > bestFree) {
      best = z
      bestFree = f
    }
  }
  return best
}

export interface TypeRow {
  readonly type: VmType.VmType
  readonly free: number
  readonly max: number
}

export const rows = (view: Capacity.CapacityView, table: VmType.VmTypeTable): Array<TypeRow> =>
  table.map((type) => ({ type, ...slots(view, Resources.make(type.cores, type.memoryMiB, type.diskGiB)) }))

const pad = (n: number, width: number, zero = false) => String(n).padStart(width, zero ? "0" : " ")

/** Java's String.format("%04d / %04d  %2d   %4d  %4d", available, max, cpu, memory, disk), as Eucalyptus printed it. */
export const formatRow = (r: TypeRow): string =>
  `${pad(r.free, 4, true)} / ${pad(r.max, 4, true)}  ${pad(r.type.cores, 2)}   ${pad(r.type.memoryMiB, 4)}  ${pad(r.type.diskGiB, 4)}`

/** The rows `euca-describe-availability-zones verbose` printed under a zone (names go in the zone-name column). */
export const verboseRows = (view: Capacity.CapacityView, table: VmType.VmTypeTable): Array<{ readonly name: string; readonly state: string }> => [
  { name: "|- vm types", state: "free / max   cpu   ram  disk" },
  ...rows(view, table).map((r) => ({ name: `|- ${r.type.name}`, state: formatRow(r) }))
]
