/** Volumes (EBS): CreateVolume, DescribeVolumes, DeleteVolume, AttachVolume, DetachVolume, DescribeVolumeStatus. */
import { Effect } from "effect"
import * as Ebs from "../../model/Ebs.js"
import type * as Ids from "../../model/Ids.js"
import type * as State from "../../model/State.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"
import { checkTag } from "./Instances.js"

const account = (rc: H.RequestContext) => rc.account.id as Ids.AccountId

const VOLUME_ID = /^vol-([0-9a-f]{8}|[0-9a-f]{17})$/
export const checkVolumeIds = (ids: ReadonlyArray<string> | undefined) => {
  for (const id of ids ?? []) {
    if (!VOLUME_ID.test(id)) return Effect.fail(Ec2Error.make("InvalidVolumeID.Malformed", `Invalid id: "${Ec2Error.quote(id)}" (expecting "vol-...")`))
  }
  return Effect.void
}

/** Tags asked for at creation (TagSpecification.N), only for the resource type being created. */
export const creationTags = (specs: ReadonlyArray<Shapes.TagSpecification> | undefined, type: string) =>
  Effect.gen(function* () {
    const out: Array<{ key: string; value: string }> = []
    for (const spec of specs ?? []) {
      if (spec.ResourceType !== undefined && spec.ResourceType !== type) {
        return yield* Ec2Error.make("InvalidParameterValue", `TagSpecification: resource type '${Ec2Error.quote(spec.ResourceType)}' cannot be tagged here; use '${type}'`)
      }
      for (const t of spec.Tags ?? []) out.push(yield* checkTag(t))
    }
    return out
  })

const VOLUME_TYPES = ["standard", "gp2", "gp3", "io1", "io2", "sc1", "st1"]

export const CreateVolume: H.Handler<"CreateVolume"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.AvailabilityZone === undefined || input.AvailabilityZone === "") return yield* Ec2Error.missingParameter("AvailabilityZone")
    if (input.Size === undefined && input.SnapshotId === undefined) return yield* Ec2Error.missingParameter("Size")
    if (input.VolumeType !== undefined && !VOLUME_TYPES.includes(input.VolumeType)) {
      return yield* Ec2Error.invalidParameterValue("VolumeType", input.VolumeType, VOLUME_TYPES.join(", "))
    }
    if (input.Encrypted === true) return yield* Ec2Error.make("InvalidParameterValue", "Encrypted volumes are not supported by this cloud's storage controller")
    const tags = yield* creationTags(input.TagSpecifications, "volume")
    yield* H.dryRun(input)
    const done = yield* H.submit<string>(
      { _tag: "CreateVolume", account: account(rc), zone: input.AvailabilityZone, sizeGiB: input.Size, snapshotId: input.SnapshotId },
      {
        inTransaction: ({ events }) =>
          Effect.gen(function* () {
            const e = events[0]
            const id = e?._tag === "VolumesCreated" ? e.volumes[0]!.id : ""
            if (tags.length > 0) yield* Tags.put(rc.account.id, tags.map((t) => ({ resourceId: id, key: t.key, value: t.value })))
            return id
          })
      }
    )
    const v = Ebs.volume(done.after.storage, done.extra ?? "")
    if (v === undefined) return yield* Ec2Error.internalError()
    return Views.volume(v, tags.length > 0 ? tags.map((t) => ({ resourceId: v.id, ...t })) : undefined, input.VolumeType)
  })

const mine = (s: State.State, rc: H.RequestContext) => Ebs.volumes(s.storage).filter((v) => v.account === rc.account.id)

const volumeFilters: Filter.Table<Ebs.Volume> = {
  "volume-id": (v) => v.id,
  status: (v) => v.state,
  size: (v) => String(v.sizeGiB),
  "snapshot-id": (v) => v.snapshotId,
  "availability-zone": (v) => v.zone,
  "create-time": (v) => new Date(v.createdAt).toISOString(),
  "volume-type": () => "standard",
  encrypted: () => "false",
  "attachment.instance-id": (v) => v.attachment?.instance,
  "attachment.device": (v) => v.attachment?.device,
  "attachment.status": (v) => v.attachment?.state,
  "attachment.delete-on-termination": (v) => (v.attachment ? String(v.attachment.deleteOnTermination) : undefined),
  "attachment.attach-time": (v) => (v.attachment ? new Date(v.attachment.since).toISOString() : undefined)
}

/** The account's volumes chosen by ids and filters, in creation order. */
const select = (input: { readonly VolumeIds?: ReadonlyArray<string> | undefined; readonly Filters?: ReadonlyArray<Shapes.Filter> | undefined }, rc: H.RequestContext) =>
  Effect.gen(function* () {
    yield* checkVolumeIds(input.VolumeIds)
    const s = yield* H.state
    const tags = yield* H.db(Tags.byResource(rc.account.id))
    const all = mine(s, rc)
    const ids = input.VolumeIds ?? []
    const missing = ids.filter((id) => !all.some((v) => v.id === id))
    if (missing.length > 0) return yield* Ec2Error.fromRejection({ _tag: "VolumeNotFound", ids: missing })
    const keep = yield* Filter.compile(volumeFilters, input.Filters, { tags: (v) => tags.get(v.id) ?? [] })
    return { s, tags, chosen: all.filter((v) => (ids.length === 0 || ids.includes(v.id)) && keep(v)) }
  })

