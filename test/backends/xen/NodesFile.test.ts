import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import Ssh2 from "ssh2"
import * as HostKey from "../../../src/backends/xen/HostKey.js"
import * as NodesFile from "../../../src/backends/xen/NodesFile.js"

const pub = (): string => Ssh2.utils.generateKeyPairSync("ed25519").public.split(" ").slice(0, 2).join(" ")
const key1 = pub()
const key2 = pub()
const head = pub()

/** A complete nodes file (the sample in the report), as an object to vary in tests. */
const sample = () => ({
  defaults: {
    user: "euca",
    privateKeyPath: "/etc/eucalyptus/keys/nodes_ed25519",
    reserve: { memoryMiB: 4096, cores: 1 },
    xl: ["sudo", "-n", "/usr/sbin/xl"],
    paths: {
      configDir: "/etc/xen/eucalyptus",
      instancesDir: "/var/lib/eucalyptus/instances",
      imageCacheDir: "/var/lib/eucalyptus/cache",
      imageCacheMiB: 20480,
      consoleLogDir: "/var/log/xen/console"
    }
  },
  nodes: [
    { name: "node-1", zone: "zone-1", host: "10.0.0.11", hostKey: `10.0.0.11 ${key1}` },
    { name: "node-2", zone: "zone-1", host: "10.0.0.12", port: 2222, hostKey: `[10.0.0.12]:2222 ${key2} root@node-2`, diskGiB: 500, timeouts: { createMs: 300000 } }
  ],
  clusterHeads: [
    { zone: "zone-1", host: "10.0.0.1", user: "euca", privateKeyPath: "/etc/eucalyptus/keys/head_ed25519", hostKey: `10.0.0.1 ${head}`, privateInterface: "eth1", publicInterface: "eth0", commandPrefix: ["sudo", "-n"] }
  ],
  images: { dir: "/var/lib/eucalyptus/images" }
})

const parse = (o: unknown) => NodesFile.parse(JSON.stringify(o, null, 2), "/etc/eucalyptus/nodes.json")
const problems = (o: unknown): string => Either.match(parse(o), { onLeft: (e) => e.message, onRight: () => "" })

