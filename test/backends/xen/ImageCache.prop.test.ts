import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as ImageCache from "../../../src/backends/xen/ImageCache.js"

const e = (digest: string, sizeBytes: number, usedAtMs: number): ImageCache.Entry => ({ digest, sizeBytes, usedAtMs })

describe("ImageCache.evictionPlan", () => {
  it("evicts least recently used first, smaller first on ties, and only as much as needed", () => {
    const entries = [e("a", 30, 100), e("b", 20, 50), e("c", 10, 50), e("d", 40, 10)]
    expect(ImageCache.evictionPlan(entries, 120, 20, new Set())).toEqual({ _tag: "Fits", evict: [] })
    expect(ImageCache.evictionPlan(entries, 100, 20, new Set())).toEqual({ _tag: "Fits", evict: ["d"] })
    expect(ImageCache.evictionPlan(entries, 100, 60, new Set())).toEqual({ _tag: "Fits", evict: ["d", "c", "b"] })
    expect(ImageCache.evictionPlan(entries, 100, 60, new Set(["d"]))).toEqual({ _tag: "Fits", evict: ["c", "b", "a"] })
  })

  it("refuses an image larger than the cache, and a cache whose pinned images leave no room", () => {
    expect(ImageCache.evictionPlan([], 100, 101, new Set())).toEqual({ _tag: "TooLarge" })
    expect(ImageCache.evictionPlan([e("a", 60, 1), e("b", 30, 2)], 100, 50, new Set(["a"]))).toEqual({ _tag: "CacheFull", pinnedBytes: 60 })
  })

  it.prop("fits within the bound, never evicts a pinned entry, and evicts a least-recently-used prefix", [
    fc.uniqueArray(fc.record({ digest: fc.hexaString({ minLength: 4, maxLength: 4 }), sizeBytes: fc.integer({ min: 0, max: 100 }), usedAtMs: fc.integer({ min: 0, max: 20 }) }), { selector: (x) => x.digest, maxLength: 12 }),
    fc.integer({ min: 0, max: 600 }),
    fc.integer({ min: 0, max: 200 }),
    fc.array(fc.nat(11), { maxLength: 4 })
  ], ([entries, bound, incoming, pinIdx]) => {
    const pinned = new Set(pinIdx.flatMap((i) => (entries[i] ? [entries[i]!.digest] : [])))
    const plan = ImageCache.evictionPlan(entries, bound, incoming, pinned)
    const total = entries.reduce((s, x) => s + x.sizeBytes, 0)
    if (plan._tag === "TooLarge") return void expect(incoming).toBeGreaterThan(bound)
    const free = entries.filter((x) => !pinned.has(x.digest))
    if (plan._tag === "CacheFull") {
      return void expect(total - free.reduce((s, x) => s + x.sizeBytes, 0) + incoming).toBeGreaterThan(bound)
    }
    const evicted = new Set(plan.evict)
    for (const d of plan.evict) expect(pinned.has(d)).toBe(false)
    expect(total - entries.filter((x) => evicted.has(x.digest)).reduce((s, x) => s + x.sizeBytes, 0) + incoming).toBeLessThanOrEqual(bound)
    // No kept unpinned entry is older than an evicted one.
    const newestEvicted = Math.max(-1, ...entries.filter((x) => evicted.has(x.digest)).map((x) => x.usedAtMs))
    for (const x of free) if (!evicted.has(x.digest)) expect(x.usedAtMs).toBeGreaterThanOrEqual(newestEvicted)
    // Minimal: without the last eviction it would not fit.
    if (plan.evict.length > 0) {
      const last = entries.find((x) => x.digest === plan.evict[plan.evict.length - 1])!
      expect(total - entries.filter((x) => evicted.has(x.digest)).reduce((s, x) => s + x.sizeBytes, 0) + last.sizeBytes + incoming).toBeGreaterThan(bound)
    }
  })
})
