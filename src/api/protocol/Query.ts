/**
 * The EC2 Query protocol, request side: form-encoded text → flat parameters → the typed input of an
 * operation, driven by the service model (botocore's EC2Serializer is the spec for names: see
 * Model.queryName). Pure: every failure is an Ec2Error value (a client error), never a throw.
 *
 * Rules, where EC2 leaves room:
 * - `+` and `%20` are both a space; a bad `%` escape or percent-encoded bytes that are not UTF-8 →
 *   MalformedQueryString. Empty names (`&&`, `=x`) are skipped.
 * - A name given twice (query string and body, or twice in one) must carry the same value, else
 *   InvalidParameterValue: a signed request never repeats a name, and picking one silently would
 *   let two readers of the same request disagree.
 * - Unknown parameters are ignored, as EC2 does (Action, Version, X-Amz-*, Signature… live there too).
 * - Lists are `Name.N`: N must be 0–999999999 without leading zeros (else InvalidParameterValue
 *   naming the parameter); gaps are allowed and the entries keep index order (`Name.1`, `Name.3` →
 *   two entries). Lists from 0 (`ResourceId.0`, Libcloud) are accepted as EC2 accepted them. A bare
 *   `Name=` is an empty list; a bare `Name=value` for a list of single values is a one-element list
 *   (`KeyName=x`, old clients), and `Name.1=value` for a single value is that value (boto 2's
 *   `InstanceId.1` on GetConsoleOutput); both together must agree.
 * - Control characters XML 1.0 cannot carry (C0 other than tab, LF and CR; U+FFFE, U+FFFF) in a
 *   name or value → InvalidParameterValue: what is stored must be what the client sent.
 * - A required member that is absent, an empty string or an empty list → MissingParameter.
 * - integer: decimal, within 32 bits and the model's min/max; long: a safe integer; boolean:
 *   `true`/`false` in any case; timestamp: ISO 8601 with a zone, as epoch ms; blob: strict base64.
 */
import { Either } from "effect"
import * as Ec2Error from "./Ec2Error.js"
import type * as Shapes from "./Ec2Shapes.js"
import * as Model from "./Model.js"

/** Flat request parameters, name → value (names and values percent-decoded). */
export type Params = ReadonlyMap<string, string>

/** The parsed request: the action names the operation and narrows its input. */
export type Request = {
  readonly [Op in Shapes.OperationName]: { readonly action: Op; readonly version: string; readonly input: Shapes.Operations[Op]["input"] }
}[Shapes.OperationName]

class Fail {
  constructor(readonly error: Ec2Error.Ec2Error) {}
}
const fail = (error: Ec2Error.Ec2Error): never => {
  throw new Fail(error)
}
// Internal throws keep the walkers small; only Fail is caught, anything else is a defect.
const attempt = <A>(f: () => A): Either.Either<A, Ec2Error.Ec2Error> => {
  try {
    return Either.right(f())
  } catch (e) {
    if (e instanceof Fail) return Either.left(e.error)
    throw e
  }
}

