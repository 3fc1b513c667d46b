/**
 * Which trace an experiment reads: `{ "format": "swf" | "azure" | "alibaba" | "google" | "csv", "path": …,
 * …options }`. Paths are relative to the experiment's directory. The options of each format are
 * documented in its module (Swf.ts, Azure.ts, Alibaba.ts, Google.ts, Csv.ts) and in traces/README.md.
 */
import * as Path from "node:path"
import { Effect, Schema, type Scope } from "effect"
import * as Alibaba from "./Alibaba.js"
import * as Azure from "./Azure.js"
import * as Csv from "./Csv.js"
import * as Google from "./Google.js"
import * as Swf from "./Swf.js"
import * as TraceError from "./TraceError.js"
import type * as TraceReader from "./TraceReader.js"

const path = Schema.NonEmptyTrimmedString

export const SwfSpec = Schema.Struct({ format: Schema.Literal("swf"), path, ...Swf.Options.fields })
export const AzureSpec = Schema.Struct({ format: Schema.Literal("azure"), path, ...Azure.Options.fields })
export const AlibabaSpec = Schema.Struct({ format: Schema.Literal("alibaba"), path, ...Alibaba.Options.fields })
export const GoogleSpec = Schema.Struct({ format: Schema.Literal("google"), path, ...Google.Options.fields })
export const CsvSpec = Schema.Struct({ format: Schema.Literal("csv"), path, ...Csv.Options.fields })

export const TraceSpec = Schema.Union(SwfSpec, AzureSpec, AlibabaSpec, GoogleSpec, CsvSpec)
export type TraceSpec = typeof TraceSpec.Type

/** Decodes a spec, rejecting unknown keys (a misspelt option must not be silently ignored). */
export const decode = (u: unknown) => Schema.decodeUnknown(TraceSpec, { onExcessProperty: "error" })(u)

/** The spec with every path resolved against `baseDir`. */
export const resolve = (spec: TraceSpec, baseDir: string): TraceSpec => {
  const p = (s: string) => Path.resolve(baseDir, s)
  if (spec.format !== "azure") return { ...spec, path: p(spec.path) }
  return {
    ...spec,
    path: p(spec.path),
    ...(spec.durations === undefined ? {} : { durations: p(spec.durations) }),
    ...(spec.flavourMap === undefined ? {} : { flavourMap: p(spec.flavourMap) }),
    ...(spec.intervalMap === undefined ? {} : { intervalMap: p(spec.intervalMap) })
  }
}

/** Opens the reader for a spec, outside Effect (the Promise rejects with a TraceError); close it when done. */
export const openPromise = (spec: TraceSpec, baseDir: string): Promise<TraceReader.TraceReader> => {
  const s = resolve(spec, baseDir)
  switch (s.format) {
    case "swf":
      return Swf.open(s.path, s)
    case "azure":
      return Azure.open(s.path, s)
    case "alibaba":
      return Alibaba.open(s.path, s)
    case "google":
      return Google.open(s.path, s)
    case "csv":
      return Csv.open(s.path, s)
  }
}

/** Opens the reader for a spec; its files are closed when the scope closes. */
export const open = (spec: TraceSpec, baseDir: string): Effect.Effect<TraceReader.TraceReader, TraceError.TraceError, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.tryPromise({ try: () => openPromise(spec, baseDir), catch: (e) => e }).pipe(
      Effect.catchAll((e) => (TraceError.is(e) ? Effect.fail(e) : Effect.die(e)))
    ),
    (reader) => Effect.sync(() => reader.close())
  )
