/**
 * The storage host's command lines (pure) and the nodes file's `storage` entries: exact lines for the
 * common cases, every argument quoted, bad ids refused before anything runs.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import Ssh2 from "ssh2"
import * as C from "../../../src/backends/storage/StorageCommands.js"
import * as NodesFile from "../../../src/backends/xen/NodesFile.js"

const raw: C.Host = { prefix: [], qemuImg: ["qemu-img"], qemuNbd: ["qemu-nbd"], dir: "/srv/euca/volumes", format: "raw" }
const qcow: C.Host = { prefix: ["sudo", "-n"], qemuImg: ["/usr/bin/qemu-img"], qemuNbd: ["qemu-nbd"], dir: "/srv/euca/volumes/", format: "qcow2" }
const VOL = "vol-1e1e1e1f"
const SNAP = "snap-2d2d2d2e"

describe("StorageCommands", () => {
  it("creates an empty volume under a .part name and renames it", () => {
    expect(C.createVolume(raw, VOL, 2)).toBe(
      "mkdir -p -- /srv/euca/volumes && qemu-img create -q -f raw /srv/euca/volumes/vol-1e1e1e1f.img.part 2G && " +
        "mv -f -- /srv/euca/volumes/vol-1e1e1e1f.img.part /srv/euca/volumes/vol-1e1e1e1f.img"
    )
    expect(C.createVolume(qcow, VOL, 1)).toBe(
      "sudo -n mkdir -p -- /srv/euca/volumes && sudo -n /usr/bin/qemu-img create -q -f qcow2 /srv/euca/volumes/vol-1e1e1e1f.img.part 1G && " +
        "sudo -n mv -f -- /srv/euca/volumes/vol-1e1e1e1f.img.part /srv/euca/volumes/vol-1e1e1e1f.img"
    )
  })

  it("snapshots with a sparse copy (raw) or a qcow2 conversion that may read an exported volume (-U)", () => {
    expect(C.createSnapshot(raw, SNAP, VOL)).toBe(
      "mkdir -p -- /srv/euca/volumes && cp '--sparse=always' -- /srv/euca/volumes/vol-1e1e1e1f.img /srv/euca/volumes/snap-2d2d2d2e.img.part && " +
        "mv -f -- /srv/euca/volumes/snap-2d2d2d2e.img.part /srv/euca/volumes/snap-2d2d2d2e.img"
    )
    expect(C.createSnapshot(qcow, SNAP, VOL)).toContain(
      "sudo -n /usr/bin/qemu-img convert -U -q -f qcow2 -O qcow2 /srv/euca/volumes/vol-1e1e1e1f.img /srv/euca/volumes/snap-2d2d2d2e.img.part"
    )
  })

  it("makes a volume from a snapshot: copy, grow to the volume's size (format given), rename", () => {
    expect(C.createVolumeFromSnapshot(raw, VOL, SNAP, 3)).toBe(
      "mkdir -p -- /srv/euca/volumes && cp '--sparse=always' -- /srv/euca/volumes/snap-2d2d2d2e.img /srv/euca/volumes/vol-1e1e1e1f.img.part && " +
        "qemu-img resize -q -f raw /srv/euca/volumes/vol-1e1e1e1f.img.part 3G && mv -f -- /srv/euca/volumes/vol-1e1e1e1f.img.part /srv/euca/volumes/vol-1e1e1e1f.img"
    )
  })

  it("exports with qemu-nbd: forked, persistent, one client, named, bound to the export address, format given, pid file; port recorded", () => {
    expect(C.startExport(raw, VOL, "10.0.0.5", 10810)).toBe(
      "qemu-nbd --fork --persistent '--shared=1' '--export-name=vol-1e1e1e1f' -p 10810 -b 10.0.0.5 -f raw '--cache=writethrough' " +
        "'--pid-file=/srv/euca/volumes/vol-1e1e1e1f.pid' /srv/euca/volumes/vol-1e1e1e1f.img && " +
        `sh -c 'printf '\\''%s\\n'\\'' 10810 > "$1"' sh /srv/euca/volumes/vol-1e1e1e1f.port`
    )
    expect(() => C.startExport(raw, VOL, "10.0.0.5; rm -rf /", 10810)).toThrow(/not an address/)
    expect(() => C.startExport(raw, VOL, "10.0.0.5", 70000)).toThrow(/not a port/)
  })

  it("stops an export only if the pid file names a qemu-nbd, and removes the pid and port files", () => {
    const l = C.stopExport(qcow, VOL)
    expect(l).toContain(`grep -q qemu-nbd "/proc/$p/cmdline"`)
    expect(l).toContain(`sudo -n kill -TERM "$p"`)
    expect(l).toContain(`sudo -n kill -KILL "$p"`)
    expect(l.endsWith("sudo -n rm -f -- /srv/euca/volumes/vol-1e1e1e1f.pid /srv/euca/volumes/vol-1e1e1e1f.port")).toBe(true)
  })

  it("deletes a volume's files and a snapshot's", () => {
    expect(C.deleteVolume(raw, VOL)).toBe(
      "rm -f -- /srv/euca/volumes/vol-1e1e1e1f.img /srv/euca/volumes/vol-1e1e1e1f.img.part /srv/euca/volumes/vol-1e1e1e1f.pid /srv/euca/volumes/vol-1e1e1e1f.port"
    )
    expect(C.deleteSnapshot(raw, SNAP)).toBe("rm -f -- /srv/euca/volumes/snap-2d2d2d2e.img /srv/euca/volumes/snap-2d2d2d2e.img.part")
  })

  it("quotes every argument: a directory with shell metacharacters stays one word", () => {
    const odd: C.Host = { ...raw, dir: "/srv/it's $HOME" }
    expect(C.deleteSnapshot(odd, SNAP)).toBe(`rm -f -- '/srv/it'\\''s $HOME/snap-2d2d2d2e.img' '/srv/it'\\''s $HOME/snap-2d2d2d2e.img.part'`)
  })

  it("refuses what is not a volume or snapshot id, a relative directory and a size that is not whole GiB", () => {
    expect(() => C.createVolume(raw, "vol-1; reboot", 1)).toThrow(/not a volume id/)
    expect(() => C.createVolume(raw, "../etc/passwd", 1)).toThrow(/not a volume id/)
    expect(() => C.createSnapshot(raw, "snap-../x", VOL)).toThrow(/not a snapshot id/)
    expect(() => C.createVolume({ ...raw, dir: "volumes" }, VOL, 1)).toThrow(/absolute/)
    expect(() => C.createVolume(raw, VOL, 0)).toThrow(/whole number of GiB/)
    expect(() => C.createVolume(raw, VOL, 1.5)).toThrow(/whole number of GiB/)
  })

  it("reads the exports listed and picks the lowest free port of the range", () => {
    const m = C.parseExports("vol-1e1e1e1f 10810\nvol-1e1e1e20 10812\ngarbage\nvol-1e1e1e21 x\n")
    expect([...m.entries()]).toEqual([["vol-1e1e1e1f", 10810], ["vol-1e1e1e20", 10812]])
    expect(C.freePort(m.values(), 10810, 10813)).toBe(10811)
    expect(C.freePort([10810, 10811], 10810, 10811)).toBeUndefined()
  })
})

describe("NodesFile storage entries", () => {
  const key = (host: string, port = 22) => `${port === 22 ? host : `[${host}]:${port}`} ${Ssh2.utils.generateKeyPairSync("ed25519").public.split(" ").slice(0, 2).join(" ")}`
  const node = { name: "node-1", zone: "zone-1", host: "10.0.0.11", user: "euca", privateKeyPath: "/k", hostKey: key("10.0.0.11"), reserve: { memoryMiB: 0, cores: 0 },
    paths: { configDir: "/c", instancesDir: "/i", imageCacheDir: "/ic", imageCacheMiB: 64, consoleLogDir: "/l" } }
  const store = { zone: "zone-1", host: "10.0.0.20", user: "euca", privateKeyPath: "/k", hostKey: key("10.0.0.20"), dir: "/srv/volumes", export: { address: "10.0.0.20", ports: { first: 10810, last: 10899 } } }
  const parse = (o: unknown) => NodesFile.parse(JSON.stringify(o), "/etc/eucalyptus/nodes.json")

  it("reads a storage host with its defaults and makes it an SSH target storage:<zone>", () => {
    const f = Either.getOrThrow(parse({ nodes: [node], storage: [store] }))
    expect(f.storage![0]).toMatchObject({ zone: "zone-1", port: 22, format: "raw", qemuImg: ["qemu-img"], qemuNbd: ["qemu-nbd"], commandPrefix: [], export: { ports: { first: 10810, last: 10899 } } })
    expect(NodesFile.targets(f).map((t) => t.name)).toEqual(["node-1", "storage:zone-1"])
    expect(Either.getOrThrow(parse({ nodes: [node] })).storage).toBeUndefined()
  })

  it("refuses two storage hosts for a zone, a zone without nodes, an empty port range, a key for another host, a relative directory", () => {
    const r = parse({ nodes: [node], storage: [store, { ...store }, { ...store, zone: "zone-9", hostKey: key("10.0.0.99"), export: { address: "10.0.0.20", ports: { first: 2, last: 1 } } }] })
    const m = Either.isLeft(r) ? r.left.message : ""
    expect(m).toContain(`storage[1].zone: a second storage host for zone "zone-1" (also storage[0])`)
    expect(m).toContain(`storage[2].zone: no node is in zone "zone-9"`)
    expect(m).toContain("storage[2].export.ports: first (2) is above last (1)")
    expect(m).toContain(`storage[2].hostKey: the line is for "10.0.0.99", not for 10.0.0.20`)
    const r2 = parse({ nodes: [node], storage: [{ ...store, dir: "volumes", format: "vmdk" }] })
    const m2 = Either.isLeft(r2) ? r2.left.message : ""
    expect(m2).toContain("storage[0].dir: must be an absolute path without spaces")
    expect(m2).toContain("storage[0].format")
  })
})
