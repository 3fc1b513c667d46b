import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** The accounts an image's owner lets launch it (ModifyImageAttribute launchPermission UserId). */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE image_launch_permissions (
    image_id TEXT NOT NULL REFERENCES images(id) ON DELETE CASCADE,
    account_id TEXT NOT NULL,
    PRIMARY KEY (image_id, account_id)
  )`
})
