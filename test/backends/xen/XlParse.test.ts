import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as XlParse from "../../../src/backends/xen/XlParse.js"
import { errorBlocks, fixture } from "./fixtures.js"
const ok = <A>(e: Either.Either<A, XlParse.ParseFailure>): A => {
  if (Either.isLeft(e)) throw new Error(XlParse.formatFailure(e.left))
  return e.right
}

describe("xl list", () => {
  it("reads the fixture: tabs in the header, rows from the right, state letters", () => {
    const ds = ok(XlParse.parseList(fixture("xl-list.txt")))
    expect(ds.map((d) => [d.name, d.domid, d.memoryMiB, d.vcpus, d.state.letters, d.cpuSeconds])).toEqual([
      ["Domain-0", 0, 4096, 4, "r-----", 11794.3],
      ["i-1a2b3c4d", 7, 512, 1, "-b----", 12.5],
      ["i-5e6f7a8b", 8, 1024, 2, "r-----", 3.1],
      ["i-9c0d1e2f", 9, 512, 1, "---sr-", 0.9]
    ])
    expect(ds[1]!.state).toMatchObject({ running: false, blocked: true, shutdown: false, shutdownReason: undefined, dying: false })
    expect(ds[3]!.state).toMatchObject({ shutdown: true, shutdownReason: "reboot" })
  })

  it("reads -v rows with their UUIDs", () => {
    const ds = ok(XlParse.parseList(fixture("xl-list-v.txt")))
    expect(ds.map((d) => d.uuid)).toEqual([
      "00000000-0000-0000-0000-000000000000",
      "6f1f4c3e-2a7b-4d4e-9f3a-0c5d1e2f3a4b",
      "a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b",
      "b4d2f3a5-6c7e-4f80-9bac-1d2e3f4a5b6c"
    ])
    expect(ds[3]!.state.shutdownReason).toBe("reboot")
  })

  it("reads a host with only Domain-0", () => {
    expect(ok(XlParse.parseList(fixture("xl-list-empty-host.txt"))).map((d) => d.name)).toEqual(["Domain-0"])
  })

  it("reads a dying domain whose name is (null) (FreeBSD report in PROVENANCE.md) and long names", () => {
    const header = fixture("xl-list.txt").split("\n")[0]
    const text = `${header}\n(null)                                      20     0     1     --p--d    2083.7\n${"n".repeat(45)} 21   128     1     -b----       0.1\n`
    const ds = ok(XlParse.parseList(text))
    expect(ds[0]).toMatchObject({ name: null, domid: 20, memoryMiB: 0, state: { paused: true, dying: true } })
    expect(ds[1]).toMatchObject({ name: "n".repeat(45), domid: 21 })
  })

  it("refuses what is not xl list output, naming the line", () => {
    expect(XlParse.parseList("")).toMatchObject({ left: { what: "xl list" } })
    expect(XlParse.parseList("hello\n")).toMatchObject({ left: { line: 1 } })
    const bad = `${fixture("xl-list.txt")}i-x 3 512 1 zz---- 1.0\n`
    expect(XlParse.parseList(bad)).toMatchObject({ left: { line: 6 } })
  })
})

describe("xl list -l", () => {
  it("reads only the named fields of the fixture", () => {
    const ds = ok(XlParse.parseListLong(fixture("xl-list-l.json")))
    expect(ds).toEqual([
      // Domain-0 comes first, as on the real xl 4.17 (its target is one KiB below its maximum).
      {
        domid: 0, name: "Domain-0", uuid: undefined, type: "pv",
        maxMemoryMiB: 4096, targetMemoryMiB: 4095, maxVcpus: undefined, nics: [], disks: []
      },
      {
        domid: 7, name: "i-1a2b3c4d", uuid: "6f1f4c3e-2a7b-4d4e-9f3a-0c5d1e2f3a4b", type: "pv",
        maxMemoryMiB: 512, targetMemoryMiB: 512, maxVcpus: 1,
        nics: [{ mac: "d0:0d:1a:2b:3c:4d", bridge: "eucabr10", ifname: undefined }],
        disks: [{ pdevPath: "/var/lib/eucalyptus/instances/i-1a2b3c4d/root", vdev: "xvda1" }]
      },
      {
        domid: 8, name: "i-5e6f7a8b", uuid: "a3c1e2f4-5b6d-4e7f-8a9b-0c1d2e3f4a5b", type: "pvh",
        maxMemoryMiB: 1024, targetMemoryMiB: 1024, maxVcpus: 2,
        nics: [{ mac: "d0:0d:1a:2b:3c:4d", bridge: "eucabr10", ifname: undefined }],
        disks: [{ pdevPath: "/var/lib/eucalyptus/instances/i-5e6f7a8b/root", vdev: "xvda1" }]
      }
    ])
  })

  it("ignores unknown keys and tolerates omitted defaults; refuses non-JSON", () => {
    const ds = ok(XlParse.parseListLong(JSON.stringify([{ domid: 3, extra: 1, config: { c_info: { name: "x", future: {} }, sched_params: {} } }])))
    expect(ds[0]).toMatchObject({ domid: 3, name: "x", nics: [], disks: [], maxMemoryMiB: undefined })
    expect(ok(XlParse.parseListLong("[\n]\n"))).toEqual([])
    expect(XlParse.parseListLong("[{")).toMatchObject({ left: { what: "xl list -l" } })
    expect(XlParse.parseListLong("[{\"domid\": \"7\"}]")).toMatchObject({ left: { what: "xl list -l" } })
  })
})

