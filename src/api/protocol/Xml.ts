/**
 * The EC2 Query protocol, response side: an operation's output → EC2's XML, driven by the model's
 * output shape (element names are the members' `locationName`s, lists wrap each entry in `<item>`),
 * and the `<Response><Errors>` body of an error.
 *
 * Text is escaped for XML 1.0: `&`, `<`, `>` as entities, CR as `&#xD;` (a parser would otherwise
 * fold it into LF). Characters XML 1.0 cannot carry at all, even as references (C0 controls other
 * than tab/LF/CR, lone surrogates, U+FFFE/U+FFFF), become U+FFFD: the document stays well-formed and
 * the loss is visible rather than silent.
 *
 * A value of the wrong JavaScript type for its shape is a handler bug: it throws (a defect), it is
 * not a client error.
 */
import type * as Ec2Error from "./Ec2Error.js"
import type * as Shapes from "./Ec2Shapes.js"
import * as Model from "./Model.js"

export const contentType = "text/xml;charset=UTF-8"

/**
 * Headers for every response (success or error): SDKs read the request id for `$metadata` and
 * their logs from `x-amzn-RequestId` (EC2 sends it), not from the body.
 */
export const headers = (requestId: string): Readonly<Record<string, string>> => ({
  "content-type": contentType,
  "x-amzn-requestid": requestId
})

const DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'

const REPLACEMENT = "\ufffd"

// Whether a UTF-16 unit needs work: markup characters, CR, C0 controls other than tab/LF,
// surrogates (checked in pairs on the slow path) and U+FFFE/U+FFFF.
const special = (c: number): boolean =>
  c < 0x20 ? c !== 0x09 && c !== 0x0a : c === 0x26 || c === 0x3c || c === 0x3e || (c >= 0xd800 && (c <= 0xdfff || c >= 0xfffe))

/** XML 1.0 character data for any JavaScript string. */
export const escape = (s: string): string => {
  let i = 0
  // Fast path: most values (ids, names, addresses) need nothing.
  while (i < s.length && !special(s.charCodeAt(i))) i++
  if (i === s.length) return s
  let out = s.slice(0, i)
  for (; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (!special(c)) out += s[i]
    else if (c === 0x26) out += "&amp;"
    else if (c === 0x3c) out += "&lt;"
    else if (c === 0x3e) out += "&gt;"
    else if (c === 0x0d) out += "&#xD;"
    else if (c >= 0xd800 && c <= 0xdbff) {
      const d = i + 1 < s.length ? s.charCodeAt(i + 1) : 0
      if (d >= 0xdc00 && d <= 0xdfff) {
        out += s[i]! + s[i + 1]!
        i++
      } else out += REPLACEMENT
    } else if (c >= 0xe000) out += c === 0xfffe || c === 0xffff ? REPLACEMENT : s[i]
    else out += REPLACEMENT // other C0 controls, lone low surrogates
  }
  return out
}

/** What `escape` keeps of a string: the text an XML parser reads back. */
export const sanitize = (s: string): string => {
  let out = ""
  for (const ch of s) {
    const c = ch.codePointAt(0)!
    const bad = (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) || (c >= 0xd800 && c <= 0xdfff) || c === 0xfffe || c === 0xffff
    out += bad ? REPLACEMENT : ch
  }
  return out
}

const two = (n: number): string => (n < 10 ? `0${n}` : `${n}`)
const MAX_FAST_MS = 253402300799999 // 9999-12-31T23:59:59.999Z

/**
 * Epoch ms → `2026-11-26T10:00:00.000Z`, as Date#toISOString, without allocating a Date (which is
 * most of the cost of a large Describe). Civil-from-days after H. Hinnant; outside years 1970–9999
 * it defers to Date.
 */
