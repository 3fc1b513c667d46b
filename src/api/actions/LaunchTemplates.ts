/**
 * Launch templates: Create/Describe/Delete/ModifyLaunchTemplate, Create/DescribeLaunchTemplateVersions,
 * and RunInstances `LaunchTemplate.*` (the request's own parameters override the template's). A
 * template keeps the launch settings this cloud acts on (image, type, key, zone, kernel, ramdisk,
 * groups, user data, tags, the owner's instance settings, one network interface); a template naming
 * others (block devices, IAM profiles, market options, …) is refused with UnsupportedOperation
 * rather than kept and ignored.
 */
import { Effect, Option } from "effect"
import * as LaunchTemplates from "../../store/LaunchTemplates.js"
import * as H from "../Handler.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"

const SUPPORTED = new Set([
  "ImageId", "InstanceType", "KeyName", "Placement", "KernelId", "RamDiskId", "DisableApiTermination", "DisableApiStop",
  "InstanceInitiatedShutdownBehavior", "UserData", "TagSpecifications", "SecurityGroupIds", "SecurityGroups", "NetworkInterfaces", "Monitoring"
])
const NAME = /^[a-zA-Z0-9().\-/_]{3,128}$/

const checkData = (data: Shapes.RequestLaunchTemplateData) =>
  Effect.gen(function* () {
    const other = Object.keys(data).filter((k) => !SUPPORTED.has(k))
    if (other.length > 0) return yield* Ec2Error.make("UnsupportedOperation", `Launch template data not supported here: ${other.join(", ")}`)
    if (data.Placement !== undefined && Object.keys(data.Placement).some((k) => k !== "AvailabilityZone")) {
      return yield* Ec2Error.make("UnsupportedOperation", "Launch template placement supports AvailabilityZone only")
    }
    return data
  })

const notFound = (what: string) => Ec2Error.make("InvalidLaunchTemplateId.NotFound", `The specified launch template, ${Ec2Error.quote(what)}, does not exist.`)

const templateOf = (rc: H.RequestContext, by: { readonly LaunchTemplateId?: string | undefined; readonly LaunchTemplateName?: string | undefined }) =>
  Effect.gen(function* () {
    if (by.LaunchTemplateId === undefined && by.LaunchTemplateName === undefined) return yield* Ec2Error.missingParameter("LaunchTemplateId")
    if (by.LaunchTemplateId !== undefined && by.LaunchTemplateName !== undefined) {
      return yield* Ec2Error.make("InvalidParameterCombination", "Give LaunchTemplateId or LaunchTemplateName, not both")
    }
    const t = yield* H.db(LaunchTemplates.find(rc.account.id, { id: by.LaunchTemplateId, name: by.LaunchTemplateName }))
    if (Option.isNone(t)) {
      return yield* by.LaunchTemplateName !== undefined
        ? Ec2Error.make("InvalidLaunchTemplateName.NotFoundException", `The specified launch template, with template name ${Ec2Error.quote(by.LaunchTemplateName)}, does not exist.`)
        : notFound(by.LaunchTemplateId!)
    }
    return t.value
  })

const view = (t: LaunchTemplates.Template): Shapes.LaunchTemplate => ({
  LaunchTemplateId: t.id,
  LaunchTemplateName: t.name,
  CreateTime: t.createdAt,
  CreatedBy: `arn:aws:iam::${t.account}:user/admin`,
  DefaultVersionNumber: t.defaultVersion,
  LatestVersionNumber: t.latestVersion
})

const versionView = (t: LaunchTemplates.Template, v: LaunchTemplates.Version): Shapes.LaunchTemplateVersion => ({
  LaunchTemplateId: t.id,
  LaunchTemplateName: t.name,
  VersionNumber: v.version,
  ...(v.description !== undefined ? { VersionDescription: v.description } : {}),
  CreateTime: v.createdAt,
  CreatedBy: `arn:aws:iam::${t.account}:user/admin`,
  DefaultVersion: v.version === t.defaultVersion,
  LaunchTemplateData: v.data as Shapes.ResponseLaunchTemplateData
})

