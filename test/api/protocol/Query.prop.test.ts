import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as Ec2Error from "../../../src/api/protocol/Ec2Error.js"
import * as Shapes from "../../../src/api/protocol/Ec2Shapes.js"
import * as Model from "../../../src/api/protocol/Model.js"
import * as Query from "../../../src/api/protocol/Query.js"

// --- an independent serializer: botocore's EC2Serializer rules, written from its source ----------------

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const serialize = (shapeName: string, value: unknown, prefix: string, out: Array<[string, string]>): void => {
  const s = Model.shape(shapeName)
  switch (s.type) {
    case "structure":
      for (const [name, ref] of Object.entries(s.members)) {
        const v = (value as Record<string, unknown>)[name]
        if (v === undefined) continue
        const key = ref.queryName ?? (ref.locationName ? ref.locationName[0]!.toUpperCase() + ref.locationName.slice(1) : name)
        serialize(ref.shape, v, prefix === "" ? key : `${prefix}.${key}`, out)
      }
      return
    case "list":
      ;(value as Array<unknown>).forEach((v, i) => serialize(s.member.shape, v, `${prefix}.${i + 1}`, out))
      return
    case "boolean":
      out.push([prefix, value ? "true" : "false"])
      return
    case "timestamp":
      out.push([prefix, new Date(value as number).toISOString()])
      return
    case "blob":
      out.push([prefix, Buffer.from(value as Uint8Array).toString("base64")])
      return
    default:
      out.push([prefix, String(value)])
  }
}

const formOf = (pairs: ReadonlyArray<[string, string]>) => pairs.map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&")

// --- inputs derived from the model ---------------------------------------------------------------------

const text = fc.string({ unit: "grapheme", maxLength: 12 })

const arbitrary = (shapeName: string, required: boolean): fc.Arbitrary<unknown> => {
  const s = Model.shape(shapeName)
  switch (s.type) {
    case "structure": {
      const req = new Set(s.required ?? [])
      const members: Record<string, fc.Arbitrary<unknown>> = {}
      for (const [name, ref] of Object.entries(s.members)) members[name] = arbitrary(ref.shape, req.has(name))
      return fc.record(members, { requiredKeys: [...req] })
    }
    case "list":
      return fc.array(arbitrary(s.member.shape, false), { minLength: required ? 1 : 0, maxLength: 3 })
    case "string":
      return required ? fc.string({ unit: "grapheme", minLength: 1, maxLength: 12 }) : text
    case "integer":
      return fc.integer({ min: s.min ?? -2147483648, max: s.max ?? 2147483647 })
    case "long":
      return fc.maxSafeInteger()
    case "double":
    case "float":
      return fc.double({ noNaN: true, noDefaultInfinity: true }).map((x) => (x === 0 ? 0 : x))
    case "boolean":
      return fc.boolean()
    case "timestamp":
      return fc.integer({ min: 0, max: 4102444800000 })
    case "blob":
      return fc.uint8Array({ maxLength: 16 }).filter((b) => !required || b.length > 0)
  }
}

// What survives the wire: EC2 serializers send nothing for an empty list or an empty structure.
const normalize = (shapeName: string, value: unknown): unknown => {
  const s = Model.shape(shapeName)
  if (s.type === "structure") {
    const out: Record<string, unknown> = {}
    for (const [name, ref] of Object.entries(s.members)) {
      const v = (value as Record<string, unknown>)[name]
      if (v === undefined) continue
      const n = normalize(ref.shape, v)
      if (n !== undefined) out[name] = n
    }
    return Object.keys(out).length === 0 ? undefined : out
  }
  if (s.type === "list") {
    const items = (value as Array<unknown>).map((v) => normalize(s.member.shape, v)).filter((v) => v !== undefined)
    return items.length === 0 ? undefined : items
  }
  return value
}

// Whether a required member (at any depth) is missing once normalized: the parser must then say so.
const missesRequired = (shapeName: string, value: unknown): boolean => {
  const s = Model.shape(shapeName)
  if (s.type === "structure") {
    const v = (value ?? {}) as Record<string, unknown>
    return (s.required ?? []).some((r) => v[r] === undefined) || Object.entries(s.members).some(([n, ref]) => v[n] !== undefined && missesRequired(ref.shape, v[n]))
  }
  if (s.type === "list") return (value as Array<unknown>).some((v) => missesRequired(s.member.shape, v))
  return false
}

