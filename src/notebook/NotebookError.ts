/**
 * Everything a notebook build can get wrong, as one typed error whose message names the notebook
 * file, the line of the block concerned and the field: "notebooks/x.md:42: chart: field "y": …".
 */
import { Schema } from "effect"

export class NotebookError extends Schema.TaggedError<NotebookError>()("NotebookError", {
  file: Schema.String,
  /** 1-based line of the block (or of the offending line) in the notebook; absent for the file as a whole. */
  line: Schema.optional(Schema.Int),
  field: Schema.optional(Schema.String),
  /** The full sentence, ready to print. */
  message: Schema.String
}) {}

export const make = (file: string, line: number | undefined, field: string | undefined, detail: string): NotebookError =>
  new NotebookError({
    file,
    ...(line === undefined ? {} : { line }),
    ...(field === undefined ? {} : { field }),
    message: `${file}${line === undefined ? "" : `:${line}`}: ${field === undefined ? "" : `field "${field}": `}${detail}`
  })

export const is = (u: unknown): u is NotebookError => u instanceof NotebookError