/** `$Latest`, `$Default` or a number → a version number of `t`. */
const versionNumber = (t: LaunchTemplates.Template, v: string | undefined) =>
  Effect.gen(function* () {
    if (v === undefined || v === "" || v === "$Default") return t.defaultVersion
    if (v === "$Latest") return t.latestVersion
    const n = /^[1-9][0-9]{0,8}$/.test(v) ? Number(v) : Number.NaN
    if (!(n >= 1 && n <= t.latestVersion)) {
      return yield* Ec2Error.make("InvalidLaunchTemplateId.VersionNotFound", `Could not find launch template version ${Ec2Error.quote(v)} of ${t.id}`)
    }
    return n
  })

export const CreateLaunchTemplate: H.Handler<"CreateLaunchTemplate"> = (input, rc) =>
  Effect.gen(function* () {
    if (!NAME.test(input.LaunchTemplateName)) {
      return yield* Ec2Error.invalidParameterValue("LaunchTemplateName", input.LaunchTemplateName, "3–128 letters, digits and ().-/_")
    }
    const data = yield* checkData(input.LaunchTemplateData)
    yield* H.dryRun(input)
    const existing = yield* H.db(LaunchTemplates.find(rc.account.id, { name: input.LaunchTemplateName }))
    if (Option.isSome(existing)) {
      return yield* Ec2Error.make("InvalidLaunchTemplateName.AlreadyExistsException", `Launch template name already in use: ${input.LaunchTemplateName}`)
    }
    const id = yield* H.db(LaunchTemplates.create({ account: rc.account.id, name: input.LaunchTemplateName, description: input.VersionDescription, data, now: rc.now }))
    const t = yield* templateOf(rc, { LaunchTemplateId: id })
    return { LaunchTemplate: view(t) }
  })

export const CreateLaunchTemplateVersion: H.Handler<"CreateLaunchTemplateVersion"> = (input, rc) =>
  Effect.gen(function* () {
    const t = yield* templateOf(rc, input)
    let data = yield* checkData(input.LaunchTemplateData)
    if (input.SourceVersion !== undefined) {
      const n = yield* versionNumber(t, input.SourceVersion)
      const source = (yield* H.db(LaunchTemplates.versions(t.id))).find((v) => v.version === n)!
      data = { ...(source.data as Shapes.RequestLaunchTemplateData), ...data }
    }
    yield* H.dryRun(input)
    const version = yield* H.db(LaunchTemplates.addVersion(t.id, input.VersionDescription, data, rc.now))
    const after = yield* templateOf(rc, { LaunchTemplateId: t.id })
    const v = (yield* H.db(LaunchTemplates.versions(t.id))).find((x) => x.version === version)!
    return { LaunchTemplateVersion: versionView(after, v) }
  })

export const ModifyLaunchTemplate: H.Handler<"ModifyLaunchTemplate"> = (input, rc) =>
  Effect.gen(function* () {
    const t = yield* templateOf(rc, input)
    if (input.DefaultVersion === undefined) return yield* Ec2Error.missingParameter("SetDefaultVersion")
    const n = yield* versionNumber(t, input.DefaultVersion)
    yield* H.dryRun(input)
    yield* H.db(LaunchTemplates.setDefault(t.id, n))
    return { LaunchTemplate: view({ ...t, defaultVersion: n }) }
  })

export const DescribeLaunchTemplates: H.Handler<"DescribeLaunchTemplates"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    const all = yield* H.db(LaunchTemplates.list(rc.account.id))
    for (const id of input.LaunchTemplateIds ?? []) if (!all.some((t) => t.id === id)) return yield* notFound(id)
    for (const n of input.LaunchTemplateNames ?? []) {
      if (!all.some((t) => t.name === n)) return yield* Ec2Error.make("InvalidLaunchTemplateName.NotFoundException", `At least one of the launch templates specified in the request does not exist: ${Ec2Error.quote(n)}`)
    }
    const keep = yield* Filter.compile<LaunchTemplates.Template>(
      { "launch-template-name": (t) => t.name, "create-time": (t) => new Date(t.createdAt).toISOString() },
      input.Filters
    )
    const ids = input.LaunchTemplateIds ?? []
    const names = input.LaunchTemplateNames ?? []
    return { LaunchTemplates: all.filter((t) => (ids.length === 0 || ids.includes(t.id)) && (names.length === 0 || names.includes(t.name)) && keep(t)).map(view) }
  })

