/**
 * The event journal: every event the core decided, in order. The controller appends inside a
 * transaction before it answers a client, so nothing acknowledged is lost; a restart replays it.
 */
import { SqlClient } from "@effect/sql"
import { Effect, Schema } from "effect"
import * as Events from "../model/Events.js"

const encode = Schema.encodeSync(Schema.parseJson(Events.Event))
const decode = Schema.decodeUnknownEither(Schema.parseJson(Events.Event))

export class JournalCorrupt extends Schema.TaggedError<JournalCorrupt>()("JournalCorrupt", {
  seq: Schema.Number,
  message: Schema.String
}) {}

export const append = (events: ReadonlyArray<Events.Event>) =>
  Effect.gen(function* () {
    if (events.length === 0) return
    const sql = yield* SqlClient.SqlClient
    yield* sql`INSERT INTO events ${sql.insert(events.map((e) => ({ at: e.at, tag: e._tag, body: encode(e) })))}`
  })

/** All events in order. */
export const load = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ seq: number; body: string }>`SELECT seq, body FROM events ORDER BY seq`
  const out: Array<Events.Event> = []
  for (const r of rows) {
    const d = decode(r.body)
    if (d._tag === "Left") return yield* new JournalCorrupt({ seq: r.seq, message: String(d.left) })
    out.push(d.right)
  }
  return out
})

export const count = Effect.gen(function* () {
  const sql = yield* SqlClient.SqlClient
  const rows = yield* sql<{ n: number }>`SELECT COUNT(*) AS n FROM events`
  return rows[0]!.n
})
