/**
 * Pinned SSH host keys, written as one OpenSSH known_hosts line
 * (`[10.0.0.11]:2222 ssh-ed25519 AAAA… comment`, or `|1|salt|hash ssh-ed25519 …` hashed).
 * Hosts are verified against exactly this key; there is no trust-on-first-use.
 */
import * as Crypto from "node:crypto"
import { Either } from "effect"

export const KEY_TYPES = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "ssh-rsa"
] as const
export type KeyType = (typeof KEY_TYPES)[number]

export interface PinnedKey {
  /** The host field as written (comma-separated patterns, or a hashed `|1|…` entry). */
  readonly hosts: string
  readonly type: KeyType
  /** The public key blob (SSH wire format), as the server presents it. */
  readonly blob: Buffer
  readonly fingerprint: string
}

/** OpenSSH's fingerprint: `SHA256:` + unpadded base64 of the blob's SHA-256. */
export const fingerprint = (blob: Uint8Array): string =>
  `SHA256:${Crypto.createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}`

/** The key type written inside a blob (its first SSH string). */
const blobType = (blob: Buffer): string | undefined => {
  if (blob.length < 4) return undefined
  const n = blob.readUInt32BE(0)
  return n > 0 && n < 64 && blob.length >= 4 + n ? blob.subarray(4, 4 + n).toString("latin1") : undefined
}

/** Parse one known_hosts line (markers such as @revoked are refused: a pin is a plain key). */
export const parse = (line: string): Either.Either<PinnedKey, string> => {
  const words = line.trim().split(/\s+/)
  if (words.length < 3) return Either.left("expected \"<host> <key type> <base64 key>\" (a known_hosts line)")
  const [hosts, type, b64] = words as [string, string, string]
  if (hosts.startsWith("@")) return Either.left(`markers such as ${hosts} are not accepted in a pinned key`)
  if (!(KEY_TYPES as ReadonlyArray<string>).includes(type)) return Either.left(`unsupported key type ${JSON.stringify(type)} (one of ${KEY_TYPES.join(", ")})`)
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) return Either.left("the key is not base64")
  const blob = Buffer.from(b64, "base64")
  const inner = blobType(blob)
  if (inner !== type) return Either.left(`the key blob says ${JSON.stringify(inner ?? "?")}, the line says ${JSON.stringify(type)}`)
  return Either.right({ hosts, type: type as KeyType, blob, fingerprint: fingerprint(blob) })
}

/** How a host is written in known_hosts: `host` on port 22, `[host]:port` otherwise. */
export const hostEntry = (host: string, port: number): string => (port === 22 ? host : `[${host}]:${port}`)

const glob = (pattern: string, s: string): boolean => {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`)
  return re.test(s)
}

/** Does the line's host field name this host and port (plain, wildcard or hashed entries; `!` negations win)? */
export const matchesHost = (key: PinnedKey, host: string, port: number): boolean => {
  const entry = hostEntry(host, port)
  if (key.hosts.startsWith("|1|")) {
    const [, , salt, hash] = key.hosts.split("|")
    if (salt === undefined || hash === undefined) return false
    const mac = Crypto.createHmac("sha1", Buffer.from(salt, "base64")).update(entry).digest("base64")
    return mac === hash
  }
  let matched = false
  for (const p of key.hosts.split(",")) {
    if (p.startsWith("!")) {
      if (glob(p.slice(1), entry)) return false
    } else if (glob(p, entry)) matched = true
  }
  return matched
}

/** The host key algorithms to offer so that the server presents the pinned key's type. */
export const algorithms = (type: KeyType): Array<string> =>
  type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type]

/** Constant-time comparison of a presented blob with the pin. */
export const matches = (key: PinnedKey, presented: Uint8Array): boolean =>
  presented.length === key.blob.length && Crypto.timingSafeEqual(presented, key.blob)