export const DescribeLaunchTemplateVersions: H.Handler<"DescribeLaunchTemplateVersions"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    const t = yield* templateOf(rc, input)
    const all = yield* H.db(LaunchTemplates.versions(t.id))
    const wanted = new Set<number>()
    for (const v of input.Versions ?? []) wanted.add(yield* versionNumber(t, v))
    const min = input.MinVersion !== undefined ? yield* versionNumber(t, input.MinVersion) : 1
    const max = input.MaxVersion !== undefined ? yield* versionNumber(t, input.MaxVersion) : t.latestVersion
    const chosen = all.filter((v) => (wanted.size === 0 || wanted.has(v.version)) && v.version >= min && v.version <= max)
    return { LaunchTemplateVersions: chosen.map((v) => versionView(t, v)) }
  })

export const DeleteLaunchTemplate: H.Handler<"DeleteLaunchTemplate"> = (input, rc) =>
  Effect.gen(function* () {
    const t = yield* templateOf(rc, input)
    yield* H.dryRun(input)
    yield* H.db(LaunchTemplates.remove(t.id))
    return { LaunchTemplate: view(t) }
  })

/** RunInstances with `LaunchTemplate.*`: the template version's settings under the request's own. */
export const merge = (input: Shapes.RunInstancesRequest, rc: H.RequestContext) =>
  Effect.gen(function* () {
    const spec = input.LaunchTemplate
    if (spec === undefined) return input
    const t = yield* templateOf(rc, spec)
    const n = yield* versionNumber(t, spec.Version)
    const d = (yield* H.db(LaunchTemplates.versions(t.id))).find((v) => v.version === n)!.data as Shapes.RequestLaunchTemplateData
    const { LaunchTemplate: _lt, ...own } = input
    const fromTemplate: Partial<Shapes.RunInstancesRequest> = {
      ...(d.ImageId !== undefined ? { ImageId: d.ImageId } : {}),
      ...(d.InstanceType !== undefined ? { InstanceType: d.InstanceType } : {}),
      ...(d.KeyName !== undefined ? { KeyName: d.KeyName } : {}),
      ...(d.Placement?.AvailabilityZone !== undefined ? { Placement: { AvailabilityZone: d.Placement.AvailabilityZone } } : {}),
      ...(d.KernelId !== undefined ? { KernelId: d.KernelId } : {}),
      ...(d.RamDiskId !== undefined ? { RamdiskId: d.RamDiskId } : {}),
      ...(d.DisableApiTermination !== undefined ? { DisableApiTermination: d.DisableApiTermination } : {}),
      ...(d.DisableApiStop !== undefined ? { DisableApiStop: d.DisableApiStop } : {}),
      ...(d.InstanceInitiatedShutdownBehavior !== undefined ? { InstanceInitiatedShutdownBehavior: d.InstanceInitiatedShutdownBehavior } : {}),
      ...(d.UserData !== undefined ? { UserData: d.UserData } : {}),
      ...(d.TagSpecifications !== undefined ? { TagSpecifications: d.TagSpecifications } : {}),
      ...(d.SecurityGroupIds !== undefined ? { SecurityGroupIds: d.SecurityGroupIds } : {}),
      ...(d.SecurityGroups !== undefined ? { SecurityGroups: d.SecurityGroups } : {}),
      ...(d.NetworkInterfaces !== undefined ? { NetworkInterfaces: d.NetworkInterfaces } : {})
    }
    const set = Object.fromEntries(Object.entries(own).filter(([, v]) => v !== undefined && !(Array.isArray(v) && v.length === 0)))
    return { ...fromTemplate, ...set } as Shapes.RunInstancesRequest
  })
