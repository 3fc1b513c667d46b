/**
 * A small, strict XML 1.0 reader for tests (no regular expressions): it checks well-formedness
 * (one root, balanced tags, legal characters, known entities, legal names) and returns the tree
 * with decoded text, so tests can read back what the serializer wrote.
 */

export class Element {
  constructor(
    readonly name: string,
    readonly attributes: ReadonlyMap<string, string>,
    readonly elements: ReadonlyArray<Element>,
    readonly text: string
  ) {}
  child(name: string): Element {
    const found = this.elements.filter((e) => e.name === name)
    if (found.length !== 1) throw new Error(`<${this.name}> has ${found.length} <${name}> children`)
    return found[0]!
  }
  children(name: string): ReadonlyArray<Element> {
    return this.elements.filter((e) => e.name === name)
  }
}

const isChar = (c: number): boolean =>
  c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff)

const isNameStart = (ch: string): boolean => {
  const c = ch.codePointAt(0)!
  return ch === ":" || ch === "_" || (ch >= "A" && ch <= "Z") || (ch >= "a" && ch <= "z") || (c >= 0xc0 && c !== 0xd7 && c !== 0xf7)
}
const isNameChar = (ch: string): boolean => isNameStart(ch) || ch === "-" || ch === "." || (ch >= "0" && ch <= "9") || ch === "\u00b7"

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" }

export const parse = (xml: string): Element => {
  const cps = Array.from(xml)
  for (const ch of cps) {
    if (!isChar(ch.codePointAt(0)!)) throw new Error(`illegal character U+${ch.codePointAt(0)!.toString(16)}`)
  }
  let i = 0
  const fail = (why: string): never => {
    throw new Error(`${why} at character ${i}`)
  }
  const peek = (s: string): boolean => cps.slice(i, i + s.length).join("") === s
  const expect = (s: string): void => {
    if (!peek(s)) fail(`expected '${s}'`)
    i += s.length
  }
  const space = (): void => {
    while (i < cps.length && (cps[i] === " " || cps[i] === "\t" || cps[i] === "\n" || cps[i] === "\r")) i++
  }
  const name = (): string => {
    if (i >= cps.length || !isNameStart(cps[i]!)) fail("expected a name")
    let n = ""
    while (i < cps.length && isNameChar(cps[i]!)) n += cps[i++]
    return n
  }
  const reference = (): string => {
    expect("&")
    let body = ""
    while (i < cps.length && cps[i] !== ";") body += cps[i++]
    expect(";")
    if (body.startsWith("#x") || body.startsWith("#")) {
      const hex = body.startsWith("#x")
      const digits = body.slice(hex ? 2 : 1)
      const valid = digits.length > 0 && [...digits].every((d) => (hex ? "0123456789abcdefABCDEF" : "0123456789").includes(d))
      const c = valid ? parseInt(digits, hex ? 16 : 10) : -1
      if (!isChar(c)) fail(`bad character reference &${body};`)
      return String.fromCodePoint(c)
    }
    const e = ENTITIES[body]
    if (e === undefined) fail(`unknown entity &${body};`)
    return e!
  }
  const text = (until: string): string => {
    let out = ""
    while (i < cps.length && cps[i] !== "<") {
      if (cps[i] === "&") out += reference()
      else if (cps[i] === "\r") {
        // XML end-of-line handling: CR LF and lone CR read as LF.
        i++
        if (cps[i] === "\n") i++
        out += "\n"
      } else {
        if (cps[i] === ">" && peek("]]>")) fail("']]>' in text")
        out += cps[i++]
      }
    }
    if (i >= cps.length) fail(`unterminated content of <${until}>`)
    return out
  }
  const attribute = (): readonly [string, string] => {
    const n = name()
    space()
    expect("=")
    space()
    const q = cps[i]
    if (q !== '"' && q !== "'") fail("expected a quoted attribute value")
    i++
    let v = ""
    while (i < cps.length && cps[i] !== q) {
      if (cps[i] === "<") fail("'<' in an attribute value")
      v += cps[i] === "&" ? reference() : cps[i++]
    }
    expect(q!)
    return [n, v]
  }
  const element = (): Element => {
    expect("<")
    const n = name()
    const attrs = new Map<string, string>()
    for (;;) {
      const before = i
      space()
      if (peek("/>")) {
        i += 2
        return new Element(n, attrs, [], "")
      }
      if (peek(">")) {
        i++
        break
      }
      if (i === before) fail("expected whitespace before an attribute")
      const [k, v] = attribute()
      if (attrs.has(k)) fail(`duplicate attribute ${k}`)
      attrs.set(k, v)
    }
    const kids: Array<Element> = []
    let content = ""
    for (;;) {
      content += text(n)
      if (peek("</")) {
        i += 2
        const close = name()
        if (close !== n) fail(`</${close}> closes <${n}>`)
        space()
        expect(">")
        // Mixed content does not occur in EC2 responses: text only in leaf elements.
        if (kids.length > 0 && content.trim() !== "") fail(`mixed content in <${n}>`)
        return new Element(n, attrs, kids, kids.length > 0 ? "" : content)
      }
      kids.push(element())
    }
  }
  if (peek("<?xml")) {
    while (i < cps.length && !peek("?>")) i++
    expect("?>")
  }
  space()
  const root = element()
  space()
  if (i !== cps.length) fail("content after the root element")
  return root
}
