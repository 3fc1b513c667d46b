import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as Filter from "../../../src/api/protocol/Filter.js"

// The reference: EC2's wildcard rules as a regular expression built one code point at a time.
const reference = (pattern: string): RegExp => {
  const cps = Array.from(pattern)
  let re = ""
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!
    const lit = (x: string) => x.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&")
    if (c === "\\" && i + 1 < cps.length) re += lit(cps[++i]!)
    else if (c === "*") re += ".*"
    else if (c === "?") re += "."
    else re += lit(c)
  }
  return new RegExp(`^${re}$`, "su")
}

const alphabet = fc.constantFrom("a", "b", "*", "?", "\\", "🌍", ".", "[", "\n", "é")
const str = (max: number) => fc.array(alphabet, { maxLength: max }).map((cs) => cs.join(""))

describe("wildcards", () => {
  it("agree with the reference regular expression", () => {
    fc.assert(
      fc.property(str(8), str(10), (pattern, value) => {
        expect(Filter.wildcardMatch(pattern, value)).toBe(reference(pattern).test(value))
      }),
      { numRuns: 20_000 }
    )
  })

  it("agree on any Unicode input too", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme-composite", maxLength: 8 }), fc.string({ unit: "grapheme-composite", maxLength: 8 }), (pattern, value) => {
        expect(Filter.wildcardMatch(pattern, value)).toBe(reference(pattern).test(value))
        // A pattern matches its own literal reading once every special character is escaped.
        const escaped = Array.from(value).map((c) => ("*?\\".includes(c) ? `\\${c}` : c)).join("")
        expect(Filter.wildcardMatch(escaped, value)).toBe(true)
      }),
      { numRuns: 5_000 }
    )
  })
})

describe("filters", () => {
  interface R {
    readonly a: ReadonlyArray<string>
    readonly b: ReadonlyArray<string>
    readonly tags: ReadonlyArray<Filter.Tag>
  }
  const table: Filter.Table<R> = { a: (r) => r.a, b: (r) => r.b }
  const values = fc.array(str(3), { maxLength: 3 })
  const resource = fc.record({ a: values, b: values, tags: fc.array(fc.record({ key: fc.constantFrom("k", "l"), value: str(3) }), { maxLength: 3 }) })
  const filter = fc.record({ Name: fc.constantFrom("a", "b", "tag:k", "tag-key", "tag-value"), Values: fc.array(str(3), { minLength: 1, maxLength: 3 }) })

  it("AND across filters, OR across values, any of the resource's values", () => {
    fc.assert(
      fc.property(fc.array(filter, { maxLength: 3 }), fc.array(resource, { maxLength: 5 }), (filters, resources) => {
        const p = Either.getOrThrow(Filter.compile(table, filters, { tags: (r) => r.tags }))
        for (const r of resources) {
          const holds = filters.every((f) => {
            const attribute =
              f.Name === "tag:k" ? r.tags.filter((t) => t.key === "k").map((t) => t.value) : f.Name === "tag-key" ? r.tags.map((t) => t.key) : f.Name === "tag-value" ? r.tags.map((t) => t.value) : r[f.Name as "a" | "b"]
            return attribute.some((v) => f.Values.some((pat) => reference(pat).test(v)))
          })
          expect(p(r)).toBe(holds)
        }
      }),
      { numRuns: 2_000 }
    )
  })
})
