import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as V from "../../../src/backends/kvm/VirshCommands.js"
import * as VolumeXml from "../../../src/backends/kvm/VolumeXml.js"

const fixture = (name: string) => Fs.readFileSync(Path.join(import.meta.dirname, "fixtures", name), "utf8")
const disk: VolumeXml.NbdDisk = { name: "vol-1e1e1e1f", host: "10.255.254.1", port: 10810, target: "vdf", serial: "vol-1e1e1e1f" }
const fieldOf = (d: VolumeXml.NbdDisk) => {
  const r = VolumeXml.render(d)
  return Either.isLeft(r) ? r.left.field : undefined
}

describe("VolumeXml", () => {
  it("writes the NBD network disk exactly as the fixture (accepted by virsh)", () => {
    expect(Either.getOrThrow(VolumeXml.render(disk))).toBe(fixture("volume-nbd.xml"))
  })

  it("maps EC2 device names to virtio targets", () => {
    expect(Either.getOrThrow(VolumeXml.targetOf("/dev/sdf"))).toBe("vdf")
    expect(Either.getOrThrow(VolumeXml.targetOf("/dev/xvdg"))).toBe("vdg")
    expect(Either.getOrThrow(VolumeXml.targetOf("/dev/vdh"))).toBe("vdh")
    expect(Either.getOrThrow(VolumeXml.targetOf("/dev/sdf1"))).toBe("vdf")
    expect(Either.isLeft(VolumeXml.targetOf("/dev/nvme1n1"))).toBe(true)
    expect(Either.isLeft(VolumeXml.targetOf("sdf"))).toBe(true)
  })

  it("refuses what would not be one well-formed element: bad name, host, port, target, serial", () => {
    expect(fieldOf({ ...disk, name: "vol-1'/><x" })).toBe("name")
    expect(fieldOf({ ...disk, host: "10.0.0.1'/>" })).toBe("host")
    expect(fieldOf({ ...disk, port: 0 })).toBe("port")
    expect(fieldOf({ ...disk, port: 65536 })).toBe("port")
    expect(fieldOf({ ...disk, target: "sdf" })).toBe("target")
    expect(fieldOf({ ...disk, serial: "x".repeat(21) })).toBe("serial")
    expect(fieldOf({ ...disk, serial: undefined })).toBeUndefined()
  })

  it("reads virsh domblklist (the real output)", () => {
    expect(VolumeXml.parseBlklist(fixture("virsh/domblklist-volume.txt"))).toEqual([{ target: "vdf", source: "vol-1e1e1e1f" }])
    expect(VolumeXml.parseBlklist(" Target   Source\n------------------------\n vda      /x/disk.qcow2\n vdb      vol-1e1e1e1f\n\n").map((d) => d.target)).toEqual(["vda", "vdb"])
  })

  it("attaches and detaches live, every argument one word", () => {
    const virsh = ["virsh", "-c", "qemu:///system"]
    expect(V.attachDevice(virsh, "i-1", "/etc/d/i-1-vol-1.xml")).toEqual([...virsh, "attach-device", "i-1", "/etc/d/i-1-vol-1.xml", "--live"])
    expect(V.detachDevice(virsh, "i-1", "/etc/d/i-1-vol-1.xml")).toEqual([...virsh, "detach-device", "i-1", "/etc/d/i-1-vol-1.xml", "--live"])
    expect(() => V.attachDevice(virsh, "--all", "/x")).toThrow(/not a domain name/)
    expect(() => V.detachDevice(virsh, "i-1", "relative.xml")).toThrow(/absolute/)
  })
})
