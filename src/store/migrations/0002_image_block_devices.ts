import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** EBS-backed images: their block device mappings (JSON), the root device's among them. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`ALTER TABLE images ADD COLUMN block_devices TEXT`
})
