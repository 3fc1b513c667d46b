/**
 * The HTTP front: the EC2 Query endpoint (POST and GET on /, /services/Eucalyptus and
 * /services/compute) and the instance metadata service (`/`, `/latest/…` and the dated versions, IMDSv1 and v2 tokens, answered by source address).
 * Parse → authenticate (SigV4 or SigV2, against the account's keys) → the action's handler →
 * XML. A user's mistake is a 4xx with EC2's error XML; only our own failures are 5xx.
 */
import { randomBytes, randomUUID } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Cause, Clock, Effect, Exit, Option, Runtime, type Scope } from "effect"
import { Controller } from "../controller/Controller.js"
import * as Accounts from "../store/Accounts.js"
import * as Images from "../store/Images.js"
import * as KeyPairs from "../store/KeyPairs.js"
import * as SessionCredentials from "../store/SessionCredentials.js"
import * as Actions from "./Actions.js"
import * as EucalyptusTypes from "./EucalyptusTypes.js"
import * as H from "./Handler.js"
import * as Identity from "./Identity.js"
import * as Metadata from "./Metadata.js"
import * as MetadataTokens from "./MetadataTokens.js"
import * as Auth from "./protocol/Auth.js"
import * as Ec2Error from "./protocol/Ec2Error.js"
import type * as Shapes from "./protocol/Ec2Shapes.js"
import * as Query from "./protocol/Query.js"
import * as Xml from "./protocol/Xml.js"

export interface Options {
  readonly host: string
  readonly port: number
  readonly region: string
  /** Largest request body accepted (bytes); default MAX_BODY_BYTES. */
  readonly maxBodyBytes?: number
  /** Other regions a SigV4 credential scope may name (the operator's aliases for this region). */
  readonly regionAliases?: ReadonlyArray<string>
}

/**
 * The largest request body read: 1 MiB. EC2's largest parameters are far smaller (user data 16 KiB
 * raw, a key pair's public key, a few thousand ids or filters); a bigger body is refused from its
 * Content-Length before a byte is read, or as soon as a chunked body passes the limit, so a hostile
 * 20 MiB upload never sits in memory.
 */
export const MAX_BODY_BYTES = 1024 * 1024

export interface Listening {
  readonly host: string
  readonly port: number
  readonly url: string
}

/** How long a looked-up access key is trusted before it is read again. */
const KEY_TTL_MS = 1000
const MAX_CACHED_KEYS = 10_000

const QUERY_PATHS = new Set(["/", "/services/Eucalyptus", "/services/Eucalyptus/", "/services/compute", "/services/compute/"])
const FORM = "application/x-www-form-urlencoded"

const send = (res: Http.ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: string) => {
  // Encoded once: the length and the bytes written come from the same buffer.
  const bytes = Buffer.from(body, "utf8")
  res.writeHead(status, { ...headers, "content-length": bytes.length })
  res.end(bytes)
}

/** Sends an XML answer kept as the bytes before and after its request id. */
const sendParts = (res: Http.ServerResponse, headers: Readonly<Record<string, string>>, parts: { readonly head: Buffer; readonly tail: Buffer }, requestId: string) => {
  const id = Buffer.from(requestId, "utf8")
  res.writeHead(200, { ...headers, "content-length": parts.head.length + id.length + parts.tail.length })
  // The kept bytes go out as they are (one writev), not copied into a new buffer per answer.
  res.cork()
  res.write(parts.head)
  res.write(id)
  res.end(parts.tail)
  res.uncork()
}

// The request id in a response rendered for reuse; found by its first occurrence, which is the
// <requestId> element at the top, before anything a user could have put in the answer.
const PLACEHOLDER = "00000000-0000-0000-0000-000000000000"

const sendError = (res: Http.ServerResponse, e: Ec2Error.Ec2Error, requestId: string) => {
  const { status, body } = Xml.error(e, requestId)
  send(res, status, Xml.headers(requestId), body)
}

