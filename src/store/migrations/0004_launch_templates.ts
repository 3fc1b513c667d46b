import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** Launch templates and their versions (the version's data is the template data as JSON). */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE launch_templates (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    default_version INTEGER NOT NULL,
    latest_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id, name)
  )`
  yield* sql`CREATE TABLE launch_template_versions (
    template_id TEXT NOT NULL REFERENCES launch_templates(id) ON DELETE CASCADE,
    version INTEGER NOT NULL,
    description TEXT,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (template_id, version)
  )`
})
