import * as EC2 from "@aws-sdk/client-ec2"
import { Sha256 } from "@aws-crypto/sha256-js"
import { describe, expect, it } from "@effect/vitest"
import { SignatureV4 } from "@smithy/signature-v4"
import { Effect, Exit } from "effect"
import { execFileSync } from "node:child_process"
import * as Crypto from "node:crypto"
import * as Auth from "../../../src/api/protocol/Auth.js"
import { amzDate, capture, credentials, queryString, toAuthRequest } from "./sdk.js"

const account = "000000000001"
const keys = new Map([[credentials.accessKeyId, { secretAccessKey: credentials.secretAccessKey, accountId: account }]])
const lookup: Auth.Lookup = (id) => Effect.succeed(keys.get(id))

const run = (req: Auth.HttpRequest, now: number, options: Partial<Auth.Options> = {}, l: Auth.Lookup = lookup) =>
  Effect.runPromiseExit(Auth.authenticate(req, l, { now, ...options }))

const ok = async (req: Auth.HttpRequest, now: number, options: Partial<Auth.Options> = {}) => {
  const exit = await run(req, now, options)
  if (Exit.isFailure(exit)) throw new Error(`expected success, got ${JSON.stringify(exit.cause)}`)
  return exit.value
}

const code = async (req: Auth.HttpRequest, now: number, options: Partial<Auth.Options> = {}, l: Auth.Lookup = lookup): Promise<string> => {
  const exit = await run(req, now, options, l)
  if (Exit.isSuccess(exit)) throw new Error("expected a failure, got success")
  const e = exit.cause._tag === "Fail" ? (exit.cause.error as { code?: string }) : undefined
  if (e?.code === undefined) throw new Error(`expected an Ec2Error, got ${JSON.stringify(exit.cause)}`)
  return e.code
}

const MIN = 60_000

