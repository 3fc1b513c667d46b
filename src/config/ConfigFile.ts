/**
 * One loader for every JSON configuration file (the server config, nodes files, experiments): read,
 * parse, decode with a Schema, and report every problem as `file:line:column: field: message`.
 * Positions come from jsonc-parser's syntax tree, so an error names the line of the offending field
 * even though JSON.parse itself knows nothing of lines.
 */
import { readFile } from "node:fs/promises"
import { Effect, Either, ParseResult, Schema } from "effect"
import * as Jsonc from "jsonc-parser"

export class ConfigError extends Schema.TaggedError<ConfigError>()("ConfigError", {
  /** The whole message, one problem per line, each starting with the file name. */
  message: Schema.String
}) {}

/** `a.b[2].c` for a path of keys and indices. */
const fieldPath = (path: ReadonlyArray<PropertyKey>): string =>
  path.map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join("")

/** Line and column (1-based) of an offset in a text. */
export const lineCol = (text: string, offset: number): { readonly line: number; readonly column: number } => {
  const before = text.slice(0, offset)
  return { line: before.split("\n").length, column: offset - before.lastIndexOf("\n") }
}

/**
 * Where a field is written in the text: the line of the deepest existing node on its path (the
 * property itself when it exists, else the object that lacks it).
 */
const locate = (text: string, path: ReadonlyArray<PropertyKey>): { readonly line: number; readonly column: number } | undefined => {
  const tree = Jsonc.parseTree(text)
  if (tree === undefined) return undefined
  let segs = path.map((k) => (typeof k === "number" ? k : String(k)))
  while (segs.length > 0) {
    const node = Jsonc.findNodeAtLocation(tree, segs)
    if (node !== undefined) {
      // A property's value: point at its key, where a reader looks.
      const at = node.parent?.type === "property" ? node.parent.offset : node.offset
      return lineCol(text, at)
    }
    segs = segs.slice(0, -1)
  }
  return lineCol(text, tree.offset)
}

/** Parses JSON; a syntax error names its line and column. */
export const parseJson = (text: string): Either.Either<unknown, { readonly message: string; readonly line: number; readonly column: number }> => {
  try {
    return Either.right(JSON.parse(text))
  } catch (e) {
    // JSON.parse names a position only sometimes; jsonc-parser's strict scan always has one.
    const message = (e as Error).message
    const errors: Array<Jsonc.ParseError> = []
    Jsonc.parse(text, errors, { disallowComments: true, allowTrailingComma: false, allowEmptyContent: false })
    const m = /position (\d+)/.exec(message)
    const offset = errors[0]?.offset ?? (m ? Number(m[1]) : text.length)
    return Either.left({ message, ...lineCol(text, offset) })
  }
}

/** The decode issues of a Schema, as problems with field paths and their positions in the text. */
const issues = (error: ParseResult.ParseError): ReadonlyArray<{ readonly path: ReadonlyArray<PropertyKey>; readonly message: string }> => {
  const all = ParseResult.ArrayFormatter.formatErrorSync(error).map((i) => ({
    path: i.path,
    message: i._tag === "Unexpected" ? "unknown field" : i.message
  }))
  // An optional field fails twice (its type, and "Expected undefined" from the absent case), and a
  // union member once more at its root: keep the issue that says what is wrong.
  const within = (inner: ReadonlyArray<PropertyKey>, outer: ReadonlyArray<PropertyKey>) => outer.every((k, i) => inner[i] === k)
  return all.filter(
    (i, n) => !(/^Expected undefined, actual /.test(i.message) && all.some((j, m) => m !== n && within(j.path, i.path) && !/^Expected undefined, actual /.test(j.message)))
  )
}

const prefix = (file: string, text: string, path: ReadonlyArray<PropertyKey>) => {
  const at = locate(text, path)
  return at === undefined ? file : `${file}:${at.line}:${at.column}`
}

/** Decodes text already read from `file` with `schema`; every problem is one line of the error. */
export const decode = <A, I>(schema: Schema.Schema<A, I>, file: string, text: string): Either.Either<A, ConfigError> => {
  const json = parseJson(text)
  if (Either.isLeft(json)) {
    return Either.left(new ConfigError({ message: `${file}:${json.left.line}:${json.left.column}: not valid JSON (${json.left.message})` }))
  }
  const r = Schema.decodeUnknownEither(schema, { errors: "all", onExcessProperty: "error" })(json.right)
  if (Either.isRight(r)) return Either.right(r.right)
  const lines = issues(r.left).map((i) => `${prefix(file, text, i.path)}: ${i.path.length ? fieldPath(i.path) : "(top level)"}: ${i.message}`)
  return Either.left(new ConfigError({ message: lines.join("\n") }))
}

/** Reads `path` and decodes it with `schema`. */
export const load = <A, I>(schema: Schema.Schema<A, I>, path: string): Effect.Effect<A, ConfigError> =>
  Effect.tryPromise({
    try: () => readFile(path, "utf8"),
    catch: (e) => new ConfigError({ message: `${path}: cannot read the file (${(e as Error).message})` })
  }).pipe(Effect.flatMap((text) => decode(schema, path, text)))
