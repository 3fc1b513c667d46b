/**
 * Instances: RunInstances (MinCount/MaxCount, ClientToken idempotency, tags at launch), Describe*,
 * Terminate, Reboot, GetConsoleOutput, DescribeInstanceTypes.
 */
import { createHash } from "node:crypto"
import { Effect, Option } from "effect"
import { Backend } from "../../controller/Backend.js"
import * as Ebs from "../../model/Ebs.js"
import * as Lifecycle from "../../model/Lifecycle.js"
import * as State from "../../model/State.js"
import * as ClientTokens from "../../store/ClientTokens.js"
import * as Images from "../../store/Images.js"
import * as KeyPairs from "../../store/KeyPairs.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as BlockDevices from "./BlockDevices.js"
import * as Vpc from "../Vpc.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import * as ImageActions from "./Images.js"
import * as LaunchNetwork from "./LaunchNetwork.js"
import * as LaunchTemplateActions from "./LaunchTemplates.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/**
 * Tags a launch asks for (TagSpecification.N): for the instances and for their network interfaces.
 * Tags for `volume` are checked and have nothing to go on: an instance-store launch makes no EBS
 * volume (Ansible's ec2_instance asks for them with every launch).
 */
const launchTags = (specs: ReadonlyArray<Shapes.TagSpecification> | undefined) =>
  Effect.gen(function* () {
    const out: Array<{ key: string; value: string }> = []
    const nic: Array<{ key: string; value: string }> = []
    for (const spec of specs ?? []) {
      const kind = spec.ResourceType ?? "instance"
      if (kind !== "instance" && kind !== "volume" && kind !== "network-interface") {
        return yield* Ec2Error.make("InvalidParameterValue", `TagSpecification: resource type '${Ec2Error.quote(kind)}' is not supported at launch; use instance, network-interface or volume`)
      }
      for (const t of spec.Tags ?? []) {
        const tag = yield* checkTag(t)
        if (kind === "instance") out.push(tag)
        else if (kind === "network-interface") nic.push(tag)
      }
    }
    return Object.assign(out, { nic })
  })

export const checkTag = (t: Shapes.Tag) =>
  Effect.gen(function* () {
    const key = t.Key ?? ""
    const value = t.Value ?? ""
    if (key === "" || key.length > 128) return yield* Ec2Error.make("InvalidParameterValue", `Tag key must be 1–128 characters: '${Ec2Error.quote(key)}'`)
    if (key.toLowerCase().startsWith("aws:")) return yield* Ec2Error.make("InvalidParameterValue", `Tag keys starting with 'aws:' are reserved: '${Ec2Error.quote(key)}'`)
    if (value.length > 256) return yield* Ec2Error.make("InvalidParameterValue", `Tag value must be at most 256 characters (key '${Ec2Error.quote(key)}')`)
    return { key, value }
  })

const paramsHash = (input: Shapes.RunInstancesRequest, addressing: string): string => {
  const { ClientToken: _t, DryRun: _d, ...rest } = input
  return createHash("sha256").update(JSON.stringify([rest, addressing])).digest("hex")
}

class TokenTaken {
  readonly _tag = "TokenTaken"
  constructor(readonly reservationId: string, readonly ids: ReadonlyArray<string> | undefined) {}
}

/**
 * A reservation as RunInstances answers it. With its instance ids (a launch's event, a ClientToken's
 * record) it costs the same whatever the account holds; without them (a token from before the ids
 * were kept whose launch migration 0005 did not find in the journal) it looks through every instance.
 */
const describeReservation = (reservationId: string, rc: H.RequestContext, ids: ReadonlyArray<string> | undefined) =>
  Effect.gen(function* () {
    const s = yield* H.state
    const instances =
      ids !== undefined
        ? ids.flatMap((id) => {
            const i = State.instance(s, id)
            return i !== undefined && i.account === rc.account.id ? [i] : []
          })
        : State.instances(s).filter((i) => i.reservationId === reservationId && i.account === rc.account.id)
    const tags = yield* H.db(Tags.forResources(rc.account.id, instances.map((i) => i.id)))
    if (instances.length === 0) {
      return { ReservationId: reservationId, OwnerId: rc.account.id, Groups: [], Instances: [] } satisfies Shapes.Reservation
    }
    return Views.reservation(s, instances, rc.region, tags)
  })

export const RunInstances: H.Handler<"RunInstances"> = (request, rc) =>
  Effect.gen(function* () {
    const input = yield* LaunchTemplateActions.merge(request, rc)
    if (input.ImageId === undefined || input.ImageId === "") return yield* Ec2Error.missingParameter("ImageId")
    yield* H.checkImageId(input.ImageId)
    for (const [name, v] of [["MinCount", input.MinCount], ["MaxCount", input.MaxCount]] as const) {
      if (!Number.isInteger(v) || v < 1) return yield* Ec2Error.make("InvalidParameterValue", `Value (${v}) for parameter ${name} is invalid. Expected a positive integer.`)
    }
    if (input.MinCount > input.MaxCount) {
      return yield* Ec2Error.make("InvalidParameterValue", `MinCount (${input.MinCount}) must be less than or equal to MaxCount (${input.MaxCount})`)
    }
    if (input.MaxCount > 1000) return yield* Ec2Error.make("InstanceLimitExceeded", `MaxCount ${input.MaxCount} is above the per-request limit of 1000`)
    yield* H.checkGroupIds(input.SecurityGroupIds)
    const image = yield* H.db(Images.get(input.ImageId))
    const permitted = yield* H.db(Images.permittedTo(rc.account.id))
    if (Option.isNone(image) || !ImageActions.visible(image.value, rc.account.id, permitted)) {
      return yield* Ec2Error.make("InvalidAMIID.NotFound", `The image id '[${Ec2Error.quote(input.ImageId)}]' does not exist`)
    }
    if (image.value.kind !== "machine") {
      return yield* Ec2Error.make("InvalidParameterValue", `${input.ImageId} is a ${image.value.kind} image; RunInstances needs a machine image (emi-)`)
    }
    const kernelId = input.KernelId ?? image.value.kernelId
    const ramdiskId = input.RamdiskId ?? image.value.ramdiskId
    for (const [field, id, kind] of [["KernelId", kernelId, "kernel"], ["RamdiskId", ramdiskId, "ramdisk"]] as const) {
      if (id === undefined) continue
      yield* H.checkImageId(id, field)
      const img = yield* H.db(Images.get(id))
      if (Option.isNone(img) || img.value.kind !== kind) return yield* Ec2Error.make("InvalidAMIID.NotFound", `The ${kind} image '${Ec2Error.quote(id)}' does not exist`)
    }
    if (input.KeyName !== undefined) {
      const k = yield* H.db(KeyPairs.get(rc.account.id, input.KeyName))
      if (Option.isNone(k)) return yield* Ec2Error.make("InvalidKeyPair.NotFound", `The key pair '${Ec2Error.quote(input.KeyName)}' does not exist`)
    }
    if (input.UserData !== undefined && (!BASE64.test(input.UserData) || input.UserData.length % 4 !== 0)) {
      return yield* Ec2Error.make("InvalidParameterValue", "Invalid BASE64 encoding of user data")
    }
    if (input.UserData !== undefined && input.UserData.length > 65536) {
      return yield* Ec2Error.make("InvalidParameterValue", "User data is limited to 16 KB (base64: 65536 characters)")
    }
    const addressingRaw = rc.params.get("AddressingType")
    if (addressingRaw !== undefined && addressingRaw !== "public" && addressingRaw !== "private") {
      return yield* Ec2Error.make("InvalidParameterValue", `AddressingType must be public or private, not '${Ec2Error.quote(addressingRaw)}'`)
    }
    const network = yield* LaunchNetwork.resolve(input, rc)
    const addressing = network.addressing ?? ((addressingRaw ?? "public") as "public" | "private")
    const behaviour = input.InstanceInitiatedShutdownBehavior
    if (behaviour !== undefined && behaviour !== "stop" && behaviour !== "terminate") {
      return yield* Ec2Error.invalidParameterValue("InstanceInitiatedShutdownBehavior", behaviour, "expected stop or terminate")
    }
    const attributes = {
      ...(input.DisableApiTermination !== undefined ? { disableApiTermination: input.DisableApiTermination } : {}),
      ...(input.DisableApiStop !== undefined ? { disableApiStop: input.DisableApiStop } : {}),
      ...(behaviour !== undefined ? { shutdownBehavior: behaviour as "stop" | "terminate" } : {})
    }
    const tags = yield* launchTags(input.TagSpecifications)
    const devices = yield* BlockDevices.forLaunch(image.value, input.BlockDeviceMappings)
    yield* H.dryRun(input)

    const token = input.ClientToken
    if (token !== undefined && token.length > 64) return yield* Ec2Error.make("InvalidParameterValue", "ClientToken is limited to 64 ASCII characters")
    const hash = paramsHash(input, addressing)
    if (token !== undefined && token !== "") {
      const seen = yield* H.db(ClientTokens.find(rc.account.id, token))
      if (Option.isSome(seen)) {
        if (seen.value.paramsHash !== hash) {
          return yield* Ec2Error.make("IdempotentParameterMismatch", `The client token '${Ec2Error.quote(token)}' was used by a request with different parameters`)
        }
        return yield* describeReservation(seen.value.reservationId, rc, seen.value.instanceIds)
      }
    }
    type Launched = { readonly reservationId: string; readonly ids?: ReadonlyArray<string> }
    const launched: Launched = yield* H.submit<Launched>(
      {
        _tag: "RunInstances",
        account: rc.account.id as State.Ids.AccountId,
        imageId: input.ImageId,
        vmType: input.InstanceType ?? "m1.small",
        minCount: input.MinCount,
        maxCount: input.MaxCount,
        zone: network.zone,
        groupIds: network.groupIds,
        groupNames: input.SecurityGroups,
        keyName: input.KeyName,
        userData: input.UserData,
        kernelId,
        ramdiskId,
        addressing,
        clientToken: token === "" ? undefined : token,
        ...devices,
        ...(Object.keys(attributes).length > 0 ? { attributes } : {})
      },
      {
        inTransaction: ({ events }) =>
          Effect.gen(function* () {
            const e = events.find((x) => x._tag === "InstancesLaunched")
            if (e === undefined || e._tag !== "InstancesLaunched") return { reservationId: "" }
            if (token !== undefined && token !== "") {
              // Another request with the same token may have committed while this one waited: roll back, answer with that one.
              const seen = yield* ClientTokens.find(rc.account.id, token)
              if (Option.isSome(seen)) return yield* Effect.fail(new TokenTaken(seen.value.reservationId, seen.value.instanceIds) as unknown as Ec2Error.Ec2Error)
              yield* ClientTokens.record(rc.account.id, token, hash, e.reservationId, e.instances.map((i) => i.id), rc.now)
            }
            if (tags.length > 0) yield* Tags.put(rc.account.id, e.instances.flatMap((i) => tags.map((t) => ({ resourceId: i.id, key: t.key, value: t.value }))))
            if (tags.nic.length > 0) yield* Tags.put(rc.account.id, e.instances.flatMap((i) => tags.nic.map((t) => ({ resourceId: Vpc.interfaceId(i.id), key: t.key, value: t.value }))))
            return { reservationId: e.reservationId as string, ids: e.instances.map((i) => i.id as string) }
          })
      }
    ).pipe(
      Effect.map((a): Launched => a.extra ?? { reservationId: "" }),
      Effect.catchIf((e): e is never => (e as unknown) instanceof TokenTaken, (e): Effect.Effect<Launched> => {
        const taken = e as unknown as TokenTaken
        return Effect.succeed({ reservationId: taken.reservationId, ...(taken.ids !== undefined ? { ids: taken.ids } : {}) })
      })
    )
    return yield* describeReservation(launched.reservationId, rc, launched.ids)
  })

/** The filters DescribeInstances knows, over the instances of state `s`. */
const instanceFilters = (s: State.State): Filter.Table<State.Instance> => ({
  "instance-id": (i) => i.id,
  "instance-state-name": (i) => i.state,
  "instance-state-code": (i) => String(Lifecycle.code[i.state]),
  "instance-type": (i) => i.vmType,
  "image-id": (i) => i.imageId,
  "kernel-id": (i) => i.kernelId,
  "ramdisk-id": (i) => i.ramdiskId,
  "availability-zone": (i) => i.zone,
  "key-name": (i) => i.keyName,
  "private-ip-address": (i) => i.net.privateIp,
  "ip-address": (i) => i.net.publicIp,
  "private-dns-name": (i) => (i.net.privateIp ? `ip-${i.net.privateIp.replaceAll(".", "-")}` : undefined),
  "reservation-id": (i) => i.reservationId,
  "owner-id": (i) => i.account,
  "group-id": (i) => i.groups,
  "instance.group-id": (i) => i.groups,
  "group-name": (i) => i.groups.map((g) => State.group(s, g)?.name ?? g),
  "instance.group-name": (i) => i.groups.map((g) => State.group(s, g)?.name ?? g),
  "launch-index": (i) => String(i.launchIndex),
  "architecture": () => "x86_64",
  "root-device-type": (i) => (i.ebsRoot !== undefined ? "ebs" : "instance-store"),
  "root-device-name": (i) => i.ebsRoot ?? "/dev/sda1",
  "block-device-mapping.device-name": (i) => Ebs.attachedTo(s.storage, i.id).map((v) => v.attachment!.device),
  "block-device-mapping.volume-id": (i) => Ebs.attachedTo(s.storage, i.id).map((v) => v.id),
  "block-device-mapping.status": (i) => Ebs.attachedTo(s.storage, i.id).map((v) => v.attachment!.state),
  "virtualization-type": () => "paravirtual",
  "hypervisor": () => "xen",
  "client-token": (i) => i.clientToken,
  "vpc-id": (i) => Vpc.vpcId(i.account),
  "subnet-id": (i) => Vpc.subnetId(i.account, i.zone),
  "network-interface.vpc-id": (i) => Vpc.vpcId(i.account),
  "network-interface.subnet-id": (i) => Vpc.subnetId(i.account, i.zone),
  "network-interface.network-interface-id": (i) => Vpc.interfaceId(i.id),
  "network-interface.attachment.device-index": () => "0",
  "state-reason-code": (i) => i.stateReason?.code
})

// An account's instances in launch order, computed once per version of the instance table (the
// core replaces the table on every change, so its identity says whether anything changed).
const byAccount = new WeakMap<object, Map<string, ReadonlyArray<State.Instance>>>()
const instancesOf = (s: State.State, account: string): ReadonlyArray<State.Instance> => {
  let perAccount = byAccount.get(s.instances)
  if (perAccount === undefined) byAccount.set(s.instances, (perAccount = new Map()))
  let list = perAccount.get(account)
  if (list === undefined) perAccount.set(account, (list = State.instances(s).filter((i) => i.account === account)))
  return list
}

/**
 * The account's instances, filtered by ids and filters, in launch order. Named ids are looked up one
 * by one, with their tags only: describing a few instances costs the same in any account.
 */
const select = (input: { readonly InstanceIds?: ReadonlyArray<string> | undefined; readonly Filters?: ReadonlyArray<Shapes.Filter> | undefined }, rc: H.RequestContext) =>
  Effect.gen(function* () {
    yield* H.checkInstanceIds(input.InstanceIds)
    const s = yield* H.state
    const ids = input.InstanceIds ?? []
    if (ids.length > 0) {
      const named = new Map<string, State.Instance>()
      const missing: Array<string> = []
      for (const id of ids) {
        const i = State.instance(s, id)
        if (i !== undefined && i.account === rc.account.id) named.set(id, i)
        else missing.push(id)
      }
      if (missing.length > 0) return yield* Ec2Error.fromRejection({ _tag: "InstanceNotFound", ids: missing })
      const tags = yield* H.db(Tags.forResources(rc.account.id, [...named.keys()]))
      const keep = yield* Filter.compile(instanceFilters(s), input.Filters, { tags: (i) => tags.get(i.id) ?? [] })
      const chosen = [...named.values()].sort((a, b) => a.seq - b.seq).filter(keep)
      return { s, chosen, tags }
    }
    const tags = yield* H.db(Tags.byResource(rc.account.id))
    const mine = instancesOf(s, rc.account.id)
    if ((input.Filters ?? []).length === 0) return { s, chosen: mine, tags }
    const keep = yield* Filter.compile(instanceFilters(s), input.Filters, { tags: (i) => tags.get(i.id) ?? [] })
    return { s, chosen: mine.filter(keep), tags }
  })

const page = <A extends { readonly seq: number }>(items: ReadonlyArray<A>, max: number | undefined, token: string | undefined) =>
  Effect.gen(function* () {
    const after = yield* H.decodeToken(token)
    const start = after === undefined ? 0 : items.findIndex((i) => i.seq > Number(after))
    const from = start < 0 ? items.length : start
    const slice = max === undefined ? items.slice(from) : items.slice(from, from + max)
    const next = max !== undefined && from + max < items.length ? H.encodeToken(String(slice[slice.length - 1]!.seq)) : undefined
    return { slice, next }
  })

// "Describe all my instances" (what waiters and dashboards poll) is answered with the same output
// object while the instances, the groups and the account's tags are the very same objects.
const everything = new WeakMap<object, Map<string, { readonly groups: unknown; readonly tags: unknown; readonly volumes: unknown; readonly output: Shapes.DescribeInstancesResult }>>()

export const DescribeInstances: H.Handler<"DescribeInstances"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    if (input.MaxResults !== undefined && (input.InstanceIds?.length ?? 0) > 0) {
      return yield* Ec2Error.make("InvalidParameterCombination", "The parameter instancesSet cannot be used with the parameter maxResults")
    }
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    const { s, chosen, tags } = yield* select(input, rc)
    const all = (input.InstanceIds ?? []).length === 0 && (input.Filters ?? []).length === 0 && input.MaxResults === undefined && (input.NextToken ?? "") === ""
    if (all) {
      let perAccount = everything.get(s.instances)
      if (perAccount === undefined) everything.set(s.instances, (perAccount = new Map()))
      const key = `${rc.account.id}/${rc.region}`
      const hit = perAccount.get(key)
      if (hit !== undefined && hit.groups === s.groups && hit.tags === tags && hit.volumes === s.storage.volumes) return hit.output
      const output: Shapes.DescribeInstancesResult = { Reservations: Views.reservations(s, chosen, rc.region, tags) }
      H.reusable.add(output)
      perAccount.set(key, { groups: s.groups, tags, volumes: s.storage.volumes, output })
      return output
    }
    const { slice, next } = yield* page(chosen, input.MaxResults, input.NextToken)
    return { Reservations: Views.reservations(s, slice, rc.region, tags), ...(next ? { NextToken: next } : {}) }
  })

