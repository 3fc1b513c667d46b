/**
 * Units as types. Eucalyptus mixed MB and GB for disk (its 1.x NC reported MB, its VM types were GB);
 * here every quantity carries its unit in its type, and converting is explicit.
 */
import { Schema } from "effect"

export const Vcpu = Schema.NonNegativeInt.pipe(Schema.brand("vCPU"))
export type Vcpu = typeof Vcpu.Type
export const MiB = Schema.NonNegativeInt.pipe(Schema.brand("MiB"))
export type MiB = typeof MiB.Type
export const GiB = Schema.NonNegativeInt.pipe(Schema.brand("GiB"))
export type GiB = typeof GiB.Type
/** A point in time or a duration, in integer milliseconds. */
export const Millis = Schema.Int.pipe(Schema.brand("ms"))
export type Millis = typeof Millis.Type

// Unchecked constructors for code that already knows the value is valid (parsers validate with the Schemas).
export const vcpu = (n: number): Vcpu => n as Vcpu
export const mib = (n: number): MiB => n as MiB
export const gib = (n: number): GiB => n as GiB
export const ms = (n: number): Millis => n as Millis
export const seconds = (s: number): Millis => Math.round(s * 1000) as Millis

/** Whole GiB contained in a MiB amount (rounded down). */
export const mibToGibFloor = (m: MiB): GiB => Math.floor(m / 1024) as GiB