describe("Signature Version 4, Authorization header, signed by @aws-sdk/client-ec2", () => {
  it("accepts what the SDK sends, for any region and endpoint path", async () => {
    for (const [region, endpoint] of [
      ["eucalyptus", "http://127.0.0.1:8773/"],
      ["us-east-1", "http://localhost:8773/services/Eucalyptus"],
      ["my-cloud-1", "http://cloud.example:80/services/compute"]
    ] as const) {
      const sent = await capture(new EC2.DescribeInstancesCommand({ InstanceIds: ["i-1"], Filters: [{ Name: "tag:Name", Values: ["a b", "é*"] }] }), { region, endpoint })
      expect(await ok(toAuthRequest(sent), amzDate(sent))).toEqual({ accessKeyId: credentials.accessKeyId, accountId: account, signatureVersion: "SigV4", region, service: "ec2" })
    }
  })

  it("accepts a body with UTF-8 and reserved characters", async () => {
    const sent = await capture(
      new EC2.RunInstancesCommand({ ImageId: "emi-1", MinCount: 1, MaxCount: 1, ClientToken: "t", TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "名前", Value: "a+b&c=d %/~*" }] }] })
    )
    expect((await ok(toAuthRequest(sent), amzDate(sent))).accountId).toBe(account)
  })

  it("refuses a wrong secret, an unknown key, a tampered body and a tampered host", async () => {
    const sent = await capture(new EC2.TerminateInstancesCommand({ InstanceIds: ["i-1"] }))
    const req = toAuthRequest(sent)
    const t = amzDate(sent)
    expect(await code(req, t, {}, () => Effect.succeed({ secretAccessKey: "not-the-secret", accountId: account }))).toBe("AuthFailure")
    expect(await code(req, t, {}, () => Effect.succeed(undefined))).toBe("AuthFailure")
    const tampered = { ...req, body: String(req.body).replace("i-1", "i-2") }
    expect(await code(tampered, t)).toBe("SignatureDoesNotMatch") // the body no longer matches x-amz-content-sha256
    const rehashed = { ...tampered, headers: { ...req.headers, "x-amz-content-sha256": Crypto.createHash("sha256").update(String(tampered.body)).digest("hex") } }
    expect(await code(rehashed, t)).toBe("AuthFailure") // …and the signature covers that header
    expect(await code({ ...req, host: "evil.example:8773" }, t)).toBe("AuthFailure")
    expect(await code({ ...req, method: "PUT" }, t)).toBe("AuthFailure")
  })

  it("refuses a credential scope for a region not named (EC2's AuthFailure), header and presigned", async () => {
    const sent = await capture(new EC2.DescribeRegionsCommand({}), { region: "euca-1" })
    const t = amzDate(sent)
    const regions = ["euca-1", "us-east-1"]
    expect((await ok(toAuthRequest(sent), t, { regions })).region).toBe("euca-1")
    for (const region of ["us-west-2", "evil-region-9"]) {
      const other = await capture(new EC2.DescribeRegionsCommand({}), { region })
      const exit = await run(toAuthRequest(other), amzDate(other), { regions })
      expect(Exit.isFailure(exit) && exit.cause._tag === "Fail" && exit.cause.error).toMatchObject({
        code: "AuthFailure",
        message: expect.stringContaining(`Credential should be scoped to a valid region, not '${region}'`)
      })
    }
    const presigned = await new SignatureV4({ service: "ec2", region: "evil-region-9", credentials, sha256: Sha256 }).presign(
      { method: "GET", protocol: "http:", hostname: "127.0.0.1", port: 8773, path: "/", query: { Action: "DescribeRegions", Version: "2016-11-15" }, headers: { host: "127.0.0.1:8773" } },
      { signingDate: new Date(t), expiresIn: 300 }
    )
    const q = Object.entries(presigned.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join("&")
    expect(await code({ method: "GET", host: "127.0.0.1:8773", path: "/", query: q, headers: presigned.headers, body: "" }, t, { regions })).toBe("AuthFailure")
    expect((await ok({ method: "GET", host: "127.0.0.1:8773", path: "/", query: q, headers: presigned.headers, body: "" }, t)).region).toBe("evil-region-9") // no list: any region
  })

  it("names the service a request was signed for: ec2, sts or iam; any other is refused", async () => {
    const signFor = (service: string) =>
      new SignatureV4({ service, region: "euca-1", credentials, sha256: Sha256 }).sign(
        { method: "POST", protocol: "http:", hostname: "127.0.0.1", port: 8773, path: "/", query: {}, headers: { host: "127.0.0.1:8773", "content-type": "application/x-www-form-urlencoded" }, body: "Action=GetCallerIdentity&Version=2011-06-15" },
        { signingDate: new Date(Date.UTC(2026, 10, 26, 10)) }
      )
    const t = Date.UTC(2026, 10, 26, 10)
    for (const service of ["ec2", "sts", "iam"] as const) {
      const s = await signFor(service)
      expect((await ok({ method: "POST", host: "127.0.0.1:8773", path: "/", query: "", headers: s.headers, body: String(s.body) }, t)).service).toBe(service)
    }
    const s3 = await signFor("s3")
    expect(await code({ method: "POST", host: "127.0.0.1:8773", path: "/", query: "", headers: s3.headers, body: String(s3.body) }, t)).toBe("SignatureDoesNotMatch")
  })

  it("answers RequestExpired outside the skew window (15 minutes by default), on both sides", async () => {
    const sent = await capture(new EC2.DescribeRegionsCommand({}))
    const req = toAuthRequest(sent)
    const t = amzDate(sent)
    await ok(req, t + 14 * MIN)
    await ok(req, t - 14 * MIN)
    expect(await code(req, t + 16 * MIN)).toBe("RequestExpired")
    expect(await code(req, t - 16 * MIN)).toBe("RequestExpired")
    expect(await code(req, t + 2 * MIN, { maxSkewMs: MIN })).toBe("RequestExpired")
  })

  it("answers for missing or malformed parts", async () => {
    const sent = await capture(new EC2.DescribeRegionsCommand({}))
    const req = toAuthRequest(sent)
    const t = amzDate(sent)
    const without = (name: string) => ({ ...req, headers: Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== name)) })
    expect(await code(without("authorization"), t)).toBe("AuthFailure")
    expect(await code(without("x-amz-date"), t)).toBe("IncompleteSignature")
    expect(await code(without("amz-sdk-invocation-id"), t)).toBe("SignatureDoesNotMatch") // a signed header is gone
    const auth = String(req.headers["authorization"])
    const withAuth = (a: string) => ({ ...req, headers: { ...req.headers, authorization: a } })
    expect(await code(withAuth(auth.replace(/Signature=[0-9a-f]+/, "")), t)).toBe("IncompleteSignature")
    expect(await code(withAuth(auth.replace("/ec2/", "/s3/")), t)).toBe("SignatureDoesNotMatch")
    expect(await code(withAuth(auth.replace("aws4_request", "aws5_request")), t)).toBe("IncompleteSignature")
    expect(await code(withAuth(auth.replace(/SignedHeaders=[^,]+/, "SignedHeaders=x-amz-date")), t)).toBe("IncompleteSignature") // host must be signed
    expect(await code(withAuth(auth.replace(/Credential=[^/]+\/\d{8}/, `Credential=${credentials.accessKeyId}/19990101`)), t)).toBe("SignatureDoesNotMatch")
    expect(await code(withAuth(auth.replace("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256")), t)).toBe("AuthFailure")
    expect(await code(withAuth("AWS AKID:c2lnbmF0dXJl"), t)).toBe("AuthFailure")
    expect(await code({ ...req, headers: { ...req.headers, "x-amz-date": "2026-11-26T10:00:00Z" } }, t)).toBe("IncompleteSignature")
  })

  it("refuses two authentication mechanisms in one request", async () => {
    const sent = await capture(new EC2.DescribeRegionsCommand({}))
    const req = toAuthRequest(sent)
    expect(await code({ ...req, query: "Signature=abc&SignatureVersion=2" }, amzDate(sent))).toBe("AuthFailure")
  })

  it("passes the lookup's own failure through", async () => {
    const sent = await capture(new EC2.DescribeRegionsCommand({}))
    const exit = await Effect.runPromiseExit(Auth.authenticate(toAuthRequest(sent), () => Effect.fail("store down" as const), { now: amzDate(sent) }))
    expect(exit).toEqual(Exit.fail("store down"))
  })
})

