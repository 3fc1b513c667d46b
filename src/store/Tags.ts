/** Tags on resources (instances, images, security groups, addresses…), per account. */
import { SqlClient } from "@effect/sql"
import { Effect } from "effect"

export interface Tag {
  readonly resourceId: string
  readonly key: string
  readonly value: string
}

export const put = (accountId: string, tags: ReadonlyArray<Tag>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(
      Effect.forEach(tags, (t) =>
        sql`INSERT INTO tags (account_id, resource_id, key, value) VALUES (${accountId}, ${t.resourceId}, ${t.key}, ${t.value})
            ON CONFLICT(account_id, resource_id, key) DO UPDATE SET value = excluded.value`, { discard: true })
    )
  })

/** Deletes tags: a key alone deletes it whatever its value; a key with a value only if it matches. */
export const remove = (accountId: string, resourceIds: ReadonlyArray<string>, tags: ReadonlyArray<{ readonly key: string; readonly value?: string | undefined }>) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(
      Effect.forEach(resourceIds, (r) =>
        tags.length === 0
          ? sql`DELETE FROM tags WHERE account_id = ${accountId} AND resource_id = ${r}`
          : Effect.forEach(tags, (t) =>
              t.value === undefined
                ? sql`DELETE FROM tags WHERE account_id = ${accountId} AND resource_id = ${r} AND key = ${t.key}`
                : sql`DELETE FROM tags WHERE account_id = ${accountId} AND resource_id = ${r} AND key = ${t.key} AND value = ${t.value}`, { discard: true }), { discard: true })
    )
  })

/** All tags of an account, grouped by resource. */
export const byResource = (accountId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ resource_id: string; key: string; value: string }>`
      SELECT resource_id, key, value FROM tags WHERE account_id = ${accountId} ORDER BY resource_id, key`
    const out = new Map<string, Array<Tag>>()
    for (const r of rows) {
      const list = out.get(r.resource_id) ?? []
      list.push({ resourceId: r.resource_id, key: r.key, value: r.value })
      out.set(r.resource_id, list)
    }
    return out
  })

export const list = (accountId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<{ resource_id: string; key: string; value: string }>`
      SELECT resource_id, key, value FROM tags WHERE account_id = ${accountId} ORDER BY resource_id, key`
    return rows.map((r): Tag => ({ resourceId: r.resource_id, key: r.key, value: r.value }))
  })
