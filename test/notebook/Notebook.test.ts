import { describe, expect, it } from "@effect/vitest"
import * as ExperimentBlock from "../../src/notebook/ExperimentBlock.js"
import * as Markdown from "../../src/notebook/Markdown.js"
import * as Notebook from "../../src/notebook/Notebook.js"
import * as NotebookError from "../../src/notebook/NotebookError.js"

const thrown = (f: () => unknown): NotebookError.NotebookError => {
  try {
    f()
  } catch (e) {
    if (NotebookError.is(e)) return e
    throw e
  }
  throw new Error("expected a NotebookError")
}

describe("Notebook.parse", () => {
  it("splits prose and the three special blocks, with their lines", () => {
    const nb = Notebook.parse(
      "x.md",
      [
        "# Title here",
        "",
        "First *paragraph*.",
        "",
        "```experiment",
        '{ "id": "a" }',
        "```",
        "Between.",
        "```chart",
        "{}",
        "```",
        "```chart-js a Custom title",
        "el.textContent = 1",
        "```",
        "```ts",
        "const kept = 1",
        "```"
      ].join("\n")
    )
    expect(nb.title).toBe("Title here")
    expect(nb.description).toBe("First paragraph.")
    expect(nb.blocks.map((b) => [b._tag, b.line])).toEqual([
      ["Prose", 1],
      ["Experiment", 5],
      ["Prose", 8],
      ["Chart", 9],
      ["ChartJs", 12],
      ["Prose", 15]
    ])
    const js = nb.blocks[4]!
    expect(js._tag === "ChartJs" && js.args).toEqual(["a", "Custom", "title"])
    const last = nb.blocks[5]!
    expect(last._tag === "Prose" && last.text).toContain("const kept = 1")
  })

  it("does not run a block shown inside a longer fence", () => {
    const nb = Notebook.parse("x.md", ["````markdown", "```experiment", "{}", "```", "````"].join("\n"))
    expect(nb.blocks.map((b) => b._tag)).toEqual(["Prose"])
  })

  it("names the line of an unclosed block", () => {
    const e = thrown(() => Notebook.parse("nb.md", "# T\n\n```chart\n{}\n"))
    expect(e.line).toBe(3)
    expect(e.message).toMatch(/^nb\.md:3: .*never closed/)
  })

  it("reports the notebook line of a JSON syntax error, and allows // comments", () => {
    expect(Notebook.parseJson("f.md", 10, "chart", '{ "a": 1, // note\n "b": "http://x" }')).toEqual({ a: 1, b: "http://x" })
    const e = thrown(() => Notebook.parseJson("f.md", 10, "chart", '{\n  "a": 1,\n  "b": ]\n}'))
    expect(e.line).toBe(13)
    expect(e.message).toContain("f.md:13")
  })
})

