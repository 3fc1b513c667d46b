/**
 * Block device mappings at the edge: RunInstances' (the image's root snapshot plus the request's
 * BlockDeviceMapping.N entries), RegisterImage's, and how DescribeImages shows them.
 */
import { Effect } from "effect"
import * as Ebs from "../../model/Ebs.js"
import type * as EbsCommands from "../../model/EbsCommands.js"
import type * as Images from "../../store/Images.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import type * as Shapes from "../protocol/Ec2Shapes.js"

const checkDevice = (name: string | undefined, k: number) =>
  name !== undefined && Ebs.DEVICE.test(name)
    ? Effect.succeed(name)
    : Effect.fail(Ec2Error.make("InvalidParameterValue", `BlockDeviceMapping.${k + 1}.DeviceName: '${Ec2Error.quote(name ?? "")}' is not a device name like /dev/sdf`))

/** The EBS entries of a mapping list (ephemeral `VirtualName` and `NoDevice` entries are not volumes). */
export const parse = (mappings: ReadonlyArray<Shapes.BlockDeviceMapping> | undefined) =>
  Effect.gen(function* () {
    const out: Array<Images.BlockDevice & { readonly noDevice?: boolean }> = []
    for (const [k, m] of (mappings ?? []).entries()) {
      const device = yield* checkDevice(m.DeviceName, k)
      if (m.NoDevice !== undefined) {
        out.push({ device, deleteOnTermination: true, noDevice: true })
        continue
      }
      if (m.Ebs === undefined) continue
      if (m.Ebs.Encrypted === true) return yield* Ec2Error.make("InvalidParameterValue", `BlockDeviceMapping.${k + 1}: encrypted volumes are not supported`)
      if (m.Ebs.SnapshotId === undefined && m.Ebs.VolumeSize === undefined) {
        return yield* Ec2Error.make("InvalidParameterValue", `BlockDeviceMapping.${k + 1}.Ebs: give a SnapshotId or a VolumeSize`)
      }
      out.push({
        device,
        ...(m.Ebs.SnapshotId !== undefined ? { snapshotId: m.Ebs.SnapshotId } : {}),
        ...(m.Ebs.VolumeSize !== undefined ? { sizeGiB: m.Ebs.VolumeSize } : {}),
        deleteOnTermination: m.Ebs.DeleteOnTermination ?? true
      })
    }
    return out
  })

/** What RunInstances asks the core for: the image's mappings overridden by the request's (by device name). */
export const forLaunch = (image: Images.Image, request: ReadonlyArray<Shapes.BlockDeviceMapping> | undefined) =>
  Effect.gen(function* () {
    const asked = yield* parse(request)
    const byDevice = new Map<string, EbsCommands.BlockDeviceRequest & { readonly noDevice?: boolean }>()
    for (const d of image.blockDevices) byDevice.set(d.device, { ...d, imageOwner: image.owner })
    for (const d of asked) {
      const base = byDevice.get(d.device)
      // A request may resize or change DeleteOnTermination of an image's mapping, keeping its snapshot.
      byDevice.set(d.device, base !== undefined && d.snapshotId === undefined && d.noDevice !== true ? { ...base, ...d, snapshotId: base.snapshotId, imageOwner: base.imageOwner } : d)
    }
    const root = image.blockDevices.some((d) => d.device === image.rootDeviceName && d.snapshotId !== undefined) ? image.rootDeviceName : undefined
    if (root !== undefined && byDevice.get(root)?.noDevice === true) {
      return yield* Ec2Error.make("InvalidParameterValue", `The root device ${root} of an EBS-backed image cannot be suppressed with NoDevice`)
    }
    // The root first: its volume is the instance's first.
    const list = [...byDevice.values()].filter((d) => d.noDevice !== true).sort((a, b) => (a.device === root ? -1 : b.device === root ? 1 : a.device < b.device ? -1 : 1))
    const blockDevices: Array<EbsCommands.BlockDeviceRequest> = list.map((d) => ({
      device: d.device,
      ...(d.snapshotId !== undefined ? { snapshotId: d.snapshotId } : {}),
      ...(d.sizeGiB !== undefined ? { sizeGiB: d.sizeGiB } : {}),
      deleteOnTermination: d.deleteOnTermination,
      ...(d.imageOwner !== undefined && d.snapshotId !== undefined ? { imageOwner: d.imageOwner } : {})
    }))
    return {
      ...(blockDevices.length > 0 ? { blockDevices } : {}),
      ...(root !== undefined ? { ebsRoot: root } : {})
    }
  })

/** An image's mappings as DescribeImages shows them. */
export const ofImage = (image: Images.Image): Array<Shapes.BlockDeviceMapping> =>
  image.blockDevices.map((d) => ({
    DeviceName: d.device,
    Ebs: {
      ...(d.snapshotId !== undefined ? { SnapshotId: d.snapshotId } : {}),
      ...(d.sizeGiB !== undefined ? { VolumeSize: d.sizeGiB } : {}),
      DeleteOnTermination: d.deleteOnTermination,
      VolumeType: "standard",
      Encrypted: false
    }
  }))
