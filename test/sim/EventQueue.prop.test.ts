import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import { EventQueue } from "../../src/sim/EventQueue.js"

describe("EventQueue", () => {
  it("pops by (time, kind, insertion order), whatever the interleaving of pushes and pops, near and far in time", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.tuple(fc.oneof(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5000 })), fc.integer({ min: 0, max: 5 })),
            fc.constant("pop" as const)
          ),
          { maxLength: 400 }
        ),
        (ops) => {
          const q = new EventQueue()
          // The model: a list kept in order, entries tagged with their insertion number.
          const model: Array<{ time: number; kind: number; seq: number }> = []
          let seq = 0
          let now = 0
          for (const op of ops) {
            if (op === "pop") {
              if (model.length === 0) continue
              model.sort((a, b) => a.time - b.time || a.kind - b.kind || a.seq - b.seq)
              const e = model.shift()!
              q.pop()
              expect([q.time, q.kind, q.arg]).toEqual([e.time, e.kind, e.seq])
              now = e.time
            } else {
              // Events are never scheduled in the past.
              const time = now + op[0]
              q.push(time, op[1], seq)
              model.push({ time, kind: op[1], seq: seq++ })
            }
            expect(q.size).toBe(model.length)
          }
          const rest = [...model].sort((a, b) => a.time - b.time || a.kind - b.kind || a.seq - b.seq)
          for (const e of rest) {
            expect(q.peekTime()).toBe(e.time)
            expect(q.peekKind()).toBe(e.kind)
            q.pop()
            expect(q.arg).toBe(e.seq)
          }
          expect(q.peekTime()).toBe(Number.POSITIVE_INFINITY)
        }
      ),
      { numRuns: 300 }
    )
  })
})
