/**
 * Hostile requests at the edge, over real HTTP: a credential scope for another region (refused
 * unless the operator names it as an alias), control characters XML cannot carry (refused before
 * anything is stored), and oversized bodies (413 from Content-Length before reading, or as soon as a
 * chunked body passes the limit).
 */
import * as Http from "node:http"
import { CreateSecurityGroupCommand, CreateTagsCommand, DescribeTagsCommand, EC2Client, DescribeRegionsCommand } from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { MAX_BODY_BYTES } from "../../src/api/Server.js"
import * as TestServer from "../support/server.js"
import { codeOf, errorCode, postBodyV4, postV4, xmlText } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client

beforeAll(async () => {
  server = await TestServer.start({ config: TestServer.fastConfig({ regionAliases: ["us-east-1"] }) })
  ec2 = server.client()
})
afterAll(async () => {
  await server?.stop()
})

const inRegion = (region: string) => new EC2Client({ endpoint: server.url, region, credentials: server.credentials, maxAttempts: 1 })

describe("credential scope region", () => {
  it("refuses another region with EC2's AuthFailure, and nothing changes; accepts the operator's alias", async () => {
    for (const region of ["us-west-2", "evil-region-9"]) {
      const c = inRegion(region)
      expect(await codeOf(c.send(new DescribeRegionsCommand({})))).toBe("AuthFailure 401")
      expect(await codeOf(c.send(new CreateTagsCommand({ Resources: ["i-00000001"], Tags: [{ Key: "k", Value: region }] })))).toBe("AuthFailure 401")
      const raw = await postV4(server.url, [["Action", "DescribeRegions"], ["Version", "2016-11-15"]], { region, credentials: server.credentials })
      expect(xmlText(raw.body, "Message")).toBe(`Credential should be scoped to a valid region, not '${region}'. `)
    }
    expect((await ec2.send(new DescribeTagsCommand({}))).Tags).toEqual([])
    expect(await codeOf(inRegion("us-east-1").send(new DescribeRegionsCommand({})))).toBe("ok")
    expect(await codeOf(inRegion(server.region).send(new DescribeRegionsCommand({})))).toBe("ok")
  })
})

describe("control characters", () => {
  it("are refused with InvalidParameterValue in tag keys, values and client tokens, and nothing is stored", async () => {
    for (const tag of [{ Key: "a\u0000b", Value: "v" }, { Key: "k", Value: "nul\u0000" }, { Key: "k", Value: "bell\u0007" }, { Key: "k\uFFFF", Value: "v" }]) {
      expect(await codeOf(ec2.send(new CreateTagsCommand({ Resources: ["i-00000001"], Tags: [tag] })))).toBe("InvalidParameterValue 400")
    }
    const token = await postV4(
      server.url,
      [["Action", "RunInstances"], ["Version", "2016-11-15"], ["ImageId", "emi-00000001"], ["MinCount", "1"], ["MaxCount", "1"], ["ClientToken", "t\u0001"]],
      { region: server.region, credentials: server.credentials }
    )
    expect([token.status, errorCode(token)]).toEqual([400, "InvalidParameterValue"])
    expect((await ec2.send(new DescribeTagsCommand({}))).Tags).toEqual([])
    // Tab and newline are XML characters: stored and answered as sent.
    const g = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "edge", Description: "edge" }))
    await ec2.send(new CreateTagsCommand({ Resources: [g.GroupId!], Tags: [{ Key: "k", Value: "a\tb\nc" }] }))
    expect((await ec2.send(new DescribeTagsCommand({}))).Tags?.map((t) => t.Value)).toEqual(["a\tb\nc"])
  })
})

/** A raw request whose headers go out first; resolves with the answer (which may come before the body). */
const raw = (headers: Record<string, string>, write: (req: Http.ClientRequest) => void): Promise<{ status: number; body: string; sent: number }> =>
  new Promise((resolve, reject) => {
    const u = new URL(server.url)
    let sent = 0
    const req = Http.request({ host: u.hostname, port: Number(u.port), method: "POST", path: "/", headers, agent: false }, (res) => {
      const chunks: Array<Buffer> = []
      res.on("data", (c: Buffer) => chunks.push(c))
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8"), sent }))
    })
    req.on("error", (e) => (sent > 0 ? undefined : reject(e)))
    const origWrite = req.write.bind(req)
    req.write = ((chunk: Buffer, ...rest: Array<never>) => {
      sent += chunk.length
      return origWrite(chunk, ...rest)
    }) as typeof req.write
    write(req)
  })

describe("oversized bodies", () => {
  it("a Content-Length over the limit is refused with 413 before the body is sent", async () => {
    const r = await raw({ "content-type": "application/x-www-form-urlencoded", "content-length": String(20 * 1024 * 1024) }, (req) => req.flushHeaders())
    expect([r.status, errorCode(r), r.sent]).toEqual([413, "RequestEntityTooLarge", 0])
  })

  it("a chunked body is refused as soon as it passes the limit, not after the whole upload", async () => {
    const chunk = Buffer.alloc(64 * 1024, "a")
    const r = await raw({ "content-type": "application/x-www-form-urlencoded", "transfer-encoding": "chunked" }, (req) => {
      // Keep writing until the answer arrives: 20 MiB at most, and the answer must come long before.
      let n = 0
      const pump = () => {
        while (n < 320 && !req.destroyed) {
          n++
          if (!req.write(chunk)) return void req.once("drain", pump)
        }
        if (!req.destroyed) req.end()
      }
      req.on("response", () => {
        n = 320
      })
      pump()
    })
    expect([r.status, errorCode(r)]).toEqual([413, "RequestEntityTooLarge"])
    expect(r.sent).toBeLessThan(8 * 1024 * 1024)
  })

  it("a body at the limit is read (and then judged by its signature)", async () => {
    const body = `Action=DescribeRegions&Version=2016-11-15&Pad=${"x".repeat(MAX_BODY_BYTES - 60)}`
    expect(Buffer.byteLength(body)).toBeLessThanOrEqual(MAX_BODY_BYTES)
    const r = await postBodyV4(server.url, body, { region: server.region, credentials: server.credentials })
    expect(r.status).toBe(200)
    expect(xmlText(r.body, "regionName")).toBe(server.region)
  })
})
