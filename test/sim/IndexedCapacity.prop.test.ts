import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Availability from "../../src/model/Availability.js"
import * as Capacity from "../../src/model/Capacity.js"
import * as Ids from "../../src/model/Ids.js"
import * as Resources from "../../src/model/Resources.js"
import { IndexedCapacity } from "../../src/sim/IndexedCapacity.js"

type Op =
  | { readonly op: "allocate"; readonly node: number; readonly size: readonly [number, number, number]; readonly force: boolean }
  | { readonly op: "release"; readonly node: number }
  | { readonly op: "state"; readonly node: number; readonly state: Capacity.NodeState }
  | { readonly op: "query"; readonly size: readonly [number, number, number]; readonly mask: number; readonly from: number; readonly wrap: boolean }
  /** A query for exactly what node `node` has free (the equality edge of every comparison). */
  | { readonly op: "exact"; readonly node: number; readonly mask: number; readonly from: number; readonly wrap: boolean }

// Few distinct capacities and sizes, so that ties in (free memory, free cores) are frequent.
const sizeArb = fc.oneof(
  fc.constantFrom([1, 128, 2] as const, [1, 256, 5] as const, [2, 512, 10] as const, [2, 1024, 20] as const, [4, 2048, 20] as const),
  fc.tuple(fc.integer({ min: 0, max: 6 }), fc.constantFrom(0, 64, 128, 256, 512, 1024, 3000), fc.integer({ min: 0, max: 30 }))
)
const stateArb = fc.constantFrom<Capacity.NodeState>("up", "up", "asleep", "waking", "down")
const nodeArb = fc.tuple(fc.integer({ min: 1, max: 8 }), fc.constantFrom(512, 1024, 2048, 4096), fc.constantFrom(20, 40, 60), stateArb)
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ op: fc.constant("allocate" as const), node: fc.nat(200), size: sizeArb, force: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant("release" as const), node: fc.nat(200) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant("state" as const), node: fc.nat(200), state: stateArb }) },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant("query" as const), size: sizeArb, mask: fc.integer({ min: 1, max: 15 }), from: fc.nat(200), wrap: fc.boolean() })
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant("exact" as const), node: fc.nat(200), mask: fc.integer({ min: 1, max: 15 }), from: fc.nat(200), wrap: fc.boolean() })
  }
)

const ratiosArb = fc.constantFrom<Capacity.Ratios>(Capacity.noOvercommit, { cores: 2, memory: 1.5, disk: 1 }, { cores: 1.3, memory: 1, disk: 3 })