describe("Query round trip", () => {
  it("parses back every input of every operation as botocore's EC2 serializer writes it", () => {
    for (const op of Shapes.operationNames) {
      const inputShape = Model.operation(op)!.input
      fc.assert(
        fc.property(arbitrary(inputShape, true), (input) => {
          const pairs: Array<[string, string]> = [
            ["Action", op],
            ["Version", "2016-11-15"]
          ]
          serialize(inputShape, input, "", pairs)
          const parsed = Query.parseRequest(Either.getOrThrow(Query.params({ body: formOf(pairs) })))
          const expected = normalize(inputShape, input) ?? {}
          if (missesRequired(inputShape, expected)) {
            // e.g. CreateTags with Tag.1 = {}: nothing of the required list reaches the wire.
            expect(Either.isLeft(parsed) && parsed.left.code).toBe("MissingParameter")
            return
          }
          if (Either.isLeft(parsed)) throw new Error(`${op}: ${parsed.left.code} ${parsed.left.message}`)
          expect(parsed.right.input).toEqual(expected)
        }),
        { numRuns: 60 }
      )
    }
  })
})

// --- hostile parameters ------------------------------------------------------------------------------

const topNames = (op: Shapes.OperationName): ReadonlyArray<string> => {
  const s = Model.shape(Model.operation(op)!.input)
  return s.type === "structure" ? Object.entries(s.members).map(([n, ref]) => Model.queryName(n, ref)) : []
}

const hostileText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom("", "0", "-0", "01", "1e309", "9".repeat(40), "true", "TRUE", "yes", "NaN", "Infinity", "%", "%zz", "aGk=", "a b", "..", "."),
  fc.integer().map(String),
  fc.array(fc.integer({ min: 0, max: 0xffff }), { maxLength: 8 }).map((cs) => String.fromCharCode(...cs))
)
const segment = fc.oneof(fc.constantFrom("1", "2", "0", "01", "1000000000", "x", "", "Name", "Value", "Key", "Tag", "IpRanges", "CidrIp", "Groups"), fc.nat(20).map(String), fc.string({ maxLength: 4 }))

const hostileParams = (op: Shapes.OperationName) =>
  fc
    .array(
      fc.tuple(
        fc.oneof(fc.constantFrom(...topNames(op)), fc.string({ maxLength: 6 })),
        fc.array(segment, { maxLength: 4 }),
        hostileText
      ),
      { maxLength: 12 }
    )
    .map((entries) => {
      const ps = new Map<string, string>([
        ["Action", op],
        ["Version", "2016-11-15"]
      ])
      for (const [top, rest, value] of entries) ps.set([top, ...rest].join("."), value)
      return ps as Query.Params
    })

describe("hostile parameters", () => {
  it("give an input or a client error, never a throw or a 5xx, and the same answer twice", () => {
    for (const op of Shapes.operationNames) {
      fc.assert(
        fc.property(hostileParams(op), (ps) => {
          const r = Query.parseRequest(ps)
          expect(Query.parseRequest(ps)).toEqual(r)
          if (Either.isLeft(r)) {
            expect(r.left).toBeInstanceOf(Ec2Error.Ec2Error)
            expect(r.left.status).toBeGreaterThanOrEqual(400)
            expect(r.left.status).toBeLessThan(500)
            expect(["InvalidParameterValue", "MissingParameter"]).toContain(r.left.code)
          } else expect(r.right.action).toBe(op)
        }),
        { numRuns: 150 }
      )
    }
  })

  it("decode any text or bytes, or answer MalformedQueryString", () => {
    const check = (input: string | Uint8Array) => {
      const r = Query.params({ query: typeof input === "string" ? input : "", body: input })
      if (Either.isLeft(r)) expect(["MalformedQueryString", "InvalidParameterValue"]).toContain(r.left.code)
      const d = Query.decodeForm(input)
      if (Either.isLeft(d)) expect(d.left.code).toBe("MalformedQueryString")
      else for (const [k] of d.right) expect(k).not.toBe("")
    }
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 40 }), check), { numRuns: 500 })
    fc.assert(fc.property(fc.stringMatching(/^[a-zA-Z0-9%&=+.]{0,40}$/), check), { numRuns: 500 })
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), check), { numRuns: 500 })
  })

  it("parse any parameter map for any action name", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 12 }), hostileText, { maxKeys: 8 }), fc.oneof(fc.constantFrom(...Shapes.operationNames), fc.string()), (dict, action) => {
        const ps = new Map(Object.entries(dict))
        ps.set("Action", action)
        const r = Query.parseRequest(ps)
        if (Either.isLeft(r)) expect(r.left.status).toBeLessThan(500)
      }),
      { numRuns: 500 }
    )
  })
})