export const DescribeInstanceStatus: H.Handler<"DescribeInstanceStatus"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    const { chosen } = yield* select({ InstanceIds: input.InstanceIds }, rc)
    const statusOf = (i: State.Instance) => (i.state === "running" ? "ok" : i.state === "pending" ? "initializing" : "not-applicable")
    const rows = chosen.filter((i) => input.IncludeAllInstances === true || i.state === "running")
    const keep = yield* Filter.compile<State.Instance>(
      {
        "availability-zone": (i) => i.zone,
        "instance-state-name": (i) => i.state,
        "instance-state-code": (i) => String(Lifecycle.code[i.state]),
        "instance-status.status": statusOf,
        "system-status.status": statusOf,
        "instance-status.reachability": (i) => (i.state === "running" ? "passed" : "initializing"),
        "system-status.reachability": (i) => (i.state === "running" ? "passed" : "initializing")
      },
      input.Filters
    )
    const { slice, next } = yield* page(rows.filter(keep), input.MaxResults, input.NextToken)
    return {
      InstanceStatuses: slice.map((i): Shapes.InstanceStatus => {
        const st = statusOf(i)
        const summary = { Status: st, Details: st === "not-applicable" ? [] : [{ Name: "reachability", Status: st === "ok" ? "passed" : "initializing" }] }
        return { InstanceId: i.id, AvailabilityZone: i.zone, InstanceState: Views.instanceState(i.state), InstanceStatus: summary, SystemStatus: summary, Events: [] }
      }),
      ...(next ? { NextToken: next } : {})
    }
  })

