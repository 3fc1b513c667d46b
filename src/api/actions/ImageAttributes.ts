/**
 * ModifyImageAttribute and ResetImageAttribute: who may launch an image (`launchPermission`: add or
 * remove accounts, or the group `all` for public) and its `description`. Only the owner changes
 * them (another account that sees the image gets AuthFailure, as EC2 answers; one that does not,
 * InvalidAMIID.NotFound). Also DescribeReservedInstances and DescribeReservedInstancesOfferings,
 * answered empty as Eucalyptus did: there is nothing to reserve.
 */
import { Effect } from "effect"
import * as Images from "../../store/Images.js"
import * as H from "../Handler.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"
import { owned } from "./Images.js"

const ACCOUNT = /^\d{12}$/

const mine = (id: string, rc: H.RequestContext) =>
  Effect.gen(function* () {
    const img = yield* owned(id, rc.account.id)
    if (img.owner !== rc.account.id) return yield* Ec2Error.authFailure(`You do not own the image ${img.id}; only its owner changes its attributes`)
    return img
  })

/** The launch-permission change a request asks for, in either of EC2's two forms. */
const changes = (input: Shapes.ModifyImageAttributeRequest) =>
  Effect.gen(function* () {
    const add: Array<Shapes.LaunchPermission> = [...(input.LaunchPermission?.Add ?? [])]
    const remove: Array<Shapes.LaunchPermission> = [...(input.LaunchPermission?.Remove ?? [])]
    if ((input.UserIds ?? []).length > 0 || (input.UserGroups ?? []).length > 0) {
      if (input.OperationType !== "add" && input.OperationType !== "remove") {
        return yield* Ec2Error.invalidParameterValue("OperationType", input.OperationType ?? "", "expected add or remove with UserId.N or UserGroup.N")
      }
      const list = input.OperationType === "add" ? add : remove
      for (const u of input.UserIds ?? []) list.push({ UserId: u })
      for (const g of input.UserGroups ?? []) list.push({ Group: g })
    }
    for (const p of [...add, ...remove]) {
      if (p.Group !== undefined && p.Group !== "all") return yield* Ec2Error.invalidParameterValue("Group", p.Group, "the only launch-permission group is all")
      if (p.UserId !== undefined && !ACCOUNT.test(p.UserId)) return yield* Ec2Error.invalidParameterValue("UserId", p.UserId, "expected a 12-digit account id")
      if (p.Group === undefined && p.UserId === undefined) return yield* Ec2Error.make("InvalidParameterValue", "A launch permission names a UserId or the Group all")
      if (p.OrganizationArn !== undefined || p.OrganizationalUnitArn !== undefined) return yield* Ec2Error.make("UnsupportedOperation", "Organizations are not supported")
    }
    return {
      public: add.some((p) => p.Group === "all") ? true : remove.some((p) => p.Group === "all") ? false : undefined,
      add: add.flatMap((p) => (p.UserId !== undefined ? [p.UserId] : [])),
      remove: remove.flatMap((p) => (p.UserId !== undefined ? [p.UserId] : []))
    }
  })

export const ModifyImageAttribute: H.Handler<"ModifyImageAttribute"> = (input, rc) =>
  Effect.gen(function* () {
    const img = yield* mine(input.ImageId, rc)
    const attribute = input.Attribute ?? (input.Description !== undefined ? "description" : "launchPermission")
    if (attribute === "description") {
      const text = input.Description?.Value ?? input.Value
      if (text === undefined) return yield* Ec2Error.missingParameter("Description.Value")
      if (text.length > 255) return yield* Ec2Error.invalidParameterValue("Description", text, "at most 255 characters")
      yield* H.dryRun(input)
      yield* H.db(Images.setDescription(img.id, text))
      return {}
    }
    if (attribute !== "launchPermission") {
      return yield* Ec2Error.make("InvalidParameterValue", `Value (${Ec2Error.quote(attribute)}) for parameter attribute is invalid: use launchPermission or description`)
    }
    const c = yield* changes(input)
    if (c.public === undefined && c.add.length === 0 && c.remove.length === 0) return yield* Ec2Error.missingParameter("LaunchPermission")
    if (img.owner === Images.SYSTEM_OWNER) return yield* Ec2Error.authFailure(`The image ${img.id} is the cloud's`)
    yield* H.dryRun(input)
    if (c.public !== undefined) yield* H.db(Images.setPublic(img.id, c.public))
    if (c.add.length > 0 || c.remove.length > 0) yield* H.db(Images.changeLaunchPermissions(img.id, c.add.filter((a) => a !== rc.account.id), c.remove))
    return {}
  })

export const ResetImageAttribute: H.Handler<"ResetImageAttribute"> = (input, rc) =>
  Effect.gen(function* () {
    const img = yield* mine(input.ImageId, rc)
    if (input.Attribute !== "launchPermission") {
      return yield* Ec2Error.make("InvalidParameterValue", `Value (${Ec2Error.quote(input.Attribute)}) for parameter attribute is invalid: only launchPermission can be reset`)
    }
    yield* H.dryRun(input)
    yield* H.db(Images.resetLaunchPermissions(img.id))
    return {}
  })

export const DescribeReservedInstances: H.Handler<"DescribeReservedInstances"> = (input) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    return { ReservedInstances: [] }
  })

export const DescribeReservedInstancesOfferings: H.Handler<"DescribeReservedInstancesOfferings"> = (input) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    return { ReservedInstancesOfferings: [] }
  })
