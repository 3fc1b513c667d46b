/** DescribeRegions, DescribeAvailabilityZones, and Eucalyptus's `verbose` capacity rows for the admin only. */
import { DescribeAvailabilityZonesCommand, DescribeRegionsCommand, type EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Database } from "../support/db.js"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage } from "./client.js"

let server: TestServer.TestServer
let admin: EC2Client
let user: EC2Client

beforeAll(async () => {
  server = await TestServer.start()
  admin = server.client()
  user = server.client((await Database.createAccount(server.dataDir, "user")).credentials)
})
afterAll(async () => {
  await server?.stop()
})

describe("regions and zones", () => {
  it("DescribeRegions names this cloud's one region", async () => {
    const r = await user.send(new DescribeRegionsCommand({}))
    expect(r.Regions!.map((x) => [x.RegionName, x.Endpoint, x.OptInStatus])).toEqual([[server.region, `ec2.${server.region}.eucalyptus.cloud`, "opt-in-not-required"]])
    expect((await user.send(new DescribeRegionsCommand({ RegionNames: [server.region] }))).Regions).toHaveLength(1)
    expect((await user.send(new DescribeRegionsCommand({ Filters: [{ Name: "region-name", Values: ["us-*"] }] }))).Regions).toEqual([])
    expect(await codeOf(user.send(new DescribeRegionsCommand({ RegionNames: ["us-east-1"] })))).toBe("InvalidParameterValue 400")
  })

  it("DescribeAvailabilityZones lists the zones; names and filters select", async () => {
    const plain = (await user.send(new DescribeAvailabilityZonesCommand({}))).AvailabilityZones!
    expect(plain.map((z) => [z.ZoneName, z.State, z.RegionName, z.ZoneId])).toEqual([
      ["euca-1a", "available", server.region, `${server.region}-az1`],
      ["euca-1b", "available", server.region, `${server.region}-az2`]
    ])
    expect((await user.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["euca-1b"] }))).AvailabilityZones!.map((z) => z.ZoneName)).toEqual(["euca-1b"])
    expect((await user.send(new DescribeAvailabilityZonesCommand({ Filters: [{ Name: "zone-name", Values: ["*a"] }] }))).AvailabilityZones!.map((z) => z.ZoneName)).toEqual(["euca-1a"])
    expect(await codeOf(user.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["euca-9z"] })))).toBe("InvalidParameterValue 400")
  })

  it("`verbose` gives the admin free/max rows per VM type; anyone else gets the plain list", async () => {
    // Use some capacity so that free differs from max in one zone.
    await admin.send(new RunInstancesCommand({ ImageId: await machineImage(admin), MinCount: 2, MaxCount: 2, InstanceType: "m1.large", Placement: { AvailabilityZone: "euca-1a" } }))
    const verbose = (await admin.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["verbose"] }))).AvailabilityZones!
    const rows = verbose.map((z) => [z.ZoneName, z.State])
    // Per zone: the zone, a header row, then one row per VM type.
    expect(rows.map((r) => r[0])).toEqual([
      "euca-1a", "|- vm types", "|- m1.small", "|- c1.medium", "|- m1.large", "|- m1.xlarge", "|- c1.xlarge",
      "euca-1b", "|- vm types", "|- m1.small", "|- c1.medium", "|- m1.large", "|- m1.xlarge", "|- c1.xlarge"
    ])
    expect(rows[1]![1]).toMatch(/free \/ max\s+cpu\s+ram\s+disk/)
    const freeMax = (zone: number, type: number) => {
      const m = /^(\d+) \/ (\d+)\s+(\d+)\s+(\d+)\s+(\d+)$/.exec(rows[zone * 7 + 2 + type]![1]!.trim())
      if (m === null) throw new Error(`not a verbose row: ${rows[zone * 7 + 2 + type]![1]}`)
      return [Number(m[1]), Number(m[2])]
    }
    // fastConfig: two 4-core nodes per zone → 8 m1.small at most; two m1.large took 4 cores in euca-1a.
    expect(freeMax(1, 0)).toEqual([8, 8])
    expect(freeMax(0, 0)).toEqual([4, 8])
    expect(freeMax(1, 4)).toEqual([2, 2]) // c1.xlarge: 4 cores, one per node
    expect(freeMax(0, 4)).toEqual([1, 2])
    // The same request from a non-admin account: just the zones.
    const asUser = (await user.send(new DescribeAvailabilityZonesCommand({ ZoneNames: ["verbose"] }))).AvailabilityZones!
    expect(asUser.map((z) => z.ZoneName)).toEqual(["euca-1a", "euca-1b"])
  })
})
