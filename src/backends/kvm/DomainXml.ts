/**
 * The libvirt domain XML (https://libvirt.org/formatdomain.html) for an instance: pure, validated,
 * in the layout of the fixtures (test/backends/kvm/fixtures/domain-*.xml). One virtio disk (the
 * instance's copy-on-write overlay), optionally an ephemeral one; direct kernel boot where the image
 * has a kernel (with `ip=` on the command line so kernel images need no DHCP); one virtio NIC with the
 * instance's MAC on its segment's bridge; the serial console on a pty, logged to a file by virtlogd.
 */
import { Either } from "effect"

export type DomainType = "kvm" | "qemu"
export type OnEvent = "destroy" | "restart" | "preserve" | "rename-restart"

export interface Disk {
  /** The file on the node (the overlay). */
  readonly path: string
  readonly format: "qcow2" | "raw"
  /** Guest device: vda, vdb, … */
  readonly target: string
}

export interface Interface {
  readonly mac: string
  readonly bridge: string
  /** The tap's name on the node (libvirt picks vnetN when absent). */
  readonly tap?: string | undefined
  /** Set on the tap and offered to the guest (virtio-net's MTU feature). */
  readonly mtu?: number | undefined
}

export interface DirectBoot {
  readonly kernel: string
  readonly initrd?: string | undefined
  readonly cmdline?: string | undefined
}

export interface Domain {
  readonly name: string
  readonly uuid?: string | undefined
  readonly type: DomainType
  readonly memoryMiB: number
  readonly vcpus: number
  /** Direct kernel boot; without it the disk's own boot loader boots (BIOS, `boot dev=hd`). */
  readonly boot?: DirectBoot | undefined
  readonly disks: ReadonlyArray<Disk>
  readonly interfaces: ReadonlyArray<Interface>
  /** Everything the guest writes on its serial console (ttyS0) is appended here. */
  readonly consoleLog: string
  readonly onPoweroff: OnEvent
  readonly onReboot: OnEvent
  readonly onCrash: OnEvent
  /** QEMU's emulator binary; libvirt's default for the arch when absent. */
  readonly emulator?: string | undefined
}

export interface DomainXmlError {
  readonly _tag: "DomainXmlError"
  /** The field the bad value was for, e.g. `interfaces[0].mac`. */
  readonly field: string
  readonly message: string
}

const bad = (field: string, message: string): DomainXmlError => ({ _tag: "DomainXmlError", field, message })

const MAC = /^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/
const TARGET = /^vd[a-z]{1,2}$/
// libvirt domain names: no '/', no leading '-' (virsh would read an option), printable.
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.:+-]{0,63}$/
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/

/** XML text/attribute escaping; characters XML 1.0 cannot carry at all are refused. */
export const escape = (field: string, s: string): Either.Either<string, DomainXmlError> => {
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/.test(s)) return Either.left(bad(field, "contains a control character XML cannot carry"))
  return Either.right(s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;").replaceAll("'", "&apos;"))
}

const absPath = (field: string, p: string): Either.Either<string, DomainXmlError> =>
  !p.startsWith("/") ? Either.left(bad(field, `must be an absolute path: ${JSON.stringify(p)}`))
    : /[\n\r]/.test(p) ? Either.left(bad(field, "contains a newline"))
    : escape(field, p)

const positiveInt = (field: string, n: number): Either.Either<number, DomainXmlError> =>
  Number.isSafeInteger(n) && n > 0 ? Either.right(n) : Either.left(bad(field, `must be a whole number above 0, got ${n}`))

/** The netmask and the first address (the segment's gateway) of `address`/`prefix`. */
export const segmentOf = (address: string, prefix: number): { readonly netmask: string; readonly gateway: string } => {
  const m = IPV4.exec(address)
  if (m === null || !Number.isInteger(prefix) || prefix < 1 || prefix > 30) throw new TypeError(`not an address and prefix: ${address}/${prefix}`)
  const n = m.slice(1).reduce((a, o) => a * 256 + Number(o), 0)
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0
  const fmt = (x: number) => [24, 16, 8, 0].map((s) => (x >>> s) & 255).join(".")
  return { netmask: fmt(mask), gateway: fmt(((n & mask) >>> 0) + 1) }
}

/** A kernel command line for an instance: the image's own, then `ip=` for the private address. */
export const cmdlineWithIp = (
  base: string,
  ip: { readonly address: string; readonly gateway?: string | undefined; readonly netmask?: string | undefined; readonly hostname?: string | undefined } | undefined
): string => {
  if (ip === undefined) return base
  const valid = (a: string | undefined) => a === undefined || IPV4.test(a)
  if (!valid(ip.address) || !valid(ip.gateway) || !valid(ip.netmask)) throw new TypeError(`not an IPv4 address in ${JSON.stringify(ip)}`)
  if (ip.hostname !== undefined && !/^[A-Za-z0-9.-]*$/.test(ip.hostname)) throw new TypeError(`not a host name: ${JSON.stringify(ip.hostname)}`)
  // Documentation/admin-guide/nfs/nfsroot.rst: ip=<client>:<server>:<gw>:<netmask>:<hostname>:<device>:<autoconf>
  const field = `ip=${ip.address}::${ip.gateway ?? ""}:${ip.netmask ?? ""}:${ip.hostname ?? ""}:eth0:off`
  const rest = base.split(/\s+/).filter((w) => w !== "" && !w.startsWith("ip="))
  return [...rest, field].join(" ")
}

