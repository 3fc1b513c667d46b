/**
 * Egress rules and groupSet end to end: `euca serve --backend xen` as its own process, the AWS SDK
 * as the client, instances as the stand-in xl's namespaces, the plan applied by the Xen backend to
 * a cluster head in a namespace (topology: test/net/support/XenCloud.ts), and real packets:
 * RevokeSecurityGroupEgress of the allow-all rule closes an instance's outbound TCP,
 * AuthorizeSecurityGroupEgress opens one port, and ModifyInstanceAttribute groupSet moves the
 * instance into an open group (and the metadata service names its new group).
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  CreateSecurityGroupCommand,
  DescribeInstancesCommand,
  type EC2Client,
  ModifyInstanceAttributeCommand,
  RevokeSecurityGroupEgressCommand,
  RunInstancesCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { describeNet, Lab, until } from "./support/Lab.js"
import * as Probe from "./support/Probe.js"
import { EXT, type Guest, leftovers, WHO_SEES_ME, XenCloud } from "./support/XenCloud.js"

const SECOND_PORT = 9001

describeNet("egress rules and groupSet end to end: euca serve --backend xen", () => {
  let lab: Lab
  let cloud: XenCloud
  let ec2: EC2Client
  const groups: Record<string, string> = {}
  let guest: Guest
  let publicIp = ""

  beforeAll(async () => {
    lab = await Lab.create()
    cloud = await XenCloud.start(lab)
    try {
      ec2 = cloud.ec2
      for (const name of ["locked", "open"]) {
        groups[name] = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }))).GroupId!
      }
      const id = (await ec2.send(new RunInstancesCommand({ ImageId: cloud.machineImage, InstanceType: "m1.small", MinCount: 1, MaxCount: 1, SecurityGroupIds: [groups["locked"]!] })))
        .Instances![0]!.InstanceId!
      let ip = ""
      await until(`${id} running`, async () => {
        const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }))).Reservations![0]!.Instances![0]!
        if (i.State?.Name === "terminated") throw new Error(`${id} did not start: ${i.StateReason?.Message}`)
        ip = i.PrivateIpAddress ?? ""
        publicIp = i.PublicIpAddress ?? ""
        return i.State?.Name === "running"
      }, 160, 250)
      guest = await cloud.guestUp(id, ip)
      await cloud.untilHead("the locked group's chain", (save) => save.includes(`:EU-${groups["locked"]} `))
      Probe.listen(lab, cloud.ext, SECOND_PORT, "ext-9001")
      await until(`tcp/${SECOND_PORT} outside`, () => Probe.listening(lab, cloud.ext, SECOND_PORT))
    } catch (e) {
      throw new Error(`${(e as Error).message}\n--- euca serve ---\n${cloud.serve.log()}`)
    }
  }, 90_000)

  afterAll(async () => {
    const prefix = lab ? `${lab.prefix}-` : ""
    const link = XenCloud.rootLinkName()
    try {
      await cloud?.stop()
    } finally {
      await lab?.destroy()
    }
    if (prefix !== "") expect(await leftovers(prefix, link)).toEqual([])
  }, 30_000)

  const allowAll = () => ({ GroupId: groups["locked"]!, IpPermissions: [{ IpProtocol: "-1", IpRanges: [{ CidrIp: "0.0.0.0/0" }] }] })
  const outbound = (save: string) => save.includes(`:EU-O-${groups["locked"]} `)

  it("with the default egress rule the instance reaches the outside", async () => {
    const got = await Promise.all([Probe.tcp(lab, guest.ns, EXT, WHO_SEES_ME), Probe.tcp(lab, guest.ns, EXT, SECOND_PORT)])
    expect(got).toEqual([`ext-sees-${publicIp}`, "ext-9001"])
  })

  it("revoking the allow-all egress rule through the API closes outbound TCP; the metadata service still answers", async () => {
    await ec2.send(new RevokeSecurityGroupEgressCommand(allowAll()))
    await cloud.untilHead("the locked group's outbound chain", outbound)
    const got = await Promise.all([
      Probe.tcp(lab, guest.ns, EXT, WHO_SEES_ME, Probe.DENY_SECONDS),
      Probe.tcp(lab, guest.ns, EXT, SECOND_PORT, Probe.DENY_SECONDS),
      Probe.metadata(lab, guest.ns, "/latest/meta-data/instance-id")
    ])
    expect([got[0], got[1], got[2]?.body]).toEqual([undefined, undefined, guest.id])
  })

  it("an authorized egress port opens that port only", async () => {
    const rule = { GroupId: groups["locked"]!, IpPermissions: [{ IpProtocol: "tcp", FromPort: SECOND_PORT, ToPort: SECOND_PORT, IpRanges: [{ CidrIp: `${EXT}/32` }] }] }
    await ec2.send(new AuthorizeSecurityGroupEgressCommand(rule))
    await cloud.untilHead("the outbound chain allows the port", (save) => save.split("\n").some((l) => l.startsWith(`-A EU-O-${groups["locked"]} `) && l.includes(`--dport ${SECOND_PORT}`)))
    expect(await Probe.tcp(lab, guest.ns, EXT, SECOND_PORT)).toBe("ext-9001")
    expect(await Probe.tcp(lab, guest.ns, EXT, WHO_SEES_ME, Probe.DENY_SECONDS)).toBeUndefined()
  })

  it("groupSet into an open group: the instance is no longer held, and the metadata service names its new group", async () => {
    await ec2.send(new ModifyInstanceAttributeCommand({ InstanceId: guest.id, Groups: [groups["open"]!] }))
    await cloud.untilHead("no outbound chain once no member is held", (save) => !save.includes(":EU-OUTBOUND "))
    const got = await Promise.all([Probe.tcp(lab, guest.ns, EXT, WHO_SEES_ME), Probe.metadata(lab, guest.ns, "/latest/meta-data/security-groups")])
    expect([got[0], got[1]?.body]).toEqual([`ext-sees-${publicIp}`, "open"])
    const i = (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [guest.id] }))).Reservations![0]!.Instances![0]!
    expect([i.SecurityGroups?.map((g) => g.GroupName), i.PrivateIpAddress]).toEqual([["open"], guest.privateIp])
  })
})
