import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Command } from "@effect/cli"
import { NodeContext } from "@effect/platform-node"
import { afterEach, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { notebookCommand } from "../../src/cli/NotebookCommand.js"

const traces = fileURLToPath(new URL("../../traces", import.meta.url))
const dirs: Array<string> = []
afterEach(() => {
  for (const d of dirs.splice(0)) Fs.rmSync(d, { recursive: true, force: true })
})

const fence = "```"
const notebook = `# Tiny

One run on the bundled CSV sample.

${fence}experiment
{
  "id": "tiny",
  "base": {
    "seed": 1,
    "metricsIntervalSeconds": 5,
    "cloud": { "zones": [ { "name": "zone-a", "nodes": [ { "prefix": "n", "count": 2, "cores": 4, "memoryMiB": 4096, "diskGiB": 100 } ] } ] },
    "policy": { "name": "greedy" },
    "trace": { "format": "csv", "path": ${JSON.stringify(Path.join(traces, "csv", "sized.csv"))} }
  }
}
${fence}

${fence}chart
{ "type": "line", "title": "Running", "y": "running", "step": true }
${fence}
`

const cli = Command.run(Command.make("euca").pipe(Command.withSubcommands([notebookCommand])), { name: "euca", version: "test" })

describe("euca notebook build", () => {
  it.effect("builds one notebook into --out, with the index, and reuses the cache next time", () =>
    Effect.gen(function* () {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-nbcli-"))
      dirs.push(dir)
      const file = Path.join(dir, "tiny.md")
      Fs.writeFileSync(file, notebook)
      const out = Path.join(dir, "site")
      yield* cli(["node", "euca", "notebook", "build", file, "--out", out])
      const html = Fs.readFileSync(Path.join(out, "tiny.html"), "utf8")
      expect(html).toContain("Figure 1.</a> Running")
      expect(Fs.readFileSync(Path.join(out, "index.html"), "utf8")).toContain('href="tiny.html"')
      const cached = Fs.readdirSync(Path.join(dir, ".cache", "runs"))
      expect(cached.length).toBe(1)
      // Rebuilding leaves the cache as it was (nothing new simulated).
      yield* cli(["node", "euca", "notebook", "build", file, "--out", out])
      expect(Fs.readdirSync(Path.join(dir, ".cache", "runs"))).toEqual(cached)
    }).pipe(Effect.provide(NodeContext.layer))
  )
})
