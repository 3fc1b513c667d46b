/**
 * Instances beyond the journey: ClientToken idempotency (also under concurrency), MinCount/MaxCount
 * against a small cloud, DescribeInstances filters and pagination, DescribeInstanceStatus,
 * GetConsoleOutput, RebootInstances and DescribeInstanceTypes.
 */
import {
  CreateSecurityGroupCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeInstanceStatusCommand,
  DescribeInstanceTypesCommand,
  DescribeInstancesCommand,
  type DescribeInstancesCommandInput,
  type EC2Client,
  GetConsoleOutputCommand,
  type Instance,
  RebootInstancesCommand,
  RunInstancesCommand,
  type RunInstancesCommandInput,
  TerminateInstancesCommand,
  paginateDescribeInstances,
  waitUntilInstanceRunning,
  waitUntilInstanceTerminated
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Database } from "../support/db.js"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage, postV4, xmlText } from "./client.js"

const roomy = TestServer.fastConfig({
  cloud: {
    zones: [
      { name: "euca-1a", nodes: [{ prefix: "node-a", count: 4, cores: 8, memoryMiB: 16384, diskGiB: 500 }] },
      { name: "euca-1b", nodes: [{ prefix: "node-b", count: 4, cores: 8, memoryMiB: 16384, diskGiB: 500 }] }
    ]
  },
  network: { mode: "MANAGED", subnet: "172.31.0.0/16", addressesPerNetwork: 64, publicIps: ["198.51.100.10-198.51.100.250"] }
})

const wait = { maxWaitTime: 30, minDelay: 1, maxDelay: 1 }
const all = async (ec2: EC2Client, input: DescribeInstancesCommandInput = {}): Promise<Array<Instance>> =>
  ((await ec2.send(new DescribeInstancesCommand(input))).Reservations ?? []).flatMap((r) => r.Instances ?? [])
const idsOf = (xs: ReadonlyArray<Instance>) => xs.map((i) => i.InstanceId!).sort()