export const isoTime = (ms: number): string => {
  if (!(ms >= 0 && ms <= MAX_FAST_MS && Number.isInteger(ms))) return new Date(ms).toISOString()
  const days = Math.floor(ms / 86400000)
  let rest = ms - days * 86400000
  const z = days + 719468
  const era = Math.floor(z / 146097)
  const doe = z - era * 146097
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
  const mp = Math.floor((5 * doy + 2) / 153)
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1
  const month = mp < 10 ? mp + 3 : mp - 9
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0)
  const h = Math.floor(rest / 3600000)
  rest -= h * 3600000
  const m = Math.floor(rest / 60000)
  rest -= m * 60000
  const sec = Math.floor(rest / 1000)
  const milli = rest - sec * 1000
  return `${year}-${two(month)}-${two(day)}T${two(h)}:${two(m)}:${two(sec)}.${milli < 10 ? "00" : milli < 100 ? "0" : ""}${milli}Z`
}

// --- compiled writers ------------------------------------------------------------------------------
// Each structure's writer is generated once, on first use, as straight-line code with one block per
// member of the model (the fast-json-stringify technique): property reads stay monomorphic, scalar
// checks and list loops are inline, nested structures call their own cached writers. This is what
// keeps a Describe of hundreds of resources cheap. Every name in the generated source comes from the
// model and is quoted with JSON.stringify. Paths for bug reports are assembled only while an error
// unwinds.

class Bug extends Error {
  constructor(
    readonly expected: string,
    readonly got: unknown,
    readonly path: Array<string> = []
  ) {
    super("")
  }
}
const within = (e: unknown, segment: string): unknown => {
  if (e instanceof Bug) e.path.unshift(segment)
  return e
}

const UNKNOWN = Symbol("unknown member")

/** Writes the members of a structure value (no wrapping element). */
type Members = (value: unknown) => string

const q = (s: string): string => JSON.stringify(s)

/**
 * Code that appends the element(s) for the value in variable `x` of shape `shapeName` to `o`;
 * it throws a Bug (without path) on a value of the wrong type. `M` collects nested structure writers.
 */
const emit = (shapeName: string, x: string, element: string, M: Array<Members>, depth: number): string => {
  const s = Model.shape(shapeName)
  const open = q(`<${element}>`)
  const close = q(`</${element}>`)
  const fail = (expected: string) => `throw new Bug(${q(expected)}, ${x});`
  switch (s.type) {
    case "string":
      return `if (typeof ${x} !== "string") ${fail("a string")} o += ${open} + escape(${x}) + ${close};`
    case "integer":
    case "long":
      return `if (typeof ${x} !== "number" || !Number.isSafeInteger(${x})) ${fail("an integer")} o += ${open} + ${x} + ${close};`
    case "double":
    case "float":
      return `if (typeof ${x} !== "number" || !Number.isFinite(${x})) ${fail("a finite number")} o += ${open} + ${x} + ${close};`
    case "boolean":
      return `if (${x} === true) o += ${q(`<${element}>true</${element}>`)}; else if (${x} === false) o += ${q(`<${element}>false</${element}>`)}; else ${fail("a boolean")}`
    case "timestamp":
      return `if (typeof ${x} !== "number" || !(Math.abs(${x}) <= 8.64e15)) ${fail("epoch milliseconds")} o += ${open} + isoTime(${x}) + ${close};`
    case "blob":
      return `if (!(${x} instanceof Uint8Array)) ${fail("a Uint8Array")} o += ${open} + Buffer.from(${x}.buffer, ${x}.byteOffset, ${x}.byteLength).toString("base64") + ${close};`
    case "structure": {
      const i = M.length
      // A stub that compiles the nested writer on first call and replaces itself.
      M.push((v) => (M[i] = membersOf(shapeName))(v))
      return `o += ${open} + M[${i}](${x}) + ${close};`
    }
    case "list": {
      const j = `j${depth}`
      const y = `y${depth}`
      const item = emit(s.member.shape, y, Model.itemName(s), M, depth + 1)
      return [
        `if (!Array.isArray(${x})) ${fail("an array")}`,
        `if (${x}.length === 0) o += ${q(`<${element}/>`)}; else {`,
        `o += ${open};`,
        `let ${j} = 0;`,
        `try { for (; ${j} < ${x}.length; ${j}++) { const ${y} = ${x}[${j}]; ${item} } } catch (e) { throw within(e, "[" + ${j} + "]"); }`,
        `o += ${close}; }`
      ].join("\n")
    }
  }
}

