/**
 * Request authentication for the EC2 Query API: AWS Signature Version 4 (the Authorization header
 * and the presigned query-string form) and Signature Version 2 (HmacSHA256/HmacSHA1), checked
 * against the secret key of the access key id the request names. No anonymous requests.
 *
 * SigV4 is recomputed with @smithy/signature-v4 (its canonical query, canonical headers, canonical
 * request, string to sign and signing key; hashing by node:crypto) over what was received: the
 * method, the path as sent, the raw query, exactly the headers the client lists in SignedHeaders,
 * and the SHA-256 of the body as received (a client's `x-amz-content-sha256` must equal it: the
 * body is always signed). The credential scope must be `<key>/<date>/<region>/<service>/aws4_request`
 * with the request's date, a service we answer at this endpoint (ec2; sts and iam for the identity
 * calls clients make first) and, when the caller names its regions, one of them: EC2 refuses a
 * scope for another region ("Credential should be scoped to a valid region").
 * A signature that does not verify is AuthFailure, as EC2 answers it.
 *
 * SigV2 follows AWS's spec: HMAC over `METHOD\nhost\npath\nsorted RFC 3986-encoded params`. Like
 * Eucalyptus's HmacV2Handler, the host is tried with and without its port, and the parameters with
 * `%20` and with `+` for spaces (clients differ). SignatureVersion 0/1 are refused.
 *
 * Time comes in as `now` (epoch ms): no clock here. A request dated more than `maxSkewMs` (default
 * 15 min) away from now → RequestExpired; so is a presigned URL past X-Amz-Expires or a SigV2
 * request past Expires.
 *
 * Temporary credentials (STS GetSessionToken): their lookup names the SHA-256 of their session token
 * and their expiry. A request signed with one must carry the token (X-Amz-Security-Token as header
 * or presigned parameter; SecurityToken for SigV2), else AuthFailure; once expired, RequestExpired
 * (EC2's answer for expired temporary credentials). With a long-term key a token is not interpreted.
 */
import { ALGORITHM_IDENTIFIER, SignatureV4, createScope, getCanonicalHeaders, getPayloadHash, getSigningKey } from "@smithy/signature-v4"
import { Effect, Either } from "effect"
import * as Crypto from "node:crypto"
import * as Ec2Error from "./Ec2Error.js"
import * as Query from "./Query.js"

/** The parts of an HTTP request that signatures cover, as received. */
export interface HttpRequest {
  readonly method: string
  /** The Host header (with its port, if the client sent one). */
  readonly host: string
  /** The path as sent on the wire (still percent-encoded), without the query string. */
  readonly path: string
  /** The raw query string, without `?` ("" when there is none). */
  readonly query: string
  /** Header name → value; names in any case (Node gives lower case). */
  readonly headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  /** The raw body bytes (or text). */
  readonly body: Uint8Array | string
}

export interface Credential {
  readonly secretAccessKey: string
  readonly accountId: string
  /** Temporary credentials: the SHA-256 (hex) of their session token, and when they expire (epoch ms). */
  readonly session?: { readonly tokenSha256: string; readonly expiresAt: number } | undefined
}

/** Finds the secret of an access key id; `undefined` when there is no such (active) key. */
export type Lookup<E = never, R = never> = (accessKeyId: string) => Effect.Effect<Credential | undefined, E, R>

export interface Identity {
  readonly accessKeyId: string
  readonly accountId: string
  readonly signatureVersion: "SigV4" | "SigV4-query" | "SigV2"
  /** The region named in a SigV4 credential scope. */
  readonly region: string | undefined
  /** The service a SigV4 request was signed for (`ec2` for SigV2). */
  readonly service: Service
  /** Signed with temporary credentials (and their session token); absent for a long-term key. */
  readonly temporary?: true
}

export interface Options {
  /** The server's time, epoch milliseconds. */
  readonly now: number
  /** Allowed distance between the request's time and `now`; default 15 minutes. */
  readonly maxSkewMs?: number
  /** The regions a SigV4 credential scope may name; any region when absent. */
  readonly regions?: ReadonlyArray<string>
}

export const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000
const SERVICE = "ec2"
/** The services answered at the EC2 endpoint (sts and iam: the identity calls clients make first). */
export const services = ["ec2", "sts", "iam"] as const
export type Service = (typeof services)[number]
const isService = (s: string): s is Service => (services as ReadonlyArray<string>).includes(s)
const MAX_PRESIGNED_SECONDS = 7 * 24 * 60 * 60

