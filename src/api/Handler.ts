/**
 * What every action handler gets and returns. Handlers see typed inputs (parsed from the Query
 * protocol by the model) and return typed outputs (serialized from the model); they never see XML.
 */
import type { SqlClient, SqlError } from "@effect/sql"
import { Effect } from "effect"
import type { Backend } from "../controller/Backend.js"
import { Controller, type SubmitOptions, type Unstamped } from "../controller/Controller.js"
import type * as Accounts from "../store/Accounts.js"
import * as Ec2Error from "./protocol/Ec2Error.js"
import type * as Shapes from "./protocol/Ec2Shapes.js"

export interface RequestContext {
  readonly account: Accounts.Account
  /** The raw parameters, for Eucalyptus's extensions the EC2 model does not name (AddressingType). */
  readonly params: ReadonlyMap<string, string>
  readonly requestId: string
  readonly region: string
  /** The request's time (epoch ms). */
  readonly now: number
}

export type Services = Controller | SqlClient.SqlClient | Backend

export type Handler<Op extends Shapes.OperationName> = (
  input: Shapes.Operations[Op]["input"],
  rc: RequestContext
) => Effect.Effect<Shapes.Operations[Op]["output"], Ec2Error.Ec2Error, Services>

export type Table = { readonly [Op in Shapes.OperationName]: Handler<Op> }

/**
 * Outputs a handler hands out again, unchanged, while nothing they show has changed (memoized
 * Describe answers): the server may keep and reuse their XML. Never change such an output.
 */
export const reusable = new WeakSet<object>()

/** Our own failures (storage) are 500s and logged; a user's mistake never reaches here. */
export const internal = (e: SqlError.SqlError) =>
  Effect.logError(`internal error: ${e.message}`).pipe(Effect.zipRight(Effect.fail(Ec2Error.internalError())))

/** A storage read or write whose only failure is ours. */
export const db = <A, R>(eff: Effect.Effect<A, SqlError.SqlError, R>): Effect.Effect<A, Ec2Error.Ec2Error, R> => Effect.catchAll(eff, internal)

/** Run a command through the controller, mapping the core's rejections to EC2 errors. */
export const submit = <A = undefined>(
  command: Unstamped,
  options?: SubmitOptions<A, Ec2Error.Ec2Error | SqlError.SqlError>
) =>
  Controller.pipe(
    Effect.flatMap((c) => c.submit<A, Ec2Error.Ec2Error | SqlError.SqlError>(command, options)),
    Effect.catchAll((e): Effect.Effect<never, Ec2Error.Ec2Error> =>
      e._tag === "Rejected" ? Effect.fail(Ec2Error.fromRejection(e.rejection)) : e._tag === "SqlError" ? internal(e) : Effect.fail(e)
    )
  )

export const state = Controller.pipe(Effect.flatMap((c) => c.state))

export const dryRun = (input: { readonly DryRun?: boolean | undefined }) =>
  input.DryRun === true ? Effect.fail(Ec2Error.dryRunOperation()) : Effect.void

const ID = {
  instance: /^i-([0-9a-f]{8}|[0-9a-f]{17})$/,
  image: /^e[mkr]i-[0-9a-f]{8}$|^ami-[0-9a-f]{8}([0-9a-f]{9})?$/,
  group: /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/
}

export const checkInstanceIds = (ids: ReadonlyArray<string> | undefined) => {
  for (const id of ids ?? []) {
    if (!ID.instance.test(id)) return Effect.fail(Ec2Error.make("InvalidInstanceID.Malformed", `Invalid id: "${Ec2Error.quote(id)}" (expecting "i-..." with 8 or 17 hex digits)`))
  }
  return Effect.void
}

export const checkImageId = (id: string, field = "ImageId") =>
  ID.image.test(id) ? Effect.void : Effect.fail(Ec2Error.make("InvalidAMIID.Malformed", `Invalid id: "${Ec2Error.quote(id)}" (${field} must look like emi-xxxxxxxx)`))

export const checkGroupIds = (ids: ReadonlyArray<string> | undefined) => {
  for (const id of ids ?? []) {
    if (!ID.group.test(id)) return Effect.fail(Ec2Error.make("InvalidGroupId.Malformed", `Invalid id: "${Ec2Error.quote(id)}" (expecting "sg-...")`))
  }
  return Effect.void
}

/** Pagination tokens: the position after the last item returned, opaque to clients. */
export const encodeToken = (position: string): string => Buffer.from(`p1:${position}`).toString("base64url")
export const decodeToken = (token: string | undefined) => {
  if (token === undefined || token === "") return Effect.succeed(undefined)
  const text = Buffer.from(token, "base64url").toString("utf8")
  return text.startsWith("p1:") ? Effect.succeed(text.slice(3)) : Effect.fail(Ec2Error.make("InvalidPaginationToken", `The pagination token '${Ec2Error.quote(token)}' is invalid`))
}

export const checkMaxResults = (n: number | undefined, min: number, max: number) =>
  n === undefined || (Number.isInteger(n) && n >= min && n <= max)
    ? Effect.void
    : Effect.fail(Ec2Error.make("InvalidParameterValue", `Value (${n}) for parameter maxResults is invalid. Expecting a value between ${min} and ${max}.`))
