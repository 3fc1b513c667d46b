/**
 * STS and IAM at the EC2 endpoint, for the identity calls clients make before any EC2 call
 * (Ansible's amazon.aws modules, Terraform's provider): STS GetCallerIdentity and IAM GetUser,
 * chosen by the service a request is signed for (its SigV4 credential scope). Answers follow the
 * services' models (botocore sts/2011-06-15, iam/2010-05-08, awsQuery protocol): `<XResponse>` with
 * `<XResult>` and `<ResponseMetadata><RequestId>`, errors as `<ErrorResponse><Error>`.
 *
 * The principal: an account's keys belong to its `admin` user, as in Eucalyptus 4 (each account had
 * one), so the ARN is `arn:aws:iam::<12-digit account>:user/admin` and the user id is derived from
 * the account id (stable, `AIDA` + 17 characters as IAM's). Other STS and IAM actions are
 * InvalidAction; GetSessionToken is not offered (we issue only long-term keys).
 */
import { Effect, Option } from "effect"
import * as Accounts from "../store/Accounts.js"
import type * as H from "./Handler.js"
import type * as Query from "./protocol/Query.js"
import * as Xml from "./protocol/Xml.js"

export type Service = "sts" | "iam"

export interface Caller {
  readonly account: Accounts.Account
  readonly accessKeyId: string
  readonly requestId: string
}

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