describe("IndexedCapacity", () => {
  it("answers firstFit, bestFit, worstFit, free slots and per-node reads exactly as ArrayCapacity", () => {
    fc.assert(
      fc.property(fc.array(nodeArb, { minLength: 1, maxLength: 70 }), ratiosArb, fc.array(opArb, { maxLength: 120 }), (nodes, ratios, ops) => {
        const rows: Array<Capacity.NodeRow> = nodes.map(([c, m, d, state], i) => ({
          id: Ids.nodeId(`n${i}`),
          state,
          capacity: Resources.make(c, m, d),
          used: Resources.zero,
          instances: 0
        }))
        const ref = new Capacity.ArrayCapacity(rows, ratios)
        const fast = new IndexedCapacity(rows, ratios)
        const held: Array<Array<Resources.Resources>> = rows.map(() => [])
        const n = rows.length
        let queries = 0
        for (const o of ops) {
          if (o.op === "allocate") {
            const i = o.node % n
            const d = Resources.make(...o.size)
            // Mostly placements that fit, sometimes beyond (free capacity is clamped at zero).
            if (!o.force && !Capacity.fitsAt(ref, i, d)) continue
            ref.allocate(i, d)
            fast.allocate(i, d)
            held[i]!.push(d)
          } else if (o.op === "release") {
            const i = o.node % n
            const d = held[i]!.pop()
            if (d === undefined) continue
            ref.release(i, d)
            fast.release(i, d)
          } else if (o.op === "state") {
            ref.setState(o.node % n, o.state)
            fast.setState(o.node % n, o.state)
          } else {
            queries++
            const e = o.op === "exact" ? o.node % n : -1
            const d = o.op === "query" ? Resources.make(...o.size) : Resources.make(ref.freeCores(e), ref.freeMemory(e), ref.freeDisk(e))
            const from = o.from % (n + 2)
            expect(fast.firstFit(d, o.mask, from, o.wrap)).toBe(ref.firstFit(d, o.mask, from, o.wrap))
            // Again from elsewhere without a change in between (the view caches the first fit from node 0).
            const from2 = (from * 7 + 3) % (n + 2)
            expect(fast.firstFit(d, o.mask, from2, !o.wrap)).toBe(ref.firstFit(d, o.mask, from2, !o.wrap))
            expect(fast.firstFit(d, o.mask, 0, false)).toBe(ref.firstFit(d, o.mask, 0, false))
            expect(fast.bestFit(d, o.mask)).toBe(ref.bestFit(d, o.mask))
            expect(fast.worstFit(d, o.mask)).toBe(ref.worstFit(d, o.mask))
            expect(fast.freeSlots(d)).toBe(Availability.slots(ref, d).free)
            // Sure only when nothing fits (it asks the index last used, here worstFit's).
            expect(fast.nothingFits(d, o.mask)).toBe(ref.firstFit(d, o.mask, 0, false) < 0)
          }
        }
        for (let i = 0; i < n; i++) {
          expect([fast.state(i), fast.freeCores(i), fast.freeMemory(i), fast.freeDisk(i), fast.instances(i), fast.capCores(i)]).toEqual([
            ref.state(i),
            ref.freeCores(i),
            ref.freeMemory(i),
            ref.freeDisk(i),
            ref.instances(i),
            ref.capCores(i)
          ])
        }
        return queries >= 0
      }),
      { numRuns: 400 }
    )
  })

  it("stays exact on clusters big enough for its indexes to split, empty and drop blocks", () => {
    fc.assert(
      fc.property(fc.integer({ min: 65, max: 300 }), fc.array(fc.nat(1_000_000), { minLength: 50, maxLength: 200 }), (n, draws) => {
        const rows: Array<Capacity.NodeRow> = Array.from({ length: n }, (_, i) => ({
          id: Ids.nodeId(`n${i}`),
          state: i % 17 === 0 ? "asleep" : "up",
          capacity: Resources.make(8, 8192, 200),
          used: Resources.zero,
          instances: 0
        }))
        const ref = new Capacity.ArrayCapacity(rows)
        const fast = new IndexedCapacity(rows)
        const held: Array<[number, Resources.Resources]> = []
        const types = [Resources.make(1, 128, 2), Resources.make(2, 512, 10), Resources.make(4, 2048, 20), Resources.make(3, 1000, 7)]
        let k = 0
        const r = () => draws[k++ % draws.length]! + k
        const place = (): boolean => {
          const x = r()
          const d = types[x % types.length]!
          const via = x % 3
          const i = via === 0 ? ref.bestFit(d, Capacity.AWAKE) : via === 1 ? ref.worstFit(d, Capacity.NOT_DOWN) : ref.firstFit(d, Capacity.UP, x % n, true)
          expect(via === 0 ? fast.bestFit(d, Capacity.AWAKE) : via === 1 ? fast.worstFit(d, Capacity.NOT_DOWN) : fast.firstFit(d, Capacity.UP, x % n, true)).toBe(i)
          if (i < 0) return false
          ref.allocate(i, d)
          fast.allocate(i, d)
          held.push([i, d])
          return true
        }
        // Fill the cluster up, drain it completely in random order, fill it again: every node moves
        // through many keys, so blocks split, empty and are dropped.
        for (let round = 0; round < 2; round++) {
          let misses = 0
          while (misses < 8) misses = place() ? 0 : misses + 1
          while (held.length > 0) {
            const [i, d] = held.splice(r() % held.length, 1)[0]!
            ref.release(i, d)
            fast.release(i, d)
            if (held.length % 7 === 0) for (const d2 of types) expect(fast.bestFit(d2, Capacity.NOT_DOWN)).toBe(ref.bestFit(d2, Capacity.NOT_DOWN))
          }
        }
      }),
      { numRuns: 12 }
    )
  })

  it("stays exact on clusters deep enough for every level of its first-fit tree and many sorted blocks, under churn and state changes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 257, max: 2000 }),
        fc.integer({ min: 0, max: 2 ** 30 }),
        ratiosArb,
        fc.boolean(),
        (n, seed, ratios, allUp) => {
          let x = seed
          const r = (k: number) => {
            x = (Math.imul(x, 1103515245) + 12345) >>> 0
            return (x >>> 8) % k
          }
          const rows: Array<Capacity.NodeRow> = Array.from({ length: n }, (_, i) => ({
            id: Ids.nodeId(`n${i}`),
            // All up at first: every other state's bounds start empty and must rise as nodes change state.
            state: allUp ? "up" : r(23) === 0 ? "asleep" : r(29) === 0 ? "down" : "up",
            capacity: Resources.make(4 + 4 * r(4), 2048 * (1 + r(8)), 50 + 50 * r(4)),
            used: Resources.zero,
            instances: 0
          }))
          const ref = new Capacity.ArrayCapacity(rows, ratios)
          const fast = new IndexedCapacity(rows, ratios)
          const types = [Resources.make(1, 128, 2), Resources.make(2, 512, 10), Resources.make(4, 2048, 20), Resources.make(8, 8192, 100), Resources.make(3, 1000, 7)]
          const masks = [Capacity.UP, Capacity.AWAKE, Capacity.NOT_DOWN, Capacity.ASLEEP, Capacity.UP | Capacity.DOWN]
          const states: ReadonlyArray<Capacity.NodeState> = ["up", "asleep", "waking", "down"]
          const held: Array<[number, Resources.Resources]> = []
          for (let step = 0; step < 1500; step++) {
            const op = r(10)
            if (op < 5) {
              const d = types[r(types.length)]!
              const mask = masks[r(masks.length)]!
              const from = r(n + 1)
              const wrap = r(2) === 0
              const via = r(3)
              const i = via === 0 ? ref.firstFit(d, mask, from, wrap) : via === 1 ? ref.bestFit(d, mask) : ref.worstFit(d, mask)
              expect(via === 0 ? fast.firstFit(d, mask, from, wrap) : via === 1 ? fast.bestFit(d, mask) : fast.worstFit(d, mask)).toBe(i)
              expect(fast.firstFit(d, mask, 0, false)).toBe(ref.firstFit(d, mask, 0, false))
              expect(fast.freeSlots(d)).toBe(Availability.slots(ref, d).free)
              if (i >= 0) {
                ref.allocate(i, d)
                fast.allocate(i, d)
                held.push([i, d])
              }
            } else if (op < 9 && held.length > 0) {
              const [i, d] = held.splice(r(held.length), 1)[0]!
              ref.release(i, d)
              fast.release(i, d)
            } else {
              const i = r(n)
              const s = states[r(4)]!
              ref.setState(i, s)
              fast.setState(i, s)
            }
          }
          for (const d of types) {
            for (const mask of masks) {
              expect(fast.firstFit(d, mask, 0, false)).toBe(ref.firstFit(d, mask, 0, false))
              expect(fast.bestFit(d, mask)).toBe(ref.bestFit(d, mask))
              expect(fast.worstFit(d, mask)).toBe(ref.worstFit(d, mask))
            }
          }
        }
      ),
      { numRuns: 10 }
    )
  })

  it("keeps free-slot counts exact for more sizes than it tracks incrementally", () => {
    const rows: Array<Capacity.NodeRow> = Array.from({ length: 9 }, (_, i) => ({
      id: Ids.nodeId(`n${i}`),
      state: i === 3 ? "down" : "up",
      capacity: Resources.make(8, 4096, 60),
      used: Resources.zero,
      instances: 0
    }))
    const ref = new Capacity.ArrayCapacity(rows)
    const fast = new IndexedCapacity(rows)
    const sizes = Array.from({ length: 40 }, (_, k) => Resources.make(1 + (k % 3), 64 * (k + 1), k % 5))
    for (let step = 0; step < 30; step++) {
      const i = (step * 7) % rows.length
      const d = sizes[step % sizes.length]!
      if (Capacity.fitsAt(ref, i, d)) {
        ref.allocate(i, d)
        fast.allocate(i, d)
      }
      for (const s of sizes) expect(fast.freeSlots(s)).toBe(Availability.slots(ref, s).free)
    }
  })
})
