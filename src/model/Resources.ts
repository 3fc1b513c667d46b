/** A bundle of the three dimensions Eucalyptus schedules on: cores, memory, disk. */
import { Schema } from "effect"
import * as Units from "./Units.js"

export const Resources = Schema.Struct({
  cores: Units.Vcpu,
  memoryMiB: Units.MiB,
  diskGiB: Units.GiB
})
export type Resources = typeof Resources.Type

export const make = (cores: number, memoryMiB: number, diskGiB: number): Resources => ({
  cores: Units.vcpu(cores),
  memoryMiB: Units.mib(memoryMiB),
  diskGiB: Units.gib(diskGiB)
})

export const zero: Resources = make(0, 0, 0)

export const add = (a: Resources, b: Resources): Resources =>
  make(a.cores + b.cores, a.memoryMiB + b.memoryMiB, a.diskGiB + b.diskGiB)

/** a − b, clamped at zero per dimension (as Eucalyptus's NC did when reporting free capacity). */
export const subClamped = (a: Resources, b: Resources): Resources =>
  make(Math.max(0, a.cores - b.cores), Math.max(0, a.memoryMiB - b.memoryMiB), Math.max(0, a.diskGiB - b.diskGiB))

export const scale = (a: Resources, n: number): Resources => make(a.cores * n, a.memoryMiB * n, a.diskGiB * n)

/** Does `need` fit in `free` in every dimension? */
export const fits = (need: Resources, free: Resources): boolean =>
  need.cores <= free.cores && need.memoryMiB <= free.memoryMiB && need.diskGiB <= free.diskGiB

export const equals = (a: Resources, b: Resources): boolean =>
  a.cores === b.cores && a.memoryMiB === b.memoryMiB && a.diskGiB === b.diskGiB

/** Component-wise ≤ (Eucalyptus's VmType.compareTo). */
export const leq = (a: Resources, b: Resources): boolean => fits(a, b)

/**
 * How many copies of `size` fit in `free`: Eucalyptus's per-node floor (greedy repeated subtraction),
 * the arithmetic behind `describe-availability-zones verbose`. A zero dimension in `size` does not limit.
 */
export const copiesThatFit = (size: Resources, free: Resources): number => {
  let n = Number.POSITIVE_INFINITY
  if (size.cores > 0) n = Math.min(n, Math.floor(free.cores / size.cores))
  if (size.memoryMiB > 0) n = Math.min(n, Math.floor(free.memoryMiB / size.memoryMiB))
  if (size.diskGiB > 0) n = Math.min(n, Math.floor(free.diskGiB / size.diskGiB))
  return n === Number.POSITIVE_INFINITY ? 0 : n
}

export const format = (r: Resources): string => `${r.cores} vCPU / ${r.memoryMiB} MiB / ${r.diskGiB} GiB`