describe("ExperimentBlock.expand", () => {
  const block = (o: unknown) => JSON.stringify(o)

  it("crosses explicit variants with the sweep and sets dotted paths (arrays by index)", () => {
    const exp = ExperimentBlock.expand(
      "/tmp/nb.md",
      3,
      block({
        id: "p",
        base: { seed: 1, policy: { name: "greedy" }, cloud: { zones: [{ name: "z", nodes: [{ count: 2 }] }] } },
        variants: [
          { label: "GREEDY", set: { "policy.name": "greedy" } },
          { label: "BEST", params: { k: 1 }, set: { "policy.name": "bestfit" } }
        ],
        sweep: { seed: [1, 2], "cloud.zones.0.nodes.0.count": [10] }
      })
    )
    expect(exp.runs.map((r) => r.label)).toEqual([
      "GREEDY · seed=1 · cloud.zones.0.nodes.0.count=10",
      "GREEDY · seed=2 · cloud.zones.0.nodes.0.count=10",
      "BEST · seed=1 · cloud.zones.0.nodes.0.count=10",
      "BEST · seed=2 · cloud.zones.0.nodes.0.count=10"
    ])
    const r = exp.runs[3]!
    expect(r.experiment).toMatchObject({ seed: 2, policy: { name: "bestfit" }, cloud: { zones: [{ name: "z", nodes: [{ count: 10 }] }] } })
    expect(r.params).toEqual({ k: 1, seed: 2, "cloud.zones.0.nodes.0.count": 10 })
    expect(r.baseDir).toBe("/tmp")
  })

  it("sets named parameters through $name in the block's set", () => {
    const exp = ExperimentBlock.expand(
      "/tmp/nb.md",
      3,
      block({
        id: "s",
        base: { seed: 1, trace: { limit: 1 }, cloud: { zones: [{ nodes: [{ count: 1 }] }] } },
        sweep: { hosts: [10, 100], requests: [5] },
        set: { "cloud.zones.0.nodes.0.count": "$hosts", "trace.limit": "$requests", note: ["$hosts", "$hostsx"] }
      }).replace('"$hostsx"', '"x"')
    )
    expect(exp.runs.map((r) => r.label)).toEqual(["hosts=10 · requests=5", "hosts=100 · requests=5"])
    expect(exp.runs[1]!.experiment).toMatchObject({ trace: { limit: 5 }, cloud: { zones: [{ nodes: [{ count: 100 }] }] }, note: [100, "x"] })
    expect(exp.runs[1]!.params).toEqual({ hosts: 100, requests: 5 })
    const e = thrown(() => ExperimentBlock.expand("nb.md", 3, block({ id: "s", base: {}, sweep: { a: [1] }, set: { x: "$b" } })))
    expect(e.message).toContain('"$b" is not a parameter of run "1"')
  })

  it("rejects unknown keys, duplicate labels and impossible paths with the block's line", () => {
    expect(thrown(() => ExperimentBlock.expand("nb.md", 7, block({ id: "p", base: {}, sweeep: {} }))).message).toMatch(/^nb\.md:7: experiment block: .*sweeep/s)
    expect(
      thrown(() => ExperimentBlock.expand("nb.md", 7, block({ id: "p", base: {}, variants: [{ label: "a" }, { label: "a" }] }))).message
    ).toContain('two runs are both labelled "a"')
    const e = thrown(() => ExperimentBlock.expand("nb.md", 7, block({ id: "p", base: { cloud: { zones: [] } }, sweep: { "cloud.zones.3.name": ["x"] } })))
    expect(e.field).toBe("cloud.zones.3.name")
    expect(e.message).toContain("no element 3")
  })

  it("names a base file that does not exist", () => {
    const e = thrown(() => ExperimentBlock.expand("/tmp/nowhere/nb.md", 2, block({ id: "p", base: "missing.json" })))
    expect(e.field).toBe("base")
    expect(e.message).toContain("/tmp/nowhere/missing.json")
  })
})

describe("Markdown.render", () => {
  it("renders headings, lists, tables, code and inline markup, escaping raw HTML", () => {
    const html = Markdown.render(
      [
        "## Results & more",
        "",
        "Text with `a<b>` and **bold**, *em*, [link](https://example.org) <script>x</script>.",
        "",
        "- one",
        "- two",
        "",
        "1. first",
        "2. second",
        "",
        "| a | b |",
        "|---|--:|",
        "| 1 | 2 |",
        "",
        "```json",
        '{"x": "<y>"}',
        "```"
      ].join("\n")
    )
    expect(html).toContain('<h2 id="results-more">Results &amp; more</h2>')
    expect(html).toContain("<code>a&lt;b&gt;</code>")
    expect(html).toContain("<strong>bold</strong>")
    expect(html).toContain("<em>em</em>")
    expect(html).toContain('<a href="https://example.org">link</a>')
    expect(html).toContain("&lt;script&gt;")
    expect(html).not.toContain("<script>")
    expect(html).toContain("<ul><li>one</li><li>two</li></ul>")
    expect(html).toContain("<ol><li>first</li><li>second</li></ol>")
    expect(html).toContain('<td style="text-align:right">2</td>')
    expect(html).toContain('<pre><code class="language-json">{&quot;x&quot;: &quot;&lt;y&gt;&quot;}</code></pre>')
  })

  it("reads code spans as CommonMark does: a longer run of backticks can hold shorter ones", () => {
    expect(Markdown.inline("a ```` ```chart ```` block, `x*y*` and *em*")).toBe("a <code>```chart</code> block, <code>x*y*</code> and <em>em</em>")
    expect(Markdown.inline("a lone ` stays")).toBe("a lone ` stays")
  })

  it("neutralises javascript: links", () => {
    expect(Markdown.render("[x](javascript:alert(1))")).not.toContain("javascript:")
  })
})
