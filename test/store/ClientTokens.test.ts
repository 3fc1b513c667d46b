/** ClientTokens: a launch's instance ids kept with its token; tokens from before migration 0005 get them from the journal. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Migrator, SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Option } from "effect"
import * as ClientTokens from "../../src/store/ClientTokens.js"
import * as Database from "../../src/store/Database.js"
import m0001 from "../../src/store/migrations/0001_initial.js"
import m0002 from "../../src/store/migrations/0002_image_block_devices.js"
import m0003 from "../../src/store/migrations/0003_image_launch_permissions.js"
import m0004 from "../../src/store/migrations/0004_launch_templates.js"

const inDir = <A, E>(use: (dir: string) => Effect.Effect<A, E>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => mkdtempSync(join(tmpdir(), "euca-tokens-"))),
    use,
    (dir) => Effect.sync(() => rmSync(dir, { recursive: true, force: true }))
  )

describe("ClientTokens", () => {
  it.live("keeps the launch's instance ids with the token", () =>
    inDir((dir) =>
      Effect.gen(function* () {
        yield* ClientTokens.record("acct", "t", "hash", "r-00000001", ["i-00000001", "i-00000002"], 1)
        const seen = Option.getOrThrow(yield* ClientTokens.find("acct", "t"))
        expect(seen).toEqual({ paramsHash: "hash", reservationId: "r-00000001", instanceIds: ["i-00000001", "i-00000002"] })
        expect(Option.isNone(yield* ClientTokens.find("other", "t"))).toBe(true)
      }).pipe(Effect.provide(Database.layer(dir)))
    )
  )

  it.live("a token recorded before migration 0005 gets its instance ids from its launch's event; one without an event keeps none", () =>
    inDir((dir) =>
      Effect.gen(function* () {
        // The database as the previous version left it: migrations 0001–0004, a launch, two tokens.
        yield* Effect.gen(function* () {
          yield* Migrator.make({})({ loader: Migrator.fromRecord({ "0001_initial": m0001, "0002_image_block_devices": m0002, "0003_image_launch_permissions": m0003, "0004_launch_templates": m0004 }) })
          const sql = yield* SqlClient.SqlClient
          const launched = (account: string, reservationId: string, ids: ReadonlyArray<string>) =>
            JSON.stringify({ _tag: "InstancesLaunched", at: 5, account, reservationId, instances: ids.map((id) => ({ id, node: "n1" })) })
          yield* sql`INSERT INTO events (at, tag, body) VALUES (5, 'GroupCreated', '{"_tag":"GroupCreated","reservationId":"r-00000001"}')`
          yield* sql`INSERT INTO events (at, tag, body) VALUES (5, 'InstancesLaunched', ${launched("acct", "r-00000001", ["i-0000000a", "i-0000000b", "i-0000000c"])})`
          yield* sql`INSERT INTO events (at, tag, body) VALUES (6, 'InstancesLaunched', ${launched("acct", "r-00000002", ["i-0000000d"])})`
          yield* sql`INSERT INTO client_tokens (account_id, token, params_hash, reservation_id, created_at) VALUES ('acct', 'old', 'h', 'r-00000001', 5)`
          yield* sql`INSERT INTO client_tokens (account_id, token, params_hash, reservation_id, created_at) VALUES ('acct', 'lost', 'h', 'r-00000009', 5)`
        }).pipe(Effect.provide(SqliteClient.layer({ filename: join(dir, Database.FILE_NAME) })))
        const [old, lost] = yield* Effect.all([ClientTokens.find("acct", "old"), ClientTokens.find("acct", "lost")]).pipe(Effect.provide(Database.layer(dir)))
        expect(Option.getOrThrow(old).instanceIds).toEqual(["i-0000000a", "i-0000000b", "i-0000000c"])
        expect(Option.getOrThrow(lost)).toEqual({ paramsHash: "h", reservationId: "r-00000009", instanceIds: undefined })
      })
    )
  )
})
