/** Tags.forResources: only the resources asked for, the same whether the account's tags are cached or read by key. */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as Database from "../../src/store/Database.js"
import * as Tags from "../../src/store/Tags.js"

const plain = (m: ReadonlyMap<string, ReadonlyArray<Tags.Tag>>) => Object.fromEntries([...m].sort(([a], [b]) => (a < b ? -1 : 1)))

describe("Tags.forResources", () => {
  it.live("reads the named resources' tags only, in chunks past SQLite's parameter limit, and agrees with the account's cache", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "euca-tags-"))
      try {
        yield* Effect.gen(function* () {
          const ids = Array.from({ length: 1200 }, (_, k) => `i-${k.toString(16).padStart(8, "0")}`)
          yield* Tags.put("acct-1", ids.flatMap((id, k) => [{ resourceId: id, key: "Name", value: `n${k}` }, ...(k % 2 === 0 ? [{ resourceId: id, key: "even", value: "" }] : [])]))
          yield* Tags.put("acct-2", [{ resourceId: ids[0]!, key: "Name", value: "theirs" }])
          const asked = [...ids.slice(0, 1100), "i-ffffffff", ids[0]!]
          // Cold: no Describe of the whole account has cached its tags yet (every write drops them).
          const cold = yield* Tags.forResources("acct-1", asked)
          expect(cold.size).toBe(1100)
          expect(cold.get(ids[0]!)).toEqual([{ resourceId: ids[0]!, key: "Name", value: "n0" }, { resourceId: ids[0]!, key: "even", value: "" }])
          expect(cold.get(ids[1]!)).toEqual([{ resourceId: ids[1]!, key: "Name", value: "n1" }])
          expect(cold.has(ids[1100]!)).toBe(false)
          expect(cold.has("i-ffffffff")).toBe(false)
          // Warm: the account's cached tags answer, the same.
          const all = yield* Tags.byResource("acct-1")
          const warm = yield* Tags.forResources("acct-1", asked)
          expect(plain(warm)).toEqual(plain(cold))
          expect(warm.get(ids[5]!)).toBe(all.get(ids[5]!))
          expect((yield* Tags.forResources("acct-2", [ids[0]!, ids[1]!])).get(ids[0]!)).toEqual([{ resourceId: ids[0]!, key: "Name", value: "theirs" }])
          expect((yield* Tags.forResources("acct-1", [])).size).toBe(0)
        }).pipe(Effect.provide(Database.layer(dir)))
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})
