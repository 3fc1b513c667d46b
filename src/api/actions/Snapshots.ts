/** Snapshots (EBS): CreateSnapshot, DescribeSnapshots, DeleteSnapshot, Describe/ModifySnapshotAttribute (createVolumePermission). */
import { Effect } from "effect"
import * as Ebs from "../../model/Ebs.js"
import type * as Ids from "../../model/Ids.js"
import * as Images from "../../store/Images.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import { checkVolumeIds, creationTags, page } from "./Volumes.js"

const account = (rc: H.RequestContext) => rc.account.id as Ids.AccountId

const SNAPSHOT_ID = /^snap-([0-9a-f]{8}|[0-9a-f]{17})$/
const checkSnapshotIds = (ids: ReadonlyArray<string> | undefined) => {
  for (const id of ids ?? []) {
    if (!SNAPSHOT_ID.test(id)) return Effect.fail(Ec2Error.make("InvalidSnapshotID.Malformed", `Invalid id: "${Ec2Error.quote(id)}" (expecting "snap-...")`))
  }
  return Effect.void
}

export const CreateSnapshot: H.Handler<"CreateSnapshot"> = (input, rc) =>
  Effect.gen(function* () {
    yield* checkVolumeIds([input.VolumeId])
    const tags = yield* creationTags(input.TagSpecifications, "snapshot")
    const s = yield* H.state
    const v = Ebs.volume(s.storage, input.VolumeId)
    if (!v || v.account !== rc.account.id) return yield* Ec2Error.fromRejection({ _tag: "VolumeNotFound", ids: [input.VolumeId] })
    yield* H.dryRun(input)
    const done = yield* H.submit<string>(
      { _tag: "CreateSnapshot", account: account(rc), volumeId: input.VolumeId, description: input.Description ?? "" },
      {
        inTransaction: ({ events }) =>
          Effect.gen(function* () {
            const e = events[0]
            const id = e?._tag === "SnapshotStarted" ? e.snapshot : ""
            if (tags.length > 0) yield* Tags.put(rc.account.id, tags.map((t) => ({ resourceId: id, key: t.key, value: t.value })))
            return id
          })
      }
    )
    const snap = Ebs.snapshot(done.after.storage, done.extra ?? "")
    if (snap === undefined) return yield* Ec2Error.internalError()
    return Views.snapshot(snap, tags.length > 0 ? tags.map((t) => ({ resourceId: snap.id, ...t })) : undefined)
  })

export const DescribeSnapshots: H.Handler<"DescribeSnapshots"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* checkSnapshotIds(input.SnapshotIds)
    if (input.MaxResults !== undefined && (input.SnapshotIds?.length ?? 0) > 0) {
      return yield* Ec2Error.make("InvalidParameterCombination", "The parameter snapshotSet cannot be used with the parameter maxResults")
    }
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    const s = yield* H.state
    const tags = yield* H.db(Tags.byResource(rc.account.id))
    const me = rc.account.id
    const visible = Ebs.snapshots(s.storage).filter((x) => Ebs.restorableBy(x, me))
    const ids = input.SnapshotIds ?? []
    const missing = ids.filter((id) => !visible.some((x) => x.id === id))
    if (missing.length > 0) return yield* Ec2Error.fromRejection({ _tag: "SnapshotNotFound", ids: missing })
    const owners = input.OwnerIds ?? []
    const ownerOk = (x: Ebs.Snapshot) => owners.length === 0 || owners.some((o) => (o === "self" ? x.account === me : x.account === o))
    // RestorableBy: snapshots the named accounts ("self" is the caller; "all" means public ones) may create volumes from.
    const by = input.RestorableByUserIds ?? []
    const restorableOk = (x: Ebs.Snapshot) => by.length === 0 || by.some((u) => (u === "all" ? x.public : Ebs.restorableBy(x, u === "self" ? me : u)))
    const keep = yield* Filter.compile<Ebs.Snapshot>(
      {
        "snapshot-id": (x) => x.id,
        "volume-id": (x) => x.volumeId,
        "volume-size": (x) => String(x.volumeSizeGiB),
        status: (x) => x.state,
        progress: (x) => `${x.progress}%`,
        "owner-id": (x) => x.account,
        description: (x) => x.description,
        "start-time": (x) => new Date(x.startedAt).toISOString(),
        encrypted: () => "false"
      },
      input.Filters,
      { tags: (x) => tags.get(x.id) ?? [] }
    )
    const chosen = visible.filter((x) => (ids.length === 0 || ids.includes(x.id)) && ownerOk(x) && restorableOk(x) && keep(x))
    const { slice, next } = yield* page(chosen, input.MaxResults, input.NextToken)
    // Another account's tags are not shown.
    return { Snapshots: slice.map((x) => Views.snapshot(x, x.account === me ? tags.get(x.id) : undefined)), ...(next ? { NextToken: next } : {}) }
  })