describe("RunInstances with a ClientToken", () => {
  let server: TestServer.TestServer
  let ec2: EC2Client
  let emi: string
  beforeAll(async () => {
    server = await TestServer.start({ config: roomy })
    ec2 = server.client()
    emi = await machineImage(ec2)
  })
  afterAll(async () => {
    await server?.stop()
  })

  it("the same token and parameters return the same reservation; other parameters are a mismatch", async () => {
    const input: RunInstancesCommandInput = { ImageId: emi, MinCount: 2, MaxCount: 2, InstanceType: "m1.small", ClientToken: "token-1" }
    const first = await ec2.send(new RunInstancesCommand(input))
    const again = await ec2.send(new RunInstancesCommand(input))
    expect(again.ReservationId).toBe(first.ReservationId)
    expect(idsOf(again.Instances!)).toEqual(idsOf(first.Instances!))
    expect(first.Instances!.map((i) => i.ClientToken)).toEqual(["token-1", "token-1"])
    const tokened = await all(ec2, { Filters: [{ Name: "client-token", Values: ["token-1"] }] })
    expect(idsOf(tokened)).toEqual(idsOf(first.Instances!))

    expect(await codeOf(ec2.send(new RunInstancesCommand({ ...input, InstanceType: "c1.medium" })))).toBe("IdempotentParameterMismatch 400")
    expect(await codeOf(ec2.send(new RunInstancesCommand({ ...input, MaxCount: 3 })))).toBe("IdempotentParameterMismatch 400")
    expect(await all(ec2, { Filters: [{ Name: "client-token", Values: ["token-1"] }] })).toHaveLength(2)

    // Still the same reservation after the instances are gone.
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: idsOf(first.Instances!) }))
    const later = await ec2.send(new RunInstancesCommand(input))
    expect(later.ReservationId).toBe(first.ReservationId)

    // Tokens are per account: another account's identical token launches its own reservation.
    const other = server.client((await Database.createAccount(server.dataDir, "carol")).credentials)
    const theirs = await other.send(new RunInstancesCommand(input))
    expect(theirs.ReservationId).not.toBe(first.ReservationId)
    expect(theirs.Instances).toHaveLength(2)
  })

  it("a re-send answers from the instance ids the token recorded, tags included; a token recorded without them still answers", async () => {
    const input: RunInstancesCommandInput = {
      ImageId: emi,
      MinCount: 3,
      MaxCount: 3,
      ClientToken: "token-ids",
      TagSpecifications: [{ ResourceType: "instance", Tags: [{ Key: "Name", Value: "batch" }] }]
    }
    const first = await ec2.send(new RunInstancesCommand(input))
    const ids = first.Instances!.map((i) => i.InstanceId!)
    const stored = await Database.query<{ instance_ids: string | null }>(server.dataDir, "SELECT instance_ids FROM client_tokens WHERE token = 'token-ids'")
    expect(stored).toEqual([{ instance_ids: ids.join(" ") }])
    const again = await ec2.send(new RunInstancesCommand(input))
    expect(again.ReservationId).toBe(first.ReservationId)
    expect(again.Instances!.map((i) => i.InstanceId)).toEqual(ids)
    expect(again.Instances!.map((i) => i.Tags)).toEqual(ids.map(() => [{ Key: "Name", Value: "batch" }]))
    // A token from before the ids were kept: answered by looking through the account, the same answer.
    await Database.query(server.dataDir, "UPDATE client_tokens SET instance_ids = NULL WHERE token = 'token-ids'")
    const old = await ec2.send(new RunInstancesCommand(input))
    expect(old.ReservationId).toBe(first.ReservationId)
    expect(old.Instances!.map((i) => i.InstanceId)).toEqual(ids)
    expect(old.Instances!.map((i) => i.Tags)).toEqual(ids.map(() => [{ Key: "Name", Value: "batch" }]))
  })

  it("concurrent requests with one token make one reservation", async () => {
    const input: RunInstancesCommandInput = { ImageId: emi, MinCount: 1, MaxCount: 1, ClientToken: "concurrent" }
    const clients = Array.from({ length: 8 }, () => server.client())
    const answers = await Promise.all(clients.map((c) => c.send(new RunInstancesCommand(input))))
    const reservations = new Set(answers.map((a) => a.ReservationId))
    expect(reservations.size).toBe(1)
    expect(new Set(answers.map((a) => a.Instances![0]!.InstanceId)).size).toBe(1)
    expect(await all(ec2, { Filters: [{ Name: "client-token", Values: ["concurrent"] }] })).toHaveLength(1)
    // Different tokens in parallel: one reservation each.
    const distinct = await Promise.all(clients.map((c, k) => c.send(new RunInstancesCommand({ ...input, ClientToken: `parallel-${k}` }))))
    expect(new Set(distinct.map((a) => a.ReservationId)).size).toBe(8)
  })
})

