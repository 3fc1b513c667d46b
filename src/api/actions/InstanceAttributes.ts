/**
 * Describe/Modify/ResetInstanceAttribute. The owner's settings (disableApiTermination — enforced by
 * the core: TerminateInstances then fails with OperationNotPermitted —, disableApiStop,
 * instanceInitiatedShutdownBehavior, sourceDestCheck) go through the core's decider and journal.
 * What is fixed at launch for an instance-store instance (instanceType, userData, kernel, ramdisk)
 * changes only while stopped, as on EC2; no instance stops yet, so such a change is
 * IncorrectInstanceState. groupSet (GroupId.N) moves the instance between groups of its account:
 * one decision in the core, which re-plans its network (it keeps its address). EBS and ENA settings
 * are UnsupportedOperation.
 */
import { Effect } from "effect"
import type * as Ids from "../../model/Ids.js"
import * as State from "../../model/State.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"

const ATTRIBUTES = [
  "instanceType", "kernel", "ramdisk", "userData", "disableApiTermination", "instanceInitiatedShutdownBehavior", "rootDeviceName",
  "blockDeviceMapping", "productCodes", "sourceDestCheck", "groupSet", "ebsOptimized", "sriovNetSupport", "enaSupport", "enclaveOptions", "disableApiStop"
] as const
type Attribute = (typeof ATTRIBUTES)[number]

const invalidAttribute = (name: string) =>
  Ec2Error.make("InvalidParameterValue", `Value (${Ec2Error.quote(name)}) for parameter attribute is invalid. Unknown attribute; use one of ${ATTRIBUTES.join(", ")}.`)

const mine = (id: string, rc: H.RequestContext) =>
  Effect.gen(function* () {
    yield* H.checkInstanceIds([id])
    const s = yield* H.state
    const i = State.instance(s, id)
    if (i === undefined || i.account !== rc.account.id) return yield* Ec2Error.fromRejection({ _tag: "InstanceNotFound", ids: [id] })
    return { s, i }
  })

export const DescribeInstanceAttribute: H.Handler<"DescribeInstanceAttribute"> = (input, rc) =>
  Effect.gen(function* () {
    if (!(ATTRIBUTES as ReadonlyArray<string>).includes(input.Attribute)) return yield* invalidAttribute(input.Attribute)
    const { s, i } = yield* mine(input.InstanceId, rc)
    yield* H.dryRun(input)
    const a = i.attributes ?? {}
    const value = (v: string | undefined): Shapes.AttributeValue => (v === undefined ? {} : { Value: v })
    const out: Record<Attribute, () => Shapes.InstanceAttribute> = {
      instanceType: () => ({ InstanceType: { Value: i.vmType } }),
      kernel: () => ({ KernelId: value(i.kernelId) }),
      ramdisk: () => ({ RamdiskId: value(i.ramdiskId) }),
      userData: () => ({ UserData: value(i.userData) }),
      disableApiTermination: () => ({ DisableApiTermination: { Value: a.disableApiTermination ?? false } }),
      disableApiStop: () => ({ DisableApiStop: { Value: a.disableApiStop ?? false } }),
      instanceInitiatedShutdownBehavior: () => ({ InstanceInitiatedShutdownBehavior: { Value: a.shutdownBehavior ?? "stop" } }),
      rootDeviceName: () => ({ RootDeviceName: { Value: "/dev/sda1" } }),
      // An instance-store root: no EBS volumes are mapped.
      blockDeviceMapping: () => ({ BlockDeviceMappings: [] }),
      productCodes: () => ({ ProductCodes: [] }),
      sourceDestCheck: () => ({ SourceDestCheck: { Value: a.sourceDestCheck ?? true } }),
      groupSet: () => ({ Groups: Views.groupIdentifiers(s, i.groups) }),
      ebsOptimized: () => ({ EbsOptimized: { Value: false } }),
      sriovNetSupport: () => ({ SriovNetSupport: {} }),
      enaSupport: () => ({ EnaSupport: { Value: false } }),
      enclaveOptions: () => ({ EnclaveOptions: { Enabled: false } })
    }
    return { InstanceId: i.id, ...out[input.Attribute as Attribute]() }
  })

const BEHAVIOURS = ["stop", "terminate"] as const

const boolOf = (name: string, v: string) =>
  v.toLowerCase() === "true" ? Effect.succeed(true) : v.toLowerCase() === "false" ? Effect.succeed(false) : Effect.fail(Ec2Error.invalidParameterValue(name, v, "expected true or false"))

const submit = (rc: H.RequestContext, instanceId: string, attributes: State.InstanceAttributes, whileStopped?: string) =>
  H.submit({ _tag: "ModifyInstanceAttributes", account: rc.account.id as Ids.AccountId, instanceId, attributes, whileStopped })

