/** Reads a data directory's admin key (what `euca admin credentials` prints). */
import { SqlClient } from "@effect/sql"
import { Effect, Option } from "effect"
import * as Accounts from "../../src/store/Accounts.js"
import * as Db from "../../src/store/Database.js"

export const Database = {
  adminKey: (dataDir: string) =>
    Effect.runPromise(
      Accounts.firstKey(Accounts.ADMIN).pipe(
        Effect.map(Option.getOrThrow),
        Effect.provide(Db.layer(dataDir))
      )
    ),
  /** One SQL statement on a data directory (beside a running server, as `euca admin` does). */
  query: <A extends object = Record<string, unknown>>(dataDir: string, statement: string) =>
    Effect.runPromise(
      Effect.flatMap(SqlClient.SqlClient, (sql) => sql.unsafe<A>(statement)).pipe(Effect.provide(Db.layer(dataDir)))
    ) as Promise<ReadonlyArray<A>>,
  createAccount: (dataDir: string, name: string) =>
    Effect.runPromise(Accounts.create(name, { now: Date.now() }).pipe(Effect.provide(Db.layer(dataDir))))
}