export const TerminateInstances: H.Handler<"TerminateInstances"> = (input, rc) =>
  Effect.gen(function* () {
    if ((input.InstanceIds ?? []).length === 0) return yield* Ec2Error.missingParameter("InstanceId")
    yield* H.checkInstanceIds(input.InstanceIds)
    yield* ownedOrUnauthorized(input.InstanceIds, rc, input.DryRun)
    const done = yield* H.submit({ _tag: "TerminateInstances", account: rc.account.id as State.Ids.AccountId, instanceIds: input.InstanceIds })
    const seen = new Set<string>()
    return {
      TerminatingInstances: input.InstanceIds.filter((id) => (seen.has(id) ? false : (seen.add(id), true))).map((id) => ({
        InstanceId: id,
        PreviousState: Views.instanceState(State.instance(done.before, id)!.state),
        CurrentState: Views.instanceState(State.instance(done.after, id)!.state)
      }))
    }
  })

/** DryRun on instances: allowed for the account's own, UnauthorizedOperation otherwise. */
const ownedOrUnauthorized = (ids: ReadonlyArray<string>, rc: H.RequestContext, dry: boolean | undefined) =>
  Effect.gen(function* () {
    if (dry !== true) return
    const s = yield* H.state
    if (ids.every((id) => State.instance(s, id)?.account === rc.account.id)) return yield* Ec2Error.dryRunOperation()
    return yield* Ec2Error.unauthorizedOperation()
  })

