import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/**
 * Temporary credentials from STS GetSessionToken: the key pair, the SHA-256 of the session token
 * (the token itself is never stored), the long-term key that asked for them, and their expiry.
 */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE session_credentials (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    parent_key_id TEXT NOT NULL REFERENCES access_keys(access_key_id),
    secret_access_key TEXT NOT NULL,
    token_sha256 TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  )`
  yield* sql`CREATE INDEX session_credentials_expiry ON session_credentials (expires_at)`
})
