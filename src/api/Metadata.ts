/**
 * The instance metadata service, as Eucalyptus served it behind the 169.254.169.254 redirect: the
 * instance is known by the source address of the request (its private address, or its public one),
 * never by anything the caller says about itself. Pure: state, a key lookup and the time in, a
 * response out; the IMDSv2 session tokens are values the caller keeps (see `Tokens`).
 *
 * What is served, at `/latest/` and at every dated version EC2 lists (`GET /`):
 * - `meta-data/`: ami-id, ami-launch-index, ami-manifest-path, block-device-mapping/, hostname,
 *   instance-id, instance-type, kernel-id/ramdisk-id (when set), local-hostname, local-ipv4, mac,
 *   network/interfaces/macs/<mac>/…, placement/availability-zone, public-hostname/public-ipv4 (when
 *   the instance has one), public-keys/ (when it has a key), reservation-id, security-groups;
 * - `user-data` (404 when the instance has none, as EC2);
 * - `dynamic/instance-identity/document`: the JSON EC2 writes (keys sorted, `"key" : value`).
 * Every dated version serves the same tree (EC2 hides the categories newer than the version asked;
 * we do not).
 */
import { HashMap } from "effect"
import * as State from "../model/State.js"

export interface Response {
  readonly status: number
  readonly body: string
  readonly headers?: Readonly<Record<string, string>> | undefined
}

export interface Context {
  readonly state: State.State
  /** The OpenSSH public key of the instance's key pair, if it has one. */
  readonly publicKey: (account: string, keyName: string) => string | undefined
  /** The image's manifest location (ami-manifest-path). */
  readonly manifest: (imageId: string) => string | undefined
  readonly region: string
}

/** The dated versions EC2's metadata service lists at `GET /`, oldest first (then `latest`). */
export const VERSIONS: ReadonlyArray<string> = [
  "1.0", "2007-01-19", "2007-03-01", "2007-08-29", "2007-10-10", "2007-12-15", "2008-02-01", "2008-09-01",
  "2009-04-04", "2011-01-01", "2011-05-01", "2012-01-12", "2014-02-25", "2014-11-05", "2015-10-20",
  "2016-04-19", "2016-06-30", "2016-09-02", "2018-03-28", "2018-08-17", "2018-09-24", "2019-10-01",
  "2020-10-27", "2021-01-03", "2021-03-23", "2021-07-15", "2022-07-09", "2022-09-24"
]
const KNOWN = new Set([...VERSIONS, "latest"])

/** True when `path` is one the metadata service answers (`/`, `/<version>`, `/<version>/…`). */
export const isMetadataPath = (path: string): boolean => {
  const first = path.replace(/^\/+/, "").split("/")[0] ?? ""
  return KNOWN.has(first)
}

const notFound: Response = { status: 404, body: "Not Found" }
const ok = (body: string): Response => ({ status: 200, body })

/** The live instance whose private or public address is `ip` (IPv4-mapped IPv6 forms accepted). */
export const instanceAt = (s: State.State, ip: string): State.Instance | undefined => {
  const addr = ip.startsWith("::ffff:") ? ip.slice(7) : ip
  for (const i of HashMap.values(s.instances)) {
    if (i.state !== "pending" && i.state !== "running") continue
    if (i.net.privateIp === addr || i.net.publicIp === addr) return i
  }
  return undefined
}

const hostname = (ip: string | undefined, region: string, kind: "internal" | "public") =>
  ip === undefined ? "" : kind === "internal" ? `ip-${ip.replaceAll(".", "-")}.${region}.compute.internal` : `euca-${ip.replaceAll(".", "-")}.${region}.eucalyptus.cloud`

/** A metadata tree: a leaf is its text, a subtree is listed with a trailing `/`. */
export interface Tree {
  readonly [name: string]: string | Tree
}

/** `2016-11-19T16:32:11Z` (EC2's times in the metadata have no fraction). */
const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z")

/** The instance identity document, as EC2 writes it: keys sorted, two-space indent, `"k" : v`. */
export const identityDocument = (ctx: Context, i: State.Instance): string => {
  const doc: ReadonlyArray<readonly [string, string | null]> = [
    ["accountId", i.account],
    ["architecture", "x86_64"],
    ["availabilityZone", i.zone],
    ["billingProducts", null],
    ["devpayProductCodes", null],
    ["marketplaceProductCodes", null],
    ["imageId", i.imageId],
    ["instanceId", i.id],
    ["instanceType", i.vmType],
    ["kernelId", i.kernelId ?? null],
    ["pendingTime", isoSeconds(i.launchedAt)],
    ["privateIp", i.net.privateIp ?? null],
    ["ramdiskId", i.ramdiskId ?? null],
    ["region", ctx.region],
    ["version", "2017-09-30"]
  ]
  return `{\n${doc.map(([k, v]) => `  ${JSON.stringify(k)} : ${v === null ? "null" : JSON.stringify(v)}`).join(",\n")}\n}`
}

