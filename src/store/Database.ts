/**
 * The embedded database: one SQLite file under the data directory, WAL mode (through
 * @effect/sql-sqlite-node) with every commit synced, a busy timeout so `euca admin` can write while
 * the server runs, and the migrations in ./migrations applied in order at start.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import { Migrator, SqlClient } from "@effect/sql"
import { SqliteClient } from "@effect/sql-sqlite-node"
import { Effect, Layer } from "effect"
import m0001 from "./migrations/0001_initial.js"
import m0002 from "./migrations/0002_image_block_devices.js"
import m0003 from "./migrations/0003_image_launch_permissions.js"
import m0004 from "./migrations/0004_launch_templates.js"
import m0005 from "./migrations/0005_client_token_instances.js"
import m0006 from "./migrations/0006_session_tokens.js"

export const FILE_NAME = "eucalyptus.sqlite"

export const migrations = Migrator.fromRecord({
  "0001_initial": m0001,
  "0002_image_block_devices": m0002,
  "0003_image_launch_permissions": m0003,
  "0004_launch_templates": m0004,
  "0005_client_token_instances": m0005,
  "0006_session_tokens": m0006
})

const migrate = Migrator.make({})({ loader: migrations })

/** SqlClient on `<dataDir>/eucalyptus.sqlite`, migrated. Creates the directory. */
export const layer = (dataDir: string) =>
  Layer.effectDiscard(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      yield* sql`PRAGMA busy_timeout = 10000`
      // Acknowledged means on disk: in WAL mode better-sqlite3 defaults to NORMAL, which a power cut can undo.
      yield* sql`PRAGMA synchronous = FULL`
      yield* sql`PRAGMA foreign_keys = ON`
      yield* migrate
    })
  ).pipe(
    Layer.provideMerge(
      Layer.suspend(() => {
        mkdirSync(dataDir, { recursive: true })
        return SqliteClient.layer({ filename: join(dataDir, FILE_NAME) })
      })
    )
  )
