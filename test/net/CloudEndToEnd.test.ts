/**
 * The whole cloud, for real: `euca serve --backend xen` as its own process; security groups,
 * RunInstances and addresses through the AWS SDK; instances created by the node agent over SSH as
 * the stand-in xl's network namespaces, with the addresses and MACs the core gave them; the zone's
 * network plan applied by the Xen backend over SSH to a cluster head in a namespace; and real
 * packets: the instance metadata redirect reaching OUR metadata service, which knows each instance
 * by its source address; a rule authorized and revoked through the API; an elastic address
 * associated through the API. Topology: test/net/support/XenCloud.ts.
 */
import {
  AllocateAddressCommand,
  AssociateAddressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeAddressesCommand,
  DescribeInstancesCommand,
  type EC2Client,
  type Instance,
  RevokeSecurityGroupIngressCommand,
  RunInstancesCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import * as Ids from "../../src/model/Ids.js"
import { describeNet, Lab, until } from "./support/Lab.js"
import * as Probe from "./support/Probe.js"
import { EXT, type Guest, leftovers, META_ROOT, WHO_SEES_ME, XenCloud } from "./support/XenCloud.js"

/** Eucalyptus's AddressingType=private, which the EC2 model does not name: added to the signed body. */
const privately = <C extends RunInstancesCommand>(cmd: C): C => {
  cmd.middlewareStack.add(
    (next) => (args) => {
      const req = args.request as { body?: unknown }
      req.body = `${String(req.body)}&AddressingType=private`
      return next(args)
    },
    // Before the content length is computed and long before signing.
    { step: "build", priority: "high", name: "addressingTypePrivate" }
  )
  return cmd
}

describeNet("the cloud end to end: euca serve --backend xen, SSH, namespaces, metadata", () => {
  let lab: Lab
  let cloud: XenCloud
  let ec2: EC2Client
  const groups: Record<string, string> = {}
  const guests: Record<"web1" | "app1" | "db1", Guest> = {} as never
  const described: Record<string, Instance> = {}

  /** Denied flows all at once: each waits Probe.DENY_SECONDS for an answer that must not come. */
  const denied = async (probes: ReadonlyArray<readonly [string, Promise<unknown>]>) => {
    const got = await Promise.all(probes.map(async ([what, p]) => [what, await p] as const))
    expect(got.filter(([, v]) => v !== undefined)).toEqual([])
  }

  const launch = async (group: string, addressing: "public" | "private") => {
    const cmd = new RunInstancesCommand({ ImageId: cloud.machineImage, InstanceType: "m1.small", MinCount: 1, MaxCount: 1, SecurityGroups: [group] })
    const r = await ec2.send(addressing === "private" ? privately(cmd) : cmd)
    return r.Instances![0]!.InstanceId!
  }

  const describeInstances = async (ids: ReadonlyArray<string>) =>
    (await ec2.send(new DescribeInstancesCommand({ InstanceIds: [...ids] }))).Reservations!.flatMap((r) => r.Instances!)

  /** The instances once all run; an instance that ended instead fails with the reason the cloud gives. */
  const running = async (ids: ReadonlyArray<string>): Promise<Array<Instance>> => {
    let last: Array<Instance> = []
    await until(`${ids.join(", ")} running`, async () => {
      last = await describeInstances(ids)
      const ended = last.filter((i) => i.State?.Name === "terminated" || i.State?.Name === "shutting-down")
      if (ended.length > 0) throw new Error(ended.map((i) => `${i.InstanceId} did not start: ${i.StateReason?.Message ?? i.State?.Name}`).join("\n"))
      return last.every((i) => i.State?.Name === "running")
    }, 160, 250)
    return last
  }

  beforeAll(async () => {
    lab = await Lab.create()
    cloud = await XenCloud.start(lab)
    try {
      await setUp()
    } catch (e) {
      // What the server said is the first thing to read when the cloud did not come up.
      throw new Error(`${(e as Error).message}\n--- euca serve ---\n${cloud.serve.log()}`)
    }
  }, 90_000)

  const setUp = async () => {
    ec2 = cloud.ec2
    for (const name of ["web", "app", "db"]) {
      groups[name] = (await ec2.send(new CreateSecurityGroupCommand({ GroupName: name, Description: name }))).GroupId!
    }
    await ec2.send(new AuthorizeSecurityGroupIngressCommand({ GroupName: "web", IpProtocol: "tcp", FromPort: 80, ToPort: 80, CidrIp: "0.0.0.0/0" }))
    const ids = { web1: await launch("web", "public"), app1: await launch("app", "public"), db1: await launch("db", "private") }
    for (const i of await running(Object.values(ids))) described[i.InstanceId!] = i
    for (const [name, id] of Object.entries(ids) as Array<[keyof typeof guests, string]>) {
      guests[name] = await cloud.guestUp(id, described[id]!.PrivateIpAddress!)
    }
    // The plan the server applied: a chain per group, and a gateway on the head per segment.
    await cloud.untilHead("every group's chain and gateway", (save, addrs) =>
      Object.values(groups).every((g) => save.includes(`:EU-${g} `)) &&
      Object.values(guests).every((g) => addrs.includes(`inet ${g.gateway}/`)))
    Probe.listen(lab, guests.web1.ns, 80, `${ids.web1}-80`)
    Probe.listen(lab, guests.db1.ns, 5432, `${ids.db1}-5432`)
    for (const [ns, port] of [[guests.web1.ns, 80], [guests.db1.ns, 5432]] as const) await until(`tcp/${port} in ${ns}`, () => Probe.listening(lab, ns, port))
  }

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

  it("runs each instance as a namespace with the address DescribeInstances shows and the MAC the core derived", () => {
    const seen = Object.values(guests).map((g) => [g.privateIp, g.mac])
    expect(seen).toEqual(Object.values(guests).map((g) => [described[g.id]!.PrivateIpAddress, Ids.macOf(g.id as Ids.InstanceId)]))
    expect(described[guests.db1.id]!.PublicIpAddress).toBeUndefined()
    expect(described[guests.web1.id]!.PublicIpAddress).toBeDefined()
  })

  it("answers 169.254.169.254 from our metadata service, by the instance's source address", async () => {
    const ask = (g: Guest, path: string) => Probe.metadata(lab, g.ns, `/latest/meta-data/${path}`)
    const all = Object.entries(guests) as Array<[string, Guest]>
    const got = await Promise.all(all.map(async ([name, g]) => [
      (await ask(g, "instance-id"))?.body,
      (await ask(g, "security-groups"))?.body,
      (await ask(g, "local-ipv4"))?.body,
      (await ask(g, "mac"))?.body,
      (await ask(g, "public-ipv4"))?.status,
      name
    ]))
    expect(got).toEqual(all.map(([name, g]) => [
      g.id,
      { web1: "web", app1: "app", db1: "db" }[name],
      g.privateIp,
      g.mac,
      name === "db1" ? 404 : 200,
      name
    ]))
    expect((await ask(guests.app1, "public-ipv4"))?.body).toBe(described[guests.app1.id]!.PublicIpAddress)
    // The redirect is the only way in: the API's own address is closed to instances.
    await denied([["web1 → the API directly", Probe.tcp(lab, guests.web1.ns, META_ROOT, Number(new URL(cloud.serve.url).port), Probe.DENY_SECONDS)]])
  })

  it("a rule authorized through the API opens the flow once applied, and revoking it closes it", async () => {
    const { web1, app1, db1 } = guests
    const rule = { GroupId: groups["db"]!, IpPermissions: [{ IpProtocol: "tcp", FromPort: 5432, ToPort: 5432, UserIdGroupPairs: [{ GroupId: groups["web"]! }] }] }
    const chainHas5432 = (save: string) => save.split("\n").some((l) => l.startsWith(`-A EU-${groups["db"]} `) && l.includes("--dport 5432"))
    await denied([["web1 → db1 tcp/5432 before the rule", Probe.tcp(lab, web1.ns, db1.privateIp, 5432, Probe.DENY_SECONDS)]])

    await ec2.send(new AuthorizeSecurityGroupIngressCommand(rule))
    await cloud.untilHead("the db chain admits tcp/5432", chainHas5432)
    expect(await Probe.tcp(lab, web1.ns, db1.privateIp, 5432)).toBe(`${db1.id}-5432`)
    await denied([["app1 → db1 tcp/5432: only from web", Probe.tcp(lab, app1.ns, db1.privateIp, 5432, Probe.DENY_SECONDS)]])

    await ec2.send(new RevokeSecurityGroupIngressCommand(rule))
    await cloud.untilHead("the db chain without tcp/5432", (save) => save.includes(`:EU-${groups["db"]} `) && !chainHas5432(save))
    await denied([["web1 → db1 tcp/5432 after the revoke", Probe.tcp(lab, web1.ns, db1.privateIp, 5432, Probe.DENY_SECONDS)]])
  })

  it("an elastic address associated through the API DNATs in and SNATs out", async () => {
    const { web1 } = guests
    const eip = (await ec2.send(new AllocateAddressCommand({}))).PublicIp!
    await ec2.send(new AssociateAddressCommand({ PublicIp: eip, InstanceId: web1.id }))
    await cloud.untilHead(`${eip} DNATs to web1`, (save) => save.includes(`-d ${eip}/32 -j DNAT --to-destination ${web1.privateIp}`))
    const addresses = (await ec2.send(new DescribeAddressesCommand({ PublicIps: [eip] }))).Addresses!
    expect(addresses.map((a) => [a.PublicIp, a.InstanceId])).toEqual([[eip, web1.id]])
    const got = await Promise.all([
      Probe.tcp(lab, cloud.ext, eip, 80),
      Probe.tcp(lab, web1.ns, EXT, WHO_SEES_ME),
      Probe.metadata(lab, web1.ns, "/latest/meta-data/public-ipv4")
    ])
    expect([got[0], got[1], got[2]?.body]).toEqual([`${web1.id}-80`, `ext-sees-${eip}`, eip])
    await denied([
      ["outside → web1's elastic address tcp/22", Probe.tcp(lab, cloud.ext, eip, 22, Probe.DENY_SECONDS)],
      ["outside → web1's private address, with a route", Probe.tcp(lab, cloud.ext, web1.privateIp, 80, Probe.DENY_SECONDS)]
    ])
  })
})
