/**
 * STS and IAM at the EC2 endpoint, for the identity calls clients make before any EC2 call
 * (Ansible's amazon.aws modules, Terraform's provider): STS GetCallerIdentity, STS GetSessionToken
 * and IAM GetUser,
 * chosen by the service a request is signed for (its SigV4 credential scope). Answers follow the
 * services' models (botocore sts/2011-06-15, iam/2010-05-08, awsQuery protocol): `<XResponse>` with
 * `<XResult>` and `<ResponseMetadata><RequestId>`, errors as `<ErrorResponse><Error>`.
 *
 * The principal: an account's keys belong to its `admin` user, as in Eucalyptus 4 (each account had
 * one), so the ARN is `arn:aws:iam::<12-digit account>:user/admin` and the user id is derived from
 * the account id (stable, `AIDA` + 17 characters as IAM's). Other STS and IAM actions are
 * InvalidAction.
 *
 * GetSessionToken issues temporary credentials for the caller's account (store/SessionCredentials):
 * DurationSeconds 900…129600 (default 43200, as STS), asked with a long-term key only (STS refuses
 * it to temporary credentials), no MFA. They sign requests with their session token until they
 * expire (protocol/Auth), and stop working when the long-term key that asked is deactivated.
 */
import { Effect, Option } from "effect"
import * as Accounts from "../store/Accounts.js"
import * as SessionCredentials from "../store/SessionCredentials.js"
import type * as H from "./Handler.js"
import type * as Query from "./protocol/Query.js"
import * as Xml from "./protocol/Xml.js"

export type Service = "sts" | "iam"

export interface Caller {
  readonly account: Accounts.Account
  readonly accessKeyId: string
  /** Signed with temporary credentials. */
  readonly temporary: boolean
  readonly requestId: string
  /** The server's time, epoch ms. */
  readonly now: number
}

export const MIN_SESSION_SECONDS = 900
export const MAX_SESSION_SECONDS = 129_600
export const DEFAULT_SESSION_SECONDS = 43_200

export interface Answer {
  readonly status: number
  readonly body: string
}

const NAMESPACE: Record<Service, string> = {
  sts: "https://sts.amazonaws.com/doc/2011-06-15/",
  iam: "https://iam.amazonaws.com/doc/2010-05-08/"
}
const VERSION: Record<Service, string> = { sts: "2011-06-15", iam: "2010-05-08" }

export const USER_NAME = "admin"

export const arn = (accountId: string): string => `arn:aws:iam::${accountId}:user/${USER_NAME}`

/** IAM's unique id of the account's user: `AIDA` and 17 characters from the account id. */
export const userId = (accountId: string): string => `AIDA${accountId.padStart(12, "0")}EUCA0`

const e = Xml.escape

const ok = (service: Service, action: string, result: string, requestId: string): Answer => ({
  status: 200,
  body:
    `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${NAMESPACE[service]}"><${action}Result>${result}</${action}Result>` +
    `<ResponseMetadata><RequestId>${e(requestId)}</RequestId></ResponseMetadata></${action}Response>`
})

export const error = (service: Service, status: number, code: string, message: string, requestId: string): Answer => ({
  status,
  body:
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${NAMESPACE[service]}"><Error><Type>Sender</Type><Code>${e(code)}</Code>` +
    `<Message>${e(message)}</Message></Error><RequestId>${e(requestId)}</RequestId></ErrorResponse>`
})

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

/** The answer to one STS or IAM request, from its flat parameters. */
export const answer = (service: Service, params: Query.Params, caller: Caller): Effect.Effect<Answer, never, H.Services> =>
  Effect.gen(function* () {
    const action = params.get("Action") ?? ""
    const { account, requestId } = caller
    if (action === "") return error(service, 400, "MissingAction", "The request must contain the parameter Action", requestId)
    const version = params.get("Version")
    if (version !== undefined && version !== VERSION[service]) {
      return error(service, 400, "InvalidParameterValue", `Version ${version.slice(0, 32)} is not supported by ${service}; use ${VERSION[service]}`, requestId)
    }
    if (service === "sts" && action === "GetCallerIdentity") {
      return ok(service, action, `<Arn>${e(arn(account.id))}</Arn><UserId>${e(userId(account.id))}</UserId><Account>${e(account.id)}</Account>`, requestId)
    }
    if (service === "sts" && action === "GetSessionToken") {
      if (caller.temporary) {
        return error(service, 403, "AccessDenied", "Cannot call GetSessionToken with session credentials", requestId)
      }
      if (params.get("SerialNumber") !== undefined || params.get("TokenCode") !== undefined) {
        return error(service, 400, "InvalidParameterValue", "MFA devices are not supported: call GetSessionToken without SerialNumber and TokenCode", requestId)
      }
      const raw = params.get("DurationSeconds")
      const seconds = raw === undefined ? DEFAULT_SESSION_SECONDS : /^\d{1,9}$/.test(raw) ? Number(raw) : Number.NaN
      if (!(seconds >= MIN_SESSION_SECONDS && seconds <= MAX_SESSION_SECONDS)) {
        const why = Number.isNaN(seconds)
          ? "Member must be an integer"
          : seconds < MIN_SESSION_SECONDS
            ? `Member must have value greater than or equal to ${MIN_SESSION_SECONDS}`
            : `Member must have value less than or equal to ${MAX_SESSION_SECONDS}`
        return error(service, 400, "ValidationError", `1 validation error detected: Value '${(raw ?? "").slice(0, 32)}' at 'durationSeconds' failed to satisfy constraint: ${why}`, requestId)
      }
      const issued = yield* SessionCredentials.issue(account.id, caller.accessKeyId, seconds * 1000, caller.now).pipe(Effect.orDie)
      return ok(
        service,
        action,
        `<Credentials><AccessKeyId>${e(issued.accessKeyId)}</AccessKeyId><SecretAccessKey>${e(issued.secretAccessKey)}</SecretAccessKey>` +
          `<SessionToken>${e(issued.sessionToken)}</SessionToken><Expiration>${isoSeconds(issued.expiresAt)}</Expiration></Credentials>`,
        requestId
      )
    }
    if (service === "iam" && action === "GetUser") {
      const asked = params.get("UserName")
      if (asked !== undefined && asked !== USER_NAME) {
        return error(service, 404, "NoSuchEntity", `The user with name ${asked.slice(0, 64)} cannot be found.`, requestId)
      }
      const created = yield* Accounts.createdAt(account.id).pipe(Effect.orDie)
      const user =
        `<User><Path>/</Path><UserName>${USER_NAME}</UserName><UserId>${e(userId(account.id))}</UserId><Arn>${e(arn(account.id))}</Arn>` +
        `<CreateDate>${isoSeconds(Option.getOrElse(created, () => 0))}</CreateDate></User>`
      return ok(service, action, user, requestId)
    }
    return error(service, 400, "InvalidAction", `Could not find operation ${action.slice(0, 64)} for version ${VERSION[service]}`, requestId)
  })
