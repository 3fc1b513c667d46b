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

describe("dated versions, the identity document and IMDSv2 over HTTP", () => {
  const req = (from: string, method: string, path: string, headers: Record<string, string> = {}) =>
    send(server.url, { method, path, localAddress: from, headers })

  it("GET / from an instance lists the versions; from anyone else it is the Query API", async () => {
    const mine = await get(withKey.PrivateIpAddress!, "/")
    expect(mine.status).toBe(200)
    expect(mine.body.split("\n")).toEqual(expect.arrayContaining(["1.0", "2009-04-04", "2021-03-23", "latest"]))
    const other = await get("127.0.0.1", "/")
    expect(other.status).toBeGreaterThanOrEqual(400)
    expect(other.body).toContain("<Response>")
  })

  it("runs cloud-init's Ec2 datasource request order (token, dated 2009-04-04 instance-id, then the crawl)", async () => {
    const ip = withKey.PrivateIpAddress!
    const seen: Array<string> = []
    const tok = await req(ip, "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "21600" })
    expect(tok.status).toBe(200)
    expect(tok.headers["x-aws-ec2-metadata-token-ttl-seconds"]).toBe("21600")
    const h = { "X-aws-ec2-metadata-token": tok.body }
    const at = async (path: string) => {
      const r = await req(ip, "GET", path, h)
      seen.push(`${r.status} ${path}`)
      return r
    }
    expect((await at("/2009-04-04/meta-data/instance-id")).body).toBe(withKey.InstanceId)
    const version = (await at("/2021-03-23/meta-data/instance-id")).status === 200 ? "2021-03-23" : "2009-04-04"
    expect(version).toBe("2021-03-23")
    expect((await at(`/${version}/user-data`)).body).toBe(userData)
    // The crawl cloud-init's MetadataMaterializer does: a line ending in / is a folder, "k=v" names a key.
    const crawl = async (base: string): Promise<Record<string, unknown>> => {
      const out: Record<string, unknown> = {}
      const listing = await at(base)
      expect([base, listing.status]).toEqual([base, 200])
      for (const line of listing.body.split("\n").filter((l) => l !== "")) {
        if (line.endsWith("/")) out[line.slice(0, -1)] = await crawl(`${base}${line}`)
        else if (line.includes("=")) out[line.split("=")[0]!] = await crawl(`${base}${line.split("=")[0]}/`)
        else out[line] = (await at(`${base}${line}`)).body
      }
      return out
    }
    const md = (await crawl(`/${version}/meta-data/`)) as any
    expect(md["instance-id"]).toBe(withKey.InstanceId)
    expect(md["local-ipv4"]).toBe(ip)
    expect(md["public-keys"]["0"]["openssh-key"].startsWith(publicKeyLine)).toBe(true)
    expect(md["placement"]["availability-zone"]).toBe("euca-1b")
    expect(md["network"]["interfaces"]["macs"][md.mac]["local-ipv4s"]).toBe(ip)
    expect(md["block-device-mapping"]["root"]).toBe("/dev/sda1")
    const ident = JSON.parse((await at(`/${version}/dynamic/instance-identity/document`)).body)
    expect(ident).toMatchObject({ instanceId: withKey.InstanceId, imageId: withKey.ImageId, instanceType: "c1.medium", privateIp: ip, availabilityZone: "euca-1b", region: server.region, version: "2017-09-30", architecture: "x86_64" })
    expect(new Date(ident.pendingTime).getTime()).toBe(Math.floor(withKey.LaunchTime!.getTime() / 1000) * 1000)
    expect(seen.filter((s) => !s.startsWith("200 "))).toEqual([])
  })

  it("tokens: bad ttl is 400, a bad or another instance's token is 401, expiry is 401, v1 still works", async () => {
    const ip = withKey.PrivateIpAddress!
    for (const ttl of ["0", "21601", "x"]) expect((await req(ip, "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": ttl })).status).toBe(400)
    expect((await req(ip, "PUT", "/latest/api/token")).status).toBe(400)
    expect((await req("127.0.0.1", "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "60" })).status).toBe(404)
    expect((await req(ip, "GET", "/latest/meta-data/instance-id", { "X-aws-ec2-metadata-token": "forged" })).status).toBe(401)
    const short = await req(ip, "PUT", "/latest/api/token", { "X-aws-ec2-metadata-token-ttl-seconds": "1" })
    expect(short.status).toBe(200)
    const ok = await req(ip, "GET", "/latest/meta-data/instance-id", { "X-aws-ec2-metadata-token": short.body })
    expect([ok.status, ok.body]).toEqual([200, withKey.InstanceId])
    // Another address presenting this instance's token is refused.
    expect((await req("127.77.255.251", "GET", "/latest/meta-data/instance-id", { "X-aws-ec2-metadata-token": short.body })).status).toBe(401)
    await new Promise((r) => setTimeout(r, 1100))
    expect((await req(ip, "GET", "/latest/meta-data/instance-id", { "X-aws-ec2-metadata-token": short.body })).status).toBe(401)
    expect((await get(ip, "/latest/meta-data/instance-id")).body).toBe(withKey.InstanceId)
  })
})
