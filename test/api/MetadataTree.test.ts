/**
 * The metadata tree and the IMDSv2 token rules as pure functions (no server): the answers by path,
 * the listings with `/` on subtrees, the dated versions, the identity document's exact text, and
 * the token life cycle (ttl bounds, expiry, binding to the instance and source address).
 */
import { HashMap } from "effect"
import { describe, expect, it } from "vitest"
import * as Metadata from "../../src/api/Metadata.js"
import * as Tokens from "../../src/api/MetadataTokens.js"
import type * as State from "../../src/model/State.js"

const instance = (over: Partial<State.Instance>): State.Instance =>
  ({
    id: "i-0000000a", seq: 1, reservationId: "r-0000000a", account: "000000000001", zone: "euca-1a", node: "node-1",
    vmType: "m1.small", size: { cores: 1, memoryMiB: 256, diskGiB: 5 }, imageId: "emi-00000001", groups: ["sg-00000001"],
    launchIndex: 0, addressing: "public", state: "running", launchedAt: Date.UTC(2026, 11, 2, 17, 30, 5, 123),
    dispatched: true, net: { mac: "d0:0d:0a:00:00:05", privateIp: "10.1.0.5", publicIp: "198.51.100.7" },
    ...over
  }) as State.Instance

const a = instance({ keyName: "k", userData: Buffer.from("#!/bin/sh\necho hi\n").toString("base64") })
const b = instance({ id: "i-0000000b" as State.Instance["id"], net: { mac: "d0:0d:0a:00:00:06", privateIp: "10.1.0.6" }, launchIndex: 1 })
const gone = instance({ id: "i-0000000c" as State.Instance["id"], state: "terminated", net: { mac: "d0:0d:0a:00:00:07", privateIp: "10.1.0.7" } })
const state = {
  instances: HashMap.make([a.id, a], [b.id, b], [gone.id, gone]),
  groups: HashMap.make(["sg-00000001", { id: "sg-00000001", name: "web" }])
} as unknown as State.State
const ctx: Metadata.Context = {
  state, region: "euca-1",
  publicKey: (acct, name) => (acct === "000000000001" && name === "k" ? "ssh-ed25519 AAAAtest k" : undefined),
  manifest: () => "bucket/image.manifest.xml"
}
const get = (ip: string, path: string) => Metadata.answer(ctx, ip, path)

describe("the metadata tree", () => {
  it("GET / lists every dated version, oldest first, then latest", () => {
    const r = get("10.1.0.5", "/")
    expect(r.status).toBe(200)
    const lines = r.body.split("\n")
    expect(lines[0]).toBe("1.0")
    expect(lines).toContain("2009-04-04")
    expect(lines).toContain("2021-03-23")
    expect(lines.at(-1)).toBe("latest")
    expect([...lines.slice(0, -1)].sort()).toEqual(lines.slice(0, -1))
  })

  it("every version answers the same meta-data; an unknown version is 404", () => {
    for (const v of [...Metadata.VERSIONS, "latest"]) {
      expect([v, get("10.1.0.5", `/${v}/meta-data/instance-id`).body]).toEqual([v, "i-0000000a"])
      expect(get("10.1.0.5", `/${v}/`).body).toBe("dynamic\nmeta-data\nuser-data")
    }
    expect(get("10.1.0.5", "/2010-01-01/meta-data/instance-id").status).toBe(404)
    expect(Metadata.isMetadataPath("/2009-04-04/meta-data/")).toBe(true)
    expect(Metadata.isMetadataPath("/services/Eucalyptus")).toBe(false)
  })

  it("listings end subtrees with /, leaves without", () => {
    const top = get("10.1.0.5", "/latest/meta-data/").body.split("\n")
    expect(top).toEqual([...top].sort())
    for (const d of ["block-device-mapping/", "network/", "placement/", "public-keys/"]) expect(top).toContain(d)
    for (const l of ["ami-id", "ami-launch-index", "hostname", "instance-id", "instance-type", "local-hostname", "local-ipv4", "mac", "public-ipv4", "reservation-id", "security-groups"]) expect(top).toContain(l)
    expect(get("10.1.0.5", "/latest/meta-data/block-device-mapping/").body).toBe("ami\nephemeral0\nroot\nswap")
    expect(get("10.1.0.5", "/latest/meta-data/block-device-mapping/root").body).toBe("/dev/sda1")
    expect(get("10.1.0.5", "/latest/meta-data/network/").body).toBe("interfaces/")
    expect(get("10.1.0.5", "/latest/meta-data/network/interfaces/macs/").body).toBe("d0:0d:0a:00:00:05/")
    const nic = "/latest/meta-data/network/interfaces/macs/d0:0d:0a:00:00:05/"
    expect(get("10.1.0.5", nic).body.split("\n")).toEqual(
      ["device-number", "ipv4-associations/", "local-hostname", "local-ipv4s", "mac", "owner-id", "public-hostname", "public-ipv4s", "security-group-ids", "security-groups"])
    expect(get("10.1.0.5", `${nic}local-ipv4s`).body).toBe("10.1.0.5")
    expect(get("10.1.0.5", `${nic}ipv4-associations/198.51.100.7`).body).toBe("10.1.0.5")
    expect(get("10.1.0.5", `${nic}security-groups`).body).toBe("web")
    expect(get("10.1.0.5", "/latest/meta-data/instance-id/").body).toBe("i-0000000a")
    expect(get("10.1.0.5", "/latest/meta-data/instance-id/more").status).toBe(404)
  })

  it("public keys: 0=name, 0/ lists openssh-key; none is 404", () => {
    expect(get("10.1.0.5", "/2009-04-04/meta-data/public-keys/").body).toBe("0=k")
    expect(get("10.1.0.5", "/2009-04-04/meta-data/public-keys/0/").body).toBe("openssh-key")
    expect(get("10.1.0.5", "/2009-04-04/meta-data/public-keys/0/openssh-key").body).toBe("ssh-ed25519 AAAAtest k")
    expect(get("10.1.0.5", "/2009-04-04/meta-data/public-keys/1/openssh-key").status).toBe(404)
    expect(get("10.1.0.6", "/latest/meta-data/public-keys/").status).toBe(404)
    expect(get("10.1.0.6", "/latest/meta-data/").body.split("\n")).not.toContain("public-keys/")
  })

  it("user-data at every version; 404 when there is none", () => {
    expect(get("10.1.0.5", "/2009-04-04/user-data")).toEqual({ status: 200, body: "#!/bin/sh\necho hi\n" })
    expect(get("10.1.0.5", "/latest/user-data").body).toBe("#!/bin/sh\necho hi\n")
    expect(get("10.1.0.6", "/latest/user-data").status).toBe(404)
  })

  it("a private-only instance has no public-ipv4 and no public entries on its interface", () => {
    const top = get("10.1.0.6", "/latest/meta-data/").body.split("\n")
    expect(top).not.toContain("public-ipv4")
    expect(top).not.toContain("public-hostname")
    expect(get("10.1.0.6", "/latest/meta-data/network/interfaces/macs/d0:0d:0a:00:00:06/").body).not.toContain("public")
    expect(get("10.1.0.6", "/latest/meta-data/ami-launch-index").body).toBe("1")
  })

  it("the identity document is EC2's text: sorted keys, two-space indent, nulls", () => {
    expect(get("10.1.0.5", "/latest/dynamic/").body).toBe("instance-identity/")
    expect(get("10.1.0.5", "/latest/dynamic/instance-identity/").body).toBe("document")
    const doc = get("10.1.0.5", "/latest/dynamic/instance-identity/document").body
    expect(doc).toBe([
      "{",
      '  "accountId" : "000000000001",',
      '  "architecture" : "x86_64",',
      '  "availabilityZone" : "euca-1a",',
      '  "billingProducts" : null,',
      '  "devpayProductCodes" : null,',
      '  "marketplaceProductCodes" : null,',
      '  "imageId" : "emi-00000001",',
      '  "instanceId" : "i-0000000a",',
      '  "instanceType" : "m1.small",',
      '  "kernelId" : null,',
      '  "pendingTime" : "2026-12-02T17:30:05Z",',
      '  "privateIp" : "10.1.0.5",',
      '  "ramdiskId" : null,',
      '  "region" : "euca-1",',
      '  "version" : "2017-09-30"',
      "}"
    ].join("\n"))
    expect(JSON.parse(doc).instanceId).toBe("i-0000000a")
  })

  it("never answers for an address that is no live instance's", () => {
    expect(get("10.1.0.7", "/latest/meta-data/instance-id").status).toBe(404)
    expect(get("10.1.0.99", "/").status).toBe(404)
    expect(get("::ffff:10.1.0.6", "/latest/meta-data/instance-id").body).toBe("i-0000000b")
    expect(get("198.51.100.7", "/latest/meta-data/instance-id").body).toBe("i-0000000a")
  })
})

