/**
 * The busybox guest image of the guest-image contract, built (once, cached by content) by
 * test/support/GuestImages.ts, with the command line KVM guests need: the console on ttyS0 only.
 */
import * as GuestImages from "../../support/GuestImages.js"

export interface Guest {
  readonly kernel: string
  readonly ramdisk: string
  readonly cmdline: string
}

export const busyboxGuest = async (): Promise<Guest> => {
  const why = GuestImages.canBuild("busybox")
  if (why !== undefined) throw new Error(`the busybox guest image cannot be built here: ${why}`)
  const g = await GuestImages.build("busybox")
  return { kernel: g.kernel, ramdisk: g.ramdisk, cmdline: g.cmdline.split(/\s+/).filter((w) => w !== "console=hvc0").join(" ") }
}
