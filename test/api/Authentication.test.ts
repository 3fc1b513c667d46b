/**
 * The API's front door as clients meet it: SigV4 in the header and presigned in a GET's query,
 * SigV2 (built by hand, and by botocore's own SigV2 signer), the old paths /services/Eucalyptus and
 * /services/compute, wrong and unknown keys, clock skew, DryRun, unknown actions and old versions.
 */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import {
  AllocateAddressCommand,
  CreateKeyPairCommand,
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeregisterImageCommand,
  DescribeAddressesCommand,
  DescribeAvailabilityZonesCommand,
  DescribeImagesCommand,
  DescribeInstancesCommand,
  DescribeKeyPairsCommand,
  DescribeSecurityGroupsCommand,
  DescribeTagsCommand,
  EC2Client,
  RunInstancesCommand,
  TerminateInstancesCommand
} from "@aws-sdk/client-ec2"
import { Effect } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Accounts from "../../src/store/Accounts.js"
import * as Db from "../../src/store/Database.js"
import { Database } from "../support/db.js"
import * as TestServer from "../support/server.js"
import { codeOf, errorCode, getPresignedV4, getV2, machineImage, postV4, send, xmlText } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client
let emi: string

beforeAll(async () => {
  server = await TestServer.start()
  ec2 = server.client()
  emi = await machineImage(ec2)
})
afterAll(async () => {
  await server?.stop()
})

const describeZones = [["Action", "DescribeAvailabilityZones"], ["Version", "2016-11-15"]] as const
const zonesIn = (xml: string) => [...xml.matchAll(/<zoneName>([^<]+)<\/zoneName>/g)].map((m) => m[1])
const signing = () => ({ region: server.region, credentials: server.credentials })