describe("MinCount and MaxCount on a small cloud", () => {
  // One zone, one node with 4 cores: four m1.small instances at most.
  const tiny = TestServer.fastConfig({
    cloud: { zones: [{ name: "tiny-1a", nodes: [{ prefix: "n", count: 1, cores: 4, memoryMiB: 4096, diskGiB: 100 }] }] }
  })
  let server: TestServer.TestServer
  let ec2: EC2Client
  let emi: string
  beforeAll(async () => {
    server = await TestServer.start({ config: tiny })
    ec2 = server.client()
    emi = await machineImage(ec2)
  })
  afterAll(async () => {
    await server?.stop()
  })

  const live = async () => (await all(ec2)).filter((i) => i.State?.Name === "pending" || i.State?.Name === "running")

  it("all or nothing below MinCount, as many as fit between MinCount and MaxCount", async () => {
    const run = (min: number, max: number, extra: Partial<RunInstancesCommandInput> = {}) => ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: min, MaxCount: max, ...extra }))
    expect(await codeOf(run(0, 1))).toBe("InvalidParameterValue 400")
    expect(await codeOf(run(3, 2))).toBe("InvalidParameterValue 400")
    expect(await codeOf(run(1, 1, { InstanceType: "m9.huge" as never }))).toBe("InvalidParameterValue 400")
    expect(await codeOf(run(1, 1, { Placement: { AvailabilityZone: "nowhere-1z" } }))).toBe("InvalidParameterValue 400")

    // Five do not fit: nothing is launched.
    expect(await codeOf(run(5, 5))).toBe("InsufficientInstanceCapacity 500")
    expect(await all(ec2)).toEqual([])
    // A single c1.xlarge takes the whole node; two do not fit at all.
    expect(await codeOf(run(2, 2, { InstanceType: "c1.xlarge" }))).toBe("InsufficientInstanceCapacity 500")
    expect(await all(ec2)).toEqual([])

    const three = await run(2, 3)
    expect(three.Instances).toHaveLength(3)
    expect(three.Instances!.map((i) => i.AmiLaunchIndex)).toEqual([0, 1, 2])
    // Only one more fits: between MinCount and MaxCount, as many as fit.
    const partial = await run(1, 5)
    expect(partial.Instances).toHaveLength(1)
    expect(await live()).toHaveLength(4)
    expect(await codeOf(run(1, 1))).toBe("InsufficientInstanceCapacity 500")
    expect(await live()).toHaveLength(4)

    // Terminated instances give their capacity back.
    const ids = [...three.Instances!, ...partial.Instances!].map((i) => i.InstanceId!)
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: ids }))
    await waitUntilInstanceTerminated({ client: ec2, ...wait }, { InstanceIds: ids })
    const big = await run(1, 1, { InstanceType: "c1.xlarge" })
    expect(big.Instances).toHaveLength(1)
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [big.Instances![0]!.InstanceId!] }))
  })
})

