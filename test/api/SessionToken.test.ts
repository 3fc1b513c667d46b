/**
 * STS GetSessionToken at the EC2 endpoint: boto3 gets temporary credentials and its EC2 client
 * works with them (X-Amz-Security-Token); the SDK v3's EC2 client likewise; a request without the
 * token, with a wrong one, after expiry, or after the asking key was deactivated is refused as EC2
 * refuses it; DurationSeconds is validated as STS does; temporary credentials cannot ask for more.
 */
import { SqlClient } from "@effect/sql"
import { DescribeInstancesCommand, EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Accounts from "../../src/store/Accounts.js"
import * as Db from "../../src/store/Database.js"
import { clientEnv, python } from "../clients/support.js"
import { Database } from "../support/db.js"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage, postV4, xmlText } from "./client.js"

let server: TestServer.TestServer
let instanceId: string

beforeAll(async () => {
  server = await TestServer.start()
  const ec2 = server.client()
  const run = await ec2.send(new RunInstancesCommand({ ImageId: await machineImage(ec2), MinCount: 1, MaxCount: 1 }))
  instanceId = run.Instances![0]!.InstanceId!
})
afterAll(async () => {
  await server?.stop()
})

const script = `
import json, sys, boto3, botocore, botocore.config
url = sys.argv[1]
sts = boto3.client("sts", endpoint_url=url)
# boto3 checks the range itself; without its check the server's is seen.
loose = boto3.client("sts", endpoint_url=url, config=botocore.config.Config(parameter_validation=False))
got = sts.get_session_token(DurationSeconds=900)
c = got["Credentials"]
def code(f):
    try:
        f()
        return "ok"
    except botocore.exceptions.ClientError as e:
        return e.response["Error"]["Code"]
session = dict(aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token=c["SessionToken"])
ec2 = boto3.client("ec2", endpoint_url=url, **session)
ids = [i["InstanceId"] for r in ec2.describe_instances()["Reservations"] for i in r["Instances"]]
who = boto3.client("sts", endpoint_url=url, **session).get_caller_identity()
no_token = boto3.client("ec2", endpoint_url=url, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"])
wrong_token = boto3.client("ec2", endpoint_url=url, aws_access_key_id=c["AccessKeyId"], aws_secret_access_key=c["SecretAccessKey"], aws_session_token="x" + c["SessionToken"][1:])
print(json.dumps({
  "keyId": c["AccessKeyId"], "secret": c["SecretAccessKey"], "token": c["SessionToken"], "expiration": c["Expiration"].isoformat(),
  "ids": ids, "account": who["Account"], "mine": sts.get_caller_identity()["Account"],
  "noToken": code(lambda: no_token.describe_instances()),
  "wrongToken": code(lambda: wrong_token.describe_instances()),
  "again": code(lambda: boto3.client("sts", endpoint_url=url, **session).get_session_token()),
  "short": code(lambda: loose.get_session_token(DurationSeconds=899)),
  "long": code(lambda: loose.get_session_token(DurationSeconds=129601)),
  "default": (sts.get_session_token()["Credentials"]["Expiration"].timestamp()),
}))
`

const sts = (credentials: { accessKeyId: string; secretAccessKey: string }, params: ReadonlyArray<readonly [string, string]>) =>
  postV4(server.url, [["Version", "2011-06-15"], ...params], { region: server.region, credentials, service: "sts" })

const issue = async (credentials: { accessKeyId: string; secretAccessKey: string }, seconds = 900) => {
  const r = await sts(credentials, [["Action", "GetSessionToken"], ["DurationSeconds", String(seconds)]])
  expect(r.status).toBe(200)
  return { accessKeyId: xmlText(r.body, "AccessKeyId")!, secretAccessKey: xmlText(r.body, "SecretAccessKey")!, sessionToken: xmlText(r.body, "SessionToken")! }
}

const ec2With = (c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
  new EC2Client({ endpoint: server.url, region: server.region, credentials: c, maxAttempts: 1 })

describe("STS GetSessionToken", () => {
  it("boto3: temporary credentials that work with their token, for the caller's account; STS's validation", async () => {
    const seen = await python(script, [server.url], clientEnv(server))
    expect(seen.keyId).toMatch(/^ASIA[A-Z2-7]{16}$/)
    expect(seen.secret).toHaveLength(40)
    expect(seen.token.length).toBeGreaterThan(100)
    const expires = Date.parse(seen.expiration)
    expect(Math.abs(expires - (Date.now() + 900_000))).toBeLessThan(60_000)
    expect(seen.ids).toEqual([instanceId])
    expect(seen.account).toBe(seen.mine)
    expect(seen.noToken).toBe("AuthFailure")
    expect(seen.wrongToken).toBe("AuthFailure")
    expect(seen.again).toBe("AccessDenied")
    expect(seen.short).toBe("ValidationError")
    expect(seen.long).toBe("ValidationError")
    expect(Math.abs(seen.default * 1000 - (Date.now() + 43_200_000))).toBeLessThan(60_000)
  })

  it("the SDK v3: an EC2 client with the temporary credentials; refused after expiry and once the asking key is deactivated", async () => {
    const temp = await issue(server.credentials)
    const ids = ((await ec2With(temp).send(new DescribeInstancesCommand({}))).Reservations ?? []).flatMap((r) => r.Instances!.map((i) => i.InstanceId))
    expect(ids).toEqual([instanceId])
    expect(await codeOf(ec2With({ accessKeyId: temp.accessKeyId, secretAccessKey: temp.secretAccessKey }).send(new DescribeInstancesCommand({})))).toBe("AuthFailure 401")
    expect(await codeOf(ec2With({ ...temp, secretAccessKey: server.credentials.secretAccessKey }).send(new DescribeInstancesCommand({})))).toBe("AuthFailure 401")

    const bad = await sts(server.credentials, [["Action", "GetSessionToken"], ["DurationSeconds", "ten"]])
    expect([bad.status, xmlText(bad.body, "Code")]).toEqual([400, "ValidationError"])

    // Expired (its expiry moved into the past in the database before its first use): RequestExpired, as EC2.
    const expiring = await issue(server.credentials)
    await Effect.runPromise(
      Effect.gen(function* () {
        const sql = yield* SqlClient.SqlClient
        yield* sql`UPDATE session_credentials SET expires_at = ${Date.now() - 1000} WHERE access_key_id = ${expiring.accessKeyId}`
      }).pipe(Effect.provide(Db.layer(server.dataDir)))
    )
    expect(await codeOf(ec2With(expiring).send(new DescribeInstancesCommand({})))).toBe("RequestExpired 400")

    // Another account's key asks, then is deactivated: its temporary credentials stop working with it.
    const other = await Database.createAccount(server.dataDir, "session-other")
    const theirs = await issue(other.credentials)
    await Effect.runPromise(Accounts.deactivateKey(other.credentials.accessKeyId).pipe(Effect.provide(Db.layer(server.dataDir))))
    expect(await codeOf(ec2With(theirs).send(new DescribeInstancesCommand({})))).toBe("AuthFailure 401")
  })

  it("survive a restart (they are stored)", async () => {
    const temp = await issue(server.credentials)
    const dataDir = server.dataDir
    await server.stop(false)
    server = await TestServer.start({ dataDir })
    const ids = ((await ec2With(temp).send(new DescribeInstancesCommand({}))).Reservations ?? []).flatMap((r) => r.Instances!.map((i) => i.InstanceId))
    expect(ids).toEqual([instanceId])
  })
})
