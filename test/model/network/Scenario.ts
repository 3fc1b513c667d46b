/**
 * Small network scenarios for tests: security groups, rules and instances described as data, built
 * by driving the real decider, and an arbitrary that generates them.
 */
import { FastCheck as fc } from "effect"
import type * as Commands from "../../../src/model/Commands.js"
import * as Ids from "../../../src/model/Ids.js"
import type * as Network from "../../../src/model/Network.js"
import * as Policy from "../../../src/model/Policy.js"
import type * as SecurityGroup from "../../../src/model/SecurityGroup.js"
import * as State from "../../../src/model/State.js"
import { at, launchedIds, make, runCmd, type TestCloud, topology } from "../../support/cloud.js"

export const ZONE = Ids.zoneName("zone-1")
export const NODE = Ids.nodeId("z1n1")

/** A small MANAGED network: 172.31.0.0/24 cut into /28s (VLANs 10…15), public addresses in TEST-NET-1. */
export const settings = (mode: Network.Mode = "MANAGED", extra: Partial<Network.NetworkSettings> = {}): Network.NetworkSettings => ({
  mode,
  subnet: "172.31.0.0/24",
  addressesPerNetwork: 16,
  publicIps: ["192.0.2.10-192.0.2.29"],
  metadata: "192.0.2.100:8773",
  ...extra
})

export type Source =
  | { readonly _tag: "Cidr"; readonly cidr: string }
  /** The /32 of instance k (known after launch). */
  | { readonly _tag: "InstanceIp"; readonly instance: number }
  | { readonly _tag: "Group"; readonly group: number }

export interface RuleSpec {
  readonly group: number
  readonly protocol: SecurityGroup.Protocol
  readonly fromPort: number
  readonly toPort: number
  readonly source: Source
}

export interface InstanceSpec {
  /** Indices into groups, all of one account; the first is the instance's segment. */
  readonly groups: ReadonlyArray<number>
  readonly addressing: "public" | "private"
}

export interface ScenarioSpec {
  readonly groups: ReadonlyArray<{ readonly account: string; readonly name: string }>
  readonly instances: ReadonlyArray<InstanceSpec>
  readonly rules: ReadonlyArray<RuleSpec>
  /** Instances (indices) terminated after everything else. */
  readonly terminate?: ReadonlyArray<number>
}

export interface Built {
  readonly cloud: TestCloud
  readonly groupIds: ReadonlyArray<Ids.GroupId>
  readonly instanceIds: ReadonlyArray<Ids.InstanceId>
}

export const build = (spec: ScenarioSpec, network: Network.NetworkSettings = settings(), nodes = 1): Built => {
  const c = make(Policy.greedy(), topology(Array.from({ length: nodes }, () => [64, 65536, 1000] as const)), { network })
  let t = 0
  const now = () => at(++t)
  const groupIds = spec.groups.map((g) => {
    const e = c.ok({ _tag: "CreateSecurityGroup", at: now(), account: Ids.accountId(g.account), name: g.name, description: g.name })
    return (e[0] as { group: Ids.GroupId }).group
  })
  const instanceIds = spec.instances.map((i) => {
    const account = Ids.accountId(spec.groups[i.groups[0]!]!.account)
    const [id] = launchedIds(c.ok(runCmd({ at: now(), account, groupIds: i.groups.map((g) => groupIds[g]!), addressing: i.addressing })))
    c.ok({ _tag: "InstanceBooted", at: now(), instanceId: id! })
    return id as Ids.InstanceId
  })
  for (const r of spec.rules) {
    const g = spec.groups[r.group]!
    let source: Commands.RuleInput["source"]
    if (r.source._tag === "Cidr") source = r.source
    else if (r.source._tag === "InstanceIp") source = { _tag: "Cidr", cidr: `${State.instance(c.state, instanceIds[r.source.instance]!)!.net.privateIp}/32` }
    else source = { _tag: "Group", groupName: spec.groups[r.source.group]!.name, account: spec.groups[r.source.group]!.account }
    const d = c.run({
      _tag: "AuthorizeIngress",
      at: now(),
      account: Ids.accountId(g.account),
      groupId: groupIds[r.group]!,
      rules: [{ protocol: r.protocol, fromPort: r.fromPort, toPort: r.toPort, source }]
    })
    if (d._tag !== "Accepted" && !(d._tag === "Rejected" && d.rejection._tag === "DuplicateRule")) throw new Error(`rule ${JSON.stringify(r)}: ${JSON.stringify(d)}`)
  }
  for (const k of spec.terminate ?? []) {
    const id = instanceIds[k]!
    if (State.instance(c.state, id)!.state === "terminated") continue
    c.ok({ _tag: "TerminateInstances", at: now(), account: undefined, instanceIds: [id] })
    c.ok({ _tag: "InstanceStopped", at: now(), instanceId: id })
  }
  return { cloud: c, groupIds, instanceIds }
}

