/**
 * The xl.cfg(5) text for a guest: pure, validated, in the layout of the fixtures
 * (guest-pv.cfg / guest-pvh.cfg). Disk specs follow xl-disk-configuration(5) (`target=` last, since
 * it takes the rest of the spec), vif specs xl-network-configuration(5).
 */
import { Either } from "effect"

export type GuestType = "pv" | "pvh"
export type OnEvent = "destroy" | "restart" | "rename-restart" | "preserve" | "coredump-destroy" | "coredump-restart" | "soft-reset"

export interface Disk {
  /** The backing file or device on the node. */
  readonly target: string
  /** Guest device, e.g. `xvda1`. */
  readonly vdev: string
  readonly access?: "rw" | "ro" | undefined
  readonly format?: "raw" | "qcow2" | "vhd" | undefined
}

export interface Vif {
  readonly mac: string
  readonly bridge?: string | undefined
  /** Informational for vif-bridge (used by vif-route/vif-nat); the stand-in xl gives it to the guest. */
  readonly ip?: string | undefined
  readonly vifname?: string | undefined
  readonly script?: string | undefined
}

export interface Guest {
  readonly name: string
  readonly uuid?: string | undefined
  readonly type: GuestType
  readonly kernel: string
  readonly ramdisk?: string | undefined
  /** The whole kernel command line (preferred), … */
  readonly cmdline?: string | undefined
  /** … or the legacy `root` + `extra` pair. */
  readonly root?: string | undefined
  readonly extra?: string | undefined
  readonly memoryMiB: number
  readonly vcpus: number
  readonly disks: ReadonlyArray<Disk>
  readonly vifs: ReadonlyArray<Vif>
  readonly onPoweroff: OnEvent
  readonly onReboot: OnEvent
  readonly onCrash: OnEvent
  /** More keys, written after the standard ones (xl ignores keys it does not know). */
  readonly keys?: Readonly<Record<string, string | number>> | undefined
}

export interface XlConfigError {
  readonly _tag: "XlConfigError"
  /** The cfg key the bad value was for, e.g. `vif[0].bridge`. */
  readonly field: string
  readonly message: string
}

const bad = (field: string, message: string): XlConfigError => ({ _tag: "XlConfigError", field, message })

/** xl's dequoting (tools/libs/util/libxlu_cfg.c) knows these; its numeric escapes are unreliable, so other control characters are refused. */
const ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\v": "\\v" }

/** A double-quoted xl.cfg string, or an error naming the field. */
export const quote = (field: string, s: string): Either.Either<string, XlConfigError> => {
  let out = '"'
  for (const ch of s) {
    const e = ESCAPES[ch]
    if (e !== undefined) out += e
    else if (ch < " " || ch === "\x7f") return Either.left(bad(field, `control character U+${ch.charCodeAt(0).toString(16).padStart(4, "0")} cannot be written in an xl.cfg string`))
    else out += ch
  }
  return Either.right(`${out}"`)
}

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
const VDEV = /^(xvd|hd|sd)[a-z]+[0-9]*$/
const KEY = /^[a-z][_0-9a-z]*$/
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

// Inside a spec string, `,` separates parameters; the value of each must not contain one.
const specValue = (field: string, v: string): Either.Either<string, XlConfigError> =>
  /[,\n]/.test(v) || v.trim() !== v || v === ""
    ? Either.left(bad(field, `${JSON.stringify(v)} cannot be a value in an xl spec (empty, or contains a comma, newline or surrounding spaces)`))
    : Either.right(v)

export const diskSpec = (d: Disk, i: number): Either.Either<string, XlConfigError> =>
  Either.gen(function*() {
    const f = `disk[${i}]`
    if (!VDEV.test(d.vdev)) return yield* Either.left(bad(`${f}.vdev`, `not a virtual device name: ${JSON.stringify(d.vdev)}`))
    if (!d.target.startsWith("/")) return yield* Either.left(bad(`${f}.target`, `must be an absolute path: ${JSON.stringify(d.target)}`))
    if (d.target.includes("\n")) return yield* Either.left(bad(`${f}.target`, "contains a newline"))
    // target= takes the rest of the spec (commas included), so it comes last.
    return `format=${d.format ?? "raw"}, vdev=${d.vdev}, access=${d.access ?? "rw"}, target=${d.target}`
  })

