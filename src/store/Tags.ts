/**
 * Tags on resources (instances, images, security groups, addresses…), per account. Every Describe
 * of a whole list reads an account's tags, so `byResource` keeps them in memory per account, dropped
 * by every write through this module (only the server writes tags), before and after it writes. A
 * generation number per account keeps a read that raced with a write from caching what it read
 * before the write. A request about a few resources reads only theirs (`forResources`).
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect } from "effect"

export interface Tag {
  readonly resourceId: string
  readonly key: string
  readonly value: string
}

// One cache per database (per SqlClient): several servers may share a process (tests).
interface Cache {
  readonly generation: Map<string, number>
  readonly byAccount: Map<string, { readonly generation: number; readonly byResource: ReadonlyMap<string, ReadonlyArray<Tag>> }>
}
const caches = new WeakMap<SqlClient.SqlClient, Cache>()
const cacheOf = (sql: SqlClient.SqlClient): Cache => {
  let c = caches.get(sql)
  if (c === undefined) caches.set(sql, (c = { generation: new Map(), byAccount: new Map() }))
  return c
}
const changed = (sql: SqlClient.SqlClient, accountId: string) => {
  const c = cacheOf(sql)
  c.generation.set(accountId, (c.generation.get(accountId) ?? 0) + 1)
  c.byAccount.delete(accountId)
}

export const put = (accountId: string, tags: ReadonlyArray<Tag>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    changed(sql, accountId)
    yield* sql.withTransaction(
      Effect.forEach(tags, (t) =>
        sql`INSERT INTO tags (account_id, resource_id, key, value) VALUES (${accountId}, ${t.resourceId}, ${t.key}, ${t.value})
            ON CONFLICT(account_id, resource_id, key) DO UPDATE SET value = excluded.value`, { discard: true })
    ).pipe(Effect.ensuring(Effect.sync(() => changed(sql, accountId))))
  })

/** Deletes tags: a key alone deletes it whatever its value; a key with a value only if it matches. */
export const remove = (accountId: string, resourceIds: ReadonlyArray<string>, tags: ReadonlyArray<{ readonly key: string; readonly value?: string | undefined }>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    changed(sql, accountId)
    yield* sql.withTransaction(
      Effect.forEach(resourceIds, (r) =>
        tags.length === 0
          ? sql`DELETE FROM tags WHERE account_id = ${accountId} AND resource_id = ${r}`
          : Effect.forEach(tags, (t) =>
              t.value === undefined
                ? sql`DELETE FROM tags WHERE account_id = ${accountId} AND resource_id = ${r} AND key = ${t.key}`
                : sql`DELETE FROM tags WHERE account_id = ${accountId} AND resource_id = ${r} AND key = ${t.key} AND value = ${t.value}`, { discard: true }), { discard: true })
    ).pipe(Effect.ensuring(Effect.sync(() => changed(sql, accountId))))
  })

/** All tags of an account, grouped by resource (shared: do not change what it returns). */
export const byResource = (accountId: string): Effect.Effect<ReadonlyMap<string, ReadonlyArray<Tag>>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const c = cacheOf(sql)
    const g = c.generation.get(accountId) ?? 0
    const hit = c.byAccount.get(accountId)
    if (hit !== undefined && hit.generation === g) return hit.byResource
    {
      const rows = yield* sql<{ resource_id: string; key: string; value: string }>`
        SELECT resource_id, key, value FROM tags WHERE account_id = ${accountId} ORDER BY resource_id, key`
      const out = new Map<string, Array<Tag>>()
      for (const r of rows) {
        const list = out.get(r.resource_id) ?? []
        list.push({ resourceId: r.resource_id, key: r.key, value: r.value })
        out.set(r.resource_id, list)
      }
      // Cached only if no write began meanwhile.
      if ((c.generation.get(accountId) ?? 0) === g) c.byAccount.set(accountId, { generation: g, byResource: out })
      return out
    }
  })

/**
 * The tags of the given resources only, grouped by resource: from the account's cached tags when they
 * are current, else one query on the (account, resource) key — its cost follows the ids asked for,
 * not the account's size.
 */
export const forResources = (
  accountId: string,
  resourceIds: ReadonlyArray<string>
): Effect.Effect<ReadonlyMap<string, ReadonlyArray<Tag>>, SqlError.SqlError, SqlClient.SqlClient> =>
  Effect.gen(function* () {
    const out = new Map<string, ReadonlyArray<Tag>>()
    if (resourceIds.length === 0) return out
    const sql = yield* SqlClient.SqlClient
    const c = cacheOf(sql)
    const hit = c.byAccount.get(accountId)
    if (hit !== undefined && hit.generation === (c.generation.get(accountId) ?? 0)) {
      for (const id of resourceIds) {
        const tags = hit.byResource.get(id)
        if (tags !== undefined) out.set(id, tags)
      }
      return out
    }
    const grouped = new Map<string, Array<Tag>>()
    const unique = [...new Set(resourceIds)]
    // Well under SQLite's bound-parameter limit per statement.
    for (let k = 0; k < unique.length; k += 500) {
      const rows = yield* sql<{ resource_id: string; key: string; value: string }>`
        SELECT resource_id, key, value FROM tags WHERE account_id = ${accountId} AND ${sql.in("resource_id", unique.slice(k, k + 500))} ORDER BY resource_id, key`
      for (const r of rows) {
        let list = grouped.get(r.resource_id)
        if (list === undefined) grouped.set(r.resource_id, (list = []))
        list.push({ resourceId: r.resource_id, key: r.key, value: r.value })
      }
    }
    for (const [id, list] of grouped) out.set(id, list)
    return out
  })

export const list = (accountId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ resource_id: string; key: string; value: string }>`
      SELECT resource_id, key, value FROM tags WHERE account_id = ${accountId} ORDER BY resource_id, key`
    return rows.map((r): Tag => ({ resourceId: r.resource_id, key: r.key, value: r.value }))
  })