export const RebootInstances: H.Handler<"RebootInstances"> = (input, rc) =>
  Effect.gen(function* () {
    if ((input.InstanceIds ?? []).length === 0) return yield* Ec2Error.missingParameter("InstanceId")
    yield* H.checkInstanceIds(input.InstanceIds)
    yield* ownedOrUnauthorized(input.InstanceIds, rc, input.DryRun)
    yield* H.submit({ _tag: "RebootInstances", account: rc.account.id as State.Ids.AccountId, instanceIds: input.InstanceIds })
    return {}
  })

export const GetConsoleOutput: H.Handler<"GetConsoleOutput"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.checkInstanceIds([input.InstanceId])
    yield* ownedOrUnauthorized([input.InstanceId], rc, input.DryRun)
    const s = yield* H.state
    const i = State.instance(s, input.InstanceId)
    if (!i || i.account !== rc.account.id) return yield* Ec2Error.fromRejection({ _tag: "InstanceNotFound", ids: [input.InstanceId] })
    const backend = yield* Backend
    const text = yield* backend.consoleOutput(i).pipe(
      Effect.catchTag("BackendError", (e) => Effect.logWarning(`console output of ${i.id}: ${e.message}`).pipe(Effect.as("")))
    )
    return { InstanceId: i.id, Timestamp: rc.now, Output: Buffer.from(text, "utf8").toString("base64") }
  })

