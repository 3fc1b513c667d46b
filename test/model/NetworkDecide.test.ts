import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Effects from "../../src/model/Effects.js"
import { evolveAll } from "../../src/model/Evolve.js"
import * as Ids from "../../src/model/Ids.js"
import * as Network from "../../src/model/Network.js"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import { alice, at, bob, launchedIds, make, runCmd, topology } from "../support/cloud.js"

const big = topology([[64, 65536, 2000], [64, 65536, 2000]])
const managed = (over: Partial<Network.NetworkSettings> = {}): Network.NetworkSettings => ({
  mode: "MANAGED",
  subnet: "172.31.0.0/16",
  addressesPerNetwork: 16,
  publicIps: ["192.0.2.10-192.0.2.13"],
  ...over
})

describe("network settings", () => {
  it("expands public address lists: singles, CIDRs, ranges and exclusions, in order", () => {
    expect(Network.expandPublicIps(["192.0.2.1", "198.51.100.0/30", "203.0.113.5-203.0.113.7", "!203.0.113.6", "192.0.2.1"])).toEqual(
      Either.right(["192.0.2.1", "198.51.100.1", "198.51.100.2", "203.0.113.5", "203.0.113.7"])
    )
    expect(Either.isLeft(Network.expandPublicIps(["203.0.113.9-203.0.113.1"]))).toBe(true)
  })

  it("rejects settings that cannot work, naming the field", () => {
    const bad = (s: Network.NetworkSettings) => Either.getLeft(Network.validate(s)).pipe((o) => (o._tag === "Some" ? o.value.field : "ok"))
    expect(bad({ mode: "MANAGED", addressesPerNetwork: 24 })).toBe("addressesPerNetwork")
    expect(bad({ mode: "MANAGED", subnet: "10.0.0.0/29", addressesPerNetwork: 4 })).toBe("vlanMax")
    expect(bad({ mode: "STATIC" })).toBe("macMap")
    expect(bad({ mode: "MANAGED", publicIps: ["172.31.5.5"] })).toBe("publicIps")
    expect(bad({ mode: "MANAGED" })).toBe("ok")
  })

  it("carves VLAN v's subnet at SUBNET + (v − 2) × ADDRSPERNET with the gateway at .1", () => {
    const n = Either.getOrThrow(Network.validate(managed()))
    expect(Network.vlanCidr(n, 10)).toBe("172.31.0.128/28")
    expect(Network.vlanGateway(n, 10)).toBe("172.31.0.129")
    expect(Network.slotAddress(n, 10, 2)).toBe("172.31.0.130")
    expect(Network.lastSlot(n)).toBe(14)
  })
})

