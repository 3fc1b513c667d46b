/**
 * The Markdown a notebook's prose needs, rendered to HTML without a dependency: ATX headings, paragraphs,
 * bullet and numbered lists (one level, with continuation lines), block quotes, fenced and indented
 * code, pipe tables, horizontal rules; inline code, **strong**, *emphasis*, [links](url) and <autolinks>.
 * Raw HTML is escaped, never passed through: a notebook cannot inject script into its page by accident.
 */

export const escape = (s: string): string =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;")

/** A heading's anchor id: lower case, words joined by "-". */
export const slug = (s: string): string =>
  s
    .toLowerCase()
    .replace(/<[^>]*>/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "")

const safeUrl = (u: string): string => (/^(https?:|mailto:|#|\.{0,2}\/|[\w.-]+(\/|\.html|$))/i.test(u) && !/^javascript:/i.test(u) ? u : "#")

/** Markup of the text between code spans. */
const markup = (p: string): string => {
  let s = escape(p)
  s = s.replace(/&lt;(https?:\/\/[^\s&]+)&gt;/g, (_m, u: string) => `<a href="${u}">${u}</a>`)
  s = s.replace(/\[([^\]]+)\]\(([^)\s]+)\)/g, (_m, t: string, u: string) => `<a href="${safeUrl(u)}">${t}</a>`)
  s = s.replace(/\*\*([^*]+)\*\*/g, "<strong>$1</strong>")
  s = s.replace(/__([^_]+)__/g, "<strong>$1</strong>")
  s = s.replace(/(^|[^*\w])\*([^*\s][^*]*?)\*(?!\w)/g, "$1<em>$2</em>")
  s = s.replace(/(^|[^_\w])_([^_\s][^_]*?)_(?!\w)/g, "$1<em>$2</em>")
  return s
}

export const inline = (text: string): string => {
  // Code spans first (CommonMark): a run of N backticks up to the next run of exactly N; content literal.
  let out = ""
  let plain = ""
  let i = 0
  while (i < text.length) {
    if (text[i] !== "`") {
      plain += text[i]
      i++
      continue
    }
    let n = 0
    while (text[i + n] === "`") n++
    const fence = "`".repeat(n)
    let j = i + n
    let close = -1
    while (j < text.length) {
      const k = text.indexOf(fence, j)
      if (k < 0) break
      if (text[k + n] !== "`" && text[k - 1] !== "`") {
        close = k
        break
      }
      j = k + 1
      while (text[j] === "`") j++
    }
    if (close < 0) {
      plain += fence
      i += n
      continue
    }
    let code = text.slice(i + n, close).replace(/\n/g, " ")
    if (code.length > 2 && code.startsWith(" ") && code.endsWith(" ") && code.trim() !== "") code = code.slice(1, -1)
    out += markup(plain) + `<code>${escape(code)}</code>`
    plain = ""
    i = close + n
  }
  return out + markup(plain)
}