describe("DescribeInstances filters and pagination, instance status, console output, instance types", () => {
  let server: TestServer.TestServer
  let ec2: EC2Client
  let web: Array<string>
  let db: string
  let gone: string
  let webGroup: string
  beforeAll(async () => {
    server = await TestServer.start({ config: roomy })
    ec2 = server.client()
    const emi = await machineImage(ec2)
    webGroup = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web" }))).GroupId!
    await ec2.send(new CreateSecurityGroupCommand({ GroupName: "db", Description: "db" }))
    const w = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 2, MaxCount: 2, SecurityGroups: ["web"], Placement: { AvailabilityZone: "euca-1a" } }))
    web = w.Instances!.map((i) => i.InstanceId!)
    const d = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, InstanceType: "c1.medium", SecurityGroups: ["db"], Placement: { AvailabilityZone: "euca-1b" } }))
    db = d.Instances![0]!.InstanceId!
    gone = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!
    await ec2.send(new CreateTagsCommand({ Resources: [web[0]!], Tags: [{ Key: "Name", Value: "web-1" }, { Key: "tier", Value: "front" }] }))
    await ec2.send(new CreateTagsCommand({ Resources: [web[1]!], Tags: [{ Key: "Name", Value: "web-2" }, { Key: "tier", Value: "front" }] }))
    await ec2.send(new CreateTagsCommand({ Resources: [db], Tags: [{ Key: "Name", Value: "db-10" }, { Key: "note", Value: "a*b" }] }))
    await ec2.send(new CreateTagsCommand({ Resources: [gone], Tags: [{ Key: "note", Value: "axxb" }] }))
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [gone] }))
    await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: [...web, db] })
    await waitUntilInstanceTerminated({ client: ec2, ...wait }, { InstanceIds: [gone] })
  })
  afterAll(async () => {
    await server?.stop()
  })

  const match = async (...filters: Array<[string, Array<string>]>) => idsOf(await all(ec2, { Filters: filters.map(([Name, Values]) => ({ Name, Values })) }))

  it("filters by tags with EC2's wildcards, and by state, group, type, zone", async () => {
    expect(await match(["tag:Name", ["web-*"]])).toEqual([...web].sort())
    expect(await match(["tag:Name", ["web-?"]])).toEqual([...web].sort())
    expect(await match(["tag:Name", ["db-?"]])).toEqual([])
    expect(await match(["tag:Name", ["db-??"]])).toEqual([db])
    expect(await match(["tag:Name", ["*-1*"]])).toEqual([web[0]!, db].sort())
    expect(await match(["tag:Name", ["WEB-*"]])).toEqual([]) // case-sensitive
    expect(await match(["tag:name", ["web-1"]])).toEqual([]) // the key too
    expect(await match(["tag-key", ["tier"]])).toEqual([...web].sort())
    expect(await match(["tag-value", ["web-2", "db-10"]])).toEqual([web[1]!, db].sort())
    // `*` in a value is a wildcard unless escaped.
    expect(await match(["tag:note", ["a*b"]])).toEqual([db, gone].sort())
    expect(await match(["tag:note", ["a\\*b"]])).toEqual([db])

    expect(await match(["instance-state-name", ["running"]])).toEqual([...web, db].sort())
    expect(await match(["instance-state-name", ["terminated"]])).toEqual([gone])
    expect(await match(["instance-state-code", ["16"]])).toEqual([...web, db].sort())
    expect(await match(["group-name", ["web"]])).toEqual([...web].sort())
    expect(await match(["instance.group-name", ["d?"]])).toEqual([db])
    expect(await match(["group-name", ["d*"]])).toEqual([db, gone].sort()) // "default" too
    expect(await match(["group-id", [webGroup]])).toEqual([...web].sort())
    expect(await match(["instance-type", ["c1.medium"]])).toEqual([db])
    expect(await match(["availability-zone", ["euca-1b"]], ["instance-state-name", ["running"]])).toEqual([db])
    expect(await match(["availability-zone", ["euca-1a"]], ["instance-state-name", ["running"]])).toEqual([...web].sort())
    expect(await match(["instance-id", [web[0]!, gone]])).toEqual([web[0]!, gone].sort())
    // Filters AND together; values OR.
    expect(await match(["tag:tier", ["front"]], ["tag:Name", ["*-2", "db-*"]])).toEqual([web[1]!])
    expect(await match(["instance-state-name", ["running", "terminated"]], ["tag-key", ["note"]])).toEqual([db, gone].sort())
    // Named ids: each once, in launch order, with its own tags; another account's are not found.
    const named = await all(ec2, { InstanceIds: [db, web[0]!, db] })
    expect(named.map((i) => i.InstanceId)).toEqual([web[0]!, db])
    expect(named.map((i) => i.Tags)).toEqual([
      [{ Key: "Name", Value: "web-1" }, { Key: "tier", Value: "front" }],
      [{ Key: "Name", Value: "db-10" }, { Key: "note", Value: "a*b" }]
    ])
    const stranger = server.client((await Database.createAccount(server.dataDir, "dave")).credentials)
    expect(await codeOf(stranger.send(new DescribeInstancesCommand({ InstanceIds: [web[0]!] })))).toBe("InvalidInstanceID.NotFound 400")
    // The ids and the filters together.
    expect(idsOf(await all(ec2, { InstanceIds: [web[0]!, db], Filters: [{ Name: "tag:tier", Values: ["front"] }] }))).toEqual([web[0]!])

    expect(await codeOf(ec2.send(new DescribeInstancesCommand({ Filters: [{ Name: "no-such-filter", Values: ["x"] }] })))).toBe("InvalidParameterValue 400")
  })

  it("pages with MaxResults and NextToken, through the SDK's paginator", async () => {
    const emi = await machineImage(ec2)
    await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 9, MaxCount: 9 }))
    const everything = idsOf(await all(ec2))
    expect(everything).toHaveLength(13)
    const pages: Array<Array<string>> = []
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 5 }, {})) {
      pages.push((page.Reservations ?? []).flatMap((r) => r.Instances!.map((i) => i.InstanceId!)))
    }
    expect(pages.map((p) => p.length)).toEqual([5, 5, 3])
    expect(pages.flat().sort()).toEqual(everything)
    const first = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5 }))
    expect(first.NextToken).toBeTruthy()
    const last = await ec2.send(new DescribeInstancesCommand({ MaxResults: 1000 }))
    expect(last.NextToken).toBeUndefined()
    // Pagination with a filter pages the filtered list.
    const running = await ec2.send(new DescribeInstancesCommand({ MaxResults: 5, Filters: [{ Name: "instance-state-name", Values: ["terminated"] }] }))
    expect(running.Reservations!.flatMap((r) => r.Instances!).map((i) => i.InstanceId)).toEqual([gone])
    expect(running.NextToken).toBeUndefined()

    expect(await codeOf(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 })))).toBe("InvalidParameterValue 400")
    expect(await codeOf(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, InstanceIds: [db] })))).toBe("InvalidParameterCombination 400")
    expect(await codeOf(ec2.send(new DescribeInstancesCommand({ MaxResults: 5, NextToken: "not-a-token" })))).toBe("InvalidPaginationToken 400")
  })

  it("DescribeInstances of everything (answered from memory while nothing changes) shows every change at once", async () => {
    const view = async () => (await all(ec2)).map((i) => [i.InstanceId, i.State?.Name, (i.Tags ?? []).map((t) => `${t.Key}=${t.Value}`).join(",")])
    // The instances the pagination test launched may still be booting: nothing may change between the views but what this test does.
    const booting = (await all(ec2, { Filters: [{ Name: "instance-state-name", Values: ["pending"] }] })).map((i) => i.InstanceId!)
    if (booting.length > 0) await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: booting })
    const first = await view()
    expect(await view()).toEqual(first)
    await ec2.send(new CreateTagsCommand({ Resources: [db], Tags: [{ Key: "fresh", Value: "yes" }] }))
    expect((await view()).find((r) => r[0] === db)?.[2]).toContain("fresh=yes")
    await ec2.send(new DeleteTagsCommand({ Resources: [db], Tags: [{ Key: "fresh" }] }))
    expect(await view()).toEqual(first)
    const emi = await machineImage(ec2)
    const extra = (await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 }))).Instances![0]!.InstanceId!
    expect((await view()).find((r) => r[0] === extra)?.[1]).toBe("pending")
    await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: [extra] })
    expect((await view()).find((r) => r[0] === extra)?.[1]).toBe("running")
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [extra] }))
    expect((await view()).find((r) => r[0] === extra)?.[1]).toBe("shutting-down")
    // Each answer has its own request id, and the namespace of the version asked for.
    const ask = (version: string) => postV4(server.url, [["Action", "DescribeInstances"], ["Version", version]], { region: server.region, credentials: server.credentials })
    const [a, b, old] = [await ask("2016-11-15"), await ask("2016-11-15"), await ask("2014-06-15")]
    expect(xmlText(a.body, "requestId")).not.toBe(xmlText(b.body, "requestId"))
    expect(a.body.replace(/<requestId>[^<]*</, "")).toBe(b.body.replace(/<requestId>[^<]*</, ""))
    expect(Buffer.byteLength(a.body)).toBe(Number(a.headers["content-length"]))
    expect(old.body).toContain('xmlns="http://ec2.amazonaws.com/doc/2014-06-15/"')
    expect(old.body.replace(/<requestId>[^<]*</, "").replace("2014-06-15", "2016-11-15")).toBe(a.body.replace(/<requestId>[^<]*</, ""))
  })

  it("DescribeInstanceStatus: running ones by default, all with IncludeAllInstances", async () => {
    const running = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [...web, db] }))
    expect(running.InstanceStatuses!.map((s) => [s.InstanceId, s.InstanceState?.Name, s.InstanceStatus?.Status, s.SystemStatus?.Status]).sort()).toEqual(
      [...web, db].sort().map((id) => [id, "running", "ok", "ok"])
    )
    expect(running.InstanceStatuses!.find((s) => s.InstanceId === db)?.AvailabilityZone).toBe("euca-1b")
    expect((await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [gone] }))).InstanceStatuses).toEqual([])
    const withAll = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [gone], IncludeAllInstances: true }))
    expect(withAll.InstanceStatuses!.map((s) => [s.InstanceState?.Name, s.InstanceStatus?.Status])).toEqual([["terminated", "not-applicable"]])
    const zoneB = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [...web, db], Filters: [{ Name: "availability-zone", Values: ["euca-1b"] }] }))
    expect(zoneB.InstanceStatuses!.map((s) => s.InstanceId)).toEqual([db])
    expect(await codeOf(ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: ["i-deadbeef"] })))).toBe("InvalidInstanceID.NotFound 400")
    expect(await codeOf(ec2.send(new DescribeInstanceStatusCommand({ Filters: [{ Name: "bogus", Values: ["1"] }] })))).toBe("InvalidParameterValue 400")
  })

  it("GetConsoleOutput gives a base64 boot log; RebootInstances keeps the instance running", async () => {
    const out = await ec2.send(new GetConsoleOutputCommand({ InstanceId: db }))
    expect(out.InstanceId).toBe(db)
    expect(out.Timestamp).toBeInstanceOf(Date)
    const text = Buffer.from(out.Output ?? "", "base64").toString("utf8")
    expect(text).toContain(db)
    expect(text.split("\n").length).toBeGreaterThan(3)
    expect(await codeOf(ec2.send(new GetConsoleOutputCommand({ InstanceId: "i-bad" })))).toBe("InvalidInstanceID.Malformed 400")
    expect(await codeOf(ec2.send(new GetConsoleOutputCommand({ InstanceId: "i-0badc0de" })))).toBe("InvalidInstanceID.NotFound 400")

    await ec2.send(new RebootInstancesCommand({ InstanceIds: [db] }))
    await waitUntilInstanceRunning({ client: ec2, ...wait }, { InstanceIds: [db] })
    expect(await codeOf(ec2.send(new RebootInstancesCommand({ InstanceIds: [gone] })))).toBe("IncorrectInstanceState 400")
    expect(await codeOf(ec2.send(new RebootInstancesCommand({ InstanceIds: ["i-0badc0de"] })))).toBe("InvalidInstanceID.NotFound 400")
  })

  it("DescribeInstanceTypes lists the cloud's VM types with their sizes", async () => {
    const types = (await ec2.send(new DescribeInstanceTypesCommand({}))).InstanceTypes!
    expect(types.map((t) => [t.InstanceType, t.VCpuInfo?.DefaultVCpus, t.MemoryInfo?.SizeInMiB, t.InstanceStorageInfo?.TotalSizeInGB])).toEqual([
      ["m1.small", 1, 128, 2],
      ["c1.medium", 1, 256, 5],
      ["m1.large", 2, 512, 10],
      ["m1.xlarge", 2, 1024, 20],
      ["c1.xlarge", 4, 2048, 20]
    ])
    const two = await ec2.send(new DescribeInstanceTypesCommand({ Filters: [{ Name: "vcpu-info.default-vcpus", Values: ["2"] }] }))
    expect(two.InstanceTypes!.map((t) => t.InstanceType)).toEqual(["m1.large", "m1.xlarge"])
    const named = await ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ["c1.xlarge"] }))
    expect(named.InstanceTypes!.map((t) => t.InstanceType)).toEqual(["c1.xlarge"])
    expect(await codeOf(ec2.send(new DescribeInstanceTypesCommand({ InstanceTypes: ["t2.micro" as never] })))).toBe("InvalidParameterValue 400")
  })
})
