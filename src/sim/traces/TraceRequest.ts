/**
 * One VM request read from a trace, whatever the format: the simulator turns it into a RunInstances
 * (minCount = maxCount = count) at `arrivalMs`, and terminates each instance `lifetimeMs` after it is running.
 *
 * Order: records come in the order the trace gives (row order for our CSV, submit order for SWF, file
 * order for Alibaba, bin order for Azure, submit order restored for Google). `arrivalMs` is NOT promised
 * to be non-decreasing: real traces are sometimes out of order and our CSV keeps row order by definition.
 * `TraceStats.sorted` says whether it held for everything read; the engine sorts or verifies.
 *
 * Every record has the same shape (all keys present) so that the engine's loop stays monomorphic.
 */
import { Schema } from "effect"
import * as Resources from "../../model/Resources.js"
import * as Units from "../../model/Units.js"
import * as VmType from "../../model/VmType.js"

export const TraceRequest = Schema.Struct({
  /** 1-based line of the source file the request comes from (Azure: the flavour file; Google: the SUBMIT event). */
  line: Schema.Int.pipe(Schema.positive()),
  /** Integer ms from the trace's origin (its own time zero unless the reader was asked to rebase). */
  arrivalMs: Units.Millis,
  /** How long each instance runs once running, integer ms ≥ 0; undefined: until the simulation horizon. */
  lifetimeMs: Schema.UndefinedOr(Units.Millis.pipe(Schema.nonNegative())),
  /** Explicit size of each instance; exactly one of `size` and `vmType` is set. */
  size: Schema.UndefinedOr(Resources.Resources),
  /** A VM type name from the experiment's table (our CSV only). */
  vmType: Schema.UndefinedOr(VmType.VmTypeName),
  /** Instances in this RunInstances (min = max = count), ≥ 1. */
  count: Schema.Int.pipe(Schema.positive()),
  /** Requested availability zone, if the trace names one (our CSV only). */
  zone: Schema.UndefinedOr(Schema.String),
  /** EBS: each instance's root volume (GiB) from its zone's storage controller, if the trace carries one (our CSV only). */
  rootVolumeGiB: Schema.UndefinedOr(Schema.Int.pipe(Schema.between(1, 16384)))
})
export type TraceRequest = typeof TraceRequest.Type

/** A request of explicit size (the usual case for real traces). */
export const sized = (
  line: number,
  arrivalMs: number,
  lifetimeMs: number | undefined,
  size: Resources.Resources,
  count = 1,
  zone: string | undefined = undefined,
  rootVolumeGiB: number | undefined = undefined
): TraceRequest => ({
  line,
  arrivalMs: Units.ms(arrivalMs),
  lifetimeMs: lifetimeMs === undefined ? undefined : Units.ms(lifetimeMs),
  size,
  vmType: undefined,
  count,
  zone,
  rootVolumeGiB
})

/** A request of a named VM type. */
export const typed = (
  line: number,
  arrivalMs: number,
  lifetimeMs: number | undefined,
  vmType: string,
  count = 1,
  zone: string | undefined = undefined,
  rootVolumeGiB: number | undefined = undefined
): TraceRequest => ({
  line,
  arrivalMs: Units.ms(arrivalMs),
  lifetimeMs: lifetimeMs === undefined ? undefined : Units.ms(lifetimeMs),
  size: undefined,
  vmType: vmType as VmType.VmTypeName,
  count,
  zone,
  rootVolumeGiB
})

/** When the last instance of this request would end if started at arrival (undefined: runs to the horizon). */
export const endMs = (r: TraceRequest): number | undefined =>
  r.lifetimeMs === undefined ? undefined : r.arrivalMs + r.lifetimeMs