/**
 * SHA-256 for the library's steps, from node:crypto (OpenSSL): the pure-JS @aws-crypto/sha256-js
 * the SDK ships costs ~25 µs per hash, a third of a request's verification. Same interface
 * (HMAC when given a secret); the tests sign with @aws-crypto/sha256-js, so both agree by test.
 */
class NodeSha256 {
  private hash: Crypto.Hash | Crypto.Hmac
  constructor(private readonly secret?: string | ArrayBuffer | ArrayBufferView) {
    this.hash = this.fresh()
  }
  private fresh(): Crypto.Hash | Crypto.Hmac {
    if (this.secret === undefined) return Crypto.createHash("sha256")
    const key = typeof this.secret === "string" ? this.secret : ArrayBuffer.isView(this.secret) ? new Uint8Array(this.secret.buffer, this.secret.byteOffset, this.secret.byteLength) : new Uint8Array(this.secret)
    return Crypto.createHmac("sha256", key)
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.hash.update(typeof data === "string" ? data : ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : new Uint8Array(data))
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.hash.digest()))
  }
  reset(): void {
    this.hash = this.fresh()
  }
}

const incomplete = (detail: string) => Ec2Error.make("IncompleteSignature", detail)
const mismatch = (detail?: string) =>
  Ec2Error.make(
    "SignatureDoesNotMatch",
    detail ??
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
  )
const expired = (detail: string) => Ec2Error.make("RequestExpired", `Request has expired: ${detail}`)

// --- helpers ---------------------------------------------------------------------------------------

type SmithyRequest = Parameters<SignatureV4["presign"]>[0]
type QueryBag = Record<string, string | Array<string>>

/** Exposes the library's canonical-request and string-to-sign steps (protected in SignatureV4). */
class Verifier extends SignatureV4 {
  constructor() {
    super({ service: SERVICE, region: "unused", credentials: { accessKeyId: "unused", secretAccessKey: "unused" }, sha256: NodeSha256, applyChecksum: false })
  }
  canonicalRequest(request: SmithyRequest, headers: Record<string, string>, payloadHash: string): string {
    return this.createCanonicalRequest(request, headers, payloadHash)
  }
  stringToSign(longDate: string, scope: string, canonicalRequest: string): Promise<string> {
    return this.createStringToSign(longDate, scope, canonicalRequest, ALGORITHM_IDENTIFIER)
  }
}
const verifier = new Verifier()

const headerMap = (headers: HttpRequest["headers"]): Map<string, string> => {
  const out = new Map<string, string>()
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue
    const v = typeof value === "string" ? value : value.join(",")
    const key = name.toLowerCase()
    const seen = out.get(key)
    out.set(key, seen === undefined ? v : `${seen},${v}`)
  }
  return out
}

const hmacHex = (key: Uint8Array, data: string): string => Crypto.createHmac("sha256", key).update(data, "utf8").digest("hex")

const sameBytes = (a: Buffer, b: Buffer): boolean => a.length === b.length && Crypto.timingSafeEqual(a, b)

const LONG_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/

const parseLongDate = (s: string): number | undefined => {
  const m = LONG_DATE.exec(s)
  if (!m) return undefined
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]))
  // Reject 20261331T… style dates that Date.UTC would roll over.
  return new Date(t).toISOString().replace(/[-:]|\.\d{3}/g, "") === s ? t : undefined
}

const toLongDate = (t: number): string => new Date(t).toISOString().replace(/[-:]|\.\d{3}/g, "")

const skew = (options: Options): number => options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS

const checkSkew = (t: number, options: Options): Either.Either<void, Ec2Error.Ec2Error> =>
  Math.abs(options.now - t) > skew(options)
    ? Either.left(
        expired(`its time ${new Date(t).toISOString()} is more than ${Math.round(skew(options) / 60000)} minutes from the server's time ${new Date(options.now).toISOString()}`)
      )
    : Either.right(undefined)

const checkRegion = (region: string, options: Options): Either.Either<void, Ec2Error.Ec2Error> =>
  options.regions === undefined || options.regions.includes(region)
    ? Either.right(undefined)
    : Either.left(Ec2Error.authFailure(`Credential should be scoped to a valid region, not '${Ec2Error.quote(region)}'. `))

