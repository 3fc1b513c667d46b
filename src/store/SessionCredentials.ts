/**
 * Temporary credentials (STS GetSessionToken): an `ASIA` key, its secret and a session token, valid
 * until they expire and while the long-term key that asked for them stays active. Only the token's
 * SHA-256 is stored; the authenticator compares the hash of the token a request carries.
 */
import { createHash, randomBytes } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import * as Accounts from "./Accounts.js"

export interface Issued {
  readonly accessKeyId: string
  readonly secretAccessKey: string
  readonly sessionToken: string
  /** Epoch ms. */
  readonly expiresAt: number
}

export interface Found {
  readonly secretAccessKey: string
  readonly account: Accounts.Account
  readonly tokenSha256: string
  readonly expiresAt: number
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
export const PREFIX = "ASIA"

/** AWS-shaped: `ASIA` + 16 of [A-Z2-7], as STS's temporary keys. */
export const newAccessKeyId = (): string => {
  let s = PREFIX
  for (const b of randomBytes(16)) s += ALNUM[b % ALNUM.length]
  return s
}

export const isTemporary = (accessKeyId: string): boolean => accessKeyId.startsWith(PREFIX)

export const tokenHash = (token: string): string => createHash("sha256").update(token, "utf8").digest("hex")

/** New temporary credentials for the account of `parentKeyId`, valid `durationMs` from `now`; expired ones are dropped. */
export const issue = (accountId: string, parentKeyId: string, durationMs: number, now: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const issued: Issued = {
      accessKeyId: newAccessKeyId(),
      secretAccessKey: Accounts.newSecret(),
      sessionToken: randomBytes(96).toString("base64"),
      expiresAt: now + durationMs
    }
    yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`DELETE FROM session_credentials WHERE expires_at <= ${now}`
        yield* sql`INSERT INTO session_credentials (access_key_id, account_id, parent_key_id, secret_access_key, token_sha256, created_at, expires_at)
          VALUES (${issued.accessKeyId}, ${accountId}, ${parentKeyId}, ${issued.secretAccessKey}, ${tokenHash(issued.sessionToken)}, ${now}, ${issued.expiresAt})`
      })
    )
    return issued
  })

/** The temporary key's secret, account, token hash and expiry, while its parent key is active. */
export const lookup = (accessKeyId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ secret_access_key: string; token_sha256: string; expires_at: number; id: string; name: string; admin: number }>`
      SELECT s.secret_access_key, s.token_sha256, s.expires_at, a.id, a.name, a.admin
      FROM session_credentials s JOIN access_keys k ON k.access_key_id = s.parent_key_id JOIN accounts a ON a.id = s.account_id
      WHERE s.access_key_id = ${accessKeyId} AND k.active = 1`
    const r = rows[0]
    return r === undefined
      ? Option.none<Found>()
      : Option.some<Found>({
        secretAccessKey: r.secret_access_key,
        account: { id: r.id, name: r.name, admin: r.admin === 1 },
        tokenSha256: r.token_sha256,
        expiresAt: Number(r.expires_at)
      })
  })
