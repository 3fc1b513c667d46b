/**
 * Security groups: CIDR and group sources (IpPermissions and the old flat form), duplicates
 * rejected, revoke, DependencyViolation while in use or referenced, the reserved default group.
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand,
  TerminateInstancesCommand,
  waitUntilInstanceTerminated
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Database } from "../support/db.js"
import * as TestServer from "../support/server.js"
import { codeOf, machineImage } from "./client.js"

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

const group = async (name: string) => (await ec2.send(new DescribeSecurityGroupsCommand({ GroupNames: [name] }))).SecurityGroups![0]!
/** A group's permissions in a comparable form. */
const rules = (ps: ReadonlyArray<IpPermission> | undefined) =>
  (ps ?? [])
    .flatMap((p) => [
      ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort ?? ""}-${p.ToPort ?? ""}:${r.CidrIp}`),
      ...(p.UserIdGroupPairs ?? []).map((g) => `${p.IpProtocol}:${p.FromPort ?? ""}-${p.ToPort ?? ""}:${g.GroupName}/${g.GroupId}`)
    ])
    .sort()

describe("security groups", () => {
  it("holds CIDR and group rules, in both request forms, and shows them as EC2 does", async () => {
    const web = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "web servers" }))
    const app = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "app", Description: "app servers" }))
    expect(web.GroupId).toMatch(/^sg-[0-9a-f]{8}([0-9a-f]{9})?$/)
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: web.GroupId,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 80, ToPort: 81, IpRanges: [{ CidrIp: "0.0.0.0/0" }, { CidrIp: "10.1.0.0/16" }] },
          { IpProtocol: "udp", FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: "192.0.2.0/24" }] },
          { IpProtocol: "icmp", FromPort: -1, ToPort: -1, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }
        ]
      })
    )
    // Group source by id, and the old flat form (CidrIp / SourceSecurityGroupName) on the app group.
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: app.GroupId, IpPermissions: [{ IpProtocol: "tcp", FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: web.GroupId }] }] }))
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "app", IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIp: "203.0.113.7/32" }))
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "app", SourceSecurityGroupName: "app" }))

    const w = await group("web")
    expect(w.Description).toBe("web servers")
    expect(w.OwnerId).toMatch(/^\d{12}$/)
    expect(rules(w.IpPermissions)).toEqual(["icmp:-1--1:0.0.0.0/0", "tcp:80-81:0.0.0.0/0", "tcp:80-81:10.1.0.0/16", "udp:53-53:192.0.2.0/24"])
    // One IpPermission per (protocol, ports), the sources listed inside it.
    expect(w.IpPermissions!.find((p) => p.IpProtocol === "tcp")?.IpRanges).toEqual([{ CidrIp: "0.0.0.0/0" }, { CidrIp: "10.1.0.0/16" }])
    const a = await group("app")
    expect(rules(a.IpPermissions)).toEqual([`-1:-:app/${app.GroupId}`, "tcp:22-22:203.0.113.7/32", `tcp:8080-8080:web/${web.GroupId}`])
    const pair = a.IpPermissions!.find((p) => p.FromPort === 8080)!.UserIdGroupPairs![0]!
    expect(pair).toEqual(expect.objectContaining({ GroupId: web.GroupId, GroupName: "web", UserId: w.OwnerId }))

    // Filters over the rules.
    const byCidr = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "ip-permission.cidr", Values: ["203.0.113.*"] }] }))
    expect(byCidr.SecurityGroups!.map((g) => g.GroupName)).toEqual(["app"])
    const byPort = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "ip-permission.from-port", Values: ["53"] }] }))
    expect(byPort.SecurityGroups!.map((g) => g.GroupName)).toEqual(["web"])
    const bySource = await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: "ip-permission.group-name", Values: ["web"] }] }))
    expect(bySource.SecurityGroups!.map((g) => g.GroupName)).toEqual(["app"])
  })

  it("rejects duplicate rules and groups, malformed rules; revokes exactly what was granted", async () => {
    const rule = { IpProtocol: "tcp", FromPort: 80, ToPort: 81, IpRanges: [{ CidrIp: "10.1.0.0/16" }] }
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "web", IpPermissions: [rule] })))).toBe("InvalidPermission.Duplicate 400")
    expect(await codeOf(ec2.send(new CreateSecurityGroupCommand({ GroupName: "web", Description: "again" })))).toBe("InvalidGroup.Duplicate 400")
    expect(await codeOf(ec2.send(new CreateSecurityGroupCommand({ GroupName: "sg-123", Description: "looks like an id" })))).toBe("InvalidParameterValue 400")
    const bad = (p: IpPermission) => codeOf(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "web", IpPermissions: [p] })))
    expect(await bad({ IpProtocol: "tcp", FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: "10.0.0.0/33" }] })).toBe("InvalidParameterValue 400")
    expect(await bad({ IpProtocol: "tcp", FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: "not-a-cidr" }] })).toBe("InvalidParameterValue 400")
    expect(await bad({ IpProtocol: "gre", FromPort: 1, ToPort: 2, IpRanges: [{ CidrIp: "10.0.0.0/8" }] })).toBe("InvalidParameterValue 400")
    expect(await bad({ IpProtocol: "tcp", IpRanges: [{ CidrIp: "10.0.0.0/8" }] })).toBe("InvalidParameterValue 400")
    expect(await bad({ IpProtocol: "tcp", FromPort: 1, ToPort: 2 })).toBe("InvalidParameterValue 400")
    expect(await bad({ IpProtocol: "tcp", FromPort: 1, ToPort: 2, UserIdGroupPairs: [{ GroupName: "no-such-group" }] })).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: "sg-zzz", IpPermissions: [rule] })))).toBe("InvalidGroupId.Malformed 400")
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupId: "sg-0000abcd", IpPermissions: [rule] })))).toBe("InvalidGroup.NotFound 400")
    // A request with one new and one duplicate rule changes nothing.
    const before = rules((await group("web")).IpPermissions)
    const mixed = [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }, rule]
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "web", IpPermissions: mixed })))).toBe("InvalidPermission.Duplicate 400")
    expect(rules((await group("web")).IpPermissions)).toEqual(before)

    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupName: "web", IpPermissions: [rule] }))
    expect(rules((await group("web")).IpPermissions)).toEqual(before.filter((r) => r !== "tcp:80-81:10.1.0.0/16"))
    expect(await codeOf(ec2.send(new RevokeSecurityGroupIngressCommand({ GroupName: "web", IpPermissions: [rule] })))).toBe("InvalidPermission.NotFound 400")
    // Different ports are a different rule.
    expect(await codeOf(ec2.send(new RevokeSecurityGroupIngressCommand({ GroupName: "web", IpPermissions: [{ ...rule, IpRanges: [{ CidrIp: "0.0.0.0/0" }], ToPort: 80 }] })))).toBe(
      "InvalidPermission.NotFound 400"
    )
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupName: "app", IpProtocol: "tcp", FromPort: 22, ToPort: 22, CidrIp: "203.0.113.7/32" }))
    expect(rules((await group("app")).IpPermissions)).not.toContain("tcp:22-22:203.0.113.7/32")
  })

  it("refuses to delete a group in use (DependencyViolation) or the default group", async () => {
    const db = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "db", Description: "databases" }))
    const run = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1, SecurityGroupIds: [db.GroupId!] }))
    const id = run.Instances![0]!.InstanceId!
    expect(await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupId: db.GroupId })))).toBe("DependencyViolation 400")
    // Referenced by another group's rule (app ← web): also in use.
    expect(await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupName: "web" })))).toBe("DependencyViolation 400")
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [id] }))
    await waitUntilInstanceTerminated({ client: ec2, maxWaitTime: 30, minDelay: 1, maxDelay: 1 }, { InstanceIds: [id] })
    const deleted = await ec2.send(new DeleteSecurityGroupCommand({ GroupId: db.GroupId }))
    expect(deleted.Return).toBe(true)
    expect(await codeOf(ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [db.GroupId!] })))).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupId: db.GroupId })))).toBe("InvalidGroup.NotFound 400")

    // The default group: always there, never deleted, its rules editable.
    const def = await group("default")
    expect(await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupName: "default" })))).toBe("InvalidGroup.Reserved 400")
    expect(await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupId: def.GroupId })))).toBe("InvalidGroup.Reserved 400")
    expect(await codeOf(ec2.send(new CreateSecurityGroupCommand({ GroupName: "default", Description: "mine" })))).toBe("InvalidGroup.Duplicate 400")
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "default", IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }))
    expect(rules((await group("default")).IpPermissions)).toContain("tcp:22-22:0.0.0.0/0")

    // Once the referring rule is revoked, web can go.
    const web = await group("web")
    await ec2.send(new RevokeSecurityGroupIngressCommand({ GroupName: "app", IpPermissions: [{ IpProtocol: "tcp", FromPort: 8080, ToPort: 8080, UserIdGroupPairs: [{ GroupId: web.GroupId }] }] }))
    await ec2.send(new DeleteSecurityGroupCommand({ GroupName: "web" }))
    expect((await ec2.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups!.map((g) => g.GroupName).sort()).toEqual(["app", "default"])
  })
})

describe("the default group, made on first need with the request that needs it", () => {
  /** The journal's GroupCreated events of `accountId` for its default group. */
  const defaultsJournaled = async (accountId: string) =>
    (await Database.query<{ body: string }>(server.dataDir, "SELECT body FROM events WHERE tag = 'GroupCreated' ORDER BY seq"))
      .map((r) => JSON.parse(r.body) as { account: string; name: string })
      .filter((e) => e.account === accountId && e.name === "default")
  const defaults = async (client: EC2Client) =>
    ((await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).filter((g) => g.GroupName === "default")

  it("two concurrent first requests of a new account make exactly one default group", async () => {
    const { account, credentials } = await Database.createAccount(server.dataDir, "first-two")
    const clients = [server.client(credentials), server.client(credentials)]
    const answers = await Promise.all(clients.map((c) => c.send(new DescribeSecurityGroupsCommand({}))))
    for (const a of answers) expect(a.SecurityGroups!.map((g) => g.GroupName)).toEqual(["default"])
    expect(new Set(answers.map((a) => a.SecurityGroups![0]!.GroupId)).size).toBe(1)
    expect(await defaultsJournaled(account.id)).toHaveLength(1)
  })

  it("first requests of every kind at once (describe, create, authorize on default, launch) make one default group", async () => {
    const { account, credentials } = await Database.createAccount(server.dataDir, "first-many")
    const c = () => server.client(credentials)
    await Promise.all([
      c().send(new DescribeSecurityGroupsCommand({})),
      c().send(new CreateSecurityGroupCommand({ GroupName: "one", Description: "one" })),
      c().send(new CreateSecurityGroupCommand({ GroupName: "two", Description: "two" })),
      c().send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "default", IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })),
      c().send(new RunInstancesCommand({ ImageId: emi, MinCount: 1, MaxCount: 1 })),
      c().send(new DescribeSecurityGroupsCommand({ GroupNames: ["default"] }))
    ])
    const client = c()
    const mine = await defaults(client)
    expect(mine).toHaveLength(1)
    expect(rules(mine[0]!.IpPermissions)).toEqual(["tcp:22-22:0.0.0.0/0"])
    expect(((await client.send(new DescribeSecurityGroupsCommand({}))).SecurityGroups ?? []).map((g) => g.GroupName).sort()).toEqual(["default", "one", "two"])
    expect(await defaultsJournaled(account.id)).toHaveLength(1)
  })

  it("a request the core rejects makes no default group; one it accepts makes it in the same transaction", async () => {
    const { account, credentials } = await Database.createAccount(server.dataDir, "first-rejected")
    const client = server.client(credentials)
    const bad = new AuthorizeSecurityGroupIngressCommand({ GroupName: "default", IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 70000, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })
    expect(await codeOf(client.send(bad))).toBe("InvalidParameterValue 400")
    expect(await codeOf(client.send(new CreateSecurityGroupCommand({ GroupName: "default", Description: "mine" })))).toBe("InvalidGroup.Duplicate 400")
    expect(await defaultsJournaled(account.id)).toHaveLength(0)
    await client.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "default", IpPermissions: [{ IpProtocol: "tcp", FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] }))
    expect(await defaultsJournaled(account.id)).toHaveLength(1)
    expect(rules((await defaults(client))[0]!.IpPermissions)).toEqual(["tcp:22-22:0.0.0.0/0"])
  })
})