describe("MANAGED launches", () => {
  it("gives a group a VLAN on first launch, slots from .2 up, a MAC from the instance id and a public address", () => {
    const c = make(Policy.greedy(), big, { network: managed() })
    const events = c.ok(runCmd({ minCount: 2, maxCount: 2 }))
    const ids = launchedIds(events)
    const a = State.instance(c.state, ids[0]!)!
    const b = State.instance(c.state, ids[1]!)!
    expect(a.net).toEqual({ mac: Ids.macOf(a.id), privateIp: "172.31.0.130", publicIp: "192.0.2.10", vlan: 10, slot: 2 })
    expect(b.net).toMatchObject({ privateIp: "172.31.0.131", publicIp: "192.0.2.11", vlan: 10, slot: 3 })
    expect(a.net.mac).toMatch(/^d0:0d:[0-9a-f]{2}(:[0-9a-f]{2}){3}$/)
    // Another account's default group gets the next VLAN.
    const [x] = launchedIds(c.ok(runCmd({ at: at(1), account: bob, addressing: "private" })))
    expect(State.instance(c.state, x!)!.net).toMatchObject({ vlan: 11, privateIp: "172.31.0.146", publicIp: undefined })
  })

  it("releases the VLAN with the group's last instance and reuses the lowest free one", () => {
    const c = make(Policy.greedy(), big, { network: managed() })
    const [a] = launchedIds(c.ok(runCmd()))
    c.ok({ _tag: "CreateSecurityGroup", at: at(1), account: alice, name: "web", description: "web" })
    launchedIds(c.ok(runCmd({ at: at(2), groupNames: ["web"] })))
    expect(State.groupByName(c.state, alice, "web")!.vlan).toBe(11)
    c.ok({ _tag: "InstanceFailed", at: at(3), instanceId: a!, reason: "boot failed" })
    expect(State.groupByName(c.state, alice, "default")!.vlan).toBeUndefined()
    c.ok({ _tag: "CreateSecurityGroup", at: at(4), account: alice, name: "db", description: "db" })
    c.ok(runCmd({ at: at(5), groupNames: ["db"], addressing: "private" }))
    expect(State.groupByName(c.state, alice, "db")!.vlan).toBe(10)
  })

  it("launches as many as the subnet and the public pool allow between MinCount and MaxCount, else rejects with the reason", () => {
    const c = make(Policy.greedy(), big, { network: managed() })
    // 4 public addresses: MaxCount 10 gets 4.
    expect(launchedIds(c.ok(runCmd({ minCount: 1, maxCount: 10 })))).toHaveLength(4)
    expect(c.run(runCmd({ at: at(1) }))).toMatchObject({ _tag: "Rejected", rejection: { _tag: "NoPublicAddress" } })
    // Private addressing needs no public address; the group's subnet has 13 slots (2…14), 4 taken.
    expect(launchedIds(c.ok(runCmd({ at: at(2), minCount: 1, maxCount: 20, addressing: "private" })))).toHaveLength(9)
    expect(c.run(runCmd({ at: at(3), addressing: "private" }))).toMatchObject({ _tag: "Rejected", rejection: { _tag: "SubnetFull" } })
  })

  it("runs out of VLANs with a clear rejection", () => {
    const c = make(Policy.greedy(), big, { network: managed({ vlanMin: 10, vlanMax: 11, publicIps: [] }) })
    c.ok(runCmd({ addressing: "private" }))
    c.ok(runCmd({ at: at(1), account: bob, addressing: "private" }))
    expect(c.run(runCmd({ at: at(2), account: Ids.accountId("carol"), addressing: "private" }))).toMatchObject({
      _tag: "Rejected",
      rejection: { _tag: "NoVlanAvailable" }
    })
  })

  it("counts the free public pool, also when a held address has left it (the pool shrunk across a restart)", () => {
    const c = make(Policy.greedy(), big, { network: managed() })
    expect(launchedIds(c.ok(runCmd({ minCount: 2, maxCount: 2 })))).toHaveLength(2)
    expect(State.freePublicCount(c.state)).toBe(2)
    expect(State.freePublicIps(c.state)).toEqual(["192.0.2.12", "192.0.2.13"])
    expect(State.freePublicIps(c.state, 1)).toEqual(["192.0.2.12"])
    // The operator shrinks the pool to .11-.14 while .10 is still held; a restart replays the journal
    // onto the new settings: .10 stays with its instance but no longer counts against the pool.
    const d = make(Policy.greedy(), big, { network: managed({ publicIps: ["192.0.2.11-192.0.2.14"] }) })
    d.state = evolveAll(d.state, c.log)
    expect(State.freePublicCount(d.state)).toBe(3)
    expect(State.freePublicIps(d.state)).toEqual(["192.0.2.12", "192.0.2.13", "192.0.2.14"])
    // A launch of MaxCount 10 gets the 3 free ones, and then the pool is out.
    expect(launchedIds(d.ok(runCmd({ at: at(1), minCount: 1, maxCount: 10 })))).toHaveLength(3)
    expect(d.run(runCmd({ at: at(2) }))).toMatchObject({ _tag: "Rejected", rejection: { _tag: "NoPublicAddress" } })
    expect(State.freePublicCount(d.state)).toBe(0)
  })

  it("can launch private-only when the pool is empty, if configured so", () => {
    const c = make(Policy.greedy(), big, { network: managed({ publicIps: [], onPublicExhausted: "private" }) })
    const [id] = launchedIds(c.ok(runCmd()))
    expect(State.instance(c.state, id!)!.net.publicIp).toBeUndefined()
  })
})

