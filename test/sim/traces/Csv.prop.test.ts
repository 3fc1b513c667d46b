import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import * as Resources from "../../../src/model/Resources.js"
import * as Csv from "../../../src/sim/traces/Csv.js"
import * as TraceRequest from "../../../src/sim/traces/TraceRequest.js"
import { readAll, withTmp } from "./support.js"

const nat = (max: number) => FastCheck.integer({ min: 0, max })
const zone = FastCheck.option(FastCheck.stringMatching(/^[a-z][a-z0-9-]{0,11}$/), { nil: undefined })
const vmType = FastCheck.stringMatching(/^[a-z0-9][a-z0-9._-]{0,15}$/)

/** A layout, and requests that it can express (no zone without a zone column, count 1 without a count column). */
const layoutAndRequests = FastCheck.record({
  sized: FastCheck.boolean(),
  extra: FastCheck.subarray(["zone", "count", "root_volume_gib"] as const).chain((cols) => FastCheck.shuffledSubarray(cols, { minLength: cols.length }))
}).chain((layout) => {
  const hasZone = layout.extra.includes("zone")
  const hasCount = layout.extra.includes("count")
  const hasRoot = layout.extra.includes("root_volume_gib")
  const request = FastCheck.record({
    arrival: nat(2 ** 40),
    lifetime: FastCheck.option(nat(2 ** 40), { nil: undefined }),
    size: FastCheck.tuple(FastCheck.integer({ min: 1, max: 512 }), nat(4 * 1024 * 1024), nat(100_000)),
    vmType,
    count: hasCount ? FastCheck.integer({ min: 1, max: 10_000 }) : FastCheck.constant(1),
    zone: hasZone ? zone : FastCheck.constant(undefined),
    root: hasRoot ? FastCheck.option(FastCheck.integer({ min: 1, max: 16384 }), { nil: undefined }) : FastCheck.constant(undefined)
  })
  return FastCheck.tuple(FastCheck.constant(layout as Csv.Layout), FastCheck.array(request, { maxLength: 40 }))
})

describe("CSV round trip", () => {
  it("random valid rows: write CSV, read it back, get the same requests (plain and gzip)", async () => {
    await withTmp(async (dir) => {
      await FastCheck.assert(
        FastCheck.asyncProperty(layoutAndRequests, async ([layout, rows]) => {
          const requests = rows.map((r, i) =>
            layout.sized
              ? TraceRequest.sized(i + 2, r.arrival, r.lifetime, Resources.make(...r.size), r.count, r.zone, r.root)
              : TraceRequest.typed(i + 2, r.arrival, r.lifetime, r.vmType, r.count, r.zone, r.root)
          )
          const text = Csv.format(requests, layout)
          const plain = Path.join(dir, "t.csv")
          const gz = Path.join(dir, "t.csv.gz")
          await Fs.writeFile(plain, text)
          await Fs.writeFile(gz, Zlib.gzipSync(text))
          const a = await readAll({ format: "csv", path: plain, batchSize: 3 })
          const b = await readAll({ format: "csv", path: gz })
          expect(a.requests).toEqual(requests)
          expect(b.requests).toEqual(requests)
          expect(a.stats.requests).toBe(requests.length)
          expect(a.stats.skipped).toEqual({})
        }),
        { numRuns: 100 }
      )
    })
  })
})