const queryBag = (pairs: ReadonlyArray<readonly [string, string]>): QueryBag => {
  const bag: QueryBag = Object.create(null)
  for (const [k, v] of pairs) {
    const seen = bag[k]
    if (seen === undefined) bag[k] = v
    else if (typeof seen === "string") bag[k] = [seen, v]
    else seen.push(v)
  }
  return bag
}

const lookupOrFail = <E, R>(lookup: Lookup<E, R>, accessKeyId: string): Effect.Effect<Credential, Ec2Error.Ec2Error | E, R> =>
  Effect.flatMap(lookup(accessKeyId), (c) => (c === undefined ? Effect.fail(Ec2Error.authFailure()) : Effect.succeed(c)))

// --- SigV4 -----------------------------------------------------------------------------------------

interface V4 {
  readonly accessKeyId: string
  readonly shortDate: string
  readonly region: string
  readonly service: Service
  readonly longDate: string
  readonly signedHeaders: ReadonlyArray<string>
  readonly signature: string
}

const parseScope = (credential: string): Either.Either<Omit<V4, "longDate" | "signedHeaders" | "signature">, Ec2Error.Ec2Error> => {
  const parts = credential.split("/")
  if (parts.length !== 5 || parts[0] === "" || !/^\d{8}$/.test(parts[1]!) || parts[2] === "" || parts[4] !== "aws4_request") {
    return Either.left(incomplete(`Credential '${Ec2Error.quote(credential, 128)}' should be of the form <access key id>/<YYYYMMDD>/<region>/ec2/aws4_request`))
  }
  const service = parts[3]!
  if (!isService(service)) return Either.left(mismatch(`Credential should be scoped to correct service: 'ec2', not '${Ec2Error.quote(service)}'`))
  return Either.right({ accessKeyId: parts[0]!, shortDate: parts[1]!, region: parts[2]!, service })
}

const parseSignedHeaders = (s: string): Either.Either<ReadonlyArray<string>, Ec2Error.Ec2Error> => {
  const names = s.split(";")
  if (names.some((n) => n === "" || n !== n.toLowerCase())) return Either.left(incomplete(`SignedHeaders '${Ec2Error.quote(s, 128)}' should be lower-case header names separated by ';'`))
  if (!names.includes("host")) return Either.left(incomplete("'Host' must be a 'SignedHeader' in the AWS Authorization."))
  return Either.right(names)
}

const parseAuthorization = (header: string, headers: Map<string, string>): Either.Either<V4, Ec2Error.Ec2Error> =>
  Either.gen(function* () {
    const rest = header.slice(ALGORITHM_IDENTIFIER.length).trim()
    const fields = new Map<string, string>()
    for (const part of rest.split(",")) {
      const p = part.trim()
      const eq = p.indexOf("=")
      if (eq > 0) fields.set(p.slice(0, eq).trim(), p.slice(eq + 1).trim())
    }
    for (const f of ["Credential", "SignedHeaders", "Signature"]) {
      if (!fields.get(f)) return yield* Either.left(incomplete(`Authorization header requires '${f}' parameter.`))
    }
    const scope = yield* parseScope(fields.get("Credential")!)
    const signedHeaders = yield* parseSignedHeaders(fields.get("SignedHeaders")!)
    const amzDate = headers.get("x-amz-date")
    let longDate: string
    if (amzDate !== undefined) {
      if (parseLongDate(amzDate) === undefined) return yield* Either.left(incomplete(`X-Amz-Date '${Ec2Error.quote(amzDate)}' must be in ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z')`))
      longDate = amzDate
    } else {
      const date = headers.get("date")
      const t = date === undefined ? Number.NaN : Date.parse(date)
      if (!Number.isFinite(t)) return yield* Either.left(incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header."))
      longDate = toLongDate(t)
    }
    return { ...scope, longDate, signedHeaders, signature: fields.get("Signature")! }
  })

const parsePresigned = (q: ReadonlyMap<string, string>): Either.Either<V4 & { readonly expiresSeconds: number | undefined }, Ec2Error.Ec2Error> =>
  Either.gen(function* () {
    const algorithm = q.get("X-Amz-Algorithm")
    if (algorithm !== ALGORITHM_IDENTIFIER) return yield* Either.left(Ec2Error.authFailure(`Unsupported X-Amz-Algorithm '${Ec2Error.quote(algorithm ?? "")}'; use AWS4-HMAC-SHA256`))
    for (const f of ["X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"]) {
      if (!q.get(f)) return yield* Either.left(incomplete(`A presigned request requires the '${f}' query parameter.`))
    }
    const scope = yield* parseScope(q.get("X-Amz-Credential")!)
    const signedHeaders = yield* parseSignedHeaders(q.get("X-Amz-SignedHeaders")!)
    const longDate = q.get("X-Amz-Date")!
    if (parseLongDate(longDate) === undefined) return yield* Either.left(incomplete(`X-Amz-Date '${Ec2Error.quote(longDate)}' must be in ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z')`))
    const expires = q.get("X-Amz-Expires")
    let expiresSeconds: number | undefined
    if (expires !== undefined) {
      expiresSeconds = /^\d{1,7}$/.test(expires) ? Number(expires) : Number.NaN
      if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGNED_SECONDS)) {
        return yield* Either.left(incomplete(`X-Amz-Expires must be a number of seconds from 1 to ${MAX_PRESIGNED_SECONDS} (one week)`))
      }
    }
    return { ...scope, longDate, signedHeaders, signature: q.get("X-Amz-Signature")!, expiresSeconds }
  })