export const ModifyInstanceAttribute: H.Handler<"ModifyInstanceAttribute"> = (input, rc) =>
  Effect.gen(function* () {
    yield* mine(input.InstanceId, rc)
    // One attribute per call: the `Attribute`+`Value` form or one of the structured members.
    const given: Array<readonly [string, unknown]> = (
      [
        ["disableApiTermination", input.DisableApiTermination?.Value],
        ["disableApiStop", input.DisableApiStop?.Value],
        ["sourceDestCheck", input.SourceDestCheck?.Value],
        ["instanceInitiatedShutdownBehavior", input.InstanceInitiatedShutdownBehavior?.Value],
        ["instanceType", input.InstanceType?.Value],
        ["userData", input.UserData?.Value],
        ["kernel", input.Kernel?.Value],
        ["ramdisk", input.Ramdisk?.Value],
        ["groupSet", input.Groups !== undefined && input.Groups.length > 0 ? input.Groups : undefined],
        ["blockDeviceMapping", input.BlockDeviceMappings !== undefined && input.BlockDeviceMappings.length > 0 ? input.BlockDeviceMappings : undefined],
        ["ebsOptimized", input.EbsOptimized?.Value],
        ["enaSupport", input.EnaSupport?.Value],
        ["sriovNetSupport", input.SriovNetSupport?.Value]
      ] as const
    ).filter(([, v]) => v !== undefined)
    if (input.Attribute !== undefined) {
      if (!(ATTRIBUTES as ReadonlyArray<string>).includes(input.Attribute)) return yield* invalidAttribute(input.Attribute)
      if (input.Value === undefined) return yield* Ec2Error.missingParameter("Value")
      given.push([input.Attribute, input.Value])
    }
    if (given.length === 0) return yield* Ec2Error.missingParameter("Attribute")
    if (given.length > 1) return yield* Ec2Error.make("InvalidParameterCombination", `Only one attribute can be modified at a time; given: ${given.map(([n]) => n).join(", ")}`)
    const [name, raw] = given[0]!
    const text = typeof raw === "string" ? raw : undefined
    // groupSet: GroupId.N, or the Attribute=groupSet form with one group id as its Value.
    const groupIds = Array.isArray(raw) ? (raw as ReadonlyArray<string>) : [text ?? ""]
    if (name === "groupSet") yield* H.checkGroupIds(groupIds)
    yield* H.dryRun(input)
    switch (name) {
      case "disableApiTermination":
      case "disableApiStop":
      case "sourceDestCheck": {
        const v = typeof raw === "boolean" ? raw : yield* boolOf(name, text ?? "")
        yield* submit(rc, input.InstanceId, { [name]: v })
        return {}
      }
      case "instanceInitiatedShutdownBehavior": {
        if (!(BEHAVIOURS as ReadonlyArray<string>).includes(text ?? "")) return yield* Ec2Error.invalidParameterValue("InstanceInitiatedShutdownBehavior", text ?? "", "expected stop or terminate")
        yield* submit(rc, input.InstanceId, { shutdownBehavior: text as "stop" | "terminate" })
        return {}
      }
      case "instanceType":
      case "userData":
      case "kernel":
      case "ramdisk":
        yield* submit(rc, input.InstanceId, {}, name)
        return {}
      case "groupSet":
        yield* H.submit({ _tag: "ModifyInstanceGroups", account: rc.account.id as Ids.AccountId, instanceId: input.InstanceId, groupIds })
        return {}
      case "rootDeviceName":
      case "productCodes":
      case "enclaveOptions":
        return yield* Ec2Error.make("InvalidParameterValue", `The attribute ${name} cannot be modified`)
      default:
        return yield* Ec2Error.make("UnsupportedOperation", `Modifying ${name} is not supported for this instance (instance-store root, one network interface)`)
    }
  })

export const ResetInstanceAttribute: H.Handler<"ResetInstanceAttribute"> = (input, rc) =>
  Effect.gen(function* () {
    const resettable = ["kernel", "ramdisk", "sourceDestCheck"]
    if (!resettable.includes(input.Attribute)) {
      return yield* Ec2Error.make("InvalidParameterValue", `Value (${Ec2Error.quote(input.Attribute)}) for parameter attribute is invalid. Only kernel, ramdisk and sourceDestCheck can be reset.`)
    }
    yield* mine(input.InstanceId, rc)
    yield* H.dryRun(input)
    if (input.Attribute === "sourceDestCheck") yield* submit(rc, input.InstanceId, { sourceDestCheck: undefined })
    else yield* submit(rc, input.InstanceId, {}, input.Attribute)
    return {}
  })