describe("signatures", () => {
  it("SigV4 presigned GET, on / and on the old paths", async () => {
    for (const path of ["/", "/services/Eucalyptus", "/services/compute"]) {
      const r = await getPresignedV4(server.url, describeZones, { ...signing(), path })
      expect([path, r.status]).toEqual([path, 200])
      expect(zonesIn(r.body)).toEqual(["euca-1a", "euca-1b"])
    }
    // Header-signed POST on the old paths too.
    for (const path of ["/services/Eucalyptus", "/services/compute/"]) {
      const r = await postV4(server.url, describeZones, { ...signing(), path })
      expect([path, r.status]).toEqual([path, 200])
    }
    // And the SDK pointed at an old path.
    for (const path of ["/services/Eucalyptus", "/services/compute"]) {
      const old = new EC2Client({ endpoint: `${server.url}${path}`, region: server.region, credentials: server.credentials, maxAttempts: 1 })
      expect((await old.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones).toHaveLength(2)
      old.destroy()
    }
  })

  it("SigV2 GET built by hand (HmacSHA256 and HmacSHA1), and botocore's SigV2 POST", async () => {
    for (const method of ["HmacSHA256", "HmacSHA1"] as const) {
      const r = await getV2(server.url, describeZones, { ...signing(), method })
      expect([method, r.status]).toEqual([method, 200])
      expect(zonesIn(r.body)).toEqual(["euca-1a", "euca-1b"])
    }
    const onOldPath = await getV2(server.url, [["Action", "DescribeImages"], ["Version", "2010-08-31"], ["Owner.1", "eucalyptus"]], { ...signing(), path: "/services/Eucalyptus" })
    expect(onOldPath.status).toBe(200)
    expect(onOldPath.body).toContain("debian-12-x86_64")

    const script = `
import json, sys, urllib.request, urllib.error
from botocore.auth import SigV2Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, key, secret = sys.argv[1:4]
req = AWSRequest(method="POST", url=url, data={"Action": "DescribeAvailabilityZones", "Version": "2014-06-15"})
SigV2Auth(Credentials(key, secret)).add_auth(req)
p = req.prepare()
r = urllib.request.Request(p.url, data=p.body.encode() if isinstance(p.body, str) else p.body, method="POST", headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"})
try:
    with urllib.request.urlopen(r) as res:
        print(json.dumps({"status": res.status, "body": res.read().decode()}))
except urllib.error.HTTPError as e:
    print(json.dumps({"status": e.code, "body": e.read().decode()}))
`
    // Asynchronously: the server runs in this process and must answer while python waits.
    const run = async (path: string, secret: string) =>
      JSON.parse((await promisify(execFile)("python3", ["-c", script, `${server.url}${path}`, server.credentials.accessKeyId, secret], { encoding: "utf8" })).stdout) as {
        status: number
        body: string
      }
    const ok = await run("/services/Eucalyptus", server.credentials.secretAccessKey)
    expect(ok.status).toBe(200)
    expect(zonesIn(ok.body)).toEqual(["euca-1a", "euca-1b"])
    const wrong = await run("/", "not-the-secret")
    expect([wrong.status, xmlText(wrong.body, "Code")]).toEqual([401, "AuthFailure"])
  })

  it("wrong secrets, unknown or deactivated keys, unsigned and tampered requests are refused", async () => {
    const wrongSecret = { region: server.region, credentials: { ...server.credentials, secretAccessKey: "not-the-secret" } }
    const unknownKey = { region: server.region, credentials: { accessKeyId: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: "x" } }
    const status = (r: { status: number; body: string }) => `${errorCode(r)} ${r.status}`
    expect(status(await postV4(server.url, describeZones, wrongSecret))).toBe("AuthFailure 401")
    expect(status(await getPresignedV4(server.url, describeZones, wrongSecret))).toBe("AuthFailure 401")
    expect(status(await getV2(server.url, describeZones, wrongSecret))).toBe("AuthFailure 401")
    expect(status(await postV4(server.url, describeZones, unknownKey))).toBe("AuthFailure 401")
    expect(status(await getPresignedV4(server.url, describeZones, unknownKey))).toBe("AuthFailure 401")
    expect(status(await getV2(server.url, describeZones, unknownKey))).toBe("AuthFailure 401")
    expect(await codeOf(server.client({ accessKeyId: "AKIAUNKNOWNUNKNOWN00", secretAccessKey: "x" }).send(new DescribeInstancesCommand({})))).toBe("AuthFailure 401")

    // Unsigned.
    const unsigned = await send(server.url, { method: "POST", path: "/", headers: { "content-type": "application/x-www-form-urlencoded" }, body: "Action=DescribeInstances&Version=2016-11-15" })
    expect(status(unsigned)).toBe("AuthFailure 401")
    expect(status(await send(server.url, { method: "GET", path: "/?Action=DescribeInstances&Version=2016-11-15" }))).toBe("AuthFailure 401")

    // A key deactivated by `euca admin` (another connection to the database) stops working — within
    // a second, as the server trusts a key it looked up that long; the account's other key still works.
    const made = await Database.createAccount(server.dataDir, "rotating")
    const second = await Effect.runPromise(Accounts.addKey("rotating", Date.now()).pipe(Effect.provide(Db.layer(server.dataDir))))
    const first = server.client(made.credentials)
    expect(await codeOf(first.send(new DescribeInstancesCommand({})))).toBe("ok")
    await Effect.runPromise(Accounts.deactivateKey(made.credentials.accessKeyId).pipe(Effect.provide(Db.layer(server.dataDir))))
    let answer = "ok"
    for (let tries = 0; tries < 50 && answer === "ok"; tries++) {
      answer = await codeOf(first.send(new DescribeInstancesCommand({})))
      if (answer === "ok") await new Promise((r) => setTimeout(r, 100))
    }
    expect(answer).toBe("AuthFailure 401")
    expect(await codeOf(server.client(second).send(new DescribeInstancesCommand({})))).toBe("ok")
  })

  it("a tampered body does not verify", async () => {
    // Sign one body, send another with the same headers.
    const u = new URL(server.url)
    const { SignatureV4 } = await import("@smithy/signature-v4")
    const { Sha256 } = await import("@aws-crypto/sha256-js")
    const signer = new SignatureV4({ service: "ec2", region: server.region, credentials: server.credentials, sha256: Sha256 })
    const body = "Action=DescribeInstances&Version=2016-11-15"
    const signed = await signer.sign({
      method: "POST",
      protocol: "http:",
      hostname: u.hostname,
      port: Number(u.port),
      path: "/",
      query: {},
      headers: { host: u.host, "content-type": "application/x-www-form-urlencoded; charset=utf-8" },
      body
    })
    // Unchanged, it verifies; changed after signing, it does not.
    expect((await send(server.url, { method: "POST", path: "/", headers: signed.headers as Record<string, string>, body })).status).toBe(200)
    const tampered = "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-00000001"
    const r = await send(server.url, { method: "POST", path: "/", headers: signed.headers as Record<string, string>, body: tampered })
    expect(`${errorCode(r)} ${r.status}`).toBe("SignatureDoesNotMatch 403")
  })

  it("clock skew beyond 15 minutes is RequestExpired, in every signature form", async () => {
    const skewed = new EC2Client({ endpoint: server.url, region: server.region, credentials: server.credentials, maxAttempts: 1, systemClockOffset: -20 * 60 * 1000 })
    expect(await codeOf(skewed.send(new DescribeInstancesCommand({})))).toBe("RequestExpired 400")
    const ahead = new EC2Client({ endpoint: server.url, region: server.region, credentials: server.credentials, maxAttempts: 1, systemClockOffset: 20 * 60 * 1000 })
    expect(await codeOf(ahead.send(new DescribeInstancesCommand({})))).toBe("RequestExpired 400")
    // Within the window is fine.
    const slightly = new EC2Client({ endpoint: server.url, region: server.region, credentials: server.credentials, maxAttempts: 1, systemClockOffset: -5 * 60 * 1000 })
    expect(await codeOf(slightly.send(new DescribeInstancesCommand({})))).toBe("ok")

    const past = new Date(Date.now() - 20 * 60 * 1000)
    const status = (r: { status: number; body: string }) => `${errorCode(r)} ${r.status}`
    expect(status(await postV4(server.url, describeZones, { ...signing(), date: past }))).toBe("RequestExpired 400")
    // A presigned URL is good until it expires, then not.
    expect((await getPresignedV4(server.url, describeZones, { ...signing(), date: past, expiresIn: 3600 })).status).toBe(200)
    expect(status(await getPresignedV4(server.url, describeZones, { ...signing(), date: past, expiresIn: 60 }))).toBe("RequestExpired 400")
    expect(status(await getPresignedV4(server.url, describeZones, { ...signing(), date: new Date(Date.now() + 20 * 60 * 1000) }))).toBe("RequestExpired 400")
    expect(status(await getV2(server.url, describeZones, { ...signing(), date: past }))).toBe("RequestExpired 400")
  })
})

describe("requests", () => {
  it("unknown and missing actions, old API versions", async () => {
    const r = await postV4(server.url, [["Action", "LaunchMissiles"], ["Version", "2016-11-15"]], signing())
    expect(`${errorCode(r)} ${r.status}`).toBe("InvalidAction 400")
    expect(r.body).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Response><Errors><Error><Code>InvalidAction<\/Code><Message>[^<]+<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>/)
    const missing = await postV4(server.url, [["Version", "2016-11-15"]], signing())
    expect(missing.status).toBe(400)
    expect(errorCode(missing)).toMatch(/^Missing(Action|Parameter)$/)
    for (const version of ["2009-04-04", "2012-12-01", "2014-06-15"]) {
      const old = await postV4(server.url, [["Action", "DescribeInstances"], ["Version", version]], signing())
      expect([version, old.status]).toEqual([version, 200])
      expect(old.body).toContain("<DescribeInstancesResponse")
      expect(old.body).toContain("<requestId>")
    }
    const current = await postV4(server.url, [["Action", "DescribeInstances"], ["Version", "2016-11-15"]], signing())
    expect(current.body).toContain('xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"')
    // Anything but the Query endpoint and the metadata paths is a plain 404.
    expect((await send(server.url, { method: "GET", path: "/favicon.ico" })).status).toBe(404)
  })

  it("DryRun answers DryRunOperation or UnauthorizedOperation and changes nothing", async () => {
    const other = server.client((await Database.createAccount(server.dataDir, "stranger")).credentials)
    const mine = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!
    const snapshot = async () => ({
      instances: (await ec2.send(new DescribeInstancesCommand({}))).Reservations!.flatMap((r) => r.Instances!.map((i) => [i.InstanceId, i.State?.Name === "pending" || i.State?.Name === "running"])),
      groups: (await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupName),
      keys: (await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs!.map((k) => k.KeyName),
      addresses: (await ec2.send(new DescribeAddressesCommand({}))).Addresses!.length,
      tags: (await ec2.send(new DescribeTagsCommand({}))).Tags!.length,
      images: (await ec2.send(new DescribeImagesCommand({}))).Images!.length
    })
    const before = await snapshot()
    const dry = "DryRunOperation 412"
    expect(await codeOf(ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, DryRun: true })))).toBe(dry)
    expect(await codeOf(ec2.send(new CreateSecurityGroupCommand({ GroupName: "dry", Description: "dry", DryRun: true })))).toBe(dry)
    expect(await codeOf(ec2.send(new CreateKeyPairCommand({ KeyName: "dry", DryRun: true })))).toBe(dry)
    expect(await codeOf(ec2.send(new AllocateAddressCommand({ DryRun: true })))).toBe(dry)
    expect(await codeOf(ec2.send(new CreateTagsCommand({ Resources: [mine], Tags: [{ Key: "dry", Value: "run" }], DryRun: true })))).toBe(dry)
    expect(await codeOf(ec2.send(new TerminateInstancesCommand({ InstanceIds: [mine], DryRun: true })))).toBe(dry)
    expect(await codeOf(ec2.send(new DescribeImagesCommand({ DryRun: true })))).toBe(dry)
    // Not the caller's to act on: UnauthorizedOperation, also under DryRun.
    expect(await codeOf(other.send(new TerminateInstancesCommand({ InstanceIds: [mine], DryRun: true })))).toBe("UnauthorizedOperation 403")
    expect(await codeOf(other.send(new DeregisterImageCommand({ ImageId: emi, DryRun: true })))).toBe("UnauthorizedOperation 403")
    // A request that would fail fails with its own error, DryRun or not.
    expect(await codeOf(ec2.send(new RunInstancesCommand({ ImageId: "emi-0000ffff", MinCount: 1, MaxCount: 1, DryRun: true })))).toBe("InvalidAMIID.NotFound 400")
    expect(await snapshot()).toEqual(before)
  })
})