const verifyV4 = <E, R>(
  req: HttpRequest,
  headers: Map<string, string>,
  queryPairs: ReadonlyArray<readonly [string, string]>,
  v4: V4,
  lookup: Lookup<E, R>
): Effect.Effect<Credential, Ec2Error.Ec2Error | E, R> =>
  Effect.gen(function* () {
    if (v4.shortDate !== v4.longDate.slice(0, 8)) {
      return yield* Effect.fail(mismatch(`Date in Credential scope (${v4.shortDate}) does not match YYYYMMDD from the request date (${v4.longDate})`))
    }
    const signed: Record<string, string> = Object.create(null)
    for (const name of v4.signedHeaders) {
      const value = name === "host" ? req.host : headers.get(name)
      if (value === undefined || (name === "host" && value === "")) return yield* Effect.fail(mismatch(`The signed header '${Ec2Error.quote(name)}' is not in the request`))
      signed[name] = value
    }
    const payloadHash = yield* Effect.promise(() => getPayloadHash({ method: req.method, protocol: "http:", hostname: req.host, path: req.path, query: {}, headers: {}, body: req.body }, NodeSha256))
    const claimed = headers.get("x-amz-content-sha256")
    if (claimed !== undefined && claimed !== payloadHash) {
      return yield* Effect.fail(mismatch("The x-amz-content-sha256 header does not match the SHA-256 of the request body (unsigned payloads are not accepted)"))
    }
    const credential = yield* lookupOrFail(lookup, v4.accessKeyId)
    const computed = yield* Effect.tryPromise({
      try: async () => {
        const request: SmithyRequest = { method: req.method, protocol: "http:", hostname: req.host, path: req.path, query: queryBag(queryPairs), headers: signed }
        const canonicalHeaders = getCanonicalHeaders({ headers: signed } as SmithyRequest, undefined, new Set(v4.signedHeaders))
        const canonical = verifier.canonicalRequest(request, canonicalHeaders, payloadHash)
        const stringToSign = await verifier.stringToSign(v4.longDate, createScope(v4.shortDate, v4.region, v4.service), canonical)
        const key = await getSigningKey(NodeSha256, { accessKeyId: v4.accessKeyId, secretAccessKey: credential.secretAccessKey }, v4.shortDate, v4.region, v4.service)
        return hmacHex(key, stringToSign)
      },
      catch: () => mismatch("The request could not be canonicalised for Signature Version 4")
    })
    if (!sameBytes(Buffer.from(computed), Buffer.from(v4.signature.toLowerCase()))) return yield* Effect.fail(Ec2Error.authFailure())
    return credential
  })

const temporary = (c: Credential): { readonly temporary?: true } => (c.session !== undefined ? { temporary: true } : {})