const membersWriter = (shapeName: string, s: Model.StructureShape): Members => {
  const M: Array<Members> = []
  const lines: Array<string> = [
    `if (typeof v !== "object" || v === null || Array.isArray(v) || v instanceof Uint8Array) throw new Bug(${q(`a ${shapeName} object`)}, v);`,
    `let o = "", x, n = 0;`
  ]
  for (const [name, ref] of Object.entries(s.members)) {
    lines.push(`x = v[${q(name)}];`, `if (x !== undefined) { n++; try { ${emit(ref.shape, "x", Model.elementName(name, ref), M, 0)} } catch (e) { throw within(e, ${q(name)}); } }`)
  }
  // A defined key the model does not know is a handler bug (a typo would otherwise vanish silently).
  lines.push(`let k = 0; for (const key in v) if (v[key] !== undefined) k++;`, `if (k !== n) unknown(v);`, `return o;`)
  const known = new Set(Object.keys(s.members))
  const unknown = (v: Record<string, unknown>): never => {
    const key = Object.keys(v).find((k) => v[k] !== undefined && !known.has(k))!
    throw new Bug(`a member of ${shapeName}`, UNKNOWN, [key])
  }
  const factory = new Function("Bug", "within", "escape", "isoTime", "unknown", "M", `"use strict";\nreturn function (v) {\n${lines.join("\n")}\n}`)
  return factory(Bug, within, escape, isoTime, unknown, M) as Members
}

const membersCache = new Map<string, Members>()
const membersOf = (shapeName: string): Members => {
  let w = membersCache.get(shapeName)
  if (w === undefined) {
    const s = Model.shape(shapeName)
    if (s.type !== "structure") throw new Error(`ec2-model.json: ${shapeName} is not a structure`)
    w = membersWriter(shapeName, s)
    membersCache.set(shapeName, w)
  }
  return w
}

const describeBug = (op: string, e: Bug): Error => {
  const path = e.path.map((p) => (p.startsWith("[") ? p : `.${p}`)).join("")
  if (e.got === UNKNOWN) return new Error(`Xml: ${op}${path} is not ${e.expected}`)
  return new Error(`Xml: ${op}${path} must be ${e.expected}, got ${e.got === null ? "null" : typeof e.got}`)
}

export interface ResponseOptions {
  /** The API version for the namespace; EC2 echoes the request's `Version`. Default 2016-11-15. */
  readonly version?: string
}

/** The XML body of a successful response. */
export const response = <Op extends Shapes.OperationName>(
  op: Op,
  output: Shapes.Operations[Op]["output"],
  requestId: string,
  options: ResponseOptions = {}
): string => {
  const operation = Model.operation(op)
  if (operation === undefined) throw new Error(`Xml: ${op} is not an operation of the model`)
  const root = `${op}Response`
  let body: string
  if (operation.output === undefined) {
    if (Object.keys(output as object).length > 0) throw new Error(`Xml: ${op} has no output members`)
    body = "<return>true</return>"
  } else {
    try {
      body = membersOf(operation.output)(output)
    } catch (e) {
      throw e instanceof Bug ? describeBug(op, e) : e
    }
  }
  return `${DECLARATION}<${root} xmlns="${escape(Model.xmlNamespace(options.version))}"><requestId>${escape(requestId)}</requestId>${body}</${root}>`
}

/** The XML body of an error, exactly as EC2 writes it. */
export const errorBody = (code: string, message: string, requestId: string): string =>
  `${DECLARATION}<Response><Errors><Error><Code>${escape(code)}</Code><Message>${escape(message)}</Message></Error></Errors><RequestID>${escape(requestId)}</RequestID></Response>`

/** Status and body for an Ec2Error. */
export const error = (e: Ec2Error.Ec2Error, requestId: string): { readonly status: number; readonly body: string } => ({
  status: e.status,
  body: errorBody(e.code, e.message, requestId)
})