/** The `meta-data/` tree of instance `i` (public-keys are answered apart: their listing is `0=name`). */
export const metaData = (ctx: Context, i: State.Instance): Tree => {
  const groups = i.groups.map((g) => State.group(ctx.state, g)?.name ?? g)
  const priv = i.net.privateIp
  const pub = i.net.publicIp
  const iface: Record<string, string | Tree> = {
    "device-number": "0",
    "local-hostname": hostname(priv, ctx.region, "internal"),
    "local-ipv4s": priv ?? "",
    mac: i.net.mac,
    "owner-id": i.account,
    "security-group-ids": i.groups.join("\n"),
    "security-groups": groups.join("\n")
  }
  if (pub !== undefined) {
    iface["public-hostname"] = hostname(pub, ctx.region, "public")
    iface["public-ipv4s"] = pub
    if (priv !== undefined) iface["ipv4-associations"] = { [pub]: priv }
  }
  const entries: Record<string, string | Tree> = {
    "ami-id": i.imageId,
    "ami-launch-index": String(i.launchIndex),
    "ami-manifest-path": ctx.manifest(i.imageId) ?? "(unknown)",
    // Eucalyptus's mapping (VmInstance.java): the image on sda1, ephemeral on sda2, swap on sda3.
    "block-device-mapping": { ami: "sda1", ephemeral0: "sda2", root: "/dev/sda1", swap: "sda3" },
    hostname: hostname(priv, ctx.region, "internal"),
    "instance-id": i.id,
    "instance-type": i.vmType,
    "local-hostname": hostname(priv, ctx.region, "internal"),
    "local-ipv4": priv ?? "",
    mac: i.net.mac,
    network: { interfaces: { macs: { [i.net.mac]: iface } } },
    placement: { "availability-zone": i.zone },
    "reservation-id": i.reservationId,
    "security-groups": groups.join("\n")
  }
  if (i.kernelId) entries["kernel-id"] = i.kernelId
  if (i.ramdiskId) entries["ramdisk-id"] = i.ramdiskId
  if (pub !== undefined) {
    entries["public-hostname"] = hostname(pub, ctx.region, "public")
    entries["public-ipv4"] = pub
  }
  return entries
}

const listing = (t: Tree): string =>
  Object.keys(t).sort().map((k) => (typeof t[k] === "object" ? `${k}/` : k)).join("\n")

/** Walks `parts` down `t`: the leaf's text, a subtree's listing, or 404. */
const walk = (t: Tree, parts: ReadonlyArray<string>): Response => {
  let node: string | Tree | undefined = t
  for (const part of parts) node = typeof node === "object" ? node[part] : undefined
  if (node === undefined) return notFound
  return ok(typeof node === "object" ? listing(node) : node)
}

/** Answers GET `path` from `sourceIp`. */
export const answer = (ctx: Context, sourceIp: string, path: string): Response => {
  const i = instanceAt(ctx.state, sourceIp)
  if (!i) return { status: 404, body: "Not Found: no instance has this source address" }
  const parts = path.split("/").filter((p) => p !== "")
  if (parts.length === 0) return ok([...VERSIONS, "latest"].join("\n"))
  if (!KNOWN.has(parts[0]!)) return notFound
  const [, category, ...rest] = parts
  if (category === undefined) return ok("dynamic\nmeta-data\nuser-data")
  if (category === "user-data") {
    if (rest.length > 0) return notFound
    return i.userData === undefined || i.userData === "" ? notFound : ok(Buffer.from(i.userData, "base64").toString("utf8"))
  }
  if (category === "dynamic") {
    return walk({ "instance-identity": { document: identityDocument(ctx, i) } }, rest)
  }
  if (category !== "meta-data") return notFound
  const key = i.keyName !== undefined ? ctx.publicKey(i.account, i.keyName) : undefined
  if (rest[0] === "public-keys") {
    if (key === undefined) return notFound
    if (rest.length === 1) return ok(`0=${i.keyName}`)
    if (rest[1] !== "0" && rest[1] !== i.keyName) return notFound
    if (rest.length === 2) return ok("openssh-key")
    return rest[2] === "openssh-key" && rest.length === 3 ? ok(key) : notFound
  }
  const t = metaData(ctx, i)
  if (rest.length === 0) {
    const keys = Object.keys(t).map((k) => (typeof t[k] === "object" ? `${k}/` : k))
    if (key !== undefined) keys.push("public-keys/")
    return ok(keys.sort().join("\n"))
  }
  return walk(t, rest)
}
