/** Tags on the account's instances, security groups, images, key pairs and elastic addresses. */
import { Effect, HashMap, Option } from "effect"
import * as Ebs from "../../model/Ebs.js"
import * as State from "../../model/State.js"
import * as Images from "../../store/Images.js"
import * as KeyPairs from "../../store/KeyPairs.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"
import { checkTag } from "./Instances.js"

export const resourceType = (id: string): string | undefined =>
  id.startsWith("i-") ? "instance" : id.startsWith("sg-") ? "security-group" : /^e[mkr]i-/.test(id) ? "image" : id.startsWith("key-") ? "key-pair" : id.startsWith("eipalloc-") ? "elastic-ip" : id.startsWith("vol-") ? "volume" : id.startsWith("snap-") ? "snapshot" : undefined

/** The resource exists and the account may tag it. */
const check = (id: string, rc: H.RequestContext) =>
  Effect.gen(function* () {
    const s = yield* H.state
    const notFound = (code: Ec2Error.Code, what: string) => Ec2Error.make(code, `The ${what} '${Ec2Error.quote(id)}' does not exist`)
    switch (resourceType(id)) {
      case "instance":
        if (State.instance(s, id)?.account !== rc.account.id) return yield* notFound("InvalidInstanceID.NotFound", "instance ID")
        return
      case "security-group":
        if (State.group(s, id)?.account !== rc.account.id) return yield* notFound("InvalidGroup.NotFound", "security group")
        return
      case "image": {
        const img = yield* H.db(Images.get(id))
        if (Option.isNone(img) || (img.value.owner !== rc.account.id && rc.account.admin === false)) return yield* notFound("InvalidAMIID.NotFound", "image id")
        return
      }
      case "key-pair": {
        const keys = yield* H.db(KeyPairs.list(rc.account.id))
        if (!keys.some((k) => k.id === id)) return yield* notFound("InvalidKeyPair.NotFound", "key pair ID")
        return
      }
      case "elastic-ip":
        if (!Array.from(HashMap.values(s.addresses)).some((a) => a.allocationId === id && a.account === rc.account.id)) {
          return yield* notFound("InvalidAllocationID.NotFound", "allocation ID")
        }
        return
      case "volume": {
        const v = Ebs.volume(s.storage, id)
        if (v?.account !== rc.account.id) return yield* notFound("InvalidVolume.NotFound", "volume")
        return
      }
      case "snapshot": {
        const x = Ebs.snapshot(s.storage, id)
        if (x?.account !== rc.account.id) return yield* notFound("InvalidSnapshot.NotFound", "snapshot")
        return
      }
      default:
        return yield* Ec2Error.make("InvalidID", `The ID '${Ec2Error.quote(id)}' is not valid`)
    }
  })

export const CreateTags: H.Handler<"CreateTags"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.Resources.length === 0) return yield* Ec2Error.missingParameter("ResourceId")
    if (input.Tags.length === 0) return yield* Ec2Error.missingParameter("Tag")
    for (const r of input.Resources) yield* check(r, rc)
    const tags: Array<{ key: string; value: string }> = []
    for (const t of input.Tags) tags.push(yield* checkTag(t))
    yield* H.dryRun(input)
    yield* H.db(Tags.put(rc.account.id, input.Resources.flatMap((r) => tags.map((t) => ({ resourceId: r, key: t.key, value: t.value })))))
    return {}
  })

export const DeleteTags: H.Handler<"DeleteTags"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.Resources.length === 0) return yield* Ec2Error.missingParameter("ResourceId")
    for (const r of input.Resources) if (resourceType(r) === undefined) return yield* Ec2Error.make("InvalidID", `The ID '${Ec2Error.quote(r)}' is not valid`)
    yield* H.dryRun(input)
    yield* H.db(Tags.remove(rc.account.id, input.Resources, (input.Tags ?? []).map((t) => ({ key: t.Key ?? "", value: t.Value }))))
    return {}
  })

export const DescribeTags: H.Handler<"DescribeTags"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    yield* H.checkMaxResults(input.MaxResults, 5, 1000)
    const all = yield* H.db(Tags.list(rc.account.id))
    const keep = yield* Filter.compile<Tags.Tag>(
      { "resource-id": (t) => t.resourceId, "resource-type": (t) => resourceType(t.resourceId), key: (t) => t.key, value: (t) => t.value },
      input.Filters
    )
    const chosen = all.filter(keep)
    const after = yield* H.decodeToken(input.NextToken)
    const start = after === undefined ? 0 : Number(after)
    const end = input.MaxResults === undefined ? chosen.length : start + input.MaxResults
    const slice = chosen.slice(start, end)
    return {
      Tags: slice.map((t): Shapes.TagDescription => ({ ResourceId: t.resourceId, ResourceType: resourceType(t.resourceId) ?? "", Key: t.key, Value: t.value })),
      ...(end < chosen.length ? { NextToken: H.encodeToken(String(end)) } : {})
    }
  })
