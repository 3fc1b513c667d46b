/**
 * Identifiers. Ids the cloud hands out are derived from per-kind sequence numbers kept in the state,
 * so the same commands always produce the same ids (the decider stays deterministic, and a replayed
 * journal rebuilds the same cloud). A 32-bit bijection scrambles the sequence so that ids look like
 * Eucalyptus's `i-XXXXXXXX` rather than counting up.
 */
import { Schema } from "effect"

export const InstanceId = Schema.String.pipe(Schema.pattern(/^i-[0-9a-f]{8}$/), Schema.brand("InstanceId"))
export type InstanceId = typeof InstanceId.Type
export const ReservationId = Schema.String.pipe(Schema.pattern(/^r-[0-9a-f]{8}$/), Schema.brand("ReservationId"))
export type ReservationId = typeof ReservationId.Type
export const GroupId = Schema.String.pipe(Schema.pattern(/^sg-[0-9a-f]{8}$/), Schema.brand("GroupId"))
export type GroupId = typeof GroupId.Type
export const AllocationId = Schema.String.pipe(Schema.pattern(/^eipalloc-[0-9a-f]{8}$/), Schema.brand("AllocationId"))
export type AllocationId = typeof AllocationId.Type
export const AssociationId = Schema.String.pipe(Schema.pattern(/^eipassoc-[0-9a-f]{8}$/), Schema.brand("AssociationId"))
export type AssociationId = typeof AssociationId.Type

export const NodeId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("NodeId"))
export type NodeId = typeof NodeId.Type
export const ZoneName = Schema.NonEmptyTrimmedString.pipe(Schema.brand("ZoneName"))
export type ZoneName = typeof ZoneName.Type
export const AccountId = Schema.NonEmptyTrimmedString.pipe(Schema.brand("AccountId"))
export type AccountId = typeof AccountId.Type

export const nodeId = (s: string): NodeId => s as NodeId
export const zoneName = (s: string): ZoneName => s as ZoneName
export const accountId = (s: string): AccountId => s as AccountId

/** A bijection on 32-bit integers (odd multiplier, then xor-shift): distinct sequence numbers give distinct ids. */
export const scramble32 = (n: number): number => {
  let x = Math.imul(n >>> 0, 0x9e3779b1) >>> 0
  x = (x ^ (x >>> 16)) >>> 0
  x = Math.imul(x, 0x85ebca6b) >>> 0
  x = (x ^ (x >>> 13)) >>> 0
  return x
}

/** 8 hex digits for a sequence number; a per-kind salt keeps i-…, r-…, sg-… of the same number apart. */
export const hex8 = (n: number, salt = 0): string => scramble32((n ^ salt) >>> 0).toString(16).padStart(8, "0")

export const instanceId = (seq: number): InstanceId => `i-${hex8(seq)}` as InstanceId
export const reservationId = (seq: number): ReservationId => `r-${hex8(seq, 0x5a5a5a5a)}` as ReservationId
export const groupId = (seq: number): GroupId => `sg-${hex8(seq, 0x3c3c3c3c)}` as GroupId
export const allocationId = (seq: number): AllocationId => `eipalloc-${hex8(seq, 0x69696969)}` as AllocationId
export const associationId = (seq: number): AssociationId => `eipassoc-${hex8(seq, 0x0f0f0f0f)}` as AssociationId

/** Eucalyptus's instId2mac: `i-1a2b3c4d` → `d0:0d:1a:2b:3c:4d`. */
export const macOf = (id: InstanceId): string => {
  const h = id.slice(2)
  return `d0:0d:${h.slice(0, 2)}:${h.slice(2, 4)}:${h.slice(4, 6)}:${h.slice(6, 8)}`
}
