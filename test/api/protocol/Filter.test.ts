import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Filter from "../../../src/api/protocol/Filter.js"

interface Vm {
  readonly id: string
  readonly state: string
  readonly groups: ReadonlyArray<string>
  readonly tags: ReadonlyArray<Filter.Tag>
}

const vms: ReadonlyArray<Vm> = [
  { id: "i-1", state: "running", groups: ["default", "web"], tags: [{ key: "Name", value: "web-1" }, { key: "env", value: "prod" }] },
  { id: "i-2", state: "pending", groups: ["default"], tags: [{ key: "Name", value: "db-1" }] },
  { id: "i-3", state: "terminated", groups: ["web"], tags: [{ key: "Name", value: "a*b?c\\d" }] },
  { id: "i-4", state: "running", groups: [], tags: [] }
]

const table: Filter.Table<Vm> = {
  "instance-id": (v) => v.id,
  "instance-state-name": (v) => v.state,
  "group-name": (v) => v.groups
}

const select = (filters: ReadonlyArray<{ Name?: string; Values?: ReadonlyArray<string> }>): ReadonlyArray<string> => {
  const p = Either.getOrThrow(Filter.compile(table, filters, { tags: (v) => v.tags }))
  return vms.filter(p).map((v) => v.id)
}

describe("wildcards", () => {
  it("reads * as any run, ? as one character, and \\ as an escape", () => {
    const m = Filter.wildcardMatch
    expect(m("web-*", "web-1")).toBe(true)
    expect(m("web-*", "web-")).toBe(true)
    expect(m("*", "")).toBe(true)
    expect(m("?", "")).toBe(false)
    expect(m("web-?", "web-12")).toBe(false)
    expect(m("w?b*1", "web-1")).toBe(true)
    expect(m("?", "🌍")).toBe(true) // one character, not one UTF-16 unit
    expect(m("a\\*b", "a*b")).toBe(true)
    expect(m("a\\*b", "axb")).toBe(false)
    expect(m("a\\?", "ax")).toBe(false)
    expect(m("a\\\\", "a\\")).toBe(true)
    expect(m("a\\", "a\\")).toBe(true) // a trailing backslash is itself
    expect(m("Web-*", "web-1")).toBe(false) // case-sensitive
    expect(m("*a*a*a*a*a*b", "a".repeat(200))).toBe(false)
  })
})

describe("compile", () => {
  it("matches everything without filters", () => {
    expect(select([])).toEqual(["i-1", "i-2", "i-3", "i-4"])
  })

  it("ANDs filters, ORs the values of one filter, and matches any of a resource's values", () => {
    expect(select([{ Name: "instance-state-name", Values: ["running", "pending"] }])).toEqual(["i-1", "i-2", "i-4"])
    expect(select([{ Name: "instance-state-name", Values: ["running", "pending"] }, { Name: "group-name", Values: ["web"] }])).toEqual(["i-1"])
    expect(select([{ Name: "group-name", Values: ["def*"] }])).toEqual(["i-1", "i-2"])
    expect(select([{ Name: "instance-state-name", Values: ["running"] }, { Name: "instance-state-name", Values: ["pending"] }])).toEqual([])
  })

  it("filters by tag:Key (the key literal), tag-key and tag-value", () => {
    expect(select([{ Name: "tag:Name", Values: ["web-*", "db-?"] }])).toEqual(["i-1", "i-2"])
    expect(select([{ Name: "tag:Name", Values: ["a\\*b\\?c\\\\d"] }])).toEqual(["i-3"])
    expect(select([{ Name: "tag:N*", Values: ["*"] }])).toEqual([])
    expect(select([{ Name: "tag-key", Values: ["env"] }])).toEqual(["i-1"])
    expect(select([{ Name: "tag-value", Values: ["*-1"] }])).toEqual(["i-1", "i-2"])
  })

  it("refuses unknown filters, filters without a name and filters without values", () => {
    const err = (filters: ReadonlyArray<{ Name?: string; Values?: ReadonlyArray<string> }>) => {
      const r = Filter.compile(table, filters, { tags: (v) => v.tags })
      if (Either.isRight(r)) throw new Error("expected an error")
      return { code: r.left.code, message: r.left.message }
    }
    expect(err([{ Name: "instance-colour", Values: ["red"] }])).toEqual({ code: "InvalidParameterValue", message: "The filter 'instance-colour' is invalid" })
    expect(err([{ Name: "toString", Values: ["x"] }]).code).toBe("InvalidParameterValue")
    expect(err([{ Name: "tag:", Values: ["x"] }]).code).toBe("InvalidParameterValue")
    expect(err([{ Values: ["x"] }])).toEqual({ code: "MissingParameter", message: "The request must contain the parameter Filter.1.Name" })
    expect(err([{ Name: "instance-id", Values: ["i-1"] }, { Name: "instance-id" }]).message).toContain("Filter.2.Value.1")
    const noTags = Filter.compile(table, [{ Name: "tag:Name", Values: ["x"] }])
    expect(Either.isLeft(noTags)).toBe(true) // a resource without tags has no tag filters
  })
})