/** A temporary credential holds only with its session token, and only until it expires. */
const checkSession = (credential: Credential, token: string | undefined, options: Options): Either.Either<void, Ec2Error.Ec2Error> => {
  const session = credential.session
  if (session === undefined) return Either.right(undefined)
  if (token === undefined || token === "") return Either.left(Ec2Error.authFailure("Temporary credentials need their session token (X-Amz-Security-Token). "))
  const given = Crypto.createHash("sha256").update(token, "utf8").digest("hex")
  if (!sameBytes(Buffer.from(given), Buffer.from(session.tokenSha256))) return Either.left(Ec2Error.authFailure())
  if (options.now >= session.expiresAt) return Either.left(expired(`the temporary credentials expired at ${new Date(session.expiresAt).toISOString()}`))
  return Either.right(undefined)
}

// --- SigV2 -----------------------------------------------------------------------------------------

// RFC 3986 unreserved characters stay; everything else is %XX of its UTF-8 bytes (upper-case hex).
const encode3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

const byUtf8 = (a: string, b: string): number => Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"))

const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})?$/

const parseTimestamp = (name: string, value: string): Either.Either<number, Ec2Error.Ec2Error> => {
  // A time without a zone is UTC, as old Query clients meant it.
  const t = TIMESTAMP.test(value) ? Date.parse(/(Z|[+-]\d{2}:?\d{2})$/.test(value) ? value : `${value}Z`) : Number.NaN
  return Number.isFinite(t) ? Either.right(t) : Either.left(Ec2Error.invalidParameterValue(name, value, "expected an ISO 8601 time such as 2009-07-15T12:00:00Z"))
}

const stringsToSignV2 = (req: HttpRequest, params: Query.Params): ReadonlyArray<string> => {
  const names = [...params.keys()].filter((k) => k !== "Signature").sort(byUtf8)
  const canonical = names.map((k) => `${encode3986(k)}=${encode3986(params.get(k)!)}`).join("&")
  const host = req.host.toLowerCase()
  const hosts = [host]
  const bare = host.replace(/:\d+$/, "")
  if (bare !== host) hosts.push(bare)
  const path = req.path === "" ? "/" : req.path
  const out: Array<string> = []
  for (const q of canonical.includes("%20") ? [canonical, canonical.replaceAll("%20", "+")] : [canonical]) {
    for (const h of hosts) out.push(`${req.method.toUpperCase()}\n${h}\n${path}\n${q}`)
  }
  return out
}

const verifyV2 = <E, R>(req: HttpRequest, params: Query.Params, lookup: Lookup<E, R>, options: Options): Effect.Effect<Credential & { readonly accessKeyId: string }, Ec2Error.Ec2Error | E, R> =>
  Effect.gen(function* () {
    const version = params.get("SignatureVersion")
    if (version === undefined) return yield* Effect.fail(incomplete("A Signature Version 2 request requires the SignatureVersion parameter"))
    if (version !== "2") return yield* Effect.fail(Ec2Error.authFailure(`SignatureVersion ${Ec2Error.quote(version)} is not supported; use 2 or Signature Version 4`))
    const method = params.get("SignatureMethod")
    const algorithm = method === "HmacSHA256" ? "sha256" : method === "HmacSHA1" ? "sha1" : undefined
    if (algorithm === undefined) return yield* Effect.fail(incomplete(`SignatureMethod must be HmacSHA256 or HmacSHA1, not '${Ec2Error.quote(method ?? "")}'`))
    const accessKeyId = params.get("AWSAccessKeyId")
    if (!accessKeyId) return yield* Effect.fail(incomplete("A Signature Version 2 request requires the AWSAccessKeyId parameter"))
    const timestamp = params.get("Timestamp")
    const expires = params.get("Expires")
    if (timestamp !== undefined && expires !== undefined) {
      return yield* Effect.fail(Ec2Error.make("InvalidParameterCombination", "The parameters Timestamp and Expires cannot both be given"))
    }
    if (timestamp !== undefined) {
      yield* checkSkew(yield* parseTimestamp("Timestamp", timestamp), options)
    } else if (expires !== undefined) {
      const t = yield* parseTimestamp("Expires", expires)
      if (options.now > t) return yield* Effect.fail(expired(`it expired at ${new Date(t).toISOString()}`))
    } else return yield* Effect.fail(Ec2Error.missingParameter("Timestamp"))
    const credential = yield* lookupOrFail(lookup, accessKeyId)
    // Base64 has no spaces: a `+` sent unencoded was decoded as one.
    const given = Buffer.from(params.get("Signature")!.replaceAll(" ", "+"), "base64")
    for (const s of stringsToSignV2(req, params)) {
      if (sameBytes(Crypto.createHmac(algorithm, credential.secretAccessKey).update(s, "utf8").digest(), given)) return { ...credential, accessKeyId }
    }
    return yield* Effect.fail(Ec2Error.authFailure())
  })

