/**
 * The real @aws-sdk/client-ec2 pipeline without a network: a request handler that captures the
 * signed HttpRequest the SDK would send, or answers it with a body we give (to check that the SDK
 * parses our XML the way it parses EC2's).
 */
import { EC2Client } from "@aws-sdk/client-ec2"
import type * as Auth from "../../../src/api/protocol/Auth.js"

// The SDK warns once per process that Node 20 support ends; it is noise in test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

export interface Captured {
  readonly method: string
  readonly hostname: string
  readonly port?: number | undefined
  readonly path: string
  readonly query?: Record<string, string | Array<string> | null> | undefined
  readonly headers: Record<string, string>
  readonly body?: unknown
}

export const credentials = { accessKeyId: "AKIDEXAMPLE0000000001", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" }

// Any EC2 command object; the SDK's own generic Command type does not unify across commands.
type Command = object

export interface ClientOptions {
  readonly region?: string
  readonly endpoint?: string
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string }
}

const client = (handle: (request: Captured) => Promise<{ response: unknown }>, options: ClientOptions = {}): EC2Client =>
  new EC2Client({
    region: options.region ?? "eucalyptus",
    endpoint: options.endpoint ?? "http://127.0.0.1:8773/",
    credentials: options.credentials ?? credentials,
    maxAttempts: 1,
    requestHandler: { handle: (request: Captured) => handle(request) } as never
  })

class CapturedSignal extends Error {}

/** The signed request the SDK builds for a command. */
export const capture = async (command: Command, options: ClientOptions = {}): Promise<Captured> => {
  let captured: Captured | undefined
  const c = client(async (request) => {
    captured = request
    throw new CapturedSignal("captured")
  }, options)
  try {
    await c.send(command as never)
  } catch (e) {
    if (!(e instanceof CapturedSignal) && captured === undefined) throw e
  } finally {
    c.destroy()
  }
  if (captured === undefined) throw new Error("the SDK sent nothing")
  return captured
}

/** What the SDK makes of an HTTP response with this status and XML body. */
export const answer = async (
  command: Command,
  statusCode: number,
  headers: Readonly<Record<string, string>>,
  xml: string
): Promise<{ readonly output?: unknown; readonly error?: any }> => {
  const c = client(async () => ({ response: { statusCode, headers: { ...headers }, body: new TextEncoder().encode(xml) } }))
  try {
    return { output: await c.send(command as never) }
  } catch (error) {
    return { error }
  } finally {
    c.destroy()
  }
}

const encode3986 = (s: string): string => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)

export const queryString = (query: Captured["query"]): string => {
  const parts: Array<string> = []
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v === null) parts.push(encode3986(k))
    else for (const one of Array.isArray(v) ? v : [v]) parts.push(`${encode3986(k)}=${encode3986(one)}`)
  }
  return parts.join("&")
}

/** The captured request as our server would hand it to Auth. */
export const toAuthRequest = (r: Captured): Auth.HttpRequest => {
  const headers: Record<string, string> = {}
  for (const [k, v] of Object.entries(r.headers)) headers[k.toLowerCase()] = v
  return {
    method: r.method,
    host: headers["host"] ?? (r.port ? `${r.hostname}:${r.port}` : r.hostname),
    path: r.path,
    query: queryString(r.query),
    headers,
    body: typeof r.body === "string" ? r.body : r.body instanceof Uint8Array ? r.body : ""
  }
}

/** The request time a SigV4 request carries (x-amz-date), as epoch ms. */
export const amzDate = (r: Captured): number => {
  const d = r.headers["x-amz-date"] ?? ""
  return Date.parse(`${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z`)
}
