/**
 * `npm run notebooks`: builds every notebook in notebooks/ into notebooks/_site/ (with index.html).
 * Options: --out DIR, --remeasure (measure the scale notebook again), --fresh (ignore the cache).
 * Exit code 1 with the error (file:line: …) on the first notebook that fails.
 */
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { Effect, Either } from "effect"
import * as Builder from "../src/notebook/Builder.js"
import * as Progress from "../src/notebook/Progress.js"
import * as SimRunner from "../src/notebook/SimRunner.js"

const here = (() => {
  // Compiled to dist/notebooks/build.js; the notebooks stay in <root>/notebooks.
  const d = Path.dirname(fileURLToPath(import.meta.url))
  return Path.basename(Path.dirname(d)) === "dist" ? Path.join(Path.dirname(Path.dirname(d)), "notebooks") : d
})()

const args = process.argv.slice(2)
const flag = (name: string) => args.includes(`--${name}`)
const value = (name: string) => {
  const i = args.indexOf(`--${name}`)
  return i >= 0 ? args[i + 1] : undefined
}
const outDir = Path.resolve(value("out") ?? Path.join(here, "_site"))

const started = performance.now()
const result = await Effect.runPromise(
  Effect.either(
    Builder.buildAll(here, { outDir, remeasure: flag("remeasure"), fresh: flag("fresh"), progress: Progress.reporter() }).pipe(Effect.provide(SimRunner.layer))
  )
)
if (Either.isLeft(result)) {
  process.stderr.write(`${result.left.message}\n`)
  process.exit(1)
}
for (const b of result.right) {
  process.stdout.write(`${Path.relative(process.cwd(), b.page)}: ${b.figures} figures, ${b.runs} runs (${b.cached} cached), ${b.seconds.toFixed(1)} s\n`)
}
process.stdout.write(`${Path.relative(process.cwd(), Path.join(outDir, "index.html"))}: ${result.right.length} notebooks in ${((performance.now() - started) / 1000).toFixed(1)} s\n`)
