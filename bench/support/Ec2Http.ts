/**
 * A lean EC2 Query client for benchmarks: form-encoded POSTs signed with SigV4 (node:crypto, header
 * form) over keep-alive connections, answers returned as text. The same client drives every server
 * under test, so its own cost is the same for each and small next to theirs.
 */
import { createHash, createHmac } from "node:crypto"
import * as Http from "node:http"

export interface Endpoint {
  readonly url: string
  readonly region: string
  readonly accessKeyId: string
  readonly secretAccessKey: string
}

export interface Answer {
  readonly status: number
  readonly body: string
}

const UNRESERVED = /^[A-Za-z0-9\-_.~]$/
/** RFC 3986: unreserved characters stay, everything else is %XX of its UTF-8 bytes (a lone surrogate as U+FFFD, as Buffer encodes it). */
export const encode3986 = (s: string): string => {
  let out = ""
  for (const b of Buffer.from(s, "utf8")) {
    const c = String.fromCharCode(b)
    out += b < 0x80 && UNRESERVED.test(c) ? c : `%${b.toString(16).toUpperCase().padStart(2, "0")}`
  }
  return out
}

export const form = (params: ReadonlyArray<readonly [string, string]>): string => params.map(([k, v]) => `${encode3986(k)}=${encode3986(v)}`).join("&")

const hmac = (key: Buffer | string, data: string) => createHmac("sha256", key).update(data, "utf8").digest()
const sha256 = (data: string) => createHash("sha256").update(data, "utf8").digest("hex")

export class Client {
  private readonly agent: Http.Agent
  private readonly host: string
  private readonly hostname: string
  private readonly port: number
  private signingKey: { readonly day: string; readonly key: Buffer } | undefined

  constructor(
    readonly endpoint: Endpoint,
    connections = 1
  ) {
    const u = new URL(endpoint.url)
    this.host = u.host
    this.hostname = u.hostname
    this.port = Number(u.port || 80)
    this.agent = new Http.Agent({ keepAlive: true, maxSockets: connections })
  }

  private key(day: string): Buffer {
    if (this.signingKey?.day !== day) {
      const k = hmac(hmac(hmac(hmac(`AWS4${this.endpoint.secretAccessKey}`, day), this.endpoint.region), "ec2"), "aws4_request")
      this.signingKey = { day, key: k }
    }
    return this.signingKey.key
  }

  /** One signed request; resolves with the status and body whatever the status. */
  call(action: string, params: ReadonlyArray<readonly [string, string]> = []): Promise<Answer> {
    const body = form([["Action", action], ["Version", "2016-11-15"], ...params])
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "")
    const day = amzDate.slice(0, 8)
    const contentType = "application/x-www-form-urlencoded; charset=utf-8"
    const payloadHash = sha256(body)
    const canonical = `POST\n/\n\ncontent-type:${contentType}\nhost:${this.host}\nx-amz-content-sha256:${payloadHash}\nx-amz-date:${amzDate}\n\ncontent-type;host;x-amz-content-sha256;x-amz-date\n${payloadHash}`
    const scope = `${day}/${this.endpoint.region}/ec2/aws4_request`
    const toSign = `AWS4-HMAC-SHA256\n${amzDate}\n${scope}\n${sha256(canonical)}`
    const signature = createHmac("sha256", this.key(day)).update(toSign, "utf8").digest("hex")
    const headers = {
      "content-type": contentType,
      host: this.host,
      "x-amz-content-sha256": payloadHash,
      "x-amz-date": amzDate,
      authorization: `AWS4-HMAC-SHA256 Credential=${this.endpoint.accessKeyId}/${scope}, SignedHeaders=content-type;host;x-amz-content-sha256;x-amz-date, Signature=${signature}`,
      "content-length": String(Buffer.byteLength(body))
    }
    return new Promise((resolve, reject) => {
      const req = Http.request({ hostname: this.hostname, port: this.port, method: "POST", path: "/", headers, agent: this.agent }, (res) => {
        const chunks: Array<Buffer> = []
        res.on("data", (c: Buffer) => chunks.push(c))
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }))
        res.on("error", reject)
      })
      req.on("error", reject)
      req.end(body)
    })
  }

  /** Like `call`, but a non-2xx answer is an error naming the action and the server's message. */
  async ok(action: string, params: ReadonlyArray<readonly [string, string]> = []): Promise<string> {
    const a = await this.call(action, params)
    if (a.status < 200 || a.status >= 300) throw new Error(`${action} → HTTP ${a.status}: ${a.body.slice(0, 500)}`)
    return a.body
  }

  close(): void {
    this.agent.destroy()
  }
}

/** All values of an XML element, in order (enough to pick ids out of EC2 answers). */
export const all = (xml: string, element: string): Array<string> => [...xml.matchAll(new RegExp(`<${element}>([^<]*)</${element}>`, "g"))].map((m) => m[1]!)
