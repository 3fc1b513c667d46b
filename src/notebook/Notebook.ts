/**
 * The notebook source format: Markdown with three kinds of fenced blocks that the builder acts on.
 *
 *   ```experiment   JSON: an experiment (or a file) and its variants — see ExperimentBlock.ts
 *   ```chart        JSON: a declarative chart over an experiment's results — see ChartSpec.ts
 *   ```chart-js ID  JavaScript drawn in the page with d3 and the chart helpers, over experiment ID
 *
 * Everything else is prose (rendered by Markdown.ts), including ordinary code fences. JSON blocks
 * may carry `//` line comments. Fences follow CommonMark: a fence of N ≥ 3 backticks or tildes is
 * closed by the same character repeated at least N times, so a longer fence can show a notebook
 * example without it being run.
 */
import * as NotebookError from "./NotebookError.js"

export type Block =
  | { readonly _tag: "Prose"; readonly line: number; readonly text: string }
  | { readonly _tag: "Experiment"; readonly line: number; readonly source: string }
  | { readonly _tag: "Chart"; readonly line: number; readonly source: string }
  | { readonly _tag: "ChartJs"; readonly line: number; readonly args: ReadonlyArray<string>; readonly source: string }

export interface Notebook {
  /** The file as given (for messages). */
  readonly file: string
  /** The first level-1 heading, else the file name. */
  readonly title: string
  /** The first paragraph of prose after the title (for the index page), plain text. */
  readonly description: string
  readonly blocks: ReadonlyArray<Block>
}

const fenceOpen = /^( {0,3})(`{3,}|~{3,})\s*([^`]*)$/

/** Parses a notebook's text; fails on an unclosed special block. */
export const parse = (file: string, text: string): Notebook => {
  const lines = text.replace(/\r\n?/g, "\n").split("\n")
  const blocks: Array<Block> = []
  let prose: Array<string> = []
  let proseLine = 1
  const flushProse = () => {
    if (prose.some((l) => l.trim() !== "")) blocks.push({ _tag: "Prose", line: proseLine, text: prose.join("\n") })
    prose = []
  }
  let i = 0
  while (i < lines.length) {
    const m = fenceOpen.exec(lines[i]!)
    if (!m) {
      if (prose.length === 0) proseLine = i + 1
      prose.push(lines[i]!)
      i++
      continue
    }
    const fence = m[2]!
    const info = m[3]!.trim().split(/\s+/).filter((s) => s !== "")
    const kind = info[0]
    const start = i
    const body: Array<string> = []
    let closed = false
    i++
    while (i < lines.length) {
      const l = lines[i]!
      const t = l.trim()
      if (t.length >= fence.length && t === fence[0]!.repeat(t.length) && l.indexOf(fence[0]!) <= 3) {
        closed = true
        i++
        break
      }
      body.push(l)
      i++
    }
    const special = kind === "experiment" || kind === "chart" || kind === "chart-js"
    if (!special) {
      // An ordinary code block: part of the prose, verbatim.
      if (prose.length === 0) proseLine = start + 1
      prose.push(...lines.slice(start, i))
      if (!closed) prose.push(fence)
      continue
    }
    if (!closed) throw NotebookError.make(file, start + 1, undefined, `the \`\`\`${kind} block is never closed (expected a line ${fence})`)
    flushProse()
    const source = body.join("\n")
    const line = start + 1
    if (kind === "experiment") blocks.push({ _tag: "Experiment", line, source })
    else if (kind === "chart") blocks.push({ _tag: "Chart", line, source })
    else blocks.push({ _tag: "ChartJs", line, args: info.slice(1), source })
  }
  flushProse()
  return { file, ...titleOf(file, blocks), blocks }
}

