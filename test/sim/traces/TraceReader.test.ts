import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import { describe, expect, it } from "@effect/vitest"
import { Chunk, Effect, Either, Stream } from "effect"
import * as TraceReader from "../../../src/sim/traces/TraceReader.js"
import * as TraceSpec from "../../../src/sim/traces/TraceSpec.js"
import { readAll, readError, repo, traces, withTmp } from "./support.js"

describe("gzip is transparent", () => {
  it("gzip and plain copies of every format give identical requests", async () => {
    await withTmp(async (dir) => {
      const gunzip = async (rel: string, name: string) => {
        const out = Path.join(dir, name)
        await Fs.writeFile(out, Zlib.gunzipSync(await Fs.readFile(Path.join(traces, rel))))
        return out
      }
      const gzip = async (rel: string, name: string) => {
        const out = Path.join(dir, name)
        await Fs.writeFile(out, Zlib.gzipSync(await Fs.readFile(Path.join(traces, rel))))
        return out
      }
      const pairs: Array<[TraceSpec.TraceSpec, TraceSpec.TraceSpec]> = [
        [
          { format: "swf", path: Path.join(traces, "swf/KTH-SP2-1996-2.1-cln.swf.gz") },
          { format: "swf", path: await gunzip("swf/KTH-SP2-1996-2.1-cln.swf.gz", "kth.swf") }
        ],
        [
          { format: "azure", path: Path.join(traces, "azure-v1/v1.dev.txt.gz"), durations: Path.join(traces, "azure-v1/v1.dev.c2100000.txt.gz") },
          {
            format: "azure",
            path: await gunzip("azure-v1/v1.dev.txt.gz", "v1.dev.txt"),
            durations: await gunzip("azure-v1/v1.dev.c2100000.txt.gz", "v1.dev.c2100000.txt"),
            flavourMap: Path.join(traces, "azure-v1/flav_map.txt"),
            intervalMap: Path.join(traces, "azure-v1/v1.interval_map.txt")
          }
        ],
        [
          { format: "alibaba", path: Path.join(traces, "alibaba-gpu-v2023/openb_pod_list_default.csv") },
          // A gzip file's name need not end in .gz: the magic bytes decide.
          { format: "alibaba", path: await gzip("alibaba-gpu-v2023/openb_pod_list_default.csv", "pods.csv") }
        ],
        [
          { format: "google", path: Path.join(traces, "google-2011/task-events-sample-1.csv") },
          { format: "google", path: await gzip("google-2011/task-events-sample-1.csv", "events.csv.gz") }
        ],
        [
          { format: "csv", path: Path.join(traces, "csv/sized.csv") },
          { format: "csv", path: await gzip("csv/sized.csv", "sized.csv.gz") }
        ]
      ]
      for (const [a, b] of pairs) {
        const x = await readAll(a)
        const y = await readAll(b)
        expect(x.requests.length).toBeGreaterThan(0)
        expect(y.requests).toEqual(x.requests)
        expect(y.stats).toEqual(x.stats)
      }
    })
  })

  it("lines longer than a read chunk and UTF-8 characters cut by chunk boundaries survive", async () => {
    await withTmp(async (dir) => {
      const rows = Array.from({ length: 30_000 }, (_, i) => `${i},${i},m1.small,zône-é-${i % 7}-日本`)
      const file = Path.join(dir, "utf8.csv")
      await Fs.writeFile(file, ["arrival_ms,lifetime_ms,vm_type,zone", ...rows].join("\n"))
      const { requests } = await readAll({ format: "csv", path: file })
      expect(requests.map((r) => r.zone)).toEqual(rows.map((r) => r.split(",")[3]))

      await Fs.writeFile(Path.join(dir, "flav_map.txt"), "1,1 a\n")
      const long = Path.join(dir, "long.txt")
      await Fs.writeFile(long, `300 ${Array(300_000).fill("a").join(",")}\n600 a\n`)
      // One line, 300,000 VMs: far more than a batch; each one counted once as running to the horizon.
      const azure = await readAll({ format: "azure", path: long, batches: "vm", batchSize: 1000 })
      expect(azure.stats).toMatchObject({ requests: 300_001, lines: 2, untilHorizon: { "no duration file": 300_001 } })
      expect(azure.requests.at(-1)!.line).toBe(2)
    })
  })

  it("a truncated gzip file is an error naming the file, the line and the gzip stream", async () => {
    await withTmp(async (dir) => {
      const whole = Zlib.gzipSync(await Fs.readFile(Path.join(traces, "alibaba-gpu-v2023/openb_pod_list_default.csv")))
      const file = Path.join(dir, "cut.csv.gz")
      await Fs.writeFile(file, whole.subarray(0, whole.length - 20))
      const e = await readError({ format: "alibaba", path: file })
      expect(e).toMatchObject({ _tag: "TraceError", file, field: "gzip" })
      expect(e.line).toBeGreaterThan(1)
      expect(e.message).toMatch(new RegExp(`^${file}:${e.line}: field "gzip": corrupt or truncated gzip data`))
    })
  })

  it("a directory or a missing file is an error naming it", async () => {
    expect((await readError({ format: "csv", path: traces })).message).toContain("EISDIR")
    expect(await readError({ format: "csv", path: "no/such.csv" })).toMatchObject({ file: Path.join(repo, "no/such.csv") })
  })
})

