/**
 * Egress rules through the API with the AWS SDK v3: authorize (CIDR and group destinations),
 * describe (IpPermissionsEgress and the egress.* filters), revoke (the default allow-all rule too),
 * EC2's errors, and the rules surviving a restart.
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DeleteSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type EC2Client,
  type IpPermission,
  RevokeSecurityGroupEgressCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { codeOf } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client

beforeAll(async () => {
  server = await TestServer.start()
  ec2 = server.client()
})
afterAll(async () => {
  await server?.stop()
})

const egressOf = async (id: string) => (await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [id] }))).SecurityGroups![0]!.IpPermissionsEgress!
const flat = (ps: ReadonlyArray<IpPermission>) =>
  ps
    .flatMap((p) => [
      ...(p.IpRanges ?? []).map((r) => `${p.IpProtocol}:${p.FromPort ?? ""}-${p.ToPort ?? ""}:${r.CidrIp}`),
      ...(p.UserIdGroupPairs ?? []).map((g) => `${p.IpProtocol}:${p.FromPort ?? ""}-${p.ToPort ?? ""}:${g.GroupName}/${g.GroupId}`)
    ])
    .sort()
const allowAll: IpPermission = { IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }

describe("egress rules", () => {
  it("authorize, describe, revoke (the default allow-all rule too), with EC2's errors", async () => {
    const web = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "eg-web", Description: "web" }))).GroupId!
    const db = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: "eg-db", Description: "db" }))).GroupId!
    expect(flat(await egressOf(web))).toEqual(["-1:-:0.0.0.0/0"])

    await ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: web,
        IpPermissions: [
          { IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "203.0.113.0/24" }, { CidrIp: "198.51.100.7/32" }] },
          { IpProtocol: "udp", FromPort: 53, ToPort: 53, IpRanges: [{ CidrIp: "192.0.2.53/32" }] },
          { IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: db }] }
        ]
      })
    )
    expect(flat(await egressOf(web))).toEqual([
      "-1:-:0.0.0.0/0",
      "tcp:443-443:198.51.100.7/32",
      "tcp:443-443:203.0.113.0/24",
      `tcp:5432-5432:eg-db/${db}`,
      "udp:53-53:192.0.2.53/32"
    ])
    // Ingress is untouched.
    expect((await ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [web] }))).SecurityGroups![0]!.IpPermissions).toEqual([])

    // Duplicates (also the default rule), rules that are not there, bad input, unknown groups.
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [allowAll] })))).toBe("InvalidPermission.Duplicate 400")
    expect(
      await codeOf(ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: "tcp", FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: "203.0.113.0/24" }] }] })))
    ).toBe("InvalidPermission.Duplicate 400")
    expect(
      await codeOf(ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: "tcp", FromPort: 25, ToPort: 25, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })))
    ).toBe("InvalidPermission.NotFound 400")
    expect(
      await codeOf(ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: "tcp", FromPort: 9, ToPort: 1, IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })))
    ).toBe("InvalidParameterValue 400")
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: "tcp", FromPort: 1, ToPort: 2 }] })))).toBe(
      "InvalidParameterValue 400"
    )
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: "sg-0badc0de", IpPermissions: [allowAll] })))).toBe("InvalidGroup.NotFound 400")
    expect(await codeOf(ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [{ IpProtocol: "tcp", FromPort: 1, ToPort: 2, UserIdGroupPairs: [{ GroupId: "sg-0badc0de" }] }] })))).toBe(
      "InvalidGroup.NotFound 400"
    )
    expect(await codeOf(ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [allowAll], DryRun: true })))).toBe("DryRunOperation 412")
    expect(flat(await egressOf(web))).toContain("-1:-:0.0.0.0/0")

    // Revoking the default allow-all rule leaves only what was authorized; the filters see it.
    await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [allowAll] }))
    await ec2.send(new RevokeSecurityGroupEgressCommand({ GroupId: web, IpProtocol: "udp", FromPort: 53, ToPort: 53, CidrIp: "192.0.2.53/32" }))
    expect(flat(await egressOf(web))).toEqual(["tcp:443-443:198.51.100.7/32", "tcp:443-443:203.0.113.0/24", `tcp:5432-5432:eg-db/${db}`])
    const byFilter = async (name: string, value: string) =>
      (await ec2.send(new DescribeSecurityGroupsCommand({ Filters: [{ Name: name, Values: [value] }, { Name: "group-name", Values: ["eg-*"] }] }))).SecurityGroups!.map((g) => g.GroupName).sort()
    expect(await byFilter("egress.ip-permission.protocol", "-1")).toEqual(["eg-db"])
    expect(await byFilter("egress.ip-permission.cidr", "203.0.113.0/24")).toEqual(["eg-web"])
    expect(await byFilter("egress.ip-permission.from-port", "5432")).toEqual(["eg-web"])
    expect(await byFilter("egress.ip-permission.group-id", db)).toEqual(["eg-web"])
    expect(await byFilter("egress.ip-permission.group-name", "eg-db")).toEqual(["eg-web"])

    // The group named by an egress rule is in use.
    expect(await codeOf(ec2.send(new DeleteSecurityGroupCommand({ GroupId: db })))).toBe("DependencyViolation 400")

    // The rules are in the journal: a restart keeps them.
    const dataDir = server.dataDir
    await server.stop(false)
    server = await TestServer.start({ dataDir })
    ec2 = server.client()
    expect(flat(await egressOf(web))).toEqual(["tcp:443-443:198.51.100.7/32", "tcp:443-443:203.0.113.0/24", `tcp:5432-5432:eg-db/${db}`])
    expect(flat(await egressOf(db))).toEqual(["-1:-:0.0.0.0/0"])
    // And the allow-all rule can come back.
    await ec2.send(new AuthorizeSecurityGroupEgressCommand({ GroupId: web, IpPermissions: [allowAll] }))
    expect(flat(await egressOf(web))).toContain("-1:-:0.0.0.0/0")
  })
})
