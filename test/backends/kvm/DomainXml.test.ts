import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as DomainXml from "../../../src/backends/kvm/DomainXml.js"

const fixture = (name: string) => Fs.readFileSync(Path.join(import.meta.dirname, "fixtures", name), "utf8")

const kernelDomain: DomainXml.Domain = {
  name: "i-0123abcd",
  uuid: "BABE688C-C73B-48D7-8FDE-FF720CEDAED4",
  type: "qemu",
  memoryMiB: 256,
  vcpus: 1,
  boot: {
    kernel: "/var/lib/eucalyptus/instances/i-0123abcd/kernel",
    initrd: "/var/lib/eucalyptus/instances/i-0123abcd/initrd",
    cmdline: DomainXml.cmdlineWithIp("console=ttyS0 panic=-1", { address: "10.1.0.5", gateway: "10.1.0.1", netmask: "255.255.255.0", hostname: "i-0123abcd" })
  },
  disks: [{ path: "/var/lib/eucalyptus/instances/i-0123abcd/disk.qcow2", format: "qcow2", target: "vda" }],
  interfaces: [{ mac: "D0:0D:01:23:AB:CD", bridge: "eucabr10" }],
  consoleLog: "/var/log/eucalyptus/console/i-0123abcd.log",
  onPoweroff: "destroy",
  onReboot: "restart",
  onCrash: "destroy"
}

const diskDomain: DomainXml.Domain = {
  name: "i-4567ef01",
  type: "kvm",
  memoryMiB: 1024,
  vcpus: 2,
  disks: [{ path: "/var/lib/eucalyptus/instances/i-4567ef01/disk.qcow2", format: "qcow2", target: "vda" }],
  interfaces: [{ mac: "d0:0d:45:67:ef:01", bridge: "eucabr0", tap: "vn-i-4567ef01" }],
  consoleLog: "/var/log/eucalyptus/console/i-4567ef01.log",
  onPoweroff: "destroy",
  onReboot: "restart",
  onCrash: "destroy",
  emulator: "/usr/bin/qemu-system-x86_64"
}

const fieldOf = (d: DomainXml.Domain) => {
  const r = DomainXml.render(d)
  return Either.isLeft(r) ? r.left.field : undefined
}

describe("DomainXml.render", () => {
  it("writes a direct-kernel-boot TCG domain exactly as the fixture (accepted by virsh define)", () => {
    expect(Either.getOrThrow(DomainXml.render(kernelDomain))).toBe(fixture("domain-kernel.xml"))
  })

  it("writes a disk-boot KVM domain with a named tap exactly as the fixture", () => {
    expect(Either.getOrThrow(DomainXml.render(diskDomain))).toBe(fixture("domain-disk.xml"))
  })

  it("escapes XML in the command line and paths", () => {
    const xml = Either.getOrThrow(DomainXml.render({ ...kernelDomain, boot: { kernel: "/k/a&b", cmdline: "x=<'\"&>" } }))
    expect(xml).toContain("<kernel>/k/a&amp;b</kernel>")
    expect(xml).toContain("<cmdline>x=&lt;&apos;&quot;&amp;&gt;</cmdline>")
  })

  it("names the bad field", () => {
    expect(fieldOf({ ...kernelDomain, name: "-rf" })).toBe("name")
    expect(fieldOf({ ...kernelDomain, uuid: "nope" })).toBe("uuid")
    expect(fieldOf({ ...kernelDomain, memoryMiB: 0 })).toBe("memoryMiB")
    expect(fieldOf({ ...kernelDomain, vcpus: 1.5 })).toBe("vcpus")
    expect(fieldOf({ ...kernelDomain, boot: { kernel: "relative/kernel" } })).toBe("boot.kernel")
    expect(fieldOf({ ...kernelDomain, interfaces: [{ mac: "d0:0d:zz:00:00:00", bridge: "br0" }] })).toBe("interfaces[0].mac")
    expect(fieldOf({ ...kernelDomain, interfaces: [{ mac: "d0:0d:00:00:00:00", bridge: "br0'/><x" }] })).toBe("interfaces[0].bridge")
    expect(fieldOf({ ...kernelDomain, disks: [{ path: "/a", format: "qcow2", target: "hda" }] })).toBe("disks[0].target")
    expect(fieldOf({ ...kernelDomain, disks: [{ path: "/a", format: "qcow2", target: "vda" }, { path: "/b", format: "raw", target: "vda" }] })).toBe("disks[1].target")
    expect(fieldOf({ ...kernelDomain, consoleLog: "/log\u0001" })).toBe("consoleLog")
  })
})

describe("DomainXml.cmdlineWithIp", () => {
  it("appends the kernel's ip= for the instance and replaces an ip= already there", () => {
    expect(DomainXml.cmdlineWithIp("console=ttyS0 ip=dhcp quiet", { address: "10.0.0.9" })).toBe("console=ttyS0 quiet ip=10.0.0.9:::::eth0:off")
    expect(DomainXml.cmdlineWithIp("console=ttyS0", undefined)).toBe("console=ttyS0")
  })
  it("refuses what is not an address", () => {
    expect(() => DomainXml.cmdlineWithIp("", { address: "10.0.0.9 init=/bin/sh" })).toThrow(/IPv4/)
    expect(() => DomainXml.cmdlineWithIp("", { address: "10.0.0.9", hostname: "a b" })).toThrow(/host name/)
  })
})

describe("DomainXml.segmentOf", () => {
  it("gives the netmask and the segment's first address", () => {
    expect(DomainXml.segmentOf("10.199.0.37", 27)).toEqual({ netmask: "255.255.255.224", gateway: "10.199.0.33" })
    expect(DomainXml.segmentOf("10.77.0.5", 24)).toEqual({ netmask: "255.255.255.0", gateway: "10.77.0.1" })
    expect(() => DomainXml.segmentOf("10.77.0", 24)).toThrow()
  })
  it("writes the NIC's MTU", () => {
    const xml = Either.getOrThrow(DomainXml.render({ ...kernelDomain, interfaces: [{ mac: "d0:0d:00:00:00:01", bridge: "br0", mtu: 1450 }] }))
    expect(xml).toContain("<model type='virtio'/>\n      <mtu size='1450'/>\n    </interface>")
  })
})