describe("the reader's batches and options", () => {
  const kth = { format: "swf", path: "traces/swf/KTH-SP2-1996-2.1-cln.swf.gz" } as const

  it("hands out non-empty batches of at most batchSize, the same requests whatever the size", async () => {
    const whole = await readAll(kth)
    await Effect.runPromise(
      Effect.scoped(
        Effect.gen(function* () {
          const reader = yield* TraceSpec.open({ ...kth, batchSize: 1000 }, repo)
          const sizes: Array<number> = []
          for (;;) {
            const b = yield* reader.next
            if (b === undefined) break
            sizes.push(b.length)
          }
          expect(sizes.every((n) => n > 0 && n <= 1000)).toBe(true)
          expect(sizes.reduce((a, b) => a + b, 0)).toBe(whole.requests.length)
          expect(yield* reader.next).toBeUndefined()
          expect(reader.stats()).toEqual(whole.stats)
        })
      )
    )
  })

  it("overlapping nextPromise calls (prefetch) are served in order", async () => {
    const whole = await readAll(kth)
    const reader = await TraceSpec.openPromise({ ...kth, batchSize: 512 }, repo)
    try {
      const got: Array<unknown> = []
      let pending = reader.nextPromise()
      for (;;) {
        const b = await pending
        if (b === undefined) break
        pending = reader.nextPromise() // ask for the next batch before using this one
        got.push(...b)
      }
      expect(got).toEqual(whole.requests)
    } finally {
      reader.close()
    }
  })

  it("the stream and the async iterator give the same requests", async () => {
    const whole = await readAll(kth)
    const viaStream = await Effect.runPromise(
      Effect.scoped(Effect.flatMap(TraceSpec.open(kth, repo), (r) => Stream.runCollect(r.stream)))
    )
    expect(Chunk.toReadonlyArray(viaStream)).toEqual(whole.requests)
    const reader = await TraceSpec.openPromise(kth, repo)
    const viaIterator: Array<unknown> = []
    try {
      for await (const r of reader) viaIterator.push(r)
    } finally {
      reader.close()
    }
    expect(viaIterator).toEqual(whole.requests)
  })

  it("limit stops early and says so; rebase moves the first arrival to 0", async () => {
    const whole = await readAll(kth)
    const some = await readAll({ ...kth, limit: 100, batchSize: 30 })
    expect(some.requests).toEqual(whole.requests.slice(0, 100))
    expect(some.stats).toMatchObject({ requests: 100, truncated: true, done: true })
    expect(whole.stats.truncated).toBe(false)
    const rebased = await readAll({ ...kth, rebase: true })
    const origin = whole.requests[0]!.arrivalMs
    expect(origin).toBeGreaterThan(0)
    expect(rebased.requests.map((r) => r.arrivalMs)).toEqual(whole.requests.map((r) => r.arrivalMs - origin))
    expect(rebased.stats.firstArrivalMs).toBe(0)
  })

  it("after an error, next keeps failing with it; the rows before it were handed out", async () => {
    await withTmp(async (dir) => {
      const file = Path.join(dir, "t.csv")
      await Fs.writeFile(file, "arrival_ms,lifetime_ms,vm_type\n0,1,a\n1,1,b\nx,1,c\n")
      await Effect.runPromise(
        Effect.scoped(
          Effect.gen(function* () {
            const reader = yield* TraceSpec.open({ format: "csv", path: file, batchSize: 1 }, repo)
            expect((yield* reader.next)?.map((r) => r.vmType)).toEqual(["a"])
            expect((yield* reader.next)?.map((r) => r.vmType)).toEqual(["b"])
            const e1 = yield* Effect.either(reader.next)
            const e2 = yield* Effect.either(reader.next)
            expect(Either.isLeft(e1) && e1.left.line).toBe(4)
            expect(e2).toEqual(e1)
          })
        )
      )
    })
  })
})

describe("the trace spec", () => {
  it("decodes each format and rejects unknown options and bad values", async () => {
    const ok = await Effect.runPromise(TraceSpec.decode({ format: "swf", path: "a.swf", coresPerVm: 4 }))
    expect(ok).toEqual({ format: "swf", path: "a.swf", coresPerVm: 4 })
    for (const bad of [
      { format: "swf", path: "a.swf", corePerVm: 4 },
      { format: "swf", path: "a.swf", coresPerVm: 0 },
      { format: "azure", path: "a", batches: "some" },
      { format: "parquet", path: "a" },
      { format: "csv", path: "" }
    ]) {
      expect(Either.isLeft(await Effect.runPromise(Effect.either(TraceSpec.decode(bad))))).toBe(true)
    }
  })

  it("resolves every path against the base directory", () => {
    const s = TraceSpec.resolve({ format: "azure", path: "f.txt", durations: "d/x.txt", intervalMap: "/abs/m.txt" }, "/exp")
    expect(s).toEqual({ format: "azure", path: "/exp/f.txt", durations: "/exp/d/x.txt", intervalMap: "/abs/m.txt" })
    const t = TraceSpec.resolve({ format: "csv", path: "../t.csv" }, "/exp/sub")
    expect(t.path).toBe("/exp/t.csv")
  })

  it("opens relative to the base directory and closes with the scope", async () => {
    const reader = await Effect.runPromise(
      Effect.scoped(TraceSpec.open({ format: "csv", path: "csv/typed.csv" }, traces).pipe(Effect.tap((r) => r.next)))
    )
    // The scope is closed: the reader hands out nothing more.
    expect(await reader.nextPromise()).toBeUndefined()
    expect(reader.format).toBe("csv")
    expect(TraceReader.defaultBatchSize).toBe(4096)
  })
})