export const DescribeInstanceTypes: H.Handler<"DescribeInstanceTypes"> = (input) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* H.checkMaxResults(input.MaxResults, 5, 100)
    const s = yield* H.state
    for (const name of input.InstanceTypes ?? []) {
      if (!s.vmTypes.some((t) => t.name === name)) return yield* Ec2Error.make("InvalidParameterValue", `The following supplied instance types do not exist: [${Ec2Error.quote(name)}]`)
    }
    const infos: Array<Shapes.InstanceTypeInfo & { readonly seq: number }> = s.vmTypes
      .filter((t) => (input.InstanceTypes ?? []).length === 0 || input.InstanceTypes!.includes(t.name))
      .map((t, seq) => ({
        seq,
        InstanceType: t.name,
        CurrentGeneration: false,
        FreeTierEligible: false,
        SupportedUsageClasses: ["on-demand"],
        SupportedRootDeviceTypes: ["instance-store"],
        SupportedVirtualizationTypes: ["paravirtual"],
        BareMetal: false,
        Hypervisor: "xen",
        ProcessorInfo: { SupportedArchitectures: ["x86_64"] },
        VCpuInfo: { DefaultVCpus: t.cores, DefaultCores: t.cores, DefaultThreadsPerCore: 1 },
        MemoryInfo: { SizeInMiB: t.memoryMiB },
        InstanceStorageSupported: t.diskGiB > 0,
        ...(t.diskGiB > 0 ? { InstanceStorageInfo: { TotalSizeInGB: t.diskGiB, Disks: [{ SizeInGB: t.diskGiB, Count: 1, Type: "hdd" }] } } : {}),
        HibernationSupported: false,
        BurstablePerformanceSupported: false,
        DedicatedHostsSupported: false,
        AutoRecoverySupported: false
      }))
    const keep = yield* Filter.compile<Shapes.InstanceTypeInfo>(
      {
        "instance-type": (t) => t.InstanceType,
        "vcpu-info.default-vcpus": (t) => String(t.VCpuInfo?.DefaultVCpus),
        "memory-info.size-in-mib": (t) => String(t.MemoryInfo?.SizeInMiB),
        "instance-storage-info.total-size-in-gb": (t) => (t.InstanceStorageInfo ? String(t.InstanceStorageInfo.TotalSizeInGB) : undefined),
        hypervisor: (t) => t.Hypervisor
      },
      input.Filters
    )
    const { slice, next } = yield* page(infos.filter(keep), input.MaxResults, input.NextToken)
    return { InstanceTypes: slice.map(({ seq: _seq, ...rest }) => rest), ...(next ? { NextToken: next } : {}) }
  })