describe("Signature Version 4 with @smithy/signature-v4 directly", () => {
  const signer = new SignatureV4({ service: "ec2", region: "eucalyptus", credentials, sha256: Sha256, applyChecksum: false })
  const t = Date.UTC(2026, 10, 26, 10, 0, 0)
  const base = {
    method: "GET",
    protocol: "http:",
    hostname: "127.0.0.1",
    port: 8773,
    path: "/services/Eucalyptus",
    query: { Action: "DescribeImages", Version: "2016-11-15", "Owner.1": "self", "Filter.1.Value.1": "ubuntu *" },
    headers: { host: "127.0.0.1:8773" }
  }
  const asRequest = (r: { method: string; path: string; query?: Record<string, string | Array<string> | null>; headers: Record<string, string>; body?: unknown }): Auth.HttpRequest => ({
    method: r.method,
    host: r.headers["host"]!,
    path: r.path,
    query: queryString(r.query),
    headers: r.headers,
    body: typeof r.body === "string" ? r.body : ""
  })

  it("verifies a GET with the parameters in the query string (no x-amz-content-sha256)", async () => {
    const signed = await signer.sign(base, { signingDate: new Date(t) })
    expect(signed.headers["x-amz-content-sha256"]).toBeUndefined()
    expect((await ok(asRequest(signed), t)).signatureVersion).toBe("SigV4")
    const tampered = asRequest({ ...signed, query: { ...base.query, "Owner.1": "amazon" } })
    expect(await code(tampered, t)).toBe("AuthFailure")
  })

  it("verifies a POST whose body is covered only by the signature", async () => {
    const body = "Action=RebootInstances&Version=2016-11-15&InstanceId.1=i-1"
    const post = { ...base, method: "POST", query: {}, headers: { host: "127.0.0.1:8773", "content-type": "application/x-www-form-urlencoded" }, body }
    const signed = await signer.sign(post, { signingDate: new Date(t) })
    await ok(asRequest(signed), t)
    expect(await code({ ...asRequest(signed), body: body.replace("i-1", "i-9") }, t)).toBe("AuthFailure")
  })

  it("verifies a presigned URL (X-Amz-* in the query) until X-Amz-Expires", async () => {
    const presigned = await signer.presign(base, { signingDate: new Date(t), expiresIn: 300 })
    const req = asRequest(presigned)
    expect(req.query).toContain("X-Amz-Signature=")
    expect(req.headers["authorization"]).toBeUndefined()
    expect(await ok(req, t + 299_000)).toEqual({ accessKeyId: credentials.accessKeyId, accountId: account, signatureVersion: "SigV4-query", region: "eucalyptus", service: "ec2" })
    expect(await code(req, t + 301_000)).toBe("RequestExpired")
    expect(await code(req, t - 16 * MIN)).toBe("RequestExpired") // dated in the future
    expect(await code({ ...req, query: req.query.replace("Owner.1=self", "Owner.1=amazon") }, t)).toBe("AuthFailure")
    expect(await code({ ...req, query: req.query.replace("X-Amz-Expires=300", "X-Amz-Expires=999999999") }, t)).toBe("IncompleteSignature")
    expect(await code({ ...req, query: req.query.replace(/X-Amz-Signature=[0-9a-f]+/, "") }, t)).toBe("IncompleteSignature")
    expect(await code({ ...req, query: req.query.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA1") }, t)).toBe("AuthFailure")
  })
})

// Signature Version 2 against independent signers: AWS's published example and botocore's SigV2Auth.
describe("Signature Version 2", () => {
  it("verifies AWS's published example (Signature Version 2 signing process)", async () => {
    const exampleKeys = new Map([["AKIAIOSFODNN7EXAMPLE", { secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", accountId: "1" }]])
    const req: Auth.HttpRequest = {
      method: "GET",
      host: "elasticmapreduce.amazonaws.com",
      path: "/",
      query:
        "AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&Action=DescribeJobFlows&SignatureMethod=HmacSHA256&SignatureVersion=2&Timestamp=2011-10-03T15%3A19%3A30&Version=2009-03-31&Signature=i91nKc4PWAt0JJIdXwz9HxZCJDdiy6cf%2FMj6vPxyYIs%3D",
      headers: {},
      body: ""
    }
    const now = Date.UTC(2011, 9, 3, 15, 20, 0)
    const exit = await Effect.runPromiseExit(Auth.authenticate(req, (id) => Effect.succeed(exampleKeys.get(id)), { now }))
    expect(exit).toEqual(Exit.succeed({ accessKeyId: "AKIAIOSFODNN7EXAMPLE", accountId: "1", signatureVersion: "SigV2", region: undefined, service: "ec2" }))
  })

  const PY = `
import json, sys
from botocore.auth import SigV2Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
a = json.load(sys.stdin)
req = AWSRequest(method=a["method"], url=a["url"], data=a.get("data"), params=a.get("params") or {})
SigV2Auth(Credentials(a["key"], a["secret"])).add_auth(req)
p = req.prepare()
body = p.body.decode() if isinstance(p.body, bytes) else (p.body or "")
print(json.dumps({"url": p.url, "body": body}))
`
  const botocore = (args: { method: string; url: string; data?: Record<string, string>; params?: Record<string, string> }) => {
    const out = execFileSync("python3", ["-c", PY], { input: JSON.stringify({ ...args, key: credentials.accessKeyId, secret: credentials.secretAccessKey }) })
    const { url, body } = JSON.parse(out.toString()) as { url: string; body: string }
    const u = new URL(url)
    return { u, body }
  }
  const timestampOf = (text: string): number => Date.parse(new URLSearchParams(text).get("Timestamp")!)

  it("verifies botocore's SigV2Auth for a form POST and a GET, with the port in the host", async () => {
    const post = botocore({ method: "POST", url: "http://127.0.0.1:8773/services/Eucalyptus", data: { Action: "DescribeInstances", Version: "2009-11-30", "Filter.1.Name": "tag:Name", "Filter.1.Value.1": "a b*~é" } })
    const postReq: Auth.HttpRequest = { method: "POST", host: post.u.host, path: post.u.pathname, query: "", headers: { "content-type": "application/x-www-form-urlencoded; charset=utf-8" }, body: post.body }
    expect((await ok(postReq, timestampOf(post.body))).signatureVersion).toBe("SigV2")
    expect(await code({ ...postReq, body: post.body.replace("DescribeInstances", "RebootInstances") }, timestampOf(post.body))).toBe("AuthFailure")

    const get = botocore({ method: "GET", url: "http://localhost:8773/", params: { Action: "DescribeRegions", Version: "2009-11-30" } })
    const getReq: Auth.HttpRequest = { method: "GET", host: get.u.host, path: get.u.pathname, query: get.u.search.slice(1), headers: {}, body: "" }
    const t = timestampOf(get.u.search)
    await ok(getReq, t)
    expect(await code(getReq, t + 16 * MIN)).toBe("RequestExpired")
    expect(await code(getReq, t, {}, () => Effect.succeed({ secretAccessKey: "wrong", accountId: account }))).toBe("AuthFailure")
  })

  it("accepts a signature over the host without its port when the Host header has one (as Eucalyptus did)", async () => {
    const get = botocore({ method: "GET", url: "http://cloud.example/services/Eucalyptus", params: { Action: "DescribeRegions", Version: "2009-11-30" } })
    const req: Auth.HttpRequest = { method: "GET", host: "cloud.example:8773", path: get.u.pathname, query: get.u.search.slice(1), headers: {}, body: "" }
    await ok(req, timestampOf(get.u.search))
  })

  const hmacRequest = (algorithm: "sha1" | "sha256", params: Record<string, string>, space: "%20" | "+", secret = credentials.secretAccessKey) => {
    const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    const canonical = Object.keys(params)
      .sort()
      .map((k) => `${enc(k)}=${enc(params[k]!)}`)
      .join("&")
      .replaceAll("%20", space)
    const signature = Crypto.createHmac(algorithm, secret).update(`GET\n127.0.0.1:8773\n/\n${canonical}`).digest("base64")
    const query = `${Object.entries(params).map(([k, v]) => `${enc(k)}=${enc(v)}`).join("&")}&Signature=${signature}` // `+` left raw on purpose
    return { method: "GET", host: "127.0.0.1:8773", path: "/", query, headers: {}, body: "" } satisfies Auth.HttpRequest
  }
  const now = Date.UTC(2009, 6, 15, 12, 0, 0)
  const v2 = (extra: Record<string, string>) => ({
    Action: "DescribeImages",
    Version: "2009-07-15",
    AWSAccessKeyId: credentials.accessKeyId,
    SignatureVersion: "2",
    SignatureMethod: "HmacSHA256",
    Timestamp: "2009-07-15T12:00:00Z",
    "Owner.1": "my owner",
    ...extra
  })

  it("verifies HmacSHA1 and HmacSHA256, spaces signed as %20 or +, and an unencoded + in the Signature", async () => {
    await ok(hmacRequest("sha256", v2({}), "%20"), now)
    await ok(hmacRequest("sha256", v2({}), "+"), now)
    await ok(hmacRequest("sha1", v2({ SignatureMethod: "HmacSHA1" }), "%20"), now)
    expect(await code(hmacRequest("sha1", v2({}), "%20"), now)).toBe("AuthFailure") // method says SHA-256
  })

  it("honours Expires instead of Timestamp, and refuses what is not SigV2", async () => {
    const { Timestamp: _, ...noTimestamp } = v2({})
    await ok(hmacRequest("sha256", { ...noTimestamp, Expires: "2009-07-15T12:05:00Z" }, "%20"), now)
    expect(await code(hmacRequest("sha256", { ...noTimestamp, Expires: "2009-07-15T11:59:00Z" }, "%20"), now)).toBe("RequestExpired")
    expect(await code(hmacRequest("sha256", noTimestamp, "%20"), now)).toBe("MissingParameter")
    expect(await code(hmacRequest("sha256", v2({ Expires: "2009-07-15T12:05:00Z" }), "%20"), now)).toBe("InvalidParameterCombination")
    expect(await code(hmacRequest("sha256", v2({ Timestamp: "last tuesday" }), "%20"), now)).toBe("InvalidParameterValue")
    expect(await code(hmacRequest("sha256", v2({ SignatureVersion: "1" }), "%20"), now)).toBe("AuthFailure")
    expect(await code(hmacRequest("sha256", v2({ SignatureMethod: "HmacMD5" }), "%20"), now)).toBe("IncompleteSignature")
    expect(await code(hmacRequest("sha256", v2({ AWSAccessKeyId: "AKIDUNKNOWN" }), "%20"), now)).toBe("AuthFailure")
  })
})

describe("unsigned and malformed requests", () => {
  it("answers AuthFailure for a request without any signature (no anonymous action)", async () => {
    expect(await code({ method: "POST", host: "h", path: "/", query: "", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "Action=DescribeRegions&Version=2016-11-15" }, 0)).toBe("AuthFailure")
  })

  it("answers MalformedQueryString for a query string that cannot be decoded", async () => {
    expect(await code({ method: "GET", host: "h", path: "/", query: "Action=%zz", headers: {}, body: "" }, 0)).toBe("MalformedQueryString")
  })
})
