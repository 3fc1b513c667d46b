/** Images: DescribeImages, RegisterImage, DeregisterImage, DescribeImageAttribute. */
import { Effect, Option } from "effect"
import * as Ebs from "../../model/Ebs.js"
import * as Images from "../../store/Images.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"
import * as BlockDevices from "./BlockDevices.js"

const rootType = (i: Images.Image) => (Images.rootSnapshot(i) !== undefined ? "ebs" : "instance-store")

/** Whether an account sees (and may launch) an image: its own, public, the cloud's, or shared with it. */
export const visible = (i: Images.Image, accountId: string, permitted?: ReadonlySet<string>) =>
  i.owner === accountId || i.public || i.owner === Images.SYSTEM_OWNER || permitted?.has(i.id) === true

const shape = (i: Images.Image, tags: ReadonlyArray<Tags.Tag> | undefined): Shapes.Image => ({
  ImageId: i.id,
  ImageLocation: i.location,
  State: i.state,
  OwnerId: i.owner,
  ...(i.owner === Images.SYSTEM_OWNER ? { ImageOwnerAlias: "eucalyptus" } : {}),
  CreationDate: new Date(i.createdAt).toISOString(),
  Public: i.public || i.owner === Images.SYSTEM_OWNER,
  Architecture: i.architecture,
  ImageType: i.kind,
  ...(i.kernelId !== undefined ? { KernelId: i.kernelId } : {}),
  ...(i.ramdiskId !== undefined ? { RamdiskId: i.ramdiskId } : {}),
  Name: i.name,
  Description: i.description,
  RootDeviceType: rootType(i),
  RootDeviceName: i.rootDeviceName,
  VirtualizationType: i.virtualization,
  Hypervisor: "xen",
  BlockDeviceMappings: BlockDevices.ofImage(i),
  ...(Views.tagList(tags) ? { Tags: Views.tagList(tags)! } : {})
})

export const DescribeImages: H.Handler<"DescribeImages"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    for (const id of input.ImageIds ?? []) yield* H.checkImageId(id)
    const permitted = yield* H.db(Images.permittedTo(rc.account.id))
    const all = (yield* H.db(Images.all)).filter((i) => visible(i, rc.account.id, permitted))
    const tags = yield* H.db(Tags.byResource(rc.account.id))
    const ids = input.ImageIds ?? []
    const missing = ids.filter((id) => !all.some((i) => i.id === id))
    if (missing.length > 0) return yield* Ec2Error.make("InvalidAMIID.NotFound", `The image id '[${missing.map((m) => Ec2Error.quote(m)).join(", ")}]' does not exist`)
    const owners = input.Owners ?? []
    const ownerOk = (i: Images.Image) =>
      owners.length === 0 ||
      owners.some((o) => (o === "self" ? i.owner === rc.account.id : o === "eucalyptus" || o === "amazon" ? i.owner === Images.SYSTEM_OWNER : i.owner === o))
    const keep = yield* Filter.compile<Images.Image>(
      {
        "image-id": (i) => i.id,
        name: (i) => i.name,
        description: (i) => i.description,
        "image-type": (i) => i.kind,
        state: (i) => i.state,
        "owner-id": (i) => i.owner,
        "owner-alias": (i) => (i.owner === Images.SYSTEM_OWNER ? "eucalyptus" : undefined),
        architecture: (i) => i.architecture,
        "is-public": (i) => String(i.public || i.owner === Images.SYSTEM_OWNER),
        "kernel-id": (i) => i.kernelId,
        "ramdisk-id": (i) => i.ramdiskId,
        "manifest-location": (i) => i.location,
        "root-device-type": rootType,
        "root-device-name": (i) => i.rootDeviceName,
        "block-device-mapping.snapshot-id": (i) => i.blockDevices.flatMap((d) => (d.snapshotId !== undefined ? [d.snapshotId] : [])),
        "block-device-mapping.device-name": (i) => i.blockDevices.map((d) => d.device),
        "virtualization-type": (i) => i.virtualization,
        hypervisor: () => "xen"
      },
      input.Filters,
      { tags: (i) => (tags.get(i.id) ?? []).map((t) => ({ key: t.key, value: t.value })) }
    )
    const chosen = all.filter((i) => (ids.length === 0 || ids.includes(i.id)) && ownerOk(i) && keep(i))
    return { Images: chosen.map((i) => shape(i, tags.get(i.id))) }
  })

