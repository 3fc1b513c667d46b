/**
 * Argument vectors for the virsh and qemu-img commands the KVM node agent runs. The prefixes come
 * from the nodes file (`["virsh", "-c", "qemu:///system"]`, `["sudo", "-n", "virsh", …]`); quoting
 * happens later, in Shell.commandLine, so every argument is passed as exactly one word.
 */

export type Prefix = ReadonlyArray<string>

/** Domains are named by instance id; a name starting with `-` would be read as an option. */
const dom = (d: string): string => {
  if (d === "" || d.startsWith("-")) throw new TypeError(`not a domain name: ${JSON.stringify(d)}`)
  return d
}

const path = (p: string): string => {
  if (!p.startsWith("/")) throw new TypeError(`paths given to virsh/qemu-img must be absolute: ${JSON.stringify(p)}`)
  return p
}

export const list = (v: Prefix): Array<string> => [...v, "list", "--all"]
export const domstate = (v: Prefix, d: string): Array<string> => [...v, "domstate", "--reason", dom(d)]
export const dominfo = (v: Prefix, d: string): Array<string> => [...v, "dominfo", dom(d)]
export const domid = (v: Prefix, d: string): Array<string> => [...v, "domid", dom(d)]
export const nodeinfo = (v: Prefix): Array<string> => [...v, "nodeinfo"]
export const nodememstats = (v: Prefix): Array<string> => [...v, "nodememstats"]
export const domcapabilities = (v: Prefix, virttype: "kvm" | "qemu"): Array<string> => [...v, "domcapabilities", "--virttype", virttype]
export const define = (v: Prefix, xmlPath: string): Array<string> => [...v, "define", path(xmlPath)]
/** A transient domain (gone when it stops): used for the KVM probe only. */
export const create = (v: Prefix, xmlPath: string): Array<string> => [...v, "create", path(xmlPath)]
export const start = (v: Prefix, d: string): Array<string> => [...v, "start", dom(d)]
export const destroy = (v: Prefix, d: string): Array<string> => [...v, "destroy", dom(d)]
export const undefine = (v: Prefix, d: string): Array<string> => [...v, "undefine", dom(d)]
/** ACPI reboot: the guest is asked (EC2's reboot); `reset` is the hard one. */
export const reboot = (v: Prefix, d: string): Array<string> => [...v, "reboot", "--mode", "acpi", dom(d)]
export const reset = (v: Prefix, d: string): Array<string> => [...v, "reset", dom(d)]

export const imageInfo = (q: Prefix, file: string): Array<string> => [...q, "info", "--output=json", "--", path(file)]

/** A qcow2 copy-on-write overlay over `base` (its format given, never guessed: CVE-2008-2004). */
export const overlay = (q: Prefix, base: string, baseFormat: "raw" | "qcow2", file: string, sizeBytes?: number): Array<string> => [
  ...q,
  "create",
  "-q",
  "-f",
  "qcow2",
  "-F",
  baseFormat,
  "-b",
  path(base),
  path(file),
  ...(sizeBytes === undefined ? [] : [String(sizeBytes)])
]

/** Hot-plug a device (a volume's disk) into a running domain; `--live`: the running guest only. */
export const attachDevice = (v: Prefix, d: string, xmlPath: string): Array<string> => [...v, "attach-device", dom(d), path(xmlPath), "--live"]
/** Hot-unplug a device; libvirt waits (a few seconds) for the guest to let it go. */
export const detachDevice = (v: Prefix, d: string, xmlPath: string): Array<string> => [...v, "detach-device", dom(d), path(xmlPath), "--live"]
/** The domain's disks as `Target Source` lines (live definition). */
export const domblklist = (v: Prefix, d: string): Array<string> => [...v, "domblklist", dom(d)]
