/** Small key/value facts about this cloud (its genesis configuration, id sequences). */
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"

export const get = (key: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ value: string }>`SELECT value FROM meta WHERE key = ${key}`
    return Option.fromNullable(rows[0]?.value)
  })

export const set = (key: string, value: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO meta (key, value) VALUES (${key}, ${value}) ON CONFLICT(key) DO UPDATE SET value = excluded.value`
  })

/** Next value of a named counter (1, 2, …), atomically. */
export const next = (counter: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ value: string }>`
      INSERT INTO meta (key, value) VALUES (${`seq:${counter}`}, '1')
      ON CONFLICT(key) DO UPDATE SET value = CAST(CAST(value AS INTEGER) + 1 AS TEXT)
      RETURNING value`
    return Number(rows[0]!.value)
  })
