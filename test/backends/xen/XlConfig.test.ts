import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as XlCommands from "../../../src/backends/xen/XlCommands.js"
import * as XlConfig from "../../../src/backends/xen/XlConfig.js"

const fixture = (name: string): string => Fs.readFileSync(Path.join(import.meta.dirname, "fixtures", name), "utf8")
/** The fixture without its leading comment lines. */
const body = (name: string): string => fixture(name).split("\n").filter((l) => !l.startsWith("#")).join("\n")

const dir = "/var/lib/eucalyptus/instances/i-1a2b3c4d"
const guest = (type: XlConfig.GuestType): XlConfig.Guest => ({
  name: "i-1a2b3c4d",
  uuid: "6f1f4c3e-2a7b-4d4e-9f3a-0c5d1e2f3a4b",
  type,
  kernel: `${dir}/kernel`,
  ramdisk: `${dir}/ramdisk`,
  cmdline: "root=/dev/xvda1 console=hvc0 ro",
  memoryMiB: 512,
  vcpus: 1,
  disks: [{ target: `${dir}/root`, vdev: "xvda1" }, { target: `${dir}/ephemeral`, vdev: "xvda2" }],
  vifs: [{ mac: "d0:0d:1a:2b:3c:4d", bridge: "eucabr10" }],
  onPoweroff: "destroy",
  onReboot: "restart",
  onCrash: "destroy"
})

const render = (g: XlConfig.Guest): string => Either.getOrThrowWith(XlConfig.render(g), (e) => new Error(`${e.field}: ${e.message}`))

describe("XlConfig.render", () => {
  it("writes the PV and PVH fixtures exactly", () => {
    expect(render(guest("pv"))).toBe(body("guest-pv.cfg"))
    expect(render(guest("pvh"))).toBe(body("guest-pvh.cfg"))
  })

  it("escapes strings as libxlu dequotes them", () => {
    const text = render({ ...guest("pv"), cmdline: "a \"b\" c\\d\te\nf", keys: { xltest_prefix: 28, xltest_gateway: "172.31.1.1" } })
    expect(text).toContain(`cmdline = "a \\"b\\" c\\\\d\\te\\nf"`)
    expect(text).toContain(`xltest_prefix = 28\n`)
    expect(text).toContain(`xltest_gateway = "172.31.1.1"\n`)
  })

  it("writes optional parts only when given: no ramdisk, legacy root/extra, vif ip, empty lists", () => {
    const text = render({ ...guest("pv"), ramdisk: undefined, cmdline: undefined, root: "/dev/xvda1 ro", extra: "console=hvc0", uuid: undefined, disks: [], vifs: [{ mac: "D0:0D:00:00:00:01", ip: "172.31.1.2" }] })
    expect(text).not.toContain("ramdisk")
    expect(text).not.toContain("uuid")
    expect(text).toContain(`root    = "/dev/xvda1 ro"\nextra   = "console=hvc0"\n`)
    expect(text).toContain(`disk    = [ ]\n`)
    expect(text).toContain(`vif     = [ "mac=d0:0d:00:00:00:01, ip=172.31.1.2" ]\n`)
  })

  it("puts target= last in disk specs (it takes the rest, commas included)", () => {
    expect(render({ ...guest("pv"), disks: [{ target: "/srv/a,b c", vdev: "xvda1", access: "ro" }] })).toContain(`"format=raw, vdev=xvda1, access=ro, target=/srv/a,b c"`)
  })

  it("refuses values xl cannot read back, naming the field", () => {
    const bad = (g: Partial<XlConfig.Guest>) => XlConfig.render({ ...guest("pv"), ...g })
    expect(bad({ cmdline: "a\x01b" })).toMatchObject({ left: { field: "cmdline", message: expect.stringContaining("U+0001") } })
    expect(bad({ vifs: [{ mac: "d0:0d:zz:00:00:01" }] })).toMatchObject({ left: { field: "vif[0].mac" } })
    expect(bad({ vifs: [{ mac: "d0:0d:00:00:00:01", bridge: "br,x" }] })).toMatchObject({ left: { field: "vif[0].bridge" } })
    expect(bad({ vifs: [{ mac: "d0:0d:00:00:00:01", ip: "300.1.1.1" }] })).toMatchObject({ left: { field: "vif[0].ip" } })
    expect(bad({ disks: [{ target: "relative", vdev: "xvda1" }] })).toMatchObject({ left: { field: "disk[0].target" } })
    expect(bad({ disks: [{ target: "/x", vdev: "sda!" }] })).toMatchObject({ left: { field: "disk[0].vdev" } })
    expect(bad({ memoryMiB: 0 })).toMatchObject({ left: { field: "memory" } })
    expect(bad({ vcpus: 1.5 })).toMatchObject({ left: { field: "vcpus" } })
    expect(bad({ name: "-x" })).toMatchObject({ left: { field: "name" } })
    expect(bad({ uuid: "nope" })).toMatchObject({ left: { field: "uuid" } })
    expect(bad({ kernel: "vmlinuz" })).toMatchObject({ left: { field: "kernel" } })
    expect(bad({ keys: { "Bad-Key": 1 } })).toMatchObject({ left: { field: "Bad-Key" } })
  })
})

describe("XlCommands", () => {
  const sudo = ["sudo", "-n", "/usr/sbin/xl"]
  it("builds argv with the configured prefix", () => {
    expect(XlCommands.list(sudo)).toEqual([...sudo, "list"])
    expect(XlCommands.list(["xl"], "i-1a2b3c4d")).toEqual(["xl", "list", "i-1a2b3c4d"])
    expect(XlCommands.listLong(["xl"])).toEqual(["xl", "list", "-l"])
    expect(XlCommands.listVerbose(["xl"])).toEqual(["xl", "list", "-v"])
    expect(XlCommands.info(["xl"])).toEqual(["xl", "info"])
    expect(XlCommands.info(["xl"], "free_memory")).toEqual(["xl", "info", "free_memory"])
    expect(XlCommands.domid(["xl"], "i-1")).toEqual(["xl", "domid", "i-1"])
    expect(XlCommands.domname(["xl"], 7)).toEqual(["xl", "domname", "7"])
    expect(XlCommands.create(sudo, "/etc/xen/i-1.cfg")).toEqual([...sudo, "create", "/etc/xen/i-1.cfg"])
    expect(XlCommands.create(["xl"], "/etc/xen/i-1.cfg", { paused: true })).toEqual(["xl", "create", "-p", "/etc/xen/i-1.cfg"])
    expect(XlCommands.destroy(["xl"], 7)).toEqual(["xl", "destroy", "7"])
    expect(XlCommands.reboot(["xl"], "i-1", { force: true })).toEqual(["xl", "reboot", "-F", "i-1"])
    expect(XlCommands.shutdown(["xl"], "i-1", { wait: true })).toEqual(["xl", "shutdown", "-w", "i-1"])
  })

  it("refuses identifiers xl would read as options, and relative config paths", () => {
    expect(() => XlCommands.destroy(["xl"], "-f")).toThrow(/domain identifier/)
    expect(() => XlCommands.create(["xl"], "x.cfg")).toThrow(/absolute/)
    expect(() => XlCommands.info(["xl"], "free memory")).toThrow(/info field/)
  })
})