describe("NodesFile", () => {
  it("reads a valid file, merging defaults under every node and filling default values", () => {
    const f = Either.getOrThrow(parse(sample()))
    expect(f.nodes).toHaveLength(2)
    expect(f.nodes[0]).toMatchObject({
      name: "node-1", zone: "zone-1", host: "10.0.0.11", port: 22, user: "euca", xl: ["sudo", "-n", "/usr/sbin/xl"],
      reserve: { memoryMiB: 4096, cores: 1 },
      paths: { imageCacheMiB: 20480 },
      guest: { type: "pv", cmdline: "root=/dev/xvda1 console=hvc0 ro", defaultBridge: "xenbr0" },
      timeouts: { connectMs: 10000, commandMs: 30000, createMs: 120000, uploadMs: 600000 }
    })
    expect(f.nodes[0]!.diskGiB).toBeUndefined()
    expect(f.nodes[1]).toMatchObject({ port: 2222, diskGiB: 500, timeouts: { createMs: 300000, commandMs: 30000 } })
    expect(f.clusterHeads[0]).toMatchObject({ zone: "zone-1", privateInterface: "eth1", publicInterface: "eth0", port: 22 })
    expect(NodesFile.targets(f).map((t) => t.name)).toEqual(["node-1", "node-2", "head:zone-1"])
  })

  it("names the file and the field path of every problem", () => {
    const o = sample()
    const n0 = o.nodes[0] as Record<string, unknown>
    n0["port"] = 70000
    n0["paths"] = { imageCacheMiB: 0 }
    n0["colour"] = "blue"
    const m = problems(o)
    expect(m).toContain("/etc/eucalyptus/nodes.json: nodes[0].port: must be a port number (1–65535)")
    expect(m).toContain("/etc/eucalyptus/nodes.json: nodes[0].paths.imageCacheMiB: must be a whole number above 0")
    expect(m).toContain("/etc/eucalyptus/nodes.json: nodes[0].colour: unknown field")
  })

  it("reports missing fields and relative paths", () => {
    const o = sample() as Record<string, unknown>
    const d = o["defaults"] as Record<string, unknown>
    delete d["user"]
    ;(d["paths"] as Record<string, unknown>)["configDir"] = "etc/xen"
    const m = problems(o)
    expect(m).toMatch(/nodes\[0\]\.user: .*missing/i)
    expect(m).toContain("nodes[1].paths.configDir: must be an absolute path without spaces")
  })

  it("checks the pinned key: parseable, of a known type, for this host and port", () => {
    const o = sample()
    o.nodes[0]!.hostKey = "10.0.0.11 ssh-ed25519 not-base64!"
    expect(problems(o)).toContain("nodes[0].hostKey: the key is not base64")
    // Whole-file checks run once every field is valid.
    const o1 = sample()
    o1.nodes[1]!.hostKey = `10.0.0.12 ${key2}` // port 2222 must be written [10.0.0.12]:2222
    expect(problems(o1)).toContain(`nodes[1].hostKey: the line is for "10.0.0.12", not for [10.0.0.12]:2222`)
    const o2 = sample()
    o2.nodes[0]!.hostKey = `10.0.0.11 ssh-dss AAAAB3NzaC1kc3M=`
    expect(problems(o2)).toContain("nodes[0].hostKey: unsupported key type \"ssh-dss\"")
  })

  it("refuses duplicate node names, two heads for one zone, and a head for a zone without nodes", () => {
    const o = sample()
    o.nodes[1]!.name = "node-1"
    o.clusterHeads.push({ ...o.clusterHeads[0]!, zone: "zone-1" }, { ...o.clusterHeads[0]!, zone: "zone-9" })
    const m = problems(o)
    expect(m).toContain(`nodes[1].name: duplicate node name "node-1" (also nodes[0])`)
    expect(m).toContain(`clusterHeads[1].zone: a second cluster head for zone "zone-1" (also clusterHeads[0])`)
    expect(m).toContain(`clusterHeads[2].zone: no node is in zone "zone-9"`)
  })

  it("gives the line and column of a JSON syntax error", () => {
    const m = Either.match(NodesFile.parse(`{\n  "nodes": [\n    {,}\n  ]\n}`, "n.json"), { onLeft: (e) => e.message, onRight: () => "" })
    expect(m).toMatch(/^n\.json: not valid JSON at line 3, column 6/)
    expect(problems({ nodes: [] })).toContain("nodes: must list at least one node")
  })

  it.effect("loads from a file path, and names the file when it cannot be read", () =>
    Effect.gen(function*() {
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "nodesfile-"))
      try {
        const p = Path.join(dir, "nodes.json")
        Fs.writeFileSync(p, JSON.stringify(sample()))
        const f = yield* NodesFile.load(p)
        expect(f.nodes.map((n) => n.name)).toEqual(["node-1", "node-2"])
        const e = yield* Effect.flip(NodesFile.load(Path.join(dir, "missing.json")))
        expect(e).toMatchObject({ _tag: "NodesFileError", message: expect.stringContaining("missing.json: cannot read") })
      } finally {
        Fs.rmSync(dir, { recursive: true, force: true })
      }
    }))
})

describe("HostKey", () => {
  it("fingerprints like ssh-keygen -l (SHA256, unpadded base64)", () => {
    const k = Either.getOrThrow(HostKey.parse(`h ${key1}`))
    const expected = `SHA256:${Crypto.createHash("sha256").update(Buffer.from(key1.split(" ")[1]!, "base64")).digest("base64").replace(/=+$/, "")}`
    expect(k.fingerprint).toBe(expected)
    expect(HostKey.matches(k, k.blob)).toBe(true)
    expect(HostKey.matches(k, Either.getOrThrow(HostKey.parse(`h ${key2}`)).blob)).toBe(false)
  })

  it("matches plain, wildcard, negated and hashed host entries", () => {
    const k = (hosts: string) => Either.getOrThrow(HostKey.parse(`${hosts} ${key1}`))
    expect(HostKey.matchesHost(k("a,b,10.0.0.11"), "10.0.0.11", 22)).toBe(true)
    expect(HostKey.matchesHost(k("10.0.0.*,!10.0.0.13"), "10.0.0.13", 22)).toBe(false)
    expect(HostKey.matchesHost(k("[10.0.0.*]:2222"), "10.0.0.12", 2222)).toBe(true)
    const salt = Crypto.randomBytes(20)
    const hash = Crypto.createHmac("sha1", salt).update("[node]:2222").digest("base64")
    expect(HostKey.matchesHost(k(`|1|${salt.toString("base64")}|${hash}`), "node", 2222)).toBe(true)
    expect(HostKey.matchesHost(k(`|1|${salt.toString("base64")}|${hash}`), "node", 22)).toBe(false)
    expect(HostKey.parse(`@revoked h ${key1}`)).toMatchObject({ left: expect.stringContaining("markers") })
    expect(HostKey.parse(`h ssh-rsa ${key1.split(" ")[1]}`)).toMatchObject({ left: expect.stringContaining("the key blob says \"ssh-ed25519\"") })
  })
})
