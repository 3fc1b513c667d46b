/**
 * Accounts and their access keys. Every resource belongs to an account; one account never sees
 * another's. The admin account additionally sees Eucalyptus's `verbose` availability rows.
 */
import { randomBytes, randomInt } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"

export interface Account {
  readonly id: string
  readonly name: string
  readonly admin: boolean
}

export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export class AccountError extends Schema.TaggedError<AccountError>()("AccountError", { message: Schema.String }) {}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
/** AWS-shaped: `AKIA` + 16 of [A-Z2-7]; the secret is 40 base64 characters. */
export const newAccessKeyId = (): string => {
  const bytes = randomBytes(16)
  let s = "AKIA"
  for (const b of bytes) s += ALNUM[b % ALNUM.length]
  return s
}
export const newSecret = (): string => randomBytes(30).toString("base64")
/** A 12-digit account id, as EC2 owner ids are. */
export const newAccountId = (): string => String(randomInt(100_000_000_000, 999_999_999_999))

const NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/

export const create = (name: string, options: { readonly admin?: boolean; readonly now: number }) =>
  Effect.gen(function* () {
    if (!NAME.test(name)) {
      return yield* new AccountError({ message: `"${name}" is not a valid account name: 1–64 characters, lower-case letters, digits, ".", "_" and "-", starting with a letter or digit` })
    }
    const sql = yield* SqlClient.SqlClient
    const existing = yield* sql<{ id: string }>`SELECT id FROM accounts WHERE name = ${name}`
    if (existing.length > 0) return yield* new AccountError({ message: `an account named ${name} already exists` })
    const account: Account = { id: newAccountId(), name, admin: options.admin ?? false }
    const keys: Credentials = { accessKeyId: newAccessKeyId(), secretAccessKey: newSecret() }
    yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`INSERT INTO accounts (id, name, admin, created_at) VALUES (${account.id}, ${name}, ${account.admin ? 1 : 0}, ${options.now})`
        yield* sql`INSERT INTO access_keys (access_key_id, account_id, secret_access_key, created_at) VALUES (${keys.accessKeyId}, ${account.id}, ${keys.secretAccessKey}, ${options.now})`
      })
    )
    return { account, credentials: keys }
  })

export const addKey = (accountName: string, now: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const acc = yield* byName(accountName)
    if (Option.isNone(acc)) return yield* new AccountError({ message: `no account named ${accountName}` })
    const keys: Credentials = { accessKeyId: newAccessKeyId(), secretAccessKey: newSecret() }
    yield* sql`INSERT INTO access_keys (access_key_id, account_id, secret_access_key, created_at) VALUES (${keys.accessKeyId}, ${acc.value.id}, ${keys.secretAccessKey}, ${now})`
    return keys
  })

export const deactivateKey = (accessKeyId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ access_key_id: string }>`UPDATE access_keys SET active = 0 WHERE access_key_id = ${accessKeyId} RETURNING access_key_id`
    if (rows.length === 0) return yield* new AccountError({ message: `no access key ${accessKeyId}` })
  })

const toAccount = (r: { id: string; name: string; admin: number }): Account => ({ id: r.id, name: r.name, admin: r.admin === 1 })

export const byName = (name: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string; name: string; admin: number }>`SELECT id, name, admin FROM accounts WHERE name = ${name}`
    return Option.map(Option.fromNullable(rows[0]), toAccount)
  })

export const byId = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ id: string; name: string; admin: number }>`SELECT id, name, admin FROM accounts WHERE id = ${id}`
    return Option.map(Option.fromNullable(rows[0]), toAccount)
  })

/** When an account was created (epoch ms): IAM's CreateDate of its user. */
export const createdAt = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ created_at: number }>`SELECT created_at FROM accounts WHERE id = ${id}`
    return Option.map(Option.fromNullable(rows[0]), (r) => Number(r.created_at))
  })

export const list = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ id: string; name: string; admin: number }>`SELECT id, name, admin FROM accounts ORDER BY created_at, name`
  return rows.map(toAccount)
})

/** The secret and account of an active access key: what signature verification needs. */
export const lookupKey = (accessKeyId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ secret_access_key: string; id: string; name: string; admin: number }>`
      SELECT k.secret_access_key, a.id, a.name, a.admin FROM access_keys k JOIN accounts a ON a.id = k.account_id
      WHERE k.access_key_id = ${accessKeyId} AND k.active = 1`
    const r = rows[0]
    return r === undefined ? Option.none() : Option.some({ secretAccessKey: r.secret_access_key, account: toAccount(r) })
  })

/** The first active key of an account (what `euca admin credentials` prints). */
export const firstKey = (accountName: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ access_key_id: string; secret_access_key: string }>`
      SELECT k.access_key_id, k.secret_access_key FROM access_keys k JOIN accounts a ON a.id = k.account_id
      WHERE a.name = ${accountName} AND k.active = 1 ORDER BY k.created_at, k.access_key_id LIMIT 1`
    const r = rows[0]
    return r === undefined ? Option.none<Credentials>() : Option.some<Credentials>({ accessKeyId: r.access_key_id, secretAccessKey: r.secret_access_key })
  })

export const ADMIN = "admin"