describe("xl info", () => {
  it("reads the fixture (MiB), keeping every field", () => {
    const info = ok(XlParse.parseInfo(fixture("xl-info.txt")))
    expect(info).toMatchObject({ host: "xenhost1", nrCpus: 8, totalMemoryMiB: 32614, freeMemoryMiB: 26198, xenVersion: "4.17.6-pre" })
    expect(info.fields["virt_caps"]).toBe("pv hvm hvm_directio pv_directio hap shadow gnttab-v1 gnttab-v2")
    expect(info.fields["hw_caps"]).toBe("178bf3ff:f6d8320b:2e500800:244037ff:0000000f:219c91a9:00400004:00000500")
    expect(info.fields["xen_changeset"]).toBe("")
    expect(Object.keys(info.fields)).toHaveLength(34)
  })

  it("reads xl info free_memory and xl domid", () => {
    expect(ok(XlParse.parseFreeMemory(fixture("xl-info-free_memory.txt")))).toBe(26198)
    expect(ok(XlParse.parseDomid("7\n"))).toBe(7)
    expect(XlParse.parseDomid("")).toMatchObject({ left: { what: "xl domid" } })
  })

  it("names a missing or malformed field", () => {
    const noFree = fixture("xl-info.txt").replace(/^free_memory.*\n/m, "")
    expect(XlParse.parseInfo(noFree)).toMatchObject({ left: { message: "missing field free_memory" } })
    expect(XlParse.parseInfo(fixture("xl-info.txt").replace("nr_cpus                : 8", "nr_cpus                : eight"))).toMatchObject({ left: { message: expect.stringContaining("nr_cpus") } })
  })
})

describe("failure classification", () => {
  const expected: Record<string, XlParse.XlFailureKind | undefined> = {
    "xl list": "NotUsable",
    "/usr/lib/xen-4.17/bin/xl list": "NotUsable",
    "xl destroy i-nosuch": "InvalidDomain",
    "xl list 99": "DomainNotFound",
    "xl destroy 99": "DomainNotFound",
    "xl destroy 0": "Dom0Refused",
    "xl create /etc/xen/i-1a2b3c4d.cfg": undefined, // success and name-in-use: see below
    "xl create big.cfg": "OutOfMemory",
    "xl create /nonexistent.cfg": "ConfigUnreadable",
    "xl reboot i-1a2b3c4d": undefined
  }

  it("classifies every block of xl-errors.txt", () => {
    const blocks = errorBlocks()
    expect(blocks.length).toBeGreaterThanOrEqual(12)
    for (const b of blocks) {
      const kind = XlParse.classify(b.exit, b.stderr)
      if (b.command === "xl shutdown i-1a2b3c4d") expect(kind, b.title).toBe(b.exit === 0 ? undefined : "NoPvControl")
      else if (b.command === "xl create /etc/xen/i-1a2b3c4d.cfg") expect(kind, b.title).toBe(b.exit === 0 ? undefined : "NameInUse")
      else expect(kind, `${b.title}: ${b.command}`).toBe(expected[b.command])
    }
    expect(XlParse.isNoSuchDomain("InvalidDomain") && XlParse.isNoSuchDomain("DomainNotFound")).toBe(true)
    expect(XlParse.isNoSuchDomain("NameInUse")).toBe(false)
  })

  it("recognises sudo, a missing xl, and an unknown failure", () => {
    expect(XlParse.classify(1, "sudo: a password is required\n")).toBe("PermissionDenied")
    expect(XlParse.classify(127, "sh: 1: xl: not found\n")).toBe("CommandNotFound")
    expect(XlParse.classify(2, "something else\n")).toBe("Failed")
    expect(XlParse.summary("Parsing config from x\nlibxl: error: a\nlast\n")).toBe("libxl: error: a / last")
  })
})
