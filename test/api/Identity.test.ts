/**
 * STS GetCallerIdentity and IAM GetUser at the EC2 endpoint, chosen by the service a request is
 * signed for: boto3's sts and iam clients as Ansible and Terraform use them, and raw requests for
 * the error forms.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { clientEnv, python } from "../clients/support.js"
import { postV4, xmlText } from "./client.js"

let server: TestServer.TestServer

beforeAll(async () => {
  server = await TestServer.start()
})
afterAll(async () => {
  await server?.stop()
})

const script = `
import json, sys, boto3
url = sys.argv[1]
sts = boto3.client("sts", endpoint_url=url)
iam = boto3.client("iam", endpoint_url=url)
ident = sts.get_caller_identity()
user = iam.get_user()["User"]
try:
    iam.get_user(UserName="nobody")
    missing = "ok"
except iam.exceptions.NoSuchEntityException as e:
    missing = e.response["Error"]["Code"]
try:
    sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/x", RoleSessionName="session")
    other = "ok"
except Exception as e:
    other = e.response["Error"]["Code"]
print(json.dumps({"account": ident["Account"], "arn": ident["Arn"], "userId": ident["UserId"],
  "user": {"name": user["UserName"], "arn": user["Arn"], "id": user["UserId"], "path": user["Path"], "created": user["CreateDate"].isoformat()},
  "missing": missing, "other": other}))
`

describe("identity", () => {
  it("boto3's STS and IAM clients get the account (12 digits), its admin user's ARN, and IAM's errors", async () => {
    const seen = await python(script, [server.url], clientEnv(server))
    expect(seen.account).toMatch(/^\d{12}$/)
    expect(seen.arn).toBe(`arn:aws:iam::${seen.account}:user/admin`)
    expect(seen.userId).toMatch(/^AIDA[0-9A-Z]{17}$/)
    expect(seen.user).toMatchObject({ name: "admin", arn: seen.arn, id: seen.userId, path: "/" })
    expect(Math.abs(Date.parse(seen.user.created) - Date.now())).toBeLessThan(10 * 60_000)
    expect(seen.missing).toBe("NoSuchEntity")
    expect(seen.other).toBe("InvalidAction")
  })

  it("the same account as EC2 sees; an EC2 action signed for sts is not an STS action, and STS actions signed for ec2 are not EC2's", async () => {
    const signed = (service: string, params: ReadonlyArray<readonly [string, string]>) => postV4(server.url, params, { region: server.region, credentials: server.credentials, service })
    const who = await signed("sts", [["Action", "GetCallerIdentity"], ["Version", "2011-06-15"]])
    expect(who.status).toBe(200)
    expect(who.body).toContain('<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">')
    const groups = await signed("ec2", [["Action", "DescribeSecurityGroups"], ["Version", "2016-11-15"]])
    expect(xmlText(groups.body, "ownerId")).toBe(xmlText(who.body, "Account"))
    const wrong = await signed("sts", [["Action", "DescribeInstances"], ["Version", "2011-06-15"]])
    expect([wrong.status, xmlText(wrong.body, "Code")]).toEqual([400, "InvalidAction"])
    expect(wrong.body).toContain("<ErrorResponse")
    const viaEc2 = await signed("ec2", [["Action", "GetCallerIdentity"], ["Version", "2011-06-15"]])
    expect([viaEc2.status, xmlText(viaEc2.body, "Code")]).toEqual([400, "InvalidAction"])
    const s3 = await signed("s3", [["Action", "GetCallerIdentity"], ["Version", "2011-06-15"]])
    expect([s3.status, xmlText(s3.body, "Code")]).toEqual([403, "SignatureDoesNotMatch"])
  })
})