describe("elastic addresses", () => {
  it("allocate, associate (replacing the system address), move, disassociate (a new system address) and release", () => {
    const c = make(Policy.greedy(), big, { network: managed() })
    const [i1, i2] = launchedIds(c.ok(runCmd({ minCount: 2, maxCount: 2 })))
    expect(State.freePublicIps(c.state)).toEqual(["192.0.2.12", "192.0.2.13"])
    const [alloc] = c.ok({ _tag: "AllocateAddress", at: at(1), account: alice })
    expect(alloc).toMatchObject({ _tag: "AddressAllocated", ip: "192.0.2.12" })
    c.ok({ _tag: "AssociateAddress", at: at(2), account: alice, publicIp: "192.0.2.12", instanceId: i1! })
    expect(State.instance(c.state, i1!)!.net.publicIp).toBe("192.0.2.12")
    expect(State.freePublicIps(c.state)).toEqual(["192.0.2.10", "192.0.2.13"])
    // Move it to i2: i1 gets a fresh system address, i2's old one goes back to the pool.
    const moved = c.ok({ _tag: "AssociateAddress", at: at(3), account: alice, publicIp: "192.0.2.12", instanceId: i2! })
    expect(moved.map((e) => e._tag)).toEqual(["AddressDisassociated", "AddressAssociated"])
    expect(State.instance(c.state, i1!)!.net.publicIp).toBe("192.0.2.10")
    expect(State.instance(c.state, i2!)!.net.publicIp).toBe("192.0.2.12")
    expect(State.freePublicIps(c.state)).toEqual(["192.0.2.11", "192.0.2.13"])
    // Another account cannot see it.
    expect(c.run({ _tag: "ReleaseAddress", at: at(4), account: bob, publicIp: "192.0.2.12" })).toMatchObject({
      _tag: "Rejected",
      rejection: { _tag: "AddressNotFound" }
    })
    const released = c.ok({ _tag: "ReleaseAddress", at: at(5), account: alice, publicIp: "192.0.2.12" })
    expect(released.map((e) => e._tag)).toEqual(["AddressDisassociated", "AddressReleased"])
    expect(State.instance(c.state, i2!)!.net.publicIp).toBe("192.0.2.11")
    expect(State.freePublicIps(c.state)).toEqual(["192.0.2.12", "192.0.2.13"])
  })

  it("re-applies the network plan of the zones an address change touches", () => {
    const c = make(Policy.greedy(), topology([[8, 8192, 100]], [[8, 8192, 100]]), { network: managed() })
    const [i1] = launchedIds(c.ok(runCmd({ zone: "zone-2" })))
    c.ok({ _tag: "AllocateAddress", at: at(1), account: alice })
    const before = c.state
    const events = c.ok({ _tag: "AssociateAddress", at: at(2), account: alice, publicIp: "192.0.2.11", instanceId: i1! })
    expect(events.flatMap((e) => Effects.of(before, e, evolveAll(before, [e])))).toEqual([{ _tag: "ApplyNetwork", zone: "zone-2" }])
  })

  it("is refused outside the MANAGED modes", () => {
    const c = make(Policy.greedy(), big)
    expect(c.run({ _tag: "AllocateAddress", at: at(0), account: alice })).toMatchObject({
      _tag: "Rejected",
      rejection: { _tag: "InvalidRequest" }
    })
  })
})