export const vifSpec = (v: Vif, i: number): Either.Either<string, XlConfigError> =>
  Either.gen(function*() {
    const f = `vif[${i}]`
    if (!MAC.test(v.mac)) return yield* Either.left(bad(`${f}.mac`, `not a MAC address: ${JSON.stringify(v.mac)}`))
    const parts = [`mac=${v.mac.toLowerCase()}`]
    if (v.bridge !== undefined) {
      if (!IFNAME.test(v.bridge)) return yield* Either.left(bad(`${f}.bridge`, `not an interface name: ${JSON.stringify(v.bridge)}`))
      parts.push(`bridge=${v.bridge}`)
    }
    if (v.ip !== undefined) {
      const m = IPV4.exec(v.ip)
      if (m === null || m.slice(1).some((o) => Number(o) > 255)) return yield* Either.left(bad(`${f}.ip`, `not an IPv4 address: ${JSON.stringify(v.ip)}`))
      parts.push(`ip=${v.ip}`)
    }
    if (v.vifname !== undefined) {
      if (!IFNAME.test(v.vifname)) return yield* Either.left(bad(`${f}.vifname`, `not an interface name: ${JSON.stringify(v.vifname)}`))
      parts.push(`vifname=${v.vifname}`)
    }
    if (v.script !== undefined) parts.push(`script=${yield* specValue(`${f}.script`, v.script)}`)
    return parts.join(", ")
  })

const line = (key: string, value: string): string => `${key.padEnd(key.startsWith("on_") ? 11 : 7)} = ${value}`

/** A list the way the fixtures lay it out: first item after `[ `, the others aligned under it. */
const list = (key: string, items: ReadonlyArray<string>): string => {
  if (items.length === 0) return line(key, "[ ]")
  const head = `${key.padEnd(7)} = [ `
  return head + items.join(`,\n${" ".repeat(head.length)}`) + " ]"
}

const positiveInt = (field: string, n: number): Either.Either<number, XlConfigError> =>
  Number.isSafeInteger(n) && n > 0 ? Either.right(n) : Either.left(bad(field, `must be a whole number above 0, got ${n}`))

/** The cfg text (ending in a newline), or the first invalid field. */
export const render = (g: Guest): Either.Either<string, XlConfigError> =>
  Either.gen(function*() {
    const q = (field: string, s: string) => quote(field, s)
    if (g.name === "" || g.name.startsWith("-")) return yield* Either.left(bad("name", `not a usable domain name: ${JSON.stringify(g.name)}`))
    if (g.uuid !== undefined && !UUID.test(g.uuid)) return yield* Either.left(bad("uuid", `not a UUID: ${JSON.stringify(g.uuid)}`))
    if (!g.kernel.startsWith("/")) return yield* Either.left(bad("kernel", `must be an absolute path: ${JSON.stringify(g.kernel)}`))
    if (g.ramdisk !== undefined && !g.ramdisk.startsWith("/")) return yield* Either.left(bad("ramdisk", `must be an absolute path: ${JSON.stringify(g.ramdisk)}`))
    const out: Array<string> = [line("name", yield* q("name", g.name))]
    if (g.uuid !== undefined) out.push(line("uuid", yield* q("uuid", g.uuid.toLowerCase())))
    out.push(line("type", yield* q("type", g.type)))
    out.push(line("kernel", yield* q("kernel", g.kernel)))
    if (g.ramdisk !== undefined) out.push(line("ramdisk", yield* q("ramdisk", g.ramdisk)))
    if (g.cmdline !== undefined) out.push(line("cmdline", yield* q("cmdline", g.cmdline)))
    if (g.root !== undefined) out.push(line("root", yield* q("root", g.root)))
    if (g.extra !== undefined) out.push(line("extra", yield* q("extra", g.extra)))
    out.push(line("memory", String(yield* positiveInt("memory", g.memoryMiB))))
    out.push(line("vcpus", String(yield* positiveInt("vcpus", g.vcpus))))
    const disks: Array<string> = []
    for (const [i, d] of g.disks.entries()) disks.push(yield* q(`disk[${i}]`, yield* diskSpec(d, i)))
    out.push(list("disk", disks))
    const vifs: Array<string> = []
    for (const [i, v] of g.vifs.entries()) vifs.push(yield* q(`vif[${i}]`, yield* vifSpec(v, i)))
    out.push(list("vif", vifs))
    out.push(line("on_poweroff", yield* q("on_poweroff", g.onPoweroff)))
    out.push(line("on_reboot", yield* q("on_reboot", g.onReboot)))
    out.push(line("on_crash", yield* q("on_crash", g.onCrash)))
    for (const [k, v] of Object.entries(g.keys ?? {})) {
      if (!KEY.test(k)) return yield* Either.left(bad(k, "not an xl.cfg key (lower case letters, digits and _)"))
      if (typeof v === "number") {
        if (!Number.isSafeInteger(v)) return yield* Either.left(bad(k, `numbers in xl.cfg are whole: ${v}`))
        out.push(line(k, String(v)))
      } else out.push(line(k, yield* q(k, v)))
    }
    return out.join("\n") + "\n"
  })