export const page = <A extends { readonly seq: number }>(items: ReadonlyArray<A>, max: number | undefined, token: string | undefined) =>
  Effect.gen(function* () {
    const after = yield* H.decodeToken(token)
    const start = after === undefined ? 0 : items.findIndex((i) => i.seq > Number(after))
    const from = start < 0 ? items.length : start
    const slice = max === undefined ? items.slice(from) : items.slice(from, from + max)
    const next = max !== undefined && from + max < items.length ? H.encodeToken(String(slice[slice.length - 1]!.seq)) : undefined
    return { slice, next }
  })

export const DescribeVolumes: H.Handler<"DescribeVolumes"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    if (input.MaxResults !== undefined && (input.VolumeIds?.length ?? 0) > 0) {
      return yield* Ec2Error.make("InvalidParameterCombination", "The parameter volumeSet cannot be used with the parameter maxResults")
    }
    yield* H.checkMaxResults(input.MaxResults, 5, 500)
    const { tags, chosen } = yield* select(input, rc)
    const { slice, next } = yield* page(chosen, input.MaxResults, input.NextToken)
    return { Volumes: slice.map((v) => Views.volume(v, tags.get(v.id))), ...(next ? { NextToken: next } : {}) }
  })

const owned = (s: State.State, id: string, rc: H.RequestContext) => {
  const v = Ebs.volume(s.storage, id)
  return v && v.account === rc.account.id ? Effect.succeed(v) : Effect.fail(Ec2Error.fromRejection({ _tag: "VolumeNotFound", ids: [id] }))
}

export const DeleteVolume: H.Handler<"DeleteVolume"> = (input, rc) =>
  Effect.gen(function* () {
    yield* checkVolumeIds([input.VolumeId])
    yield* owned(yield* H.state, input.VolumeId, rc)
    yield* H.dryRun(input)
    yield* H.submit({ _tag: "DeleteVolume", account: account(rc), volumeId: input.VolumeId })
    yield* H.db(Tags.remove(rc.account.id, [input.VolumeId], []))
    return {}
  })

export const AttachVolume: H.Handler<"AttachVolume"> = (input, rc) =>
  Effect.gen(function* () {
    yield* checkVolumeIds([input.VolumeId])
    yield* H.checkInstanceIds([input.InstanceId])
    yield* owned(yield* H.state, input.VolumeId, rc)
    yield* H.dryRun(input)
    const done = yield* H.submit({ _tag: "AttachVolume", account: account(rc), volumeId: input.VolumeId, instanceId: input.InstanceId, device: input.Device })
    return Views.attachment(Ebs.volume(done.after.storage, input.VolumeId)!)
  })

export const DetachVolume: H.Handler<"DetachVolume"> = (input, rc) =>
  Effect.gen(function* () {
    yield* checkVolumeIds([input.VolumeId])
    if (input.InstanceId !== undefined) yield* H.checkInstanceIds([input.InstanceId])
    yield* owned(yield* H.state, input.VolumeId, rc)
    yield* H.dryRun(input)
    const done = yield* H.submit({
      _tag: "DetachVolume",
      account: account(rc),
      volumeId: input.VolumeId,
      instanceId: input.InstanceId,
      device: input.Device,
      force: input.Force
    })
    const before = Ebs.volume(done.before.storage, input.VolumeId)!
    const after = Ebs.volume(done.after.storage, input.VolumeId)!
    // Answered as EC2 does: the attachment as it now is ("detaching"), or as it was if it is already gone.
    return Views.attachment(after.attachment ? after : { ...before, attachment: { ...before.attachment!, state: "detaching" } })
  })

export const DescribeVolumeStatus: H.Handler<"DescribeVolumeStatus"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    const { s, chosen } = yield* select({ VolumeIds: input.VolumeIds }, rc)
    const statusOf = (v: Ebs.Volume) => (v.state === "error" ? "impaired" : v.state === "creating" ? "insufficient-data" : "ok")
    const keep = yield* Filter.compile<Ebs.Volume>(
      {
        "availability-zone": (v) => v.zone,
        "volume-status.status": statusOf,
        "volume-status.details-name": () => ["io-enabled", "io-performance"],
        "volume-status.details-status": (v) => (statusOf(v) === "ok" ? "passed" : statusOf(v) === "impaired" ? "failed" : "insufficient-data")
      },
      input.Filters
    )
    void s
    const { slice, next } = yield* page(chosen.filter(keep), input.MaxResults, input.NextToken)
    return {
      VolumeStatuses: slice.map((v): Shapes.VolumeStatusItem => {
        const st = statusOf(v)
        const detail = st === "ok" ? "passed" : st === "impaired" ? "failed" : "insufficient-data"
        return {
          VolumeId: v.id,
          AvailabilityZone: v.zone,
          VolumeStatus: { Status: st, Details: [{ Name: "io-enabled", Status: detail }, { Name: "io-performance", Status: "not-applicable" }] },
          Actions: [],
          Events: []
        }
      }),
      ...(next ? { NextToken: next } : {})
    }
  })
