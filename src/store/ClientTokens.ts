/**
 * RunInstances idempotency (ClientToken): the token, a hash of the request's parameters, the
 * reservation it made and that reservation's instance ids, stored in the same transaction as the
 * launch's events. A retry with the same token and parameters returns the same reservation (read by
 * instance id: its cost does not grow with the account); different parameters are a mismatch.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"

export interface Seen {
  readonly paramsHash: string
  readonly reservationId: string
  /** The launch's instances; undefined for an old token whose launch migration 0005 did not find. */
  readonly instanceIds: ReadonlyArray<string> | undefined
}

export const find = (accountId: string, token: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ params_hash: string; reservation_id: string; instance_ids: string | null }>`
      SELECT params_hash, reservation_id, instance_ids FROM client_tokens WHERE account_id = ${accountId} AND token = ${token}`
    const r = rows[0]
    return r === undefined
      ? Option.none<Seen>()
      : Option.some<Seen>({
          paramsHash: r.params_hash,
          reservationId: r.reservation_id,
          instanceIds: r.instance_ids === null ? undefined : r.instance_ids === "" ? [] : r.instance_ids.split(" ")
        })
  })

export const record = (accountId: string, token: string, paramsHash: string, reservationId: string, instanceIds: ReadonlyArray<string>, now: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO client_tokens (account_id, token, params_hash, reservation_id, instance_ids, created_at)
      VALUES (${accountId}, ${token}, ${paramsHash}, ${reservationId}, ${instanceIds.join(" ")}, ${now})`
  })
