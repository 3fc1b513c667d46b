/**
 * The instance metadata service, by source address, for real: the cloud's private subnet lies
 * inside 127.0.0.0/8 (Linux routes all of it to lo), so a request bound to an instance's private
 * address reaches the server as that instance would.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  type EC2Client,
  ImportKeyPairCommand,
  type Instance,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated
} from "@aws-sdk/client-ec2"
import { generateKeyPairSync } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { machineImage, send } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client
let withKey: Instance
let bare: Instance
let publicKeyLine: string
const userData = "#!/bin/sh\necho 'hello from user-data' ✓\n"

const wait = { maxWaitTime: 30, minDelay: 1, maxDelay: 1 }

beforeAll(async () => {
  server = await TestServer.start({
    config: TestServer.fastConfig({ network: { mode: "MANAGED", subnet: "127.77.0.0/16", addressesPerNetwork: 32, publicIps: ["198.51.100.10-198.51.100.29"] } })
  })
  ec2 = server.client()
  const emi = await machineImage(ec2)
  const der = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" })
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b])
  publicKeyLine = `ssh-ed25519 ${Buffer.concat([str(Buffer.from("ssh-ed25519")), str(der.subarray(der.length - 32))]).toString("base64")}`
  await ec2.send(new ImportKeyPairCommand({ KeyName: "meta-key", PublicKeyMaterial: Buffer.from(`${publicKeyLine} someone@laptop`) }))
  await ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web" }))
  await ec2.send(new CreateSecurityGroupCommand({ GroupName: "ssh", Description: "ssh" }))
  await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "ssh", IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIp: "0.0.0.0/0" }))
  const a = await ec2.send(
    new RunInstancesCommand({
      ImageId: emi,
      MinCount: 1,
      MaxCount: 1,
      InstanceType: "c1.medium",
      KeyName: "meta-key",
      SecurityGroups: ["web", "ssh"],
      UserData: Buffer.from(userData).toString("base64"),
      Placement: { AvailabilityZone: "euca-1b" }
    })
  )
  const b = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))
  const ids = [a.Instances![0]!.InstanceId!, b.Instances![0]!.InstanceId!]
  await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: ids })
  const described = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))).Reservations!.flatMap((r) => r.Instances!)
  withKey = described.find((i) => i.InstanceId === ids[0])!
  bare = described.find((i) => i.InstanceId === ids[1])!
})
afterAll(async () => {
  await server?.stop()
})

const get = (from: string, path: string) => send(server.url, { method: "GET", path, localAddress: from })

describe("the metadata service answers by source address", () => {
  it("the instances have private addresses inside 127.77.0.0/16", () => {
    expect(withKey.PrivateIpAddress).toMatch(/^127\.77\.\d+\.\d+$/)
    expect(bare.PrivateIpAddress).toMatch(/^127\.77\.\d+\.\d+$/)
    expect(withKey.PrivateIpAddress).not.toBe(bare.PrivateIpAddress)
  })

  it("serves the meta-data tree of the instance it comes from", async () => {
    const ip = withKey.PrivateIpAddress!
    const listing = await get(ip, "/latest/meta-data/")
    expect(listing.status).toBe(200)
    const entries = listing.body.split("\n")
    for (const e of ["ami-id", "hostname", "instance-id", "instance-type", "local-hostname", "local-ipv4", "mac", "placement/", "public-hostname", "public-ipv4", "public-keys/", "reservation-id", "security-groups"]) {
      expect(entries).toContain(e)
    }
    const value = async (path: string) => {
      const r = await get(ip, `/latest/meta-data/${path}`)
      expect([path, r.status]).toEqual([path, 200])
      return r.body
    }
    expect(await value("instance-id")).toBe(withKey.InstanceId)
    expect(await value("instance-type")).toBe("c1.medium")
    expect(await value("ami-id")).toBe(withKey.ImageId)
    expect(await value("local-ipv4")).toBe(ip)
    expect(await value("public-ipv4")).toBe(withKey.PublicIpAddress)
    expect(withKey.PublicIpAddress).toMatch(/^198\.51\.100\./)
    expect(await value("hostname")).toBe(withKey.PrivateDnsName)
    expect(await value("local-hostname")).toBe(`ip-${ip.replaceAll(".", "-")}.${server.region}.compute.internal`)
    expect((await value("security-groups")).split("\n").sort()).toEqual(["ssh", "web"])
    expect(await value("placement/")).toBe("availability-zone")
    expect(await value("placement/availability-zone")).toBe("euca-1b")
    expect(await value("mac")).toMatch(/^d0:0d(:[0-9a-f]{2}){4}$/)
    expect(await value("public-keys/")).toBe("0=meta-key")
    expect(await value("public-keys/0/")).toBe("openssh-key")
    expect((await value("public-keys/0/openssh-key")).trim().split(" ").slice(0, 2).join(" ")).toBe(publicKeyLine)
    expect((await get(ip, "/latest/meta-data/no-such-thing")).status).toBe(404)
    expect((await get(ip, "/latest/meta-data/public-keys/1/openssh-key")).status).toBe(404)

    const ud = await get(ip, "/latest/user-data")
    expect([ud.status, ud.body]).toEqual([200, userData])
    expect((await get(ip, "/latest/")).body.split("\n")).toEqual(expect.arrayContaining(["meta-data", "user-data"]))
  })

  it("each instance sees its own answers; no key and no user data are 404s", async () => {
    const ip = bare.PrivateIpAddress!
    expect((await get(ip, "/latest/meta-data/instance-id")).body).toBe(bare.InstanceId)
    expect((await get(ip, "/latest/meta-data/security-groups")).body).toBe("default")
    expect((await get(ip, "/latest/meta-data/public-keys/")).status).toBe(404)
    expect((await get(ip, "/latest/meta-data/")).body.split("\n")).not.toContain("public-keys/")
    expect((await get(ip, "/latest/user-data")).status).toBe(404)
  })

  it("an address that is no instance's gets 404, and so does a terminated instance's", async () => {
    expect((await get("127.0.0.1", "/latest/meta-data/instance-id")).status).toBe(404)
    expect((await get("127.77.255.250", "/latest/meta-data/")).status).toBe(404)
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [bare.InstanceId!] }))
    await waitUntilInstanceTerminated({ client: ec2, ...wait }, { InstanceIds: [bare.InstanceId!] })
    expect((await get(bare.PrivateIpAddress!, "/latest/meta-data/instance-id")).status).toBe(404)
    // The other instance is unaffected.
    expect((await get(withKey.PrivateIpAddress!, "/latest/meta-data/instance-id")).body).toBe(withKey.InstanceId)
  })
})
