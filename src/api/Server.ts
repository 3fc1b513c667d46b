/**
 * The HTTP front: the EC2 Query endpoint (POST and GET on /, /services/Eucalyptus and
 * /services/compute) and the instance metadata service (/latest/…, answered by source address).
 * Parse → authenticate (SigV4 or SigV2, against the account's keys) → the action's handler →
 * XML. A user's mistake is a 4xx with EC2's error XML; only our own failures are 5xx.
 */
import { randomUUID } from "node:crypto"
import * as Http from "node:http"
import type { AddressInfo } from "node:net"
import { Cause, Effect, Exit, Option, Runtime, type Scope } from "effect"
import { Controller } from "../controller/Controller.js"
import * as Accounts from "../store/Accounts.js"
import * as Images from "../store/Images.js"
import * as KeyPairs from "../store/KeyPairs.js"
import * as Actions from "./Actions.js"
import type * as H from "./Handler.js"
import * as Metadata from "./Metadata.js"
import * as Auth from "./protocol/Auth.js"
import * as Ec2Error from "./protocol/Ec2Error.js"
import type * as Shapes from "./protocol/Ec2Shapes.js"
import * as Query from "./protocol/Query.js"
import * as Xml from "./protocol/Xml.js"

export interface Options {
  readonly host: string
  readonly port: number
  readonly region: string
  /** Largest request body accepted (bytes). */
  readonly maxBodyBytes?: number
}

export interface Listening {
  readonly host: string
  readonly port: number
  readonly url: string
}

const QUERY_PATHS = new Set(["/", "/services/Eucalyptus", "/services/Eucalyptus/", "/services/compute", "/services/compute/"])
const FORM = "application/x-www-form-urlencoded"

const send = (res: Http.ServerResponse, status: number, headers: Readonly<Record<string, string>>, body: string) => {
  res.writeHead(status, { ...headers, "content-length": Buffer.byteLength(body) })
  res.end(body)
}

const sendError = (res: Http.ServerResponse, e: Ec2Error.Ec2Error, requestId: string) => {
  const { status, body } = Xml.error(e, requestId)
  send(res, status, Xml.headers(requestId), body)
}

const readBody = (req: Http.IncomingMessage, limit: number): Promise<Buffer | undefined> =>
  new Promise((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    let over = false
    req.on("data", (c: Buffer) => {
      size += c.length
      if (size > limit) over = true
      else chunks.push(c)
    })
    req.on("end", () => resolve(over ? undefined : Buffer.concat(chunks)))
    req.on("error", reject)
  })

/** Starts the server for the life of the scope; requests run on the caller's runtime (controller, database, backend). */
export const start = (options: Options): Effect.Effect<Listening, Error, Scope.Scope | H.Services> =>
  Effect.gen(function* () {
    const runtime = yield* Effect.runtime<H.Services>()
    const run = Runtime.runPromiseExit(runtime)
    const limit = options.maxBodyBytes ?? 1024 * 1024

    const lookup: Auth.Lookup<never, H.Services> = (accessKeyId) =>
      Accounts.lookupKey(accessKeyId).pipe(
        Effect.map((o) => (Option.isSome(o) ? { secretAccessKey: o.value.secretAccessKey, accountId: o.value.account.id } : undefined)),
        Effect.orDie
      )

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
            { now }
          )
        )
        if (identity._tag === "Left") return yield* fail(identity.left)
        const account = yield* Accounts.byId(identity.right.accountId).pipe(Effect.orDie)
        if (Option.isNone(account)) return yield* fail(Ec2Error.authFailure())
        const parsed = Query.parseRequest(params.right)
        if (parsed._tag === "Left") return yield* fail(parsed.left)
        const { action, version, input } = parsed.right
        const rc: H.RequestContext = { account: account.value, params: params.right, requestId, region: options.region, now }
        const handler = Actions.table[action] as H.Handler<typeof action>
        const out = yield* Effect.either(handler(input as never, rc))
        if (out._tag === "Left") return yield* fail(out.left)
        const xml = Xml.response(action, out.right as Shapes.Operations[typeof action]["output"], requestId, { version })
        send(res, 200, Xml.headers(requestId), xml)
      })

    const metadata = (req: Http.IncomingMessage, res: Http.ServerResponse, path: string) =>
      Effect.gen(function* () {
        const c = yield* Controller
        const state = yield* c.state
        const keys = new Map<string, string>()
        const images = new Map<string, string>()
        const source = req.socket.remoteAddress ?? ""
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
        send(res, r.status, { "content-type": "text/plain; charset=utf-8" }, r.body)
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
      const body = await readBody(req, limit).catch(() => undefined)
      if (body === undefined) {
        return sendError(res, Ec2Error.make("InvalidParameterValue", `The request body is larger than ${limit} bytes`), randomUUID())
      }
      const path = url.pathname
      let work: Effect.Effect<void, never, H.Services>
      if (req.method === "GET" && (path === "/latest" || path.startsWith("/latest/"))) work = metadata(req, res, path)
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
