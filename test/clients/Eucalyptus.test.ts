/**
 * The Eucalyptus-era clients from Debian, unchanged: boto 2.49 (on /services/Eucalyptus, API version 2014-10-01, its
 * `InstanceId.1` on GetConsoleOutput, Eucalyptus's own DescribeInstanceTypes shape) and Apache
 * Libcloud 3.4 (the Eucalyptus driver: a flat `KeyName`, lists from 0, the msgs.eucalyptus.com
 * namespace; and the EC2 driver).
 */
import { existsSync } from "node:fs"
import { join } from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { getV2, postV4 } from "../api/client.js"
import { clientEnv, run } from "./support.js"

let server: TestServer.TestServer
const PY = "/usr/bin/python3" // Debian's python3, where python3-boto and python3-libcloud are
const has = (module: string) => existsSync(`/usr/lib/python3/dist-packages/${module}`)
const skip = (module: string) => !has(module) && process.env.CI !== "true"

beforeAll(async () => {
  // Libcloud's EC2 driver signs for an AWS region only: the operator's alias lets it in.
  server = await TestServer.start({ config: TestServer.fastConfig({ regionAliases: ["us-east-1"] }) })
})
afterAll(async () => {
  await server?.stop()
})

const journey = async (script: string) => JSON.parse((await run(PY, [join(import.meta.dirname, script), server.url, server.region], clientEnv(server), 180_000)).trim().split("\n").pop()!)

describe("boto 2", () => {
  it.skipIf(skip("boto"))("zones, Eucalyptus's instance types, key, group, two instances with tags, console, address, terminate", async () => {
    const r = await journey("boto2_journey.py")
    expect(r.version).toBe("2.49.0")
    expect(r.zones).toEqual(["euca-1a", "euca-1b"])
    expect(r.types.map((t: Array<unknown>) => t[0])).toEqual(["m1.small", "c1.medium", "m1.large", "m1.xlarge", "c1.xlarge"])
    expect(r.types[0]).toEqual(["m1.small", 1, 128, 2])
    expect(r.keyFingerprint).toMatch(/^([0-9a-f]{2}:){19}[0-9a-f]{2}$/)
    expect(r.keys).toEqual(["boto2-key"])
    expect(r.groupRules).toEqual([["tcp", "22", "22", ["0.0.0.0/0"]]])
    expect(r.ran).toHaveLength(2)
    expect(r.states).toEqual(["running", "running"])
    expect(r.tagged).toEqual([...r.ran].sort())
    expect(r.console).toBe(true)
    expect(r.addressOn).toBe(r.ran[0])
    expect(r.terminating).toEqual([...r.ran].sort())
    expect(r.finalStates).toEqual(["terminated", "terminated"])
    expect(r.keysAfter).toEqual([])
  }, 200_000)
})

describe("Libcloud", () => {
  it.skipIf(skip("libcloud"))("the Eucalyptus driver's sizes, key pair, node with tags; the EC2 driver sees the same", async () => {
    const r = await journey("libcloud_journey.py")
    expect(r.version).toBe("3.4.1")
    expect(r.sizes.map((s: Array<unknown>) => s[0])).toEqual(["c1.medium", "c1.xlarge", "m1.large", "m1.small", "m1.xlarge"])
    expect(r.sizes.find((s: Array<unknown>) => s[0] === "m1.small")).toEqual(["m1.small", 128, 2])
    expect(r.image).toMatch(/^emi-/)
    expect(r.keyPair).toBe("libcloud-key")
    expect(r.node).toMatch(/^i-/)
    expect(r.state).toBe("running")
    expect(r.tags).toMatchObject({ via: "libcloud", team: "euca", Name: "libcloud-1" })
    expect(r.privateIps).toBe(1)
    expect(r.ec2Nodes).toContain(r.node)
    expect(r.ec2Groups).toContain("default")
    expect(r.destroyed).toBe(true)
    expect(["terminated", "gone"]).toContain(r.finalState)
    expect(r.keyDeleted).toBe(true)
  }, 200_000)
})

describe("DescribeInstanceTypes on /services/Eucalyptus", () => {
  it("is Eucalyptus's shape for SigV2 or an API version before 2016-11-15 there, EC2's everywhere else", async () => {
    const sign = { region: server.region, credentials: server.credentials }
    const euca = /^<DescribeInstanceTypesResponse xmlns="http:\/\/msgs\.eucalyptus\.com\/3\.3\.0"><requestId>[^<]+<\/requestId><instanceTypeDetails><item><name>m1\.small<\/name><cpu>1<\/cpu><disk>2<\/disk><memory>128<\/memory><\/item>/
    const body = (r: { body: string }) => r.body.replace(/^<\?xml[^>]*>\n/, "")
    const at = (path: string, version: string) => postV4(server.url, [["Action", "DescribeInstanceTypes"], ["Version", version]], { ...sign, path })
    expect(body(await at("/services/Eucalyptus", "2014-10-01"))).toMatch(euca)
    expect(body(await getV2(server.url, [["Action", "DescribeInstanceTypes"], ["Version", "2016-11-15"]], { ...sign, path: "/services/Eucalyptus" }))).toMatch(euca)
    for (const [path, version] of [["/services/Eucalyptus", "2016-11-15"], ["/", "2014-10-01"], ["/services/compute", "2014-10-01"]] as const) {
      const r = await at(path, version)
      expect([path, version, r.status, r.body.includes("<instanceTypeSet><item><instanceType>m1.small</instanceType>")]).toEqual([path, version, 200, true])
    }
    // Eucalyptus's shape still answers only for known types.
    const bad = await postV4(server.url, [["Action", "DescribeInstanceTypes"], ["Version", "2014-10-01"], ["InstanceType.1", "x9.huge"]], { ...sign, path: "/services/Eucalyptus" })
    expect(bad.status).toBe(400)
  })
})
