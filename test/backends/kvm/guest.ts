/**
 * The busybox guest image of the guest-image contract (scripts/guest-images/build.sh, built and
 * cached by test/support/GuestImages.ts from branch h/guest). Until that module is in this tree, the
 * newest image it built in the cache is used.
 */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export interface Guest {
  readonly kernel: string
  readonly ramdisk: string
  readonly cmdline: string
}

const fromDir = (dir: string): Guest => {
  const m = JSON.parse(Fs.readFileSync(Path.join(dir, "manifest.json"), "utf8")) as { kernel: string; ramdisk: string; cmdline: string }
  // KVM guests have their console on ttyS0 only.
  const cmdline = m.cmdline.split(/\s+/).filter((w) => w !== "console=hvc0").join(" ")
  return { kernel: Path.join(dir, m.kernel), ramdisk: Path.join(dir, m.ramdisk), cmdline }
}

export const busyboxGuest = async (): Promise<Guest> => {
  const modulePath = "../../support/GuestImages.js"
  const mod = await import(/* @vite-ignore */ modulePath).catch(() => undefined) as
    | { build: (kind: "busybox") => Promise<{ readonly dir?: string; readonly kernel?: string; readonly ramdisk?: string; readonly cmdline?: string }> }
    | undefined
  if (mod !== undefined) {
    const g = await mod.build("busybox")
    if (g.kernel !== undefined && g.ramdisk !== undefined) {
      return { kernel: g.kernel, ramdisk: g.ramdisk, cmdline: (g.cmdline ?? "console=ttyS0 panic=-1").split(/\s+/).filter((w) => w !== "console=hvc0").join(" ") }
    }
    if (g.dir !== undefined) return fromDir(g.dir)
  }
  const cache = Path.join(process.env["EUCA_CACHE"] ?? Path.join(Os.homedir(), ".cache", "eucalyptus"), "images")
  const dirs = (Fs.existsSync(cache) ? Fs.readdirSync(cache) : [])
    .filter((d) => d.startsWith("busybox-") && Fs.existsSync(Path.join(cache, d, "manifest.json")))
    .map((d) => Path.join(cache, d))
    .sort((a, b) => Fs.statSync(b).mtimeMs - Fs.statSync(a).mtimeMs)
  if (dirs[0] === undefined) throw new Error(`no busybox guest image: run scripts/guest-images/build.sh busybox (cache ${cache})`)
  return fromDir(dirs[0])
}
