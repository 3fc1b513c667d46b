import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * A ClientToken remembers the instances its launch made (ids separated by spaces), so that a re-send
 * answers by id instead of looking through the account. Tokens recorded before have NULL here.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE client_tokens ADD COLUMN instance_ids TEXT`
})