const titleOf = (file: string, blocks: ReadonlyArray<Block>): { title: string; description: string } => {
  let title: string | undefined
  let description = ""
  for (const b of blocks) {
    if (b._tag !== "Prose") continue
    const paragraphs = b.text.split(/\n\s*\n/)
    for (const p of paragraphs) {
      const t = p.trim()
      if (t === "") continue
      if (title === undefined) {
        const h = /^#\s+(.+)$/m.exec(t)
        if (h && t.startsWith("#")) {
          title = h[1]!.trim()
          continue
        }
      }
      if (!t.startsWith("#") && !t.startsWith("```") && !t.startsWith("~~~") && description === "") {
        description = plain(t)
        if (title !== undefined) return { title, description }
      }
    }
  }
  const base = file.replace(/^.*[\\/]/, "").replace(/\.md$/, "")
  return { title: title ?? base, description }
}

/** Markdown inline syntax dropped, whitespace collapsed. */
const plain = (s: string): string =>
  s
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .replace(/[*_`]/g, "")
    .replace(/\s+/g, " ")
    .trim()

/**
 * Parses the JSON of a block whose first line is `line` in the notebook; `//` comments allowed.
 * A syntax error names the notebook line it is on.
 */
export const parseJson = (file: string, line: number, kind: string, source: string): unknown => {
  const stripped = stripComments(source)
  try {
    return JSON.parse(stripped)
  } catch (e) {
    // Node's messages do not always give a position: find it ourselves.
    const at = jsonErrorAt(stripped)
    const before = stripped.slice(0, at.offset)
    const row = before.match(/\n/g)?.length ?? 0
    const col = at.offset - (before.lastIndexOf("\n") + 1) + 1
    throw NotebookError.make(file, line + 1 + row, undefined, `the \`\`\`${kind} block is not valid JSON (column ${col}): ${at.message ?? (e instanceof Error ? e.message : String(e))}`)
  }
}

/** Where a JSON text first goes wrong (a small recursive-descent scan; only called on text JSON.parse rejected). */
export const jsonErrorAt = (s: string): { readonly offset: number; readonly message: string | undefined } => {
  let i = 0
  const ws = () => {
    while (i < s.length && " \t\n\r".includes(s[i]!)) i++
  }
  const bad = (what: string): never => {
    throw { offset: i, message: i >= s.length ? `unexpected end of input, expected ${what}` : `unexpected ${JSON.stringify(s[i])}, expected ${what}` }
  }
  const value = (): void => {
    ws()
    const c = s[i]
    if (c === "{") {
      i++
      ws()
      if (s[i] === "}") return void i++
      for (;;) {
        ws()
        if (s[i] !== '"') bad("a quoted key")
        str()
        ws()
        if (s[i] !== ":") bad('":"')
        i++
        value()
        ws()
        if (s[i] === ",") {
          i++
          continue
        }
        if (s[i] === "}") return void i++
        bad('"," or "}"')
      }
    }
    if (c === "[") {
      i++
      ws()
      if (s[i] === "]") return void i++
      for (;;) {
        value()
        ws()
        if (s[i] === ",") {
          i++
          continue
        }
        if (s[i] === "]") return void i++
        bad('"," or "]"')
      }
    }
    if (c === '"') return str()
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(s.slice(i)) ?? /^(true|false|null)/.exec(s.slice(i))
    if (m) return void (i += m[0].length)
    bad("a value")
  }
  const str = (): void => {
    i++
    while (i < s.length && s[i] !== '"') {
      if (s[i] === "\\") i++
      else if (s[i] === "\n") bad('a closing quote on the same line')
      i++
    }
    if (i >= s.length) bad("a closing quote")
    i++
  }
  try {
    value()
    ws()
    if (i < s.length) bad("the end of the block")
    return { offset: 0, message: undefined }
  } catch (e) {
    const x = e as { offset: number; message: string }
    return { offset: x.offset, message: x.message }
  }
}

/** Removes `//` comments outside strings, keeping line breaks (so positions map to the same lines). */
export const stripComments = (s: string): string => {
  let out = ""
  let inString = false
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (inString) {
      out += c
      if (c === "\\") {
        out += s[i + 1] ?? ""
        i++
      } else if (c === '"') inString = false
    } else if (c === '"') {
      inString = true
      out += c
    } else if (c === "/" && s[i + 1] === "/") {
      while (i < s.length && s[i] !== "\n") i++
      if (i < s.length) out += "\n"
    } else out += c
  }
  return out
}
