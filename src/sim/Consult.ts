/**
 * How an engine gets the answer of an external placement program (the USER policy): the shell
 * provides a function; the engines call it synchronously, once per instance the policy asks about.
 */
import type * as Policy from "../model/Policy.js"

/** The program's exit code: 1-based node index in the zone, 0 = nothing fits. */
export type Consult = (query: Policy.ExternalQuery) => number

export const none: Consult = (q) => {
  throw new Error(`the policy asked the placement program ${q.program}, but this run has no way to run it`)
}