const decodeComponent = (s: string): string => {
  const spaced = s.includes("+") ? s.replaceAll("+", " ") : s
  if (!spaced.includes("%")) return spaced
  try {
    return decodeURIComponent(spaced)
  } catch {
    return fail(
      Ec2Error.make("MalformedQueryString", `Invalid percent-encoding in '${Ec2Error.quote(s)}': use %XX escapes of UTF-8 bytes`)
    )
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

/** `application/x-www-form-urlencoded` (or a raw query string) → name/value pairs in order. */
export const decodeForm = (text: string | Uint8Array): Either.Either<Array<readonly [string, string]>, Ec2Error.Ec2Error> =>
  attempt(() => {
    let s: string
    if (typeof text === "string") s = text
    else {
      try {
        s = utf8.decode(text)
      } catch {
        return fail(Ec2Error.make("MalformedQueryString", "The request body is not valid UTF-8"))
      }
    }
    const pairs: Array<readonly [string, string]> = []
    if (s === "") return pairs
    for (const part of s.split("&")) {
      if (part === "") continue
      const eq = part.indexOf("=")
      const name = decodeComponent(eq < 0 ? part : part.slice(0, eq))
      if (name === "") continue
      pairs.push([name, eq < 0 ? "" : decodeComponent(part.slice(eq + 1))])
    }
    return pairs
  })

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/
// eslint-disable-next-line no-control-regex
const CONTROL_ALL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g
const controlCode = (s: string): string => s.charCodeAt(s.search(CONTROL)).toString(16).toUpperCase().padStart(4, "0")

/** The parameters of a request: its query string and (for a form POST) its body, merged. */
export const params = (parts: { readonly query?: string; readonly body?: string | Uint8Array }): Either.Either<Params, Ec2Error.Ec2Error> =>
  attempt(() => {
    const out = new Map<string, string>()
    for (const source of [parts.query, parts.body]) {
      if (source === undefined) continue
      const pairs = decodeForm(source)
      if (Either.isLeft(pairs)) return fail(pairs.left)
      for (const [name, value] of pairs.right) {
        if (CONTROL.test(name) || CONTROL.test(value)) {
          fail(Ec2Error.make("InvalidParameterValue", `The parameter ${Ec2Error.quote(name.replace(CONTROL_ALL, "?"))} contains a control character (U+${controlCode(name + value)}), which is not allowed`))
        }
        const seen = out.get(name)
        if (seen !== undefined && seen !== value) {
          fail(Ec2Error.make("InvalidParameterValue", `The parameter ${Ec2Error.quote(name)} is given more than once with different values`))
        }
        out.set(name, value)
      }
    }
    return out
  })

// --- the parameter tree: `Filter.1.Value.2` is root → Filter → 1 → Value → 2 -----------------------

interface Node {
  value: string | undefined
  children: Map<string, Node> | undefined
}

const tree = (ps: Params): Node => {
  const root: Node = { value: undefined, children: undefined }
  for (const [name, value] of ps) {
    let node = root
    for (const segment of name.split(".")) {
      node.children ??= new Map()
      let next = node.children.get(segment)
      if (next === undefined) {
        next = { value: undefined, children: undefined }
        node.children.set(segment, next)
      }
      node = next
    }
    node.value = value
  }
  return root
}

// --- decoding by shape ------------------------------------------------------------------------------

interface MemberPlan {
  readonly name: string
  readonly key: string
  readonly shape: string
  readonly required: boolean
}
const plans = new Map<string, ReadonlyArray<MemberPlan>>()
const planOf = (shapeName: string, s: Model.StructureShape): ReadonlyArray<MemberPlan> => {
  let plan = plans.get(shapeName)
  if (plan === undefined) {
    const required = new Set(s.required ?? [])
    plan = Object.entries(s.members).map(([name, ref]) => ({ name, key: Model.queryName(name, ref), shape: ref.shape, required: required.has(name) }))
    plans.set(shapeName, plan)
  }
  return plan
}

const join = (path: string, key: string): string => (path === "" ? key : `${path}.${key}`)

const isEmpty = (v: unknown): boolean => v === "" || (Array.isArray(v) && v.length === 0)

const structure = (shapeName: string, s: Model.StructureShape, node: Node, path: string): Record<string, unknown> => {
  if (node.value !== undefined && node.value !== "") {
    fail(Ec2Error.invalidParameterValue(path, node.value, `${path} is a structure; give its members as ${path}.Member`))
  }
  const out: Record<string, unknown> = {}
  for (const m of planOf(shapeName, s)) {
    const child = node.children?.get(m.key)
    const p = join(path, m.key)
    const v = child === undefined ? undefined : decode(m.shape, child, p)
    if (v === undefined || (m.required && isEmpty(v))) {
      if (m.required) fail(Ec2Error.missingParameter(p))
      continue
    }
    out[m.name] = v
  }
  return out
}

const INDEX = /^(?:0|[1-9][0-9]{0,8})$/

// The first complete parameter name under a node, for messages (`InstanceId..1`, not `InstanceId.`).
const fullName = (node: Node, path: string): string => {
  let n = node
  let p = path
  while (n.value === undefined && n.children !== undefined) {
    const [k, child] = n.children.entries().next().value!
    n = child
    p = `${p}.${k}`
  }
  return p
}

const isScalar = (shapeName: string): boolean => {
  const t = Model.shape(shapeName).type
  return t !== "structure" && t !== "list"
}

const list = (s: Model.ListShape, node: Node, path: string): Array<unknown> => {
  if (node.value !== undefined && node.value !== "") {
    // A flat name for a one-element list of single values (`KeyName=x`), as EC2 accepted it.
    if (node.children === undefined && isScalar(s.member.shape)) return [scalar(Model.shape(s.member.shape), node.value, path)]
    fail(Ec2Error.invalidParameterValue(path, node.value, `${path} is a list; give its entries as ${path}.1, ${path}.2, …`))
  }
  if (node.children === undefined) return []
  const entries: Array<readonly [number, Node, string]> = []
  for (const [k, child] of node.children) {
    const p = `${path}.${k}`
    if (!INDEX.test(k)) fail(Ec2Error.make("InvalidParameterValue", `The parameter ${Ec2Error.quote(fullName(child, p))} is not valid: list indexes are 1, 2, 3, …`))
    entries.push([Number(k), child, p])
  }
  entries.sort((a, b) => a[0] - b[0])
  const out: Array<unknown> = []
  for (const [, child, p] of entries) {
    const v = decode(s.member.shape, child, p)
    if (v !== undefined) out.push(v)
  }
  return out
}

const INTEGER = /^[+-]?[0-9]+$/
// Unambiguous alternatives: no backtracking blow-up on a long hostile value.
const DECIMAL = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/
const ISO8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const INT32_MIN = -2147483648
const INT32_MAX = 2147483647

const integer = (s: { readonly type: "integer" | "long"; readonly min?: number | undefined; readonly max?: number | undefined }, value: string, path: string): number => {
  const n = INTEGER.test(value) ? Number(value) : Number.NaN
  const [lo, hi] = s.type === "integer" ? [INT32_MIN, INT32_MAX] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]
  if (!Number.isSafeInteger(n) || n < lo || n > hi) {
    fail(Ec2Error.invalidParameterValue(path, value, s.type === "integer" ? "expected a 32-bit integer" : "expected an integer"))
  }
  if (s.min !== undefined && n < s.min) fail(Ec2Error.invalidParameterValue(path, value, `expected at least ${s.min}`))
  if (s.max !== undefined && n > s.max) fail(Ec2Error.invalidParameterValue(path, value, `expected at most ${s.max}`))
  return n === 0 ? 0 : n // never -0
}

const scalar = (s: Model.Shape, value: string, path: string): unknown => {
  switch (s.type) {
    case "string":
      return value
    case "integer":
    case "long":
      return integer(s, value, path)
    case "double":
    case "float": {
      const n = DECIMAL.test(value) ? Number(value) : Number.NaN
      return Number.isFinite(n) ? n : fail(Ec2Error.invalidParameterValue(path, value, "expected a number"))
    }
    case "boolean": {
      const v = value.toLowerCase()
      return v === "true" ? true : v === "false" ? false : fail(Ec2Error.invalidParameterValue(path, value, "expected true or false"))
    }
    case "timestamp": {
      const t = ISO8601.test(value) ? Date.parse(value) : Number.NaN
      return Number.isFinite(t) ? t : fail(Ec2Error.invalidParameterValue(path, value, "expected an ISO 8601 time such as 2026-11-26T10:00:00Z"))
    }
    case "blob": {
      const compact = value.replace(/[\r\n]/g, "")
      return BASE64.test(compact)
        ? new Uint8Array(Buffer.from(compact, "base64"))
        : fail(Ec2Error.invalidParameterValue(path, value, "expected base64-encoded data"))
    }
    default:
      return fail(Ec2Error.invalidParameterValue(path, value, `${path} is not a single value`))
  }
}

const decode = (shapeName: string, node: Node, path: string): unknown => {
  const s = Model.shape(shapeName)
  switch (s.type) {
    case "structure":
      return structure(shapeName, s, node, path)
    case "list":
      return list(s, node, path)
    default: {
      // `Name.1` for a single value (boto 2's `InstanceId.1`) is that value; other children under a
      // scalar (`DryRun.x`) are unknown parameters, ignored like any other.
      const one = node.children?.get("1")?.value
      if (one !== undefined) {
        if (node.value !== undefined && node.value !== one) {
          fail(Ec2Error.make("InvalidParameterValue", `The parameters ${path} and ${path}.1 are given with different values`))
        }
        return scalar(s, one, path)
      }
      return node.value === undefined ? undefined : scalar(s, node.value, path)
    }
  }
}

/** The input of one operation from flat parameters. */
export const parseInput = <Op extends Shapes.OperationName>(
  op: Op,
  ps: Params
): Either.Either<Shapes.Operations[Op]["input"], Ec2Error.Ec2Error> => {
  const operation = Model.operation(op)
  if (operation === undefined) return Either.left(Ec2Error.invalidAction(op))
  const s = Model.shape(operation.input)
  if (s.type !== "structure") throw new Error(`ec2-model.json: input ${operation.input} of ${op} is not a structure`)
  const root = tree(ps)
  // The cast is the model's promise: Ec2Shapes.ts is generated from the same shapes decode walks.
  return attempt(() => structure(operation.input, s, root, "") as unknown as Shapes.Operations[Op]["input"])
}

const VERSION = /^\d{4}-\d{2}-\d{2}$/

/** Action, Version and the typed input from flat parameters. */
export const parseRequest = (ps: Params): Either.Either<Request, Ec2Error.Ec2Error> => {
  const action = ps.get("Action")
  if (action === undefined || action === "") return Either.left(Ec2Error.make("MissingAction", "The request must contain the parameter Action"))
  const operation = Model.operation(action)
  if (operation === undefined) return Either.left(Ec2Error.invalidAction(action))
  const version = ps.get("Version")
  if (version === undefined || version === "") return Either.left(Ec2Error.missingParameter("Version"))
  if (!VERSION.test(version)) return Either.left(Ec2Error.invalidParameterValue("Version", version, "expected an API version such as 2016-11-15"))
  return Either.map(parseInput(operation.name, ps), (input) => ({ action: operation.name, version, input }) as Request)
}
