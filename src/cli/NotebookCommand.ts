/**
 * `euca notebook build FILE [--out DIR]`: builds one notebook into a self-contained HTML page (and
 * updates DIR/index.html). `euca notebook build-all [DIR]` builds every notebook of a folder, as
 * `npm run notebooks` does. Results are cached beside the notebooks (`.cache/`), so a rebuild
 * without changes does not simulate again.
 */
import * as Path from "node:path"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as Builder from "../notebook/Builder.js"
import * as Progress from "../notebook/Progress.js"
import * as SimRunner from "../notebook/SimRunner.js"

const out = Options.directory("out").pipe(
  Options.optional,
  Options.withDescription("where the pages go (default: _site beside the notebook)")
)
const cache = Options.directory("cache").pipe(Options.optional, Options.withDescription("results cache (default: .cache beside the notebook)"))
const remeasure = Options.boolean("remeasure").pipe(Options.withDescription("measure the scale experiments again instead of using cached measurements"))
const fresh = Options.boolean("fresh").pipe(Options.withDescription("ignore every cached result"))

const options = (o: { out: Option.Option<string>; cache: Option.Option<string>; remeasure: boolean; fresh: boolean }, near: string): Builder.Options => ({
  outDir: Path.resolve(Option.getOrElse(o.out, () => Path.join(near, "_site"))),
  cacheDir: Option.getOrUndefined(Option.map(o.cache, (c) => Path.resolve(c))),
  remeasure: o.remeasure,
  fresh: o.fresh,
  progress: Progress.reporter()
})

const summary = (b: Builder.Built) =>
  `${b.page}: ${b.figures} figure${b.figures === 1 ? "" : "s"}, ${b.runs} run${b.runs === 1 ? "" : "s"} (${b.cached} cached) in ${b.seconds.toFixed(1)} s`

const build = Command.make(
  "build",
  { file: Args.file({ name: "FILE", exists: "yes" }), out, cache, remeasure, fresh },
  ({ file, ...o }) =>
    Effect.gen(function* () {
      const built = yield* Builder.build(file, options(o, Path.dirname(Path.resolve(file))))
      yield* Console.log(summary(built))
    }).pipe(Effect.provide(SimRunner.layer))
).pipe(Command.withDescription("build one notebook (Markdown with experiment and chart blocks) into a self-contained HTML page"))

const buildAll = Command.make(
  "build-all",
  { dir: Args.directory({ name: "DIR", exists: "yes" }).pipe(Args.withDefault("notebooks")), out, cache, remeasure, fresh },
  ({ dir, ...o }) =>
    Effect.gen(function* () {
      const all = yield* Builder.buildAll(dir, options(o, Path.resolve(dir)))
      for (const b of all) yield* Console.log(summary(b))
    }).pipe(Effect.provide(SimRunner.layer))
).pipe(Command.withDescription("build every notebook of a folder (default notebooks/) and its index"))

export const notebookCommand = Command.make("notebook").pipe(
  Command.withDescription("reproducible trace-driven experiments with d3 charts"),
  Command.withSubcommands([build, buildAll])
)
