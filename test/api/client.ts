/**
 * Helpers for the API's integration tests: the error an SDK call ends in, raw Query requests signed
 * with SigV4 (the SDK's own signer, header or presigned form) or SigV2 (by hand, as old clients did),
 * and a small EC2 XML reader for the raw answers.
 */
import { createHmac } from "node:crypto"
import * as Http from "node:http"
import { Sha256 } from "@aws-crypto/sha256-js"
import { DescribeImagesCommand, EC2ServiceException, type EC2Client } from "@aws-sdk/client-ec2"
import { SignatureV4 } from "@smithy/signature-v4"
// The query encoding is the benchmark client's (one copy); re-exported for the tests.
import { encode3986, form } from "../../bench/support/Ec2Http.js"

// The SDK warns once per process that Node 20 support ends; it is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

export interface Credentials {
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

/** "Code status" of the error a call ends in, or "ok". */
export const codeOf = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p
    return "ok"
  } catch (e) {
    return e instanceof EC2ServiceException ? `${e.name} ${e.$metadata.httpStatusCode}` : `not an EC2 error: ${String(e)}`
  }
}

/** The id of one of the cloud's machine images (the first start registers two). */
export const machineImage = async (ec2: EC2Client, name = "debian-12-x86_64"): Promise<string> => {
  const r = await ec2.send(new DescribeImagesCommand({ Owners: ["eucalyptus"], Filters: [{ Name: "name", Values: [name] }] }))
  const id = r.Images?.[0]?.ImageId
  if (id === undefined) throw new Error(`no image named ${name}`)
  return id
}

export interface RawResponse {
  readonly status: number
  readonly headers: Http.IncomingHttpHeaders
  readonly body: string
}

export interface SendOptions {
  readonly method: string
  readonly path: string
  readonly headers?: Readonly<Record<string, string>>
  readonly body?: string
  /** Source address of the connection (metadata tests). */
  readonly localAddress?: string
}

/** One HTTP request to the server, over a fresh connection. */
export const send = (url: string, o: SendOptions): Promise<RawResponse> =>
  new Promise((resolve, reject) => {
    const u = new URL(url)
    const req = Http.request(
      {
        host: u.hostname,
        port: Number(u.port),
        method: o.method,
        path: o.path,
        headers: { ...(o.body !== undefined ? { "content-length": String(Buffer.byteLength(o.body)) } : {}), ...o.headers },
        agent: false,
        ...(o.localAddress !== undefined ? { localAddress: o.localAddress } : {})
      },
      (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }))
        res.on("error", reject)
      }
    )
    req.on("error", reject)
    if (o.body !== undefined) req.write(o.body)
    req.end()
  })


export interface SignOptions {
  readonly region: string
  readonly credentials: Credentials
  readonly path?: string
  /** The signing time (default now). */
  readonly date?: Date
  /** The service in the credential scope (default ec2). */
  readonly service?: string
}

const signer = (o: SignOptions) => new SignatureV4({ service: o.service ?? "ec2", region: o.region, credentials: o.credentials, sha256: Sha256 })

/** A POST with a form body, signed with SigV4 in the Authorization header. */
export const postV4 = async (url: string, params: ReadonlyArray<readonly [string, string]>, o: SignOptions): Promise<RawResponse> =>
  postBodyV4(url, form(params), o)

/** A POST of any body text (already form-encoded, or hostile), signed with SigV4. */
export const postBodyV4 = async (url: string, body: string, o: SignOptions): Promise<RawResponse> => {
  const u = new URL(url)
  const path = o.path ?? "/"
  const signed = await signer(o).sign(
    {
      method: "POST",
      protocol: "http:",
      hostname: u.hostname,
      port: Number(u.port),
      path,
      query: {},
      headers: { host: u.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body
    },
    o.date !== undefined ? { signingDate: o.date } : {}
  )
  return send(url, { method: "POST", path, headers: signed.headers as Record<string, string>, body })
}

/** A GET whose parameters and SigV4 signature are all in the query string (a presigned URL). */
export const getPresignedV4 = async (url: string, params: ReadonlyArray<readonly [string, string]>, o: SignOptions & { readonly expiresIn?: number }): Promise<RawResponse> => {
  const u = new URL(url)
  const path = o.path ?? "/"
  const query: Record<string, string> = {}
  for (const [k, v] of params) query[k] = v
  const signed = await signer(o).presign(
    { method: "GET", protocol: "http:", hostname: u.hostname, port: Number(u.port), path, query, headers: { host: u.host } },
    { expiresIn: o.expiresIn ?? 300, ...(o.date !== undefined ? { signingDate: o.date } : {}) }
  )
  const qs = Object.entries(signed.query ?? {})
    .flatMap(([k, v]) => (Array.isArray(v) ? v : [v]).map((one) => `${encode3986(k)}=${encode3986(String(one))}`))
    .join("&")
  return send(url, { method: "GET", path: `${path}?${qs}` })
}

/** A GET signed with Signature Version 2 (HmacSHA256), built by hand from AWS's description. */
export const getV2 = (url: string, params: ReadonlyArray<readonly [string, string]>, o: SignOptions & { readonly timestamp?: string; readonly method?: "HmacSHA256" | "HmacSHA1" }): Promise<RawResponse> => {
  const u = new URL(url)
  const path = o.path ?? "/"
  const all: Array<readonly [string, string]> = [
    ...params,
    ["AWSAccessKeyId", o.credentials.accessKeyId],
    ["SignatureVersion", "2"],
    ["SignatureMethod", o.method ?? "HmacSHA256"],
    ["Timestamp", o.timestamp ?? (o.date ?? new Date()).toISOString().replace(/\.\d{3}Z$/, "Z")]
  ]
  const sorted = [...all].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
  const canonical = form(sorted)
  const toSign = `GET\n${u.host.toLowerCase()}\n${path}\n${canonical}`
  const signature = createHmac(o.method === "HmacSHA1" ? "sha1" : "sha256", o.credentials.secretAccessKey).update(toSign, "utf8").digest("base64")
  return send(url, { method: "GET", path: `${path}?${canonical}&Signature=${encode3986(signature)}` })
}

/** The text of the first `<name>` element (enough to read codes and ids from raw answers). */
export const xmlText = (xml: string, name: string): string | undefined => {
  const m = new RegExp(`<${name}>([^<]*)</${name}>`).exec(xml)
  return m?.[1]
}

export const errorCode = (r: { readonly body: string }): string | undefined => xmlText(r.body, "Code")

export { encode3986, form }
