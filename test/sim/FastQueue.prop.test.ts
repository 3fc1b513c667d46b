import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { FastQueue } from "../../src/sim/FastQueue.js"

/** Push (delay after the last pop, kind), pop, peek, or pop only what is due within a delay. */
type Op = readonly [number, number] | "pop" | "peek" | { readonly until: number }

interface Entry {
  readonly time: number
  readonly kind: number
  readonly seq: number
}

const order = (a: Entry, b: Entry) => a.time - b.time || a.kind - b.kind || a.seq - b.seq

/** Runs `ops` on a FastQueue and on a sorted list; every pop and peek must agree. */
const check = (ops: ReadonlyArray<Op>, windowMs: number, startAt: number): void => {
  const q = new FastQueue(2, windowMs)
  const model: Array<Entry> = []
  let seq = 0
  let now = startAt
  const popped = (e: Entry) => {
    expect([q.time, q.kind, q.arg]).toEqual([e.time, e.kind, e.seq])
    now = e.time
  }
  for (const op of ops) {
    model.sort(order)
    if (op === "pop" || op === "peek") {
      if (model.length === 0) {
        expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY)
        expect(q.peekKind()).toBe(-1)
        continue
      }
      const e = model[0]!
      expect([q.peekTime(), q.peekKind()]).toEqual([e.time, e.kind])
      if (op === "pop") {
        model.shift()
        q.pop()
        popped(e)
      }
    } else if (!Array.isArray(op)) {
      const end = now + (op as { readonly until: number }).until
      for (;;) {
        const e = model[0]
        const due = e !== undefined && e.time <= end
        expect(q.popUntil(end)).toBe(due)
        if (!due) break
        model.shift()
        popped(e)
      }
    } else {
      // Events are never scheduled before the last one popped.
      const [delay, kind] = op as readonly [number, number]
      q.push(now + delay, kind, seq)
      model.push({ time: now + delay, kind, seq: seq++ })
    }
    expect(q.size).toBe(model.length)
  }
  for (const e of [...model].sort(order)) {
    expect(q.peekTime()).toBe(e.time)
    expect(q.peekKind()).toBe(e.kind)
    q.pop()
    popped(e)
  }
  expect(q.size).toBe(0)
  expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY)
}

const delayArb = fc.oneof(
  fc.constant(0),
  fc.integer({ min: 0, max: 50 }),
  fc.integer({ min: 0, max: 5000 }),
  fc.integer({ min: 30_000, max: 140_000 }),
  fc.integer({ min: 0, max: 10_000_000 })
)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(delayArb, fc.integer({ min: 0, max: 7 })) },
  { weight: 3, arbitrary: fc.constant("pop" as const) },
  { weight: 1, arbitrary: fc.constant("peek" as const) },
  { weight: 1, arbitrary: fc.record({ until: delayArb }) }
)

describe("FastQueue", () => {
  it("pops by (time, kind, insertion order), whatever the interleaving of pushes, peeks and pops, near and far", () => {
    fc.assert(
      fc.property(
        fc.array(opArb, { maxLength: 400 }),
        fc.constantFrom(1, 4, 32, 64, 2048, 65_536),
        fc.constantFrom(0, 31, 123_456_789, 2 ** 40),
        (ops, windowMs, startAt) => check(ops, windowMs, startAt)
      ),
      { numRuns: 500 }
    )
  })

  it("keeps insertion order among many events at one time, kinds interleaved, near and far", () => {
    const ops: Array<Op> = []
    for (let k = 0; k < 300; k++) ops.push([0, (k * 5) % 8], [70_000, 2], [70_000, k % 2])
    for (let k = 0; k < 200; k++) ops.push("pop", [0, 1], [0, 0])
    ops.push({ until: 69_999 }, { until: 0 }, [0, 3], { until: 1 })
    for (const w of [1, 1024, 65_536]) check(ops, w, 5)
  })

  it("finds the next event across the bitmap's words and summary levels", () => {
    // Single events far apart within one window: the scan must skip empty words of every level.
    for (const gaps of [[1, 31, 32, 33, 1023, 1024, 1025, 32_767, 32_768], [65_535], [40_000, 25_535, 1]]) {
      const ops: Array<Op> = []
      for (const g of gaps) ops.push([g, 4])
      ops.push("peek")
      for (let k = 0; k < gaps.length; k++) ops.push("pop", [gaps[k]!, k % 8], "peek")
      check(ops, 65_536, 0)
      check(ops, 65_536, 65_535)
    }
  })

  it("refuses an event before the last one popped, and a window that is not a power of two", () => {
    const q = new FastQueue(4)
    q.push(1000, 0, 1)
    q.pop()
    expect(() => q.push(999, 0, 2)).toThrow(/before 1000 ms/)
    expect(() => new FastQueue(4, 1000)).toThrow(/power of two/)
  })
})