describe("STATIC and SYSTEM", () => {
  it("STATIC hands out the MAC map first come first served, public = private", () => {
    const c = make(Policy.greedy(), big, {
      network: { mode: "STATIC", subnet: "10.1.0.0/24", macMap: [{ mac: "AA:00:00:00:00:01", ip: "10.1.0.5" }, { mac: "aa:00:00:00:00:02", ip: "10.1.0.6" }] }
    })
    const ids = launchedIds(c.ok(runCmd({ minCount: 1, maxCount: 5 })))
    expect(ids.map((id) => State.instance(c.state, id)!.net)).toEqual([
      { mac: "aa:00:00:00:00:01", privateIp: "10.1.0.5", publicIp: "10.1.0.5", vlan: undefined, slot: undefined },
      { mac: "aa:00:00:00:00:02", privateIp: "10.1.0.6", publicIp: "10.1.0.6", vlan: undefined, slot: undefined }
    ])
    expect(c.run(runCmd({ at: at(1) }))).toMatchObject({ _tag: "Rejected", rejection: { _tag: "NoStaticAddress" } })
  })

  it("SYSTEM derives the MAC from the instance id and never applies a network plan", () => {
    const c = make(Policy.greedy(), big)
    const before = c.state
    const events = c.ok(runCmd())
    const [id] = launchedIds(events)
    expect(State.instance(c.state, id!)!.net.mac).toBe(Ids.macOf(id! as Ids.InstanceId))
    const effects = events.flatMap((e) => Effects.of(before, e, evolveAll(before, [e])))
    expect(effects.map((e) => e._tag)).toEqual(["StartInstance"])
  })
})

describe("security groups", () => {
  it("rejects duplicates, unknown groups, deleting the default group and deleting a group in use", () => {
    const c = make(Policy.greedy(), big, { network: managed() })
    c.ok({ _tag: "CreateSecurityGroup", at: at(0), account: alice, name: "web", description: "w" })
    expect(c.run({ _tag: "CreateSecurityGroup", at: at(0), account: alice, name: "web", description: "w" })).toMatchObject({
      rejection: { _tag: "GroupExists" }
    })
    // Names are per account.
    c.ok({ _tag: "CreateSecurityGroup", at: at(0), account: bob, name: "web", description: "w" })
    const rule = { protocol: "tcp" as const, fromPort: 80, toPort: 80, source: { _tag: "Cidr" as const, cidr: "0.0.0.0/0" } }
    c.ok({ _tag: "AuthorizeIngress", at: at(1), account: alice, groupName: "web", rules: [rule] })
    expect(c.run({ _tag: "AuthorizeIngress", at: at(1), account: alice, groupName: "web", rules: [rule] })).toMatchObject({
      rejection: { _tag: "DuplicateRule" }
    })
    expect(c.run({ _tag: "AuthorizeIngress", at: at(1), account: alice, groupName: "nope", rules: [rule] })).toMatchObject({
      rejection: { _tag: "GroupNotFound" }
    })
    expect(
      c.run({ _tag: "AuthorizeIngress", at: at(1), account: alice, groupName: "web", rules: [{ ...rule, fromPort: 90, toPort: 80 }] })
    ).toMatchObject({ rejection: { _tag: "InvalidRequest" } })
    const [id] = launchedIds(c.ok(runCmd({ at: at(2), groupNames: ["web"] })))
    expect(c.run({ _tag: "DeleteSecurityGroup", at: at(3), account: alice, groupName: "web" })).toMatchObject({
      rejection: { _tag: "GroupInUse" }
    })
    c.ok({ _tag: "TerminateInstances", at: at(4), account: alice, instanceIds: [id!] })
    c.ok({ _tag: "InstanceStopped", at: at(5), instanceId: id! })
    c.ok({ _tag: "RevokeIngress", at: at(6), account: alice, groupName: "web", rules: [rule] })
    expect(c.run({ _tag: "RevokeIngress", at: at(6), account: alice, groupName: "web", rules: [rule] })).toMatchObject({
      rejection: { _tag: "RuleNotFound" }
    })
    c.ok({ _tag: "DeleteSecurityGroup", at: at(7), account: alice, groupName: "web" })
    c.ok(runCmd({ at: at(8) }))
    expect(c.run({ _tag: "DeleteSecurityGroup", at: at(9), account: alice, groupName: "default" })).toMatchObject({
      rejection: { _tag: "ReservedGroup" }
    })
  })
})
