/** Launch templates: an account's named, versioned launch settings (the data is kept as JSON). */
import { randomBytes } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"

export interface Template {
  readonly id: string
  readonly account: string
  readonly name: string
  readonly defaultVersion: number
  readonly latestVersion: number
  readonly createdAt: number
}

export interface Version {
  readonly templateId: string
  readonly version: number
  readonly description: string | undefined
  readonly data: unknown
  readonly createdAt: number
}

interface TemplateRow {
  id: string
  account_id: string
  name: string
  default_version: number
  latest_version: number
  created_at: number
}
interface VersionRow {
  template_id: string
  version: number
  description: string | null
  data: string
  created_at: number
}

const toTemplate = (r: TemplateRow): Template => ({
  id: r.id,
  account: r.account_id,
  name: r.name,
  defaultVersion: Number(r.default_version),
  latestVersion: Number(r.latest_version),
  createdAt: Number(r.created_at)
})
const toVersion = (r: VersionRow): Version => ({
  templateId: r.template_id,
  version: Number(r.version),
  description: r.description ?? undefined,
  data: JSON.parse(r.data),
  createdAt: Number(r.created_at)
})

export const newId = (): string => `lt-${randomBytes(9).toString("hex").slice(0, 17)}`

export const list = (account: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<TemplateRow>`SELECT * FROM launch_templates WHERE account_id = ${account} ORDER BY created_at, id`
    return rows.map(toTemplate)
  })

export const find = (account: string, by: { readonly id?: string | undefined; readonly name?: string | undefined }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows =
      by.id !== undefined
        ? yield* sql<TemplateRow>`SELECT * FROM launch_templates WHERE account_id = ${account} AND id = ${by.id}`
        : yield* sql<TemplateRow>`SELECT * FROM launch_templates WHERE account_id = ${account} AND name = ${by.name ?? ""}`
    return Option.map(Option.fromNullable(rows[0]), toTemplate)
  })

export const create = (t: { readonly account: string; readonly name: string; readonly description: string | undefined; readonly data: unknown; readonly now: number }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const id = newId()
    yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`INSERT INTO launch_templates (id, account_id, name, default_version, latest_version, created_at) VALUES (${id}, ${t.account}, ${t.name}, 1, 1, ${t.now})`
        yield* sql`INSERT INTO launch_template_versions (template_id, version, description, data, created_at) VALUES (${id}, 1, ${t.description ?? null}, ${JSON.stringify(t.data)}, ${t.now})`
      })
    )
    return id
  })

/** A new version (the template's latest + 1), in one transaction. */
export const addVersion = (id: string, description: string | undefined, data: unknown, now: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    return yield* sql.withTransaction(
      Effect.gen(function* () {
        const rows = yield* sql<{ latest_version: number }>`SELECT latest_version FROM launch_templates WHERE id = ${id}`
        const next = Number(rows[0]!.latest_version) + 1
        yield* sql`INSERT INTO launch_template_versions (template_id, version, description, data, created_at) VALUES (${id}, ${next}, ${description ?? null}, ${JSON.stringify(data)}, ${now})`
        yield* sql`UPDATE launch_templates SET latest_version = ${next} WHERE id = ${id}`
        return next
      })
    )
  })

export const setDefault = (id: string, version: number) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql`UPDATE launch_templates SET default_version = ${version} WHERE id = ${id}`
  })

export const versions = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<VersionRow>`SELECT * FROM launch_template_versions WHERE template_id = ${id} ORDER BY version`
    return rows.map(toVersion)
  })

export const remove = (id: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    yield* sql.withTransaction(
      Effect.gen(function* () {
        yield* sql`DELETE FROM launch_template_versions WHERE template_id = ${id}`
        yield* sql`DELETE FROM launch_templates WHERE id = ${id}`
      })
    )
  })
