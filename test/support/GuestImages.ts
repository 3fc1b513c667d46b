/**
 * Guest images for the real-hypervisor tests (the contract in scripts/guest-images/README.md):
 * `build(kind)` runs `scripts/guest-images/build.sh KIND` (built once, cached by content under
 * `${EUCA_CACHE:-~/.cache/eucalyptus}/images/KIND-<hash>/`) and returns the files of its
 * manifest.json as absolute paths; `canBuild()` says why a build cannot run here (undefined when
 * it can). Concurrent builds of the same image wait for each other (the script holds a lock).
 *
 * kinds:
 * - `busybox`: the Debian kernel + an initramfs (busybox, dropbear, virtio and Xen PV front-end
 *   drivers) whose /init configures eth0 (`ip=` on the kernel command line, else DHCP), fetches
 *   the key and the user data from 169.254.169.254 and starts dropbear; console lines `EUCA-GUEST: …`.
 * - `cloudinit`: a Debian bookworm qcow2 disk with cloud-init (EC2 datasource) and openssh-server,
 *   plus its kernel and initrd for direct kernel boot.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

export type GuestKind = "busybox" | "cloudinit"

export const BUILD_SCRIPT = Path.resolve(
  Path.dirname(fileURLToPath(import.meta.url)), "..", "..", "scripts", "guest-images", "build.sh"
)

export interface GuestImage {
  readonly kind: GuestKind
  /** The cache directory holding the image's files. */
  readonly dir: string
  /** Absolute path of the kernel (bzImage) for direct kernel boot. */
  readonly kernel: string
  /** Absolute path of the initramfs. */
  readonly ramdisk: string
  /** The kernel command line the image expects (consoles; append `ip=…` or `root=…` as needed). */
  readonly cmdline: string
  /** cloudinit: absolute path of the disk image. */
  readonly disk?: string | undefined
  /** cloudinit: the disk's format ("qcow2"). */
  readonly format?: string | undefined
  /** The Debian packages (name=version) the image was built from. */
  readonly packages: ReadonlyArray<string>
  /** Wall-clock milliseconds build() took (about a second when cached). */
  readonly buildMs: number
}

const has = (cmd: string): boolean =>
  ChildProcess.spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" }).status === 0

const TOOLS: Record<GuestKind, ReadonlyArray<[string, string]>> = {
  busybox: [["apt-get", "apt"], ["dpkg-deb", "dpkg"], ["cpio", "cpio"], ["gzip", "gzip"], ["busybox", "busybox-static"], ["flock", "util-linux"]],
  cloudinit: [["apt-get", "apt"], ["dpkg-deb", "dpkg"], ["cpio", "cpio"], ["gzip", "gzip"], ["busybox", "busybox-static"], ["flock", "util-linux"],
    ["mmdebstrap", "mmdebstrap"], ["qemu-img", "qemu-utils"], ["mkfs.ext4", "e2fsprogs"]]
}

/** Why `build(kind)` cannot run on this machine, or undefined when it can. */
export const canBuild = (kind: GuestKind = "busybox"): string | undefined => {
  const problems: Array<string> = []
  if (process.getuid?.() !== 0) problems.push("building guest images needs root")
  const missing = TOOLS[kind].filter(([cmd]) => !has(cmd))
  if (missing.length > 0) {
    problems.push(`missing ${missing.map(([c]) => c).join(", ")} (apt-get install ${[...new Set(missing.map(([, p]) => p))].join(" ")})`)
  }
  if (!Fs.existsSync(BUILD_SCRIPT)) problems.push(`${BUILD_SCRIPT} is missing`)
  return problems.length === 0 ? undefined : problems.join("; ")
}

interface Manifest {
  readonly kind: string
  readonly kernel: string
  readonly ramdisk: string
  readonly cmdline: string
  readonly disk?: string
  readonly format?: string
}

const parseManifest = (dir: string, kind: GuestKind): Manifest => {
  const file = Path.join(dir, "manifest.json")
  let value: unknown
  try {
    value = JSON.parse(Fs.readFileSync(file, "utf8"))
  } catch (e) {
    throw new Error(`${file}: not readable JSON: ${String(e)}`)
  }
  const m = value as Record<string, unknown>
  const str = (field: string, required: boolean): string | undefined => {
    const v = m[field]
    if (v === undefined && !required) return undefined
    if (typeof v !== "string" || v === "") throw new Error(`${file}: field ${field}: expected a non-empty string, got ${JSON.stringify(v)}`)
    return v
  }
  if (str("kind", true) !== kind) throw new Error(`${file}: field kind: expected "${kind}", got ${JSON.stringify(m["kind"])}`)
  const disk = str("disk", kind === "cloudinit")
  const format = str("format", kind === "cloudinit")
  return {
    kind, kernel: str("kernel", true)!, ramdisk: str("ramdisk", true)!, cmdline: str("cmdline", true)!,
    ...(disk === undefined ? {} : { disk }), ...(format === undefined ? {} : { format })
  }
}

/** Builds (or finds in the cache) the image of `kind`. Progress of a real build goes to stderr. */
export const build = (kind: GuestKind): Promise<GuestImage> =>
  new Promise((resolve, reject) => {
    const why = canBuild(kind)
    if (why !== undefined) return reject(new Error(`cannot build the ${kind} guest image: ${why}`))
    const started = Date.now()
    const child = ChildProcess.spawn("bash", [BUILD_SCRIPT, kind], { stdio: ["ignore", "pipe", "pipe"] })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (d: Buffer) => { stdout += d.toString() })
    child.stderr.on("data", (d: Buffer) => {
      stderr += d.toString()
      if (process.env["EUCA_GUEST_VERBOSE"] !== undefined) process.stderr.write(d)
    })
    child.on("error", reject)
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`${BUILD_SCRIPT} ${kind} failed (exit ${code}):\n${stderr.slice(-4000)}`))
      const dir = stdout.trim().split("\n").pop() ?? ""
      try {
        if (!Path.isAbsolute(dir) || !Fs.statSync(dir).isDirectory()) throw new Error(`last stdout line is not a directory: ${JSON.stringify(dir)}`)
        const m = parseManifest(dir, kind)
        const abs = (f: string) => {
          const p = Path.resolve(dir, f)
          if (!Fs.existsSync(p)) throw new Error(`${dir}/manifest.json names ${f}, which is missing`)
          return p
        }
        const pk = Path.join(dir, "packages.txt")
        resolve({
          kind, dir, kernel: abs(m.kernel), ramdisk: abs(m.ramdisk), cmdline: m.cmdline,
          disk: m.disk === undefined ? undefined : abs(m.disk), format: m.format,
          packages: Fs.existsSync(pk) ? Fs.readFileSync(pk, "utf8").split("\n").filter((l) => l !== "") : [],
          buildMs: Date.now() - started
        })
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)))
      }
    })
  })
