import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * A ClientToken remembers the instances its launch made (ids separated by spaces), so that a re-send
 * answers by id instead of looking through the account. Tokens recorded before get them from their
 * launch's event in the journal, in one pass over it; a token whose event is not found keeps NULL
 * (answered by looking through the account).
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE client_tokens ADD COLUMN instance_ids TEXT`
  const tokens = yield* sql<{ n: number }>`SELECT count(*) AS n FROM client_tokens`
  if ((tokens[0]?.n ?? 0) === 0) return
  yield* sql`CREATE TEMP TABLE launched_by_token AS
    SELECT json_extract(e.body, '$.account') AS account_id,
           json_extract(e.body, '$.reservationId') AS reservation_id,
           (SELECT group_concat(json_extract(j.value, '$.id'), ' ') FROM json_each(e.body, '$.instances') j) AS ids
    FROM events e
    WHERE e.tag = 'InstancesLaunched' AND json_extract(e.body, '$.reservationId') IN (SELECT reservation_id FROM client_tokens)`
  yield* sql`CREATE INDEX temp.launched_by_token_key ON launched_by_token (account_id, reservation_id)`
  yield* sql`UPDATE client_tokens SET instance_ids =
    (SELECT l.ids FROM launched_by_token l WHERE l.account_id = client_tokens.account_id AND l.reservation_id = client_tokens.reservation_id)`
  yield* sql`DROP TABLE temp.launched_by_token`
})