/** The port probed by property tests. */
export const PORT = 5000

const ruleArb = (groups: number, instances: number, portBias: number): fc.Arbitrary<RuleSpec> =>
  fc.record({
    group: fc.integer({ min: 0, max: groups - 1 }),
    proto: fc.constantFrom(
      ...Array.from({ length: portBias }, () => ["tcp", PORT, PORT] as const),
      ["tcp", 4000, 4999] as const,
      ["tcp", 1, 65535] as const,
      ["udp", PORT, PORT] as const,
      ["icmp", 8, -1] as const,
      ["all", -1, -1] as const
    ),
    source: fc.oneof(
      fc.constantFrom<Source>({ _tag: "Cidr", cidr: "0.0.0.0/0" }, { _tag: "Cidr", cidr: "10.99.0.0/16" }, { _tag: "Cidr", cidr: "172.31.0.0/25" }),
      fc.integer({ min: 0, max: instances - 1 }).map((instance): Source => ({ _tag: "InstanceIp", instance })),
      fc.integer({ min: 0, max: groups - 1 }).map((group): Source => ({ _tag: "Group", group }))
    )
  }).map((r) => ({ group: r.group, protocol: r.proto[0], fromPort: r.proto[1], toPort: r.proto[2], source: r.source }))

export interface ScenarioSize {
  readonly minInstances?: number
  readonly maxInstances?: number
  readonly minRules?: number
  readonly maxRules?: number
  /** How many times more likely a rule for exactly tcp/PORT is than each other kind. */
  readonly portBias?: number
}

/** 2–3 groups over two accounts, instances (some in two groups), a few rules, maybe a termination. */
export const scenarioArb = (size: ScenarioSize = {}): fc.Arbitrary<ScenarioSpec> =>
  fc.integer({ min: 2, max: 3 }).chain((ng) =>
    fc.array(fc.constantFrom("alice", "bob"), { minLength: ng, maxLength: ng }).chain((accounts) => {
      const groups = accounts.map((account, k) => ({ account, name: `g${k}` }))
      const instanceArb: fc.Arbitrary<InstanceSpec> = fc.record({
        first: fc.integer({ min: 0, max: ng - 1 }),
        second: fc.option(fc.integer({ min: 0, max: ng - 1 }), { freq: 3 }),
        addressing: fc.constantFrom<"public" | "private">("public", "public", "private")
      }).map(({ first, second, addressing }) => ({
        groups: second !== null && second !== first && accounts[second] === accounts[first] ? [first, second] : [first],
        addressing
      }))
      return fc.array(instanceArb, { minLength: size.minInstances ?? 1, maxLength: size.maxInstances ?? 4 }).chain((instances) =>
        fc.record({
          rules: fc.array(ruleArb(ng, instances.length, size.portBias ?? 1), { minLength: size.minRules ?? 0, maxLength: size.maxRules ?? 5 }),
          terminate: fc.option(fc.integer({ min: 0, max: instances.length - 1 }), { freq: 4 })
        }).map(({ rules, terminate }) => ({ groups, instances, rules, ...(terminate !== null && instances.length > 1 ? { terminate: [terminate] } : {}) }))
      )
    })
  )
