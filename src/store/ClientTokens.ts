/**
 * RunInstances idempotency (ClientToken): the token, a hash of the request's parameters and the
 * reservation it made, stored in the same transaction as the launch's events. A retry with the same
 * token and parameters returns the same reservation; different parameters are a mismatch.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"

export const find = (accountId: string, token: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ params_hash: string; reservation_id: string }>`
      SELECT params_hash, reservation_id FROM client_tokens WHERE account_id = ${accountId} AND token = ${token}`
    const r = rows[0]
    return r === undefined ? Option.none() : Option.some({ paramsHash: r.params_hash, reservationId: r.reservation_id })
  })

export const record = (accountId: string, token: string, paramsHash: string, reservationId: string, now: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO client_tokens (account_id, token, params_hash, reservation_id, created_at)
      VALUES (${accountId}, ${token}, ${paramsHash}, ${reservationId}, ${now})`
  })
