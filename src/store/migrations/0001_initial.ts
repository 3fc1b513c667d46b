import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

/** The first schema: accounts and keys, the event journal, and what the API keeps beside the core. */
export default Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  yield* sql`CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)`
  yield* sql`CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    admin INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
  )`
  yield* sql`CREATE TABLE access_keys (
    access_key_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    secret_access_key TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
  )`
  yield* sql`CREATE TABLE events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at INTEGER NOT NULL,
    tag TEXT NOT NULL,
    body TEXT NOT NULL
  )`
  yield* sql`CREATE TABLE images (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    name TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    kind TEXT NOT NULL,
    location TEXT NOT NULL,
    architecture TEXT NOT NULL DEFAULT 'x86_64',
    public INTEGER NOT NULL DEFAULT 0,
    kernel_id TEXT,
    ramdisk_id TEXT,
    root_device_name TEXT NOT NULL DEFAULT '/dev/sda1',
    virtualization TEXT NOT NULL DEFAULT 'paravirtual',
    path TEXT,
    digest TEXT,
    size_bytes INTEGER,
    state TEXT NOT NULL DEFAULT 'available',
    created_at INTEGER NOT NULL
  )`
  yield* sql`CREATE TABLE key_pairs (
    account_id TEXT NOT NULL,
    name TEXT NOT NULL,
    id TEXT NOT NULL UNIQUE,
    fingerprint TEXT NOT NULL,
    public_key TEXT NOT NULL,
    key_type TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, name)
  )`
  yield* sql`CREATE TABLE tags (
    account_id TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account_id, resource_id, key)
  )`
  yield* sql`CREATE TABLE client_tokens (
    account_id TEXT NOT NULL,
    token TEXT NOT NULL,
    params_hash TEXT NOT NULL,
    reservation_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, token)
  )`
})