const ownSnapshot = (id: string, rc: H.RequestContext) =>
  Effect.gen(function* () {
    yield* checkSnapshotIds([id])
    const s = yield* H.state
    const snap = Ebs.snapshot(s.storage, id)
    if (!snap || snap.account !== rc.account.id) return yield* Ec2Error.fromRejection({ _tag: "SnapshotNotFound", ids: [id] })
    return snap
  })

export const DeleteSnapshot: H.Handler<"DeleteSnapshot"> = (input, rc) =>
  Effect.gen(function* () {
    const snap = yield* ownSnapshot(input.SnapshotId, rc)
    // An image that boots from it keeps it (EC2: InvalidSnapshot.InUse).
    const users = (yield* H.db(Images.all)).filter((i) => i.blockDevices.some((d) => d.snapshotId === snap.id))
    if (users.length > 0) {
      return yield* Ec2Error.make("InvalidSnapshot.InUse", `The snapshot ${snap.id} is currently in use by ${users.map((i) => i.id).join(", ")}`)
    }
    yield* H.dryRun(input)
    yield* H.submit({ _tag: "DeleteSnapshot", account: account(rc), snapshotId: snap.id })
    yield* H.db(Tags.remove(rc.account.id, [snap.id], []))
    return {}
  })

const checkAttribute = (a: string | undefined) =>
  a === "createVolumePermission" || a === "productCodes"
    ? Effect.succeed(a)
    : Effect.fail(Ec2Error.make("InvalidParameterValue", `Value (${Ec2Error.quote(a ?? "")}) for parameter attribute is invalid. Expected one of: createVolumePermission, productCodes`))

export const DescribeSnapshotAttribute: H.Handler<"DescribeSnapshotAttribute"> = (input, rc) =>
  Effect.gen(function* () {
    const snap = yield* ownSnapshot(input.SnapshotId, rc)
    const attribute = yield* checkAttribute(input.Attribute)
    yield* H.dryRun(input)
    if (attribute === "productCodes") return { SnapshotId: snap.id, ProductCodes: [] }
    return {
      SnapshotId: snap.id,
      CreateVolumePermissions: [...(snap.public ? [{ Group: "all" }] : []), ...snap.sharedWith.map((u) => ({ UserId: u }))]
    }
  })

export const ModifySnapshotAttribute: H.Handler<"ModifySnapshotAttribute"> = (input, rc) =>
  Effect.gen(function* () {
    const snap = yield* ownSnapshot(input.SnapshotId, rc)
    yield* checkAttribute(input.Attribute ?? "createVolumePermission")
    if (input.Attribute === "productCodes") return yield* Ec2Error.make("InvalidParameterValue", "productCodes cannot be modified on a snapshot")
    const add = { accounts: [] as Array<string>, all: false }
    const remove = { accounts: [] as Array<string>, all: false }
    const into = (list: ReadonlyArray<{ readonly UserId?: string; readonly Group?: string }>, to: typeof add) => {
      for (const p of list) {
        if (p.UserId !== undefined) to.accounts.push(p.UserId)
        if (p.Group !== undefined) {
          if (p.Group !== "all") return Ec2Error.make("InvalidParameterValue", `Invalid group '${Ec2Error.quote(p.Group)}': the only group is 'all'`)
          to.all = true
        }
      }
      return undefined
    }
    let bad = into(input.CreateVolumePermission?.Add ?? [], add) ?? into(input.CreateVolumePermission?.Remove ?? [], remove)
    // The older form: OperationType with UserId.N / UserGroup.N.
    if (bad === undefined && input.OperationType !== undefined) {
      if (input.OperationType !== "add" && input.OperationType !== "remove") {
        return yield* Ec2Error.invalidParameterValue("OperationType", input.OperationType, "add or remove")
      }
      const to = input.OperationType === "add" ? add : remove
      bad = into([...(input.UserIds ?? []).map((u) => ({ UserId: u })), ...(input.GroupNames ?? []).map((g) => ({ Group: g }))], to)
    }
    if (bad) return yield* bad
    if (add.accounts.length + remove.accounts.length === 0 && !add.all && !remove.all) return yield* Ec2Error.missingParameter("CreateVolumePermission")
    yield* H.dryRun(input)
    yield* H.submit({ _tag: "ModifySnapshotPermission", account: account(rc), snapshotId: snap.id, add, remove })
    return {}
  })