const isRule = (l: string) => /^ {0,3}([-*_])( *\1){2,} *$/.test(l)
const heading = /^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$/
const bullet = /^ {0,3}[-*+]\s+(.*)$/
const ordered = /^ {0,3}(\d{1,9})[.)]\s+(.*)$/
const fence = /^ {0,3}(`{3,}|~{3,})\s*(\S*)/
const tableSep = /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/

const cells = (l: string): Array<string> =>
  l
    .trim()
    .replace(/^\|/, "")
    .replace(/\|$/, "")
    .split(/(?<!\\)\|/)
    .map((c) => c.trim().replace(/\\\|/g, "|"))

export const render = (md: string): string => {
  const lines = md.replace(/\r\n?/g, "\n").split("\n")
  const out: Array<string> = []
  let i = 0
  const isBlockStart = (l: string) =>
    l.trim() === "" || heading.test(l) || isRule(l) || bullet.test(l) || ordered.test(l) || fence.test(l) || /^ {0,3}>/.test(l)
  while (i < lines.length) {
    const l = lines[i]!
    if (l.trim() === "") {
      i++
      continue
    }
    const f = fence.exec(l)
    if (f) {
      const marker = f[1]!
      const body: Array<string> = []
      i++
      while (i < lines.length && !(lines[i]!.trim().startsWith(marker) && lines[i]!.trim() === marker[0]!.repeat(lines[i]!.trim().length))) {
        body.push(lines[i]!)
        i++
      }
      i++
      const lang = f[2] ? ` class="language-${escape(f[2])}"` : ""
      out.push(`<pre><code${lang}>${escape(body.join("\n"))}</code></pre>`)
      continue
    }
    const h = heading.exec(l)
    if (h) {
      const level = h[1]!.length
      const content = inline(h[2]!)
      out.push(`<h${level} id="${slug(h[2]!)}">${content}</h${level}>`)
      i++
      continue
    }
    if (isRule(l)) {
      out.push("<hr>")
      i++
      continue
    }
    if (/^ {4,}\S/.test(l)) {
      const body: Array<string> = []
      while (i < lines.length && (/^ {4,}/.test(lines[i]!) || lines[i]!.trim() === "")) {
        body.push(lines[i]!.slice(4))
        i++
      }
      while (body.length > 0 && body[body.length - 1]!.trim() === "") body.pop()
      out.push(`<pre><code>${escape(body.join("\n"))}</code></pre>`)
      continue
    }
    if (/^ {0,3}>/.test(l)) {
      const body: Array<string> = []
      while (i < lines.length && lines[i]!.trim() !== "" && (/^ {0,3}>/.test(lines[i]!) || !isBlockStart(lines[i]!))) {
        body.push(lines[i]!.replace(/^ {0,3}> ?/, ""))
        i++
      }
      out.push(`<blockquote>${render(body.join("\n"))}</blockquote>`)
      continue
    }
    if (bullet.test(l) || ordered.test(l)) {
      const isOrdered = !bullet.test(l)
      const re = isOrdered ? ordered : bullet
      const items: Array<Array<string>> = []
      const start = isOrdered ? Number(ordered.exec(l)![1]) : 1
      while (i < lines.length) {
        const cur = lines[i]!
        const m = re.exec(cur)
        if (m) {
          items.push([isOrdered ? m[2]! : m[1]!])
          i++
        } else if (cur.trim() !== "" && items.length > 0 && (/^\s{2,}\S/.test(cur) || !isBlockStart(cur))) {
          items[items.length - 1]!.push(cur.trim())
          i++
        } else if (cur.trim() === "" && i + 1 < lines.length && (re.test(lines[i + 1]!) || /^\s{2,}\S/.test(lines[i + 1]!))) {
          i++
        } else break
      }
      const tag = isOrdered ? "ol" : "ul"
      const startAttr = isOrdered && start !== 1 ? ` start="${start}"` : ""
      out.push(`<${tag}${startAttr}>${items.map((it) => `<li>${inline(it.join(" "))}</li>`).join("")}</${tag}>`)
      continue
    }
    if (l.includes("|") && i + 1 < lines.length && tableSep.test(lines[i + 1]!)) {
      const head = cells(l)
      const aligns = cells(lines[i + 1]!).map((c) => (c.startsWith(":") && c.endsWith(":") ? "center" : c.endsWith(":") ? "right" : c.startsWith(":") ? "left" : ""))
      i += 2
      const rows: Array<Array<string>> = []
      while (i < lines.length && lines[i]!.includes("|") && lines[i]!.trim() !== "") {
        rows.push(cells(lines[i]!))
        i++
      }
      const al = (k: number) => (aligns[k] ? ` style="text-align:${aligns[k]}"` : "")
      out.push(
        `<table class="md"><thead><tr>${head.map((c, k) => `<th${al(k)}>${inline(c)}</th>`).join("")}</tr></thead><tbody>${rows
          .map((r) => `<tr>${head.map((_c, k) => `<td${al(k)}>${inline(r[k] ?? "")}</td>`).join("")}</tr>`)
          .join("")}</tbody></table>`
      )
      continue
    }
    const para: Array<string> = []
    while (i < lines.length && lines[i]!.trim() !== "" && (para.length === 0 || !isBlockStart(lines[i]!))) {
      para.push(lines[i]!.trim())
      i++
    }
    out.push(`<p>${inline(para.join("\n"))}</p>`)
  }
  return out.join("\n")
}
