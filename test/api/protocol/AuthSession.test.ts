/**
 * Temporary credentials in the authenticator: the session token is required in each signature
 * form (header, presigned, SigV2), must match, and holds until the credentials expire.
 */
import { Sha256 } from "@aws-crypto/sha256-js"
import { describe, expect, it } from "@effect/vitest"
import { SignatureV4 } from "@smithy/signature-v4"
import { Effect, Exit } from "effect"
import * as Crypto from "node:crypto"
import * as Auth from "../../../src/api/protocol/Auth.js"
import { queryString } from "./sdk.js"

const t = Date.UTC(2026, 11, 3, 8, 0, 0)
const token = "FwoGZXIvYXdzEXAMPLETOKEN+/="
const temp = { accessKeyId: "ASIAEXAMPLE000000001", secretAccessKey: "tempsecret/EXAMPLE0000000000000000000000", sessionToken: token }
const expiresAt = t + 900_000
const lookup: Auth.Lookup = (id) =>
  Effect.succeed(
    id === temp.accessKeyId
      ? { secretAccessKey: temp.secretAccessKey, accountId: "000000000001", session: { tokenSha256: Crypto.createHash("sha256").update(token).digest("hex"), expiresAt } }
      : undefined
  )

const outcome = async (req: Auth.HttpRequest, now: number): Promise<string> => {
  const exit = await Effect.runPromiseExit(Auth.authenticate(req, lookup, { now, maxSkewMs: 2 * 3_600_000 }))
  if (Exit.isSuccess(exit)) return exit.value.temporary === true ? "ok temporary" : "ok"
  return exit.cause._tag === "Fail" ? (exit.cause.error as { code: string }).code : "defect"
}

const base = {
  method: "GET",
  protocol: "http:",
  hostname: "127.0.0.1",
  port: 8773,
  path: "/",
  query: { Action: "DescribeInstances", Version: "2016-11-15" },
  headers: { host: "127.0.0.1:8773" }
}
const asRequest = (r: { method: string; path: string; query?: Record<string, string | Array<string> | null>; headers: Record<string, string> }): Auth.HttpRequest => ({
  method: r.method,
  host: r.headers["host"]!,
  path: r.path,
  query: queryString(r.query),
  headers: r.headers,
  body: ""
})
const signer = (sessionToken?: string) =>
  new SignatureV4({
    service: "ec2",
    region: "eucalyptus",
    credentials: { accessKeyId: temp.accessKeyId, secretAccessKey: temp.secretAccessKey, ...(sessionToken !== undefined ? { sessionToken } : {}) },
    sha256: Sha256,
    applyChecksum: false
  })

describe("temporary credentials in the authenticator", () => {
  it("SigV4 header: with its token until expiry; without it or with another, AuthFailure; after, RequestExpired", async () => {
    const signed = await signer(token).sign(base, { signingDate: new Date(t) })
    expect(signed.headers["x-amz-security-token"]).toBe(token)
    expect(await outcome(asRequest(signed), t)).toBe("ok temporary")
    const late = await signer(token).sign(base, { signingDate: new Date(expiresAt) })
    expect(await outcome(asRequest(late), expiresAt - 1)).toBe("ok temporary")
    expect(await outcome(asRequest(late), expiresAt)).toBe("RequestExpired")
    expect(await outcome(asRequest(await signer().sign(base, { signingDate: new Date(t) })), t)).toBe("AuthFailure")
    expect(await outcome(asRequest(await signer(`${token}x`).sign(base, { signingDate: new Date(t) })), t)).toBe("AuthFailure")
  })

  it("presigned: the token as X-Amz-Security-Token", async () => {
    const presigned = await signer(token).presign(base, { signingDate: new Date(t), expiresIn: 300 })
    const req = asRequest(presigned)
    expect(req.query).toContain("X-Amz-Security-Token=")
    expect(await outcome(req, t + 1000)).toBe("ok temporary")
    expect(await outcome(asRequest(await signer().presign(base, { signingDate: new Date(t), expiresIn: 300 })), t + 1000)).toBe("AuthFailure")
  })

  it("SigV2: the token as SecurityToken", async () => {
    const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    const v2 = (extra: Record<string, string>) => {
      const params: Record<string, string> = {
        Action: "DescribeInstances",
        Version: "2009-07-15",
        AWSAccessKeyId: temp.accessKeyId,
        SignatureVersion: "2",
        SignatureMethod: "HmacSHA256",
        Timestamp: new Date(t).toISOString(),
        ...extra
      }
      const canonical = Object.keys(params).sort().map((k) => `${enc(k)}=${enc(params[k]!)}`).join("&")
      const signature = Crypto.createHmac("sha256", temp.secretAccessKey).update(`GET\n127.0.0.1:8773\n/\n${canonical}`).digest("base64")
      return { method: "GET", host: "127.0.0.1:8773", path: "/", query: `${canonical}&Signature=${enc(signature)}`, headers: {}, body: "" } satisfies Auth.HttpRequest
    }
    expect(await outcome(v2({ SecurityToken: token }), t)).toBe("ok temporary")
    expect(await outcome(v2({}), t)).toBe("AuthFailure")
  })
})