/** The domain XML (ending in a newline), or the first invalid field. */
export const render = (d: Domain): Either.Either<string, DomainXmlError> =>
  Either.gen(function*() {
    if (!NAME.test(d.name)) return yield* Either.left(bad("name", `not a usable domain name: ${JSON.stringify(d.name)}`))
    if (d.uuid !== undefined && !UUID.test(d.uuid)) return yield* Either.left(bad("uuid", `not a UUID: ${JSON.stringify(d.uuid)}`))
    if (d.type !== "kvm" && d.type !== "qemu") return yield* Either.left(bad("type", `must be kvm or qemu, got ${JSON.stringify(d.type)}`))
    const memory = yield* positiveInt("memoryMiB", d.memoryMiB)
    const vcpus = yield* positiveInt("vcpus", d.vcpus)
    const out: Array<string> = [`<domain type='${d.type}'>`, `  <name>${d.name}</name>`]
    if (d.uuid !== undefined) out.push(`  <uuid>${d.uuid.toLowerCase()}</uuid>`)
    out.push(`  <memory unit='MiB'>${memory}</memory>`, `  <currentMemory unit='MiB'>${memory}</currentMemory>`, `  <vcpu placement='static'>${vcpus}</vcpu>`)
    out.push("  <os>", "    <type arch='x86_64' machine='pc'>hvm</type>")
    if (d.boot !== undefined) {
      out.push(`    <kernel>${yield* absPath("boot.kernel", d.boot.kernel)}</kernel>`)
      if (d.boot.initrd !== undefined) out.push(`    <initrd>${yield* absPath("boot.initrd", d.boot.initrd)}</initrd>`)
      if (d.boot.cmdline !== undefined) out.push(`    <cmdline>${yield* escape("boot.cmdline", d.boot.cmdline)}</cmdline>`)
    } else out.push("    <boot dev='hd'/>")
    out.push("  </os>", "  <features>", "    <acpi/>", "    <apic/>", "  </features>")
    // TCG emulates any CPU model; KVM takes the host's (what a real cluster does for speed).
    out.push(d.type === "kvm" ? "  <cpu mode='host-passthrough'/>" : "  <cpu mode='custom' match='exact'><model fallback='allow'>qemu64</model></cpu>")
    out.push(`  <on_poweroff>${d.onPoweroff}</on_poweroff>`, `  <on_reboot>${d.onReboot}</on_reboot>`, `  <on_crash>${d.onCrash}</on_crash>`)
    out.push("  <devices>")
    if (d.emulator !== undefined) out.push(`    <emulator>${yield* absPath("emulator", d.emulator)}</emulator>`)
    const targets = new Set<string>()
    for (const [i, disk] of d.disks.entries()) {
      const f = `disks[${i}]`
      if (!TARGET.test(disk.target)) return yield* Either.left(bad(`${f}.target`, `not a virtio disk name (vda, vdb, …): ${JSON.stringify(disk.target)}`))
      if (targets.has(disk.target)) return yield* Either.left(bad(`${f}.target`, `${disk.target} is used twice`))
      targets.add(disk.target)
      if (disk.format !== "qcow2" && disk.format !== "raw") return yield* Either.left(bad(`${f}.format`, `must be qcow2 or raw, got ${JSON.stringify(disk.format)}`))
      out.push(
        "    <disk type='file' device='disk'>",
        `      <driver name='qemu' type='${disk.format}' discard='unmap'/>`,
        `      <source file='${yield* absPath(`${f}.path`, disk.path)}'/>`,
        `      <target dev='${disk.target}' bus='virtio'/>`,
        "    </disk>"
      )
    }
    for (const [i, nic] of d.interfaces.entries()) {
      const f = `interfaces[${i}]`
      if (!MAC.test(nic.mac)) return yield* Either.left(bad(`${f}.mac`, `not a MAC address: ${JSON.stringify(nic.mac)}`))
      if (!IFNAME.test(nic.bridge)) return yield* Either.left(bad(`${f}.bridge`, `not an interface name: ${JSON.stringify(nic.bridge)}`))
      if (nic.tap !== undefined && !IFNAME.test(nic.tap)) return yield* Either.left(bad(`${f}.tap`, `not an interface name: ${JSON.stringify(nic.tap)}`))
      out.push(
        "    <interface type='bridge'>",
        `      <mac address='${nic.mac.toLowerCase()}'/>`,
        `      <source bridge='${nic.bridge}'/>`,
        ...(nic.tap !== undefined ? [`      <target dev='${nic.tap}'/>`] : []),
        "      <model type='virtio'/>",
        ...(nic.mtu !== undefined ? [`      <mtu size='${yield* positiveInt(`${f}.mtu`, nic.mtu)}'/>`] : []),
        "    </interface>"
      )
    }
    const log = yield* absPath("consoleLog", d.consoleLog)
    out.push(
      "    <serial type='pty'>",
      `      <log file='${log}' append='on'/>`,
      "      <target port='0'/>",
      "    </serial>",
      "    <console type='pty'>",
      "      <target type='serial' port='0'/>",
      "    </console>",
      "    <memballoon model='none'/>",
      "  </devices>",
      "</domain>"
    )
    return out.join("\n") + "\n"
  })
