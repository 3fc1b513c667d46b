import { Sha256 } from "@aws-crypto/sha256-js"
import { describe, expect, it } from "@effect/vitest"
import { SignatureV4 } from "@smithy/signature-v4"
import { Cause, Effect, Exit, FastCheck as fc } from "effect"
import * as Auth from "../../../src/api/protocol/Auth.js"
import * as Ec2Error from "../../../src/api/protocol/Ec2Error.js"
import { credentials, queryString } from "./sdk.js"

const lookup: Auth.Lookup = (id) => Effect.succeed(id === credentials.accessKeyId ? { secretAccessKey: credentials.secretAccessKey, accountId: "1" } : undefined)
const now = Date.UTC(2026, 10, 26, 10, 0, 0)

const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const text = fc.string({ unit: "grapheme", maxLength: 10 })
const params = fc.dictionary(fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }), text, { maxKeys: 6 })
const region = fc.oneof(fc.constantFrom("eucalyptus", "us-east-1"), fc.stringMatching(/^[a-z0-9-]{1,20}$/))
const path = fc.constantFrom("/", "/services/Eucalyptus", "/services/Eucalyptus/", "/services/compute")

const sign = async (r: { region: string; path: string; query: Record<string, string>; body: Record<string, string>; presign: boolean }): Promise<Auth.HttpRequest> => {
  const signer = new SignatureV4({ service: "ec2", region: r.region, credentials, sha256: Sha256, applyChecksum: false })
  const body = Object.entries(r.body).map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&")
  const request = {
    method: r.presign ? "GET" : "POST",
    protocol: "http:",
    hostname: "127.0.0.1",
    path: r.path,
    query: r.query,
    headers: r.presign ? { host: "127.0.0.1:8773" } : { host: "127.0.0.1:8773", "content-type": "application/x-www-form-urlencoded" },
    ...(r.presign ? {} : { body })
  }
  const signed = r.presign ? await signer.presign(request, { signingDate: new Date(now), expiresIn: 60 }) : await signer.sign(request, { signingDate: new Date(now) })
  return { method: signed.method, host: "127.0.0.1:8773", path: signed.path, query: queryString(signed.query as never), headers: signed.headers, body: r.presign ? "" : body }
}

const verdict = async (req: Auth.HttpRequest) => {
  const exit = await Effect.runPromiseExit(Auth.authenticate(req, lookup, { now }))
  if (Exit.isSuccess(exit)) return "ok" as const
  // Never a defect: every failure is a typed client error.
  const failure = Cause.failureOption(exit.cause)
  expect(failure._tag).toBe("Some")
  const e = (failure as { value: Ec2Error.Ec2Error }).value
  expect(e).toBeInstanceOf(Ec2Error.Ec2Error)
  expect(e.status).toBeGreaterThanOrEqual(400)
  expect(e.status).toBeLessThan(500)
  return e.code
}

const request = fc.record({ region, path, query: params, body: params, presign: fc.boolean() })

describe("SigV4 signed by @smithy/signature-v4", () => {
  it("verifies any parameters, region and path, headers or presigned", async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        expect(await verdict(await sign(r))).toBe("ok")
      }),
      { numRuns: 200 }
    )
  })

  it("refuses any change to a signed byte of the query or the body", async () => {
    await fc.assert(
      fc.asyncProperty(request, fc.nat(), fc.constantFrom("query" as const, "body" as const), fc.constantFrom("x", "%41", "&", "="), async (r, at, where, insert) => {
        const req = await sign(r)
        const original = String(req[where])
        const i = original.length === 0 ? 0 : at % (original.length + 1)
        const changed = original.slice(0, i) + insert + original.slice(i)
        // A change that decodes to the same parameters (a stray `&`, or `=` — a pair without a name,
        // which the Query decoder drops everywhere) is not a change to what was signed.
        const named = (s: string) => [...new URLSearchParams(s)].filter(([k]) => k !== "").map(([k, v]) => `${k}=${v}`).join("&")
        const same = (a: string, b: string) => named(a) === named(b)
        fc.pre(!same(original, changed))
        expect(await verdict({ ...req, [where]: changed })).not.toBe("ok")
      }),
      { numRuns: 200 }
    )
  })

  it("answers hostile Authorization headers and X-Amz-* queries with client errors only", async () => {
    const junk = fc.string({ unit: "binary", maxLength: 40 })
    await fc.assert(
      fc.asyncProperty(junk, junk, junk, junk, async (a, b, c, d) => {
        const req: Auth.HttpRequest = { method: "POST", host: "h", path: "/", query: "", headers: { authorization: `AWS4-HMAC-SHA256 ${a}`, "x-amz-date": b }, body: "" }
        expect(await verdict(req)).not.toBe("ok")
        const q = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${enc(c)}&X-Amz-Date=${enc(d)}&X-Amz-SignedHeaders=host&X-Amz-Signature=${enc(a)}&X-Amz-Expires=${enc(b)}`
        expect(await verdict({ ...req, headers: {}, query: q })).not.toBe("ok")
        expect(await verdict({ ...req, headers: {}, query: `Signature=${enc(a)}&SignatureVersion=${enc(b)}&SignatureMethod=HmacSHA256&AWSAccessKeyId=${enc(c)}&Timestamp=${enc(d)}` })).not.toBe("ok")
      }),
      { numRuns: 300 }
    )
  })
})