export const RegisterImage: H.Handler<"RegisterImage"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.Name === "" || input.Name.length > 128 || !/^[\w ()[\]./'@-]+$/.test(input.Name)) {
      return yield* Ec2Error.make("InvalidParameterValue", `Invalid image name '${Ec2Error.quote(input.Name)}': 3–128 letters, digits, spaces and ()[]./-'@_`)
    }
    // An EBS-backed image: its root device maps a snapshot the account may use; it needs no manifest.
    const devices = (yield* BlockDevices.parse(input.BlockDeviceMappings)).filter((d) => d.noDevice !== true)
    const rootName = input.RootDeviceName ?? "/dev/sda1"
    const root = devices.find((d) => d.device === rootName && d.snapshotId !== undefined)
    if (devices.length > 0 && root === undefined && (input.ImageLocation ?? "") === "") {
      return yield* Ec2Error.make("InvalidParameterValue", `The root device ${rootName} must map a snapshot (BlockDeviceMapping.N.Ebs.SnapshotId) to register an EBS-backed image`)
    }
    const s = yield* H.state
    for (const d of devices) {
      if (d.snapshotId === undefined) continue
      const snap = Ebs.snapshot(s.storage, d.snapshotId)
      if (!snap || !Ebs.restorableBy(snap, rc.account.id)) return yield* Ec2Error.fromRejection({ _tag: "SnapshotNotFound", ids: [d.snapshotId] })
      if (snap.state !== "completed") return yield* Ec2Error.fromRejection({ _tag: "IncorrectSnapshotState", snapshot: snap.id, state: snap.state, action: "register an image from" })
      if (d.sizeGiB !== undefined && d.sizeGiB < snap.volumeSizeGiB) {
        return yield* Ec2Error.make("InvalidParameterValue", `${d.device}: ${d.sizeGiB} GiB is smaller than snapshot ${snap.id} (${snap.volumeSizeGiB} GiB)`)
      }
    }
    const location = root !== undefined && (input.ImageLocation ?? "") === "" ? `${rc.account.id}/${input.Name}` : input.ImageLocation
    if (location === undefined || location === "") return yield* Ec2Error.missingParameter("ImageLocation")
    for (const [field, id, kind] of [["KernelId", input.KernelId, "kernel"], ["RamdiskId", input.RamdiskId, "ramdisk"]] as const) {
      if (id === undefined) continue
      yield* H.checkImageId(id, field)
      const img = yield* H.db(Images.get(id))
      if (Option.isNone(img) || img.value.kind !== kind || !visible(img.value, rc.account.id)) {
        return yield* Ec2Error.make("InvalidAMIID.NotFound", `The ${kind} image '${Ec2Error.quote(id)}' does not exist`)
      }
    }
    const arch = input.Architecture ?? "x86_64"
    if (!["x86_64", "i386", "arm64"].includes(arch)) return yield* Ec2Error.make("InvalidParameterValue", `Invalid architecture '${Ec2Error.quote(arch)}'`)
    const duplicate = (yield* H.db(Images.all)).some((i) => i.owner === rc.account.id && i.name === input.Name)
    if (duplicate) return yield* Ec2Error.make("InvalidAMIName.Duplicate", `AMI name ${Ec2Error.quote(input.Name)} is already in use by one of your images`)
    yield* H.dryRun(input)
    // Eucalyptus's registration names the kind by the manifest: kernels and ramdisks registered as such.
    const kind: Images.Kind = root !== undefined ? "machine" : /vmlinu[xz]|kernel/i.test(location) && input.KernelId === undefined ? "kernel" : /initrd|ramdisk/i.test(location) && input.RamdiskId === undefined ? "ramdisk" : "machine"
    const id = yield* H.db(
      Images.register({
        owner: rc.account.id,
        name: input.Name,
        description: input.Description,
        kind,
        location,
        architecture: arch,
        kernelId: input.KernelId,
        ramdiskId: input.RamdiskId,
        rootDeviceName: rootName,
        virtualization: input.VirtualizationType,
        blockDevices: devices.map(({ noDevice: _n, ...d }) => d),
        now: rc.now
      })
    )
    return { ImageId: id }
  })

export const owned = (id: string, accountId: string) =>
  Effect.gen(function* () {
    yield* H.checkImageId(id)
    const img = yield* H.db(Images.get(id))
    const permitted = yield* H.db(Images.permittedTo(accountId))
    if (Option.isNone(img) || !visible(img.value, accountId, permitted)) {
      return yield* Ec2Error.make("InvalidAMIID.NotFound", `The image id '[${Ec2Error.quote(id)}]' does not exist`)
    }
    return img.value
  })

export const DeregisterImage: H.Handler<"DeregisterImage"> = (input, rc) =>
  Effect.gen(function* () {
    const img = yield* owned(input.ImageId, rc.account.id)
    if (img.owner !== rc.account.id) return yield* Ec2Error.unauthorizedOperation()
    yield* H.dryRun(input)
    yield* H.db(Images.deregister(img.id))
    return { Return: true }
  })

export const DescribeImageAttribute: H.Handler<"DescribeImageAttribute"> = (input, rc) =>
  Effect.gen(function* () {
    const img = yield* owned(input.ImageId, rc.account.id)
    yield* H.dryRun(input)
    const base = { ImageId: img.id }
    switch (input.Attribute) {
      case "description":
        return { ...base, Description: { Value: img.description } }
      case "kernel":
        return { ...base, KernelId: img.kernelId !== undefined ? { Value: img.kernelId } : {} }
      case "ramdisk":
        return { ...base, RamdiskId: img.ramdiskId !== undefined ? { Value: img.ramdiskId } : {} }
      case "launchPermission": {
        const accounts = img.owner === rc.account.id ? yield* H.db(Images.launchPermissions(img.id)) : []
        return { ...base, LaunchPermissions: [...(img.public || img.owner === Images.SYSTEM_OWNER ? [{ Group: "all" }] : []), ...accounts.map((a) => ({ UserId: a }))] }
      }
      case "productCodes":
        return { ...base, ProductCodes: [] }
      case "blockDeviceMapping":
        return { ...base, BlockDeviceMappings: BlockDevices.ofImage(img) }
      default:
        return yield* Ec2Error.make(
          "InvalidParameterValue",
          `Value (${Ec2Error.quote(input.Attribute)}) for parameter attribute is invalid. Expected one of: description, kernel, ramdisk, launchPermission, productCodes, blockDeviceMapping`
        )
    }
  })