describe("IMDSv2 tokens", () => {
  const put = (ip: string, ttl: string | undefined, path = "/latest/api/token", extra: Record<string, string> = {}) =>
    Tokens.issue(state, ip, path, { ...(ttl === undefined ? {} : { [Tokens.TTL_HEADER]: ttl }), ...extra }, 1_000_000, "tok-1")

  it("the ttl must be 1..21600 whole seconds, else 400", () => {
    for (const bad of [undefined, "", "0", "21601", "abc", "1.5", "-3"]) {
      const r = put("10.1.0.5", bad)
      expect([bad, r.response.status, r.token]).toEqual([bad, 400, undefined])
    }
    for (const good of ["1", "21600", " 60 "]) expect([good, put("10.1.0.5", good).response.status]).toEqual([good, 200])
  })

  it("issues a token bound to the instance and source, with the ttl header", () => {
    const r = put("10.1.0.5", "60")
    expect(r.response).toEqual({ status: 200, body: "tok-1", headers: { [Tokens.TTL_HEADER]: "60" } })
    expect(r.token).toEqual({ instanceId: "i-0000000a", source: "10.1.0.5", expiresAt: 1_060_000 })
  })

  it("refuses other paths (405), proxied requests (403) and non-instances (404)", () => {
    expect(put("10.1.0.5", "60", "/latest/meta-data/").response.status).toBe(405)
    expect(put("10.1.0.5", "60", "/latest/api/token", { "x-forwarded-for": "1.2.3.4" }).response.status).toBe(403)
    expect(put("10.1.0.99", "60").response.status).toBe(404)
  })

  it("a GET without a token passes; a live own token passes; bad, expired or foreign is 401", () => {
    const t = put("10.1.0.5", "60").token!
    const lookup = (v: string) => (v === "tok-1" ? t : undefined)
    expect(Tokens.check(state, lookup, "10.1.0.5", undefined, 1_000_000)).toBeUndefined()
    expect(Tokens.check(state, lookup, "10.1.0.5", "tok-1", 1_059_999)).toBeUndefined()
    expect(Tokens.check(state, lookup, "10.1.0.5", "tok-1", 1_060_000)?.status).toBe(401)
    expect(Tokens.check(state, lookup, "10.1.0.5", "nope", 1_000_000)?.status).toBe(401)
    expect(Tokens.check(state, lookup, "10.1.0.6", "tok-1", 1_000_000)?.status).toBe(401)
    expect(Tokens.remaining(t, 1_000_001)).toBe(60)
    expect(Tokens.remaining(t, 1_059_001)).toBe(1)
  })
})
