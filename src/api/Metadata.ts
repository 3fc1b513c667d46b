/**
 * The instance metadata service, as Eucalyptus served it behind the 169.254.169.254 redirect: the
 * instance is known by the source address of the request (its private address, or its public one),
 * never by anything the caller says about itself. Pure: state and a key lookup in, a response out.
 */
import { HashMap } from "effect"
import * as State from "../model/State.js"

export interface Response {
  readonly status: number
  readonly body: string
}

export interface Context {
  readonly state: State.State
  /** The OpenSSH public key of the instance's key pair, if it has one. */
  readonly publicKey: (account: string, keyName: string) => string | undefined
  /** The image's manifest location (ami-manifest-path). */
  readonly manifest: (imageId: string) => string | undefined
  readonly region: string
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

const tree = (ctx: Context, i: State.Instance): Record<string, string | Record<string, string>> => {
  const groups = i.groups.map((g) => State.group(ctx.state, g)?.name ?? g)
  const entries: Record<string, string | Record<string, string>> = {
    "ami-id": i.imageId,
    "ami-launch-index": String(i.launchIndex),
    "ami-manifest-path": ctx.manifest(i.imageId) ?? "(unknown)",
    hostname: hostname(i.net.privateIp, ctx.region, "internal"),
    "instance-id": i.id,
    "instance-type": i.vmType,
    "local-hostname": hostname(i.net.privateIp, ctx.region, "internal"),
    "local-ipv4": i.net.privateIp ?? "",
    mac: i.net.mac,
    "public-hostname": hostname(i.net.publicIp, ctx.region, "public"),
    "public-ipv4": i.net.publicIp ?? "",
    "reservation-id": i.reservationId,
    "security-groups": groups.join("\n"),
    placement: { "availability-zone": i.zone }
  }
  if (i.kernelId) entries["kernel-id"] = i.kernelId
  if (i.ramdiskId) entries["ramdisk-id"] = i.ramdiskId
  if (i.net.publicIp === undefined) {
    delete entries["public-hostname"]
    delete entries["public-ipv4"]
  }
  return entries
}

/** Answers GET `path` from `sourceIp`. */
export const answer = (ctx: Context, sourceIp: string, path: string): Response => {
  const i = instanceAt(ctx.state, sourceIp)
  if (!i) return { status: 404, body: "Not Found: no instance has this source address" }
  const p = path.replace(/\/{2,}/g, "/")
  if (p === "/latest/user-data" || p === "/latest/user-data/") {
    return i.userData === undefined || i.userData === "" ? notFound : ok(Buffer.from(i.userData, "base64").toString("utf8"))
  }
  if (p === "/latest" || p === "/latest/") return ok("dynamic\nmeta-data\nuser-data")
  if (p === "/" || p === "") return ok("latest")
  if (!p.startsWith("/latest/meta-data")) return notFound
  const rest = p.slice("/latest/meta-data".length).replace(/^\//, "")
  const t = tree(ctx, i)
  const key = i.keyName !== undefined ? ctx.publicKey(i.account, i.keyName) : undefined
  if (rest === "") {
    const keys = Object.keys(t).map((k) => (typeof t[k] === "object" ? `${k}/` : k))
    if (key !== undefined) keys.push("public-keys/")
    return ok(keys.sort().join("\n"))
  }
  const parts = rest.replace(/\/$/, "").split("/")
  if (parts[0] === "public-keys") {
    if (key === undefined) return notFound
    if (parts.length === 1) return ok(`0=${i.keyName}`)
    if (parts[1] !== "0") return notFound
    if (parts.length === 2) return ok("openssh-key")
    return parts[2] === "openssh-key" && parts.length === 3 ? ok(key) : notFound
  }
  let node: string | Record<string, string> | undefined = t[parts[0]!]
  for (const part of parts.slice(1)) node = typeof node === "object" ? node[part] : undefined
  if (node === undefined) return notFound
  return typeof node === "object" ? ok(Object.keys(node).sort().join("\n")) : ok(node)
}
