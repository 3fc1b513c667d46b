/**
 * IMDSv2 session tokens of the metadata service (Metadata.ts): `PUT /latest/api/token` with
 * `X-aws-ec2-metadata-token-ttl-seconds` (1 … 21600) gives a token bound to the instance and the
 * source address that asked; a GET that carries `X-aws-ec2-metadata-token` must carry a live one of
 * its own (else 401); a GET without one is IMDSv1 and still answered (EC2's default, "optional").
 * Pure: the caller draws the token (random), keeps the issued tokens and passes the time.
 */
import type * as State from "../model/State.js"
import { instanceAt, type Response } from "./Metadata.js"

export const TTL_HEADER = "x-aws-ec2-metadata-token-ttl-seconds"
export const TOKEN_HEADER = "x-aws-ec2-metadata-token"
export const MAX_TTL_SECONDS = 21600

export interface Token {
  readonly instanceId: string
  readonly source: string
  readonly expiresAt: number
}

const addr = (ip: string) => (ip.startsWith("::ffff:") ? ip.slice(7) : ip)

/** The ttl header's value as seconds, or the 400 to send. */
export const parseTtl = (header: string | ReadonlyArray<string> | undefined): number | Response => {
  const v = Array.isArray(header) ? header[0] : header
  if (v === undefined || v === "") {
    return { status: 400, body: `Bad Request: the ${TTL_HEADER} header is required (1 to ${MAX_TTL_SECONDS} seconds)` }
  }
  const s = (v as string).trim()
  const n = /^\d+$/.test(s) ? Number(s) : Number.NaN
  if (!Number.isInteger(n) || n < 1 || n > MAX_TTL_SECONDS) {
    return { status: 400, body: `Bad Request: ${TTL_HEADER} must be a whole number of seconds from 1 to ${MAX_TTL_SECONDS}, got ${JSON.stringify(s)}` }
  }
  return n
}

/**
 * A PUT to `path` from `sourceIp`: the token to keep (the caller draws `token`, random) and the
 * response, or only the response when nothing is issued.
 */
export const issue = (
  state: State.State,
  sourceIp: string,
  path: string,
  headers: Readonly<Record<string, string | ReadonlyArray<string> | undefined>>,
  now: number,
  token: string
): { readonly response: Response; readonly token?: Token | undefined } => {
  const p = path.replace(/\/+$/, "")
  if (p !== "/latest/api/token") return { response: { status: 405, body: "Method Not Allowed: PUT is for /latest/api/token only", headers: { allow: "GET" } } }
  // EC2 refuses token requests that went through a proxy.
  if (headers["x-forwarded-for"] !== undefined) return { response: { status: 403, body: "Forbidden" } }
  const ttl = parseTtl(headers[TTL_HEADER])
  if (typeof ttl !== "number") return { response: ttl }
  const i = instanceAt(state, sourceIp)
  if (!i) return { response: { status: 404, body: "Not Found: no instance has this source address" } }
  return {
    response: { status: 200, body: token, headers: { [TTL_HEADER]: String(ttl) } },
    token: { instanceId: i.id, source: addr(sourceIp), expiresAt: now + ttl * 1000 }
  }
}

/**
 * Whether a GET may be answered: undefined when it carries no token (IMDSv1) or a live token of
 * this instance and source address; else the 401.
 */
export const check = (
  state: State.State,
  lookup: (token: string) => Token | undefined,
  sourceIp: string,
  header: string | ReadonlyArray<string> | undefined,
  now: number
): Response | undefined => {
  const v = Array.isArray(header) ? header[0] : header
  if (v === undefined) return undefined
  const t = lookup(v as string)
  const unauthorized: Response = { status: 401, body: "Unauthorized" }
  if (t === undefined || now >= t.expiresAt || t.source !== addr(sourceIp)) return unauthorized
  const i = instanceAt(state, sourceIp)
  if (i === undefined || i.id !== t.instanceId) return unauthorized
  return undefined
}

/** Seconds left on a token (the ttl header of answers given with it). */
export const remaining = (t: Token, now: number): number => Math.max(0, Math.ceil((t.expiresAt - now) / 1000))