// --- entry point -----------------------------------------------------------------------------------

const isForm = (headers: Map<string, string>): boolean => (headers.get("content-type") ?? "").toLowerCase().startsWith("application/x-www-form-urlencoded")

/**
 * Authenticates a request: which signature it carries, whether it is valid now, and whose key
 * signed it. Fails with an Ec2Error (AuthFailure, IncompleteSignature, SignatureDoesNotMatch,
 * RequestExpired, MalformedQueryString, …) or with the lookup's own error.
 */
export const authenticate = <E = never, R = never>(req: HttpRequest, lookup: Lookup<E, R>, options: Options): Effect.Effect<Identity, Ec2Error.Ec2Error | E, R> =>
  Effect.gen(function* () {
    const headers = headerMap(req.headers)
    const queryPairs = yield* Query.decodeForm(req.query)
    const queryNames = new Map(queryPairs)
    const authorization = headers.get("authorization")
    const presigned = queryNames.has("X-Amz-Algorithm")
    const bodyParams = isForm(headers) ? yield* Query.decodeForm(req.body) : []
    const v2 = queryNames.has("Signature") || bodyParams.some(([k]) => k === "Signature")
    const mechanisms = Number(authorization !== undefined && authorization !== "") + Number(presigned) + Number(v2)
    if (mechanisms === 0) return yield* Effect.fail(Ec2Error.authFailure("The request is not signed: sign it with AWS Signature Version 4 (or 2)"))
    if (mechanisms > 1) return yield* Effect.fail(Ec2Error.authFailure("Only one authentication mechanism is allowed per request"))

    if (authorization !== undefined && authorization !== "") {
      if (!authorization.startsWith(`${ALGORITHM_IDENTIFIER} `)) {
        return yield* Effect.fail(Ec2Error.authFailure(`Unsupported Authorization scheme '${Ec2Error.quote(authorization.split(" ")[0] ?? "")}'; use AWS4-HMAC-SHA256`))
      }
      const v4 = yield* parseAuthorization(authorization, headers)
      yield* checkRegion(v4.region, options)
      yield* checkSkew(parseLongDate(v4.longDate)!, options)
      const c = yield* verifyV4(req, headers, queryPairs, v4, lookup)
      yield* checkSession(c, headers.get("x-amz-security-token"), options)
      return { accessKeyId: v4.accessKeyId, accountId: c.accountId, signatureVersion: "SigV4", region: v4.region, service: v4.service, ...temporary(c) } satisfies Identity
    }
    if (presigned) {
      const v4 = yield* parsePresigned(queryNames)
      yield* checkRegion(v4.region, options)
      const t = parseLongDate(v4.longDate)!
      if (v4.expiresSeconds === undefined) yield* checkSkew(t, options)
      else {
        if (options.now < t - skew(options)) return yield* Effect.fail(expired(`it is dated ${new Date(t).toISOString()}, in the future`))
        if (options.now > t + v4.expiresSeconds * 1000) return yield* Effect.fail(expired(`the presigned request expired at ${new Date(t + v4.expiresSeconds * 1000).toISOString()}`))
      }
      const c = yield* verifyV4(req, headers, queryPairs, v4, lookup)
      yield* checkSession(c, queryNames.get("X-Amz-Security-Token"), options)
      return { accessKeyId: v4.accessKeyId, accountId: c.accountId, signatureVersion: "SigV4-query", region: v4.region, service: v4.service, ...temporary(c) } satisfies Identity
    }
    const params = yield* Query.params(isForm(headers) ? { query: req.query, body: req.body } : { query: req.query })
    const c = yield* verifyV2(req, params, lookup, options)
    yield* checkSession(c, params.get("SecurityToken"), options)
    return { accessKeyId: c.accessKeyId, accountId: c.accountId, signatureVersion: "SigV2", region: undefined, service: "ec2", ...temporary(c) } satisfies Identity
  })
