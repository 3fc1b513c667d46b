/** Elastic addresses, in both EC2-classic (PublicIp) and VPC-style (AllocationId/AssociationId) forms. */
import { Effect, HashMap } from "effect"
import type * as Ids from "../../model/Ids.js"
import * as State from "../../model/State.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"

const account = (rc: H.RequestContext) => rc.account.id as Ids.AccountId

export const AllocateAddress: H.Handler<"AllocateAddress"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.Domain !== undefined && input.Domain !== "standard" && input.Domain !== "vpc") {
      return yield* Ec2Error.make("InvalidParameterValue", `Invalid value '${Ec2Error.quote(input.Domain)}' for domain: standard or vpc`)
    }
    if (input.Address !== undefined) return yield* Ec2Error.make("InvalidParameterValue", "Choosing a specific address is not supported; addresses come from the cloud's public pool")
    yield* H.dryRun(input)
    const done = yield* H.submit({ _tag: "AllocateAddress", account: account(rc) })
    const e = done.events[0]!
    if (e._tag !== "AddressAllocated") return yield* Ec2Error.internalError()
    return { PublicIp: e.ip, AllocationId: e.allocationId, Domain: input.Domain ?? "standard", PublicIpv4Pool: "eucalyptus", NetworkBorderGroup: rc.region }
  })

export const AssociateAddress: H.Handler<"AssociateAddress"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.InstanceId === undefined) {
      return yield* input.NetworkInterfaceId !== undefined
        ? Ec2Error.make("InvalidParameterValue", "Network interfaces are not supported; associate with an InstanceId")
        : Ec2Error.missingParameter("InstanceId")
    }
    if (input.PublicIp === undefined && input.AllocationId === undefined) return yield* Ec2Error.missingParameter("AllocationId")
    yield* H.checkInstanceIds([input.InstanceId])
    yield* H.dryRun(input)
    const done = yield* H.submit({
      _tag: "AssociateAddress",
      account: account(rc),
      publicIp: input.PublicIp,
      allocationId: input.AllocationId,
      instanceId: input.InstanceId,
      allowReassociation: input.AllowReassociation
    })
    const a = input.PublicIp !== undefined ? State.address(done.after, input.PublicIp) : State.addressByAllocation(done.after, input.AllocationId!)
    return { ...(a?.associationId !== undefined ? { AssociationId: a.associationId } : {}) }
  })

export const DisassociateAddress: H.Handler<"DisassociateAddress"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.PublicIp === undefined && input.AssociationId === undefined) return yield* Ec2Error.missingParameter("AssociationId")
    yield* H.dryRun(input)
    yield* H.submit({ _tag: "DisassociateAddress", account: account(rc), publicIp: input.PublicIp, associationId: input.AssociationId })
    return {}
  })

export const ReleaseAddress: H.Handler<"ReleaseAddress"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.PublicIp === undefined && input.AllocationId === undefined) return yield* Ec2Error.missingParameter("AllocationId")
    yield* H.dryRun(input)
    yield* H.submit({ _tag: "ReleaseAddress", account: account(rc), publicIp: input.PublicIp, allocationId: input.AllocationId })
    return {}
  })

export const DescribeAddresses: H.Handler<"DescribeAddresses"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    const s = yield* H.state
    const tags = yield* H.db(Tags.byResource(rc.account.id))
    const mine = Array.from(HashMap.values(s.addresses))
      .filter((a) => a.kind === "elastic" && a.account === rc.account.id)
      .sort((a, b) => (a.allocationId! < b.allocationId! ? -1 : 1))
    for (const ip of input.PublicIps ?? []) {
      if (!mine.some((a) => a.ip === ip)) return yield* Ec2Error.fromRejection({ _tag: "AddressNotFound", address: ip })
    }
    for (const id of input.AllocationIds ?? []) {
      if (!mine.some((a) => a.allocationId === id)) return yield* Ec2Error.fromRejection({ _tag: "AddressNotFound", address: id })
    }
    const keep = yield* Filter.compile<State.Address>(
      {
        "allocation-id": (a) => a.allocationId,
        "association-id": (a) => a.associationId,
        domain: () => "standard",
        "instance-id": (a) => a.instance,
        "public-ip": (a) => a.ip,
        "private-ip-address": (a) => (a.instance !== undefined ? State.instance(s, a.instance)?.net.privateIp : undefined)
      },
      input.Filters,
      { tags: (a) => (tags.get(a.allocationId ?? a.ip) ?? []).map((t) => ({ key: t.key, value: t.value })) }
    )
    const ips = input.PublicIps ?? []
    const ids = input.AllocationIds ?? []
    const chosen = mine.filter((a) => (ips.length === 0 || ips.includes(a.ip)) && (ids.length === 0 || ids.includes(a.allocationId ?? "")) && keep(a))
    return { Addresses: chosen.map((a) => Views.address(s, a, tags.get(a.allocationId ?? a.ip))) }
  })
