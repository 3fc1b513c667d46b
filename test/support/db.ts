/** Reads a data directory's admin key (what `euca admin credentials` prints). */
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
  createAccount: (dataDir: string, name: string) =>
    Effect.runPromise(Accounts.create(name, { now: Date.now() }).pipe(Effect.provide(Db.layer(dataDir))))
}
