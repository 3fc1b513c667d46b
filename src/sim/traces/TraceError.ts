/**
 * A trace that cannot be read on: unreadable file, wrong header, a required field that is not a number,
 * a corrupt gzip stream. Rows that are readable but unusable (a job that never ran) are not errors: the
 * readers skip and count them (see TraceStats.skipped).
 */
import { Schema } from "effect"

export class TraceError extends Schema.TaggedError<TraceError>()("TraceError", {
  /** The file as given (after resolving against the experiment's directory). */
  file: Schema.String,
  /** 1-based line; absent when the problem is the file as a whole (cannot open, missing map). */
  line: Schema.optional(Schema.Int),
  /** The column or field concerned (a header name, an SWF field name, "gzip" for the compressed stream). */
  field: Schema.optional(Schema.String),
  /** The full sentence, naming file, line and field, ready to print. */
  message: Schema.String
}) {}

/** Builds a TraceError whose message reads `file:line: field "f": detail`. */
export const make = (file: string, line: number | undefined, field: string | undefined, detail: string): TraceError =>
  new TraceError({
    file,
    ...(line === undefined ? {} : { line }),
    ...(field === undefined ? {} : { field }),
    message: `${file}${line === undefined ? "" : `:${line}`}: ${field === undefined ? "" : `field "${field}": `}${detail}`
  })

export const is = (u: unknown): u is TraceError => u instanceof TraceError