/** The body, or `undefined` as soon as it passes `limit` (nothing more is read or kept). */
const readBody = (req: Http.IncomingMessage, limit: number): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    const onData = (c: Buffer) => {
      size += c.length
      if (size <= limit) return void chunks.push(c)
      chunks.length = 0
      req.off("data", onData)
      req.pause()
      resolve(undefined)
    }
    req.on("data", onData)
    req.on("end", () => resolve(Buffer.concat(chunks)))
    req.on("error", reject)
  })

/** 413 with EC2's error XML; the connection closes, so the rest of the body is never read. */
const sendTooLarge = (req: Http.IncomingMessage, res: Http.ServerResponse, limit: number) => {
  const requestId = randomUUID()
  const { status, body } = Xml.error(Ec2Error.make("RequestEntityTooLarge", `The request body is larger than ${limit} bytes`), requestId)
  send(res, status, { ...Xml.headers(requestId), connection: "close" }, body)
  res.on("finish", () => req.destroy())
}

/** Starts the server for the life of the scope; requests run on the caller's runtime (controller, database, backend). */
export const start = (options: Options): Effect.Effect<Listening, Error, Scope.Scope | H.Services> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<H.Services>()
    const run = Runtime.runPromiseExit(runtime)
    const limit = options.maxBodyBytes ?? MAX_BODY_BYTES
    const regions = [options.region, ...(options.regionAliases ?? [])]

    // Access keys with their accounts, read from the database at most once per KEY_TTL_MS each: a
    // key that `euca admin` deactivates (from another process) stops working within that time.
    // Temporary keys (STS GetSessionToken) likewise, with their token's hash and expiry.
    type Cached = { readonly secretAccessKey: string; readonly account: Accounts.Account; readonly session?: Auth.Credential["session"]; readonly at: number }
    const keys = new Map<string, Cached>()
    const credentialOf = (c: Cached): Auth.Credential => ({ secretAccessKey: c.secretAccessKey, accountId: c.account.id, ...(c.session !== undefined ? { session: c.session } : {}) })
    const fetch = (accessKeyId: string) =>
      SessionCredentials.isTemporary(accessKeyId)
        ? SessionCredentials.lookup(accessKeyId).pipe(
          Effect.map(Option.map((f) => ({ secretAccessKey: f.secretAccessKey, account: f.account, session: { tokenSha256: f.tokenSha256, expiresAt: f.expiresAt } })))
        )
        : Accounts.lookupKey(accessKeyId)
    const lookup: Auth.Lookup<never, H.Services> = (accessKeyId) =>
      Effect.suspend(() => {
        const hit = keys.get(accessKeyId)
        if (hit !== undefined && Date.now() - hit.at < KEY_TTL_MS) return Effect.succeed(credentialOf(hit))
        return fetch(accessKeyId).pipe(
          Effect.map((o) => {
            if (Option.isNone(o)) {
              keys.delete(accessKeyId)
              return undefined
            }
            if (keys.size >= MAX_CACHED_KEYS) keys.clear()
            const c: Cached = { ...o.value, at: Date.now() }
            keys.set(accessKeyId, c)
            return credentialOf(c)
          }),
          Effect.orDie
        )
      })

    const rendered = new WeakMap<object, Map<string, { readonly head: Buffer; readonly tail: Buffer }>>()

    const query = (req: Http.IncomingMessage, res: Http.ServerResponse, url: URL, rawQuery: string, body: Buffer) =>
      Effect.gen(function* () {
        const requestId = randomUUID()
        const now = Date.now()
        const contentType = (req.headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase()
        const fail = (e: Ec2Error.Ec2Error) => Effect.sync(() => sendError(res, e, requestId))
        const params = Query.params({ query: rawQuery, ...(req.method === "POST" && (contentType === FORM || contentType === "") ? { body } : {}) })
        if (params._tag === "Left") return yield* fail(params.left)
        const identity = yield* Effect.either(
          Auth.authenticate(
            { method: req.method ?? "GET", host: req.headers.host ?? "", path: url.pathname, query: rawQuery, headers: req.headers, body },
            lookup,
            { now, regions }
          )
        )
        if (identity._tag === "Left") return yield* fail(identity.left)
        // The lookup has just cached the key with its account (accounts are never deleted).
        const cached = keys.get(identity.right.accessKeyId)?.account
        const account = cached?.id === identity.right.accountId ? cached : Option.getOrUndefined(yield* Accounts.byId(identity.right.accountId).pipe(Effect.orDie))
        if (account === undefined) return yield* fail(Ec2Error.authFailure())
        const service = identity.right.service
        if (service !== "ec2") {
          const r = yield* Identity.answer(service, params.right, { account, accessKeyId: identity.right.accessKeyId, temporary: identity.right.temporary === true, requestId, now })
          return send(res, r.status, Xml.headers(requestId), r.body)
        }
        const parsed = Query.parseRequest(params.right)
        if (parsed._tag === "Left") return yield* fail(parsed.left)
        const { action, version, input } = parsed.right
        const rc: H.RequestContext = { account, params: params.right, requestId, region: options.region, now }
        const handler = Actions.table[action] as H.Handler<typeof action>
        const out = yield* Effect.either(handler(input as never, rc))
        if (out._tag === "Left") return yield* fail(out.left)
        if (action === "DescribeInstanceTypes" && EucalyptusTypes.wanted(url.pathname, identity.right.signatureVersion, version)) {
          const names = (input as Shapes.DescribeInstanceTypesRequest).InstanceTypes ?? []
          return send(res, 200, Xml.headers(requestId), EucalyptusTypes.response(yield* H.state, names, requestId))
        }
        if (H.reusable.has(out.right)) {
          // A memoized answer: its XML is rendered once per API version and reused with this request's id.
          let byVersion = rendered.get(out.right)
          if (byVersion === undefined) rendered.set(out.right, (byVersion = new Map()))
          let parts = byVersion.get(version)
          if (parts === undefined) {
            const xml = Xml.response(action, out.right as Shapes.Operations[typeof action]["output"], PLACEHOLDER, { version })
            const at = xml.indexOf(PLACEHOLDER)
            parts = { head: Buffer.from(xml.slice(0, at), "utf8"), tail: Buffer.from(xml.slice(at + PLACEHOLDER.length), "utf8") }
            byVersion.set(version, parts)
          }
          return sendParts(res, Xml.headers(requestId), parts, requestId)
        }
        const xml = Xml.response(action, out.right as Shapes.Operations[typeof action]["output"], requestId, { version })
        send(res, 200, Xml.headers(requestId), xml)
      })

    // IMDSv2 tokens issued and not yet expired (expired ones are dropped when a new one is issued).
    const tokens = new Map<string, MetadataTokens.Token>()
    const MAX_TOKENS = 100_000
    const TEXT = { "content-type": "text/plain; charset=utf-8" }

    const metadataPut = (req: Http.IncomingMessage, res: Http.ServerResponse, path: string) =>
      Effect.gen(function* () {
        const state = yield* (yield* Controller).state
        const now = yield* Clock.currentTimeMillis
        const issued = MetadataTokens.issue(state, req.socket.remoteAddress ?? "", path, req.headers, now, randomBytes(32).toString("base64"))
        if (issued.token !== undefined) {
          for (const [k, t] of tokens) if (t.expiresAt <= now) tokens.delete(k)
          if (tokens.size >= MAX_TOKENS) tokens.delete(tokens.keys().next().value!)
          tokens.set(issued.response.body, issued.token)
        }
        send(res, issued.response.status, { ...TEXT, ...issued.response.headers }, issued.response.body)
      })

    const metadata = (req: Http.IncomingMessage, res: Http.ServerResponse, path: string) =>
      Effect.gen(function* () {
        const c = yield* Controller
        const state = yield* c.state
        const now = yield* Clock.currentTimeMillis
        const source = req.socket.remoteAddress ?? ""
        const header = req.headers[MetadataTokens.TOKEN_HEADER]
        const refused = MetadataTokens.check(state, (t) => tokens.get(t), source, header, now)
        if (refused !== undefined) return send(res, refused.status, TEXT, refused.body)
        const keys = new Map<string, string>()
        const images = new Map<string, string>()
        const inst = Metadata.instanceAt(state, source)
        if (inst?.keyName !== undefined) {
          const k = yield* KeyPairs.get(inst.account, inst.keyName).pipe(Effect.orDie)
          if (Option.isSome(k)) keys.set(`${inst.account}/${inst.keyName}`, k.value.publicKey)
        }
        if (inst !== undefined) {
          const img = yield* Images.get(inst.imageId).pipe(Effect.orDie)
          if (Option.isSome(img)) images.set(inst.imageId, img.value.location)
        }
        const r = Metadata.answer(
          { state, region: options.region, publicKey: (a, k) => keys.get(`${a}/${k}`), manifest: (id) => images.get(id) },
          source,
          path
        )
        const token = typeof header === "string" ? tokens.get(header) : undefined
        const ttl = token === undefined ? {} : { [MetadataTokens.TTL_HEADER]: String(MetadataTokens.remaining(token, now)) }
        send(res, r.status, { ...TEXT, ...ttl, ...r.headers }, r.body)
      })

    const handle = async (req: Http.IncomingMessage, res: Http.ServerResponse) => {
      const raw = req.url ?? "/"
      const q = raw.indexOf("?")
      const rawQuery = q < 0 ? "" : raw.slice(q + 1)
      let url: URL
      try {
        url = new URL(raw, "http://localhost")
      } catch {
        return sendError(res, Ec2Error.make("MalformedQueryString", "The request URL is malformed"), randomUUID())
      }
      const declared = Number(req.headers["content-length"] ?? 0)
      if (declared > limit) return sendTooLarge(req, res, limit)
      const body = await readBody(req, limit).catch(() => null)
      if (body === null) return // the client went away
      if (body === undefined) return sendTooLarge(req, res, limit)
      const path = url.pathname
      let work: Effect.Effect<void, never, H.Services>
      if (req.method === "GET" && Metadata.isMetadataPath(path)) work = metadata(req, res, path)
      else if (req.method === "PUT" && Metadata.isMetadataPath(path)) work = metadataPut(req, res, path)
      else if (req.method === "GET" && path === "/" && rawQuery === "") {
        // The version list for an instance; for anyone else, the Query API (and its error).
        work = Effect.flatMap(Effect.flatMap(Controller, (c) => c.state), (state) =>
          Metadata.instanceAt(state, req.socket.remoteAddress ?? "") !== undefined ? metadata(req, res, path) : query(req, res, url, rawQuery, body))
      }
      else if ((req.method === "POST" || req.method === "GET") && QUERY_PATHS.has(path)) work = query(req, res, url, rawQuery, body)
      else {
        return send(res, 404, { "content-type": "text/plain" }, `Not Found: the EC2 API is at POST / (also /services/Eucalyptus); metadata at /latest/meta-data/\n`)
      }
      const exit = await run(work)
      if (Exit.isFailure(exit) && !res.headersSent) {
        const requestId = randomUUID()
        await run(Effect.logError(`request failed (${requestId}): ${Cause.pretty(exit.cause)}`))
        sendError(res, Ec2Error.internalError(), requestId)
      }
    }

    const server = Http.createServer({ keepAliveTimeout: 65_000 }, (req, res) => {
      handle(req, res).catch((e) => {
        if (!res.headersSent) sendError(res, Ec2Error.internalError(), randomUUID())
        void e
      })
    })
    const address = yield* Effect.acquireRelease(
      Effect.async<AddressInfo, Error>((resume) => {
        server.once("error", (e) => resume(Effect.fail(e)))
        server.listen(options.port, options.host, () => resume(Effect.succeed(server.address() as AddressInfo)))
      }),
      () =>
        Effect.async<void>((resume) => {
          server.close(() => resume(Effect.void))
          server.closeAllConnections()
        })
    )
    const host = address.address.includes(":") ? `[${address.address}]` : address.address
    return { host: address.address, port: address.port, url: `http://${host}:${address.port}` }
  })
