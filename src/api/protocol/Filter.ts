/**
 * The generic Describe filter (`Filter.N.Name` / `Filter.N.Value.M`), one tested function for every
 * Describe action, with EC2's semantics:
 * - filters AND together; the values of one filter OR together; a resource attribute may hold
 *   several values (an instance's groups) and matches when any of them matches any filter value;
 * - values are case-sensitive wildcards: `*` any run (also empty), `?` exactly one character (a
 *   code point), `\` makes the next character literal (`\*`, `\?`, `\\`; a trailing `\` is itself);
 * - `tag:Key` matches resources having tag Key with a value matching (Key literal, not a wildcard);
 *   `tag-key` and `tag-value` match any tag's key or value;
 * - an unknown filter name, a filter without Name or without values → InvalidParameterValue /
 *   MissingParameter, as EC2 answers (it does not silently ignore a misspelt filter).
 * Matching runs without regular expressions (no backtracking blow-up on hostile patterns).
 */
import { Either } from "effect"
import * as Ec2Error from "./Ec2Error.js"
import type * as Shapes from "./Ec2Shapes.js"

export interface Tag {
  readonly key: string
  readonly value: string
}

/** Filter name → the resource's values for it (a string, several, or none). */
export type Table<R> = { readonly [name: string]: (resource: R) => string | ReadonlyArray<string> | undefined }

export interface Options<R> {
  /** The resource's tags; enables `tag:Key`, `tag-key` and `tag-value`. */
  readonly tags?: (resource: R) => ReadonlyArray<Tag>
}

// --- wildcards ---------------------------------------------------------------------------------------

type Token = string | typeof ONE | typeof ANY
const ONE = 1 as const
const ANY = 2 as const

const tokenize = (pattern: string): { readonly tokens: ReadonlyArray<Token>; readonly literal: string | undefined } => {
  const cps = Array.from(pattern)
  const tokens: Array<Token> = []
  let literal = true
  for (let i = 0; i < cps.length; i++) {
    const c = cps[i]!
    if (c === "\\" && i + 1 < cps.length) tokens.push(cps[++i]!)
    else if (c === "*") {
      literal = false
      if (tokens[tokens.length - 1] !== ANY) tokens.push(ANY) // `**` is `*`
    } else if (c === "?") {
      literal = false
      tokens.push(ONE)
    } else tokens.push(c)
  }
  return { tokens, literal: literal ? (tokens as ReadonlyArray<string>).join("") : undefined }
}

// Greedy match with one backtrack point (the last `*`): O(|pattern|·|value|) at worst.
const matchTokens = (tokens: ReadonlyArray<Token>, value: ReadonlyArray<string>): boolean => {
  let t = 0
  let v = 0
  let starT = -1
  let starV = 0
  while (v < value.length) {
    const tok = tokens[t]
    if (tok === ONE || (typeof tok === "string" && tok === value[v])) {
      t++
      v++
    } else if (tok === ANY) {
      starT = t++
      starV = v
    } else if (starT >= 0) {
      t = starT + 1
      v = ++starV
    } else return false
  }
  while (tokens[t] === ANY) t++
  return t === tokens.length
}

/** A compiled EC2 wildcard pattern. */
export const pattern = (p: string): ((value: string) => boolean) => {
  const { tokens, literal } = tokenize(p)
  if (literal !== undefined) return (value) => value === literal
  return (value) => matchTokens(tokens, Array.from(value))
}

export const wildcardMatch = (p: string, value: string): boolean => pattern(p)(value)

// --- filters -----------------------------------------------------------------------------------------

const anyMatch = (matchers: ReadonlyArray<(v: string) => boolean>, values: string | ReadonlyArray<string> | undefined): boolean => {
  if (values === undefined) return false
  if (typeof values === "string") return matchers.some((m) => m(values))
  return values.some((v) => matchers.some((m) => m(v)))
}

/**
 * Validates the filters of a request against the names a resource supports and compiles them into
 * a predicate. No filters → everything matches.
 */
export const compile = <R>(
  table: Table<R>,
  filters: ReadonlyArray<Shapes.Filter> | undefined,
  options: Options<R> = {}
): Either.Either<(resource: R) => boolean, Ec2Error.Ec2Error> => {
  const tests: Array<(r: R) => boolean> = []
  const tags = options.tags
  for (const [i, f] of (filters ?? []).entries()) {
    const name = f.Name
    if (name === undefined || name === "") return Either.left(Ec2Error.missingParameter(`Filter.${i + 1}.Name`))
    const values = f.Values ?? []
    if (values.length === 0) {
      return Either.left(Ec2Error.make("InvalidParameterValue", `The filter '${Ec2Error.quote(name)}' needs at least one value (Filter.${i + 1}.Value.1)`))
    }
    const matchers = values.map(pattern)
    if (Object.prototype.hasOwnProperty.call(table, name)) {
      const get = table[name]!
      tests.push((r) => anyMatch(matchers, get(r)))
    } else if (tags !== undefined && name.startsWith("tag:") && name.length > 4) {
      const key = name.slice(4)
      tests.push((r) => tags(r).some((t) => t.key === key && matchers.some((m) => m(t.value))))
    } else if (tags !== undefined && name === "tag-key") {
      tests.push((r) => tags(r).some((t) => matchers.some((m) => m(t.key))))
    } else if (tags !== undefined && name === "tag-value") {
      tests.push((r) => tags(r).some((t) => matchers.some((m) => m(t.value))))
    } else {
      return Either.left(Ec2Error.make("InvalidParameterValue", `The filter '${Ec2Error.quote(name)}' is invalid`))
    }
  }
  if (tests.length === 0) return Either.right(() => true)
  return Either.right((r) => tests.every((t) => t(r)))
}
