/**
 * The libvirt `<disk>` element of an EBS volume exported by the zone's storage host over NBD
 * (https://libvirt.org/formatdomain.html#hard-drives-floppy-disks-cdroms): QEMU's own NBD client
 * reads `nbd://ADDR:PORT/vol-…`; the guest sees a virtio disk. Pure, in the layout of the fixture
 * test/backends/kvm/fixtures/volume-nbd.xml. The same XML attaches (`virsh attach-device`) and
 * detaches (`virsh detach-device`: libvirt matches it by its target).
 */
import { Either } from "effect"
import type { DomainXmlError } from "./DomainXml.js"

export interface NbdDisk {
  /** The export's name: the volume id. */
  readonly name: string
  readonly host: string
  readonly port: number
  /** Guest device: vdb, vdf, … */
  readonly target: string
  /** The volume's id, kept as the disk's serial (`/dev/disk/by-id/virtio-vol-…` in the guest). */
  readonly serial?: string | undefined
}

const bad = (field: string, message: string): DomainXmlError => ({ _tag: "DomainXmlError", field, message })

const VOLUME = /^vol-[0-9a-f]{8,17}$/
const HOST = /^[A-Za-z0-9_.:-]+$/
const TARGET = /^vd[a-z]{1,2}$/

/**
 * The guest device for an EC2 device name: `/dev/sdf`, `/dev/xvdf` and `/dev/vdf` (and their
 * partitions, `/dev/sdf1`) are virtio `vdf`. The guest's kernel names virtio disks in the order it
 * finds them (the first hot-plugged disk next to a root `vda` is `/dev/vdb`), as on EC2's Nitro
 * instances, where `/dev/sdf` shows up as `/dev/nvme1n1`.
 */
export const targetOf = (device: string): Either.Either<string, DomainXmlError> => {
  const m = /^\/dev\/(?:sd|xvd|vd)([a-z]{1,2})\d*$/.exec(device)
  if (m === null) return Either.left(bad("device", `not a device name like /dev/sdf: ${JSON.stringify(device)}`))
  return Either.right(`vd${m[1]}`)
}

/** The `<disk>` element (ending in a newline), or the first invalid field. */
export const render = (d: NbdDisk): Either.Either<string, DomainXmlError> => {
  if (!VOLUME.test(d.name)) return Either.left(bad("name", `not a volume id: ${JSON.stringify(d.name)}`))
  if (!HOST.test(d.host)) return Either.left(bad("host", `not a host name or an address: ${JSON.stringify(d.host)}`))
  if (!Number.isInteger(d.port) || d.port < 1 || d.port > 65535) return Either.left(bad("port", `not a port number: ${d.port}`))
  if (!TARGET.test(d.target)) return Either.left(bad("target", `not a virtio disk name (vdb, vdc, …): ${JSON.stringify(d.target)}`))
  if (d.serial !== undefined && !/^[A-Za-z0-9-]{1,20}$/.test(d.serial)) return Either.left(bad("serial", `not a disk serial (at most 20 letters, digits, '-'): ${JSON.stringify(d.serial)}`))
  return Either.right([
    "<disk type='network' device='disk'>",
    "  <driver name='qemu' type='raw'/>",
    `  <source protocol='nbd' name='${d.name}'>`,
    `    <host name='${d.host}' port='${d.port}'/>`,
    "  </source>",
    `  <target dev='${d.target}' bus='virtio'/>`,
    ...(d.serial !== undefined ? [`  <serial>${d.serial}</serial>`] : []),
    "</disk>"
  ].join("\n") + "\n")
}

/** The targets `virsh domblklist DOMAIN` lists (its `Target Source` table). */
export const parseBlklist = (out: string): Array<{ readonly target: string; readonly source: string }> => {
  const rows: Array<{ target: string; source: string }> = []
  for (const line of out.split("\n")) {
    const t = line.trim()
    if (t === "" || /^-+$/.test(t) || /^Target\s+Source/.test(t)) continue
    const [target, ...rest] = t.split(/\s+/)
    if (target !== undefined && TARGET.test(target)) rows.push({ target, source: rest.join(" ") })
  }
  return rows
}
