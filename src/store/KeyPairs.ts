/**
 * Key pairs with real key material. CreateKeyPair makes an RSA key (PEM, as EC2 returns it) or an
 * ed25519 key (OpenSSH format); ImportKeyPair takes an OpenSSH public key. Fingerprints follow EC2:
 * created RSA keys → SHA-1 of the PKCS#8 DER private key; imported RSA keys → MD5 of the DER public
 * key; ed25519 → SHA-256 (base64) of the OpenSSH public key blob.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomBytes } from "node:crypto"
import { SqlClient } from "@effect/sql"
import { Effect, Option, Schema } from "effect"
import ssh2 from "ssh2"

export interface KeyPair {
  readonly accountId: string
  readonly name: string
  readonly id: string
  readonly fingerprint: string
  readonly publicKey: string
  readonly keyType: "rsa" | "ed25519"
  readonly createdAt: number
}

export class KeyPairError extends Schema.TaggedError<KeyPairError>()("KeyPairError", {
  reason: Schema.Literal("Duplicate", "InvalidFormat", "NotFound"),
  message: Schema.String
}) {}

const colonHex = (b: Buffer) => b.toString("hex").match(/../g)!.join(":")

const sshBlobOfEd25519 = (publicDer: Buffer): Buffer => {
  // The raw key is the last 32 bytes of the SPKI DER; the OpenSSH blob is string "ssh-ed25519" + string key.
  const raw = publicDer.subarray(publicDer.length - 32)
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 255, b.length & 255]), b])
  return Buffer.concat([str(Buffer.from("ssh-ed25519")), str(raw)])
}

export interface Generated {
  readonly material: string
  readonly fingerprint: string
  readonly publicKey: string
}

export const generate = (keyType: "rsa" | "ed25519", name: string): Generated => {
  if (keyType === "ed25519") {
    const { publicKey, privateKey } = generateKeyPairSync("ed25519")
    const blob = sshBlobOfEd25519(publicKey.export({ type: "spki", format: "der" }))
    // OpenSSH's private key format for ed25519, which `ssh -i` reads.
    const priv = privateKey.export({ type: "pkcs8", format: "der" })
    const seed = priv.subarray(priv.length - 32)
    const pub = blob.subarray(blob.length - 32)
    const str = (b: Buffer) => Buffer.concat([Buffer.from([(b.length >>> 24) & 255, (b.length >>> 16) & 255, (b.length >>> 8) & 255, b.length & 255]), b])
    const check = randomBytes(4)
    let body = Buffer.concat([check, check, str(Buffer.from("ssh-ed25519")), str(pub), str(Buffer.concat([seed, pub])), str(Buffer.from(name))])
    const pad: Array<number> = []
    for (let i = 1; (body.length + pad.length) % 8 !== 0; i++) pad.push(i)
    body = Buffer.concat([body, Buffer.from(pad)])
    const whole = Buffer.concat([
      Buffer.from("openssh-key-v1\0"),
      str(Buffer.from("none")),
      str(Buffer.from("none")),
      str(Buffer.alloc(0)),
      Buffer.from([0, 0, 0, 1]),
      str(blob),
      str(body)
    ])
    const b64 = whole.toString("base64").match(/.{1,70}/g)!.join("\n")
    return {
      material: `-----BEGIN OPENSSH PRIVATE KEY-----\n${b64}\n-----END OPENSSH PRIVATE KEY-----\n`,
      fingerprint: `${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}=`,
      publicKey: `ssh-ed25519 ${blob.toString("base64")} ${name}`
    }
  }
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const material = privateKey.export({ type: "pkcs1", format: "pem" }).toString()
  const pkcs8 = privateKey.export({ type: "pkcs8", format: "der" })
  const parsed = ssh2.utils.parseKey(material)
  const sshPub = Array.isArray(parsed) ? parsed[0] : parsed
  if (sshPub instanceof Error || sshPub === undefined) throw new Error("could not derive the OpenSSH public key")
  void publicKey
  return {
    material,
    fingerprint: colonHex(createHash("sha1").update(pkcs8).digest()),
    publicKey: `ssh-rsa ${sshPub.getPublicSSH().toString("base64")} ${name}`
  }
}

/** Parses an OpenSSH public key line (or a PEM public key); returns the normalised line, type and EC2 fingerprint. */
export const parsePublic = (text: string, name: string): Option.Option<{ publicKey: string; fingerprint: string; keyType: "rsa" | "ed25519" }> => {
  const parsed = ssh2.utils.parseKey(text.trim())
  const key = Array.isArray(parsed) ? parsed[0] : parsed
  if (key === undefined || key instanceof Error) return Option.none()
  if (key.isPrivateKey()) return Option.none()
  const blob = key.getPublicSSH()
  if (key.type === "ssh-ed25519") {
    return Option.some({
      publicKey: `ssh-ed25519 ${blob.toString("base64")} ${name}`,
      fingerprint: `${createHash("sha256").update(blob).digest("base64").replace(/=+$/, "")}=`,
      keyType: "ed25519"
    })
  }
  if (key.type === "ssh-rsa") {
    const der = createPublicKey(key.getPublicPEM()).export({ type: "spki", format: "der" })
    return Option.some({ publicKey: `ssh-rsa ${blob.toString("base64")} ${name}`, fingerprint: colonHex(createHash("md5").update(der).digest()), keyType: "rsa" })
  }
  return Option.none()
}

interface Row {
  account_id: string
  name: string
  id: string
  fingerprint: string
  public_key: string
  key_type: "rsa" | "ed25519"
  created_at: number
}
const toKeyPair = (r: Row): KeyPair => ({
  accountId: r.account_id,
  name: r.name,
  id: r.id,
  fingerprint: r.fingerprint,
  publicKey: r.public_key,
  keyType: r.key_type,
  createdAt: r.created_at
})

// EC2 key pair ids are "key-" and 17 hex digits.
const newId = () => `key-${randomBytes(9).toString("hex").slice(0, 17)}`

export const insert = (k: Omit<KeyPair, "id">) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const existing = yield* sql<{ name: string }>`SELECT name FROM key_pairs WHERE account_id = ${k.accountId} AND name = ${k.name}`
    if (existing.length > 0) return yield* new KeyPairError({ reason: "Duplicate", message: `The keypair '${k.name}' already exists.` })
    const id = newId()
    yield* sql`INSERT INTO key_pairs (account_id, name, id, fingerprint, public_key, key_type, created_at)
      VALUES (${k.accountId}, ${k.name}, ${id}, ${k.fingerprint}, ${k.publicKey}, ${k.keyType}, ${k.createdAt})`
    return { ...k, id } satisfies KeyPair
  })

export const list = (accountId: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Row>`SELECT * FROM key_pairs WHERE account_id = ${accountId} ORDER BY name`
    return rows.map(toKeyPair)
  })

export const get = (accountId: string, name: string) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const rows = yield* sql<Row>`SELECT * FROM key_pairs WHERE account_id = ${accountId} AND name = ${name}`
    return Option.map(Option.fromNullable(rows[0]), toKeyPair)
  })

/** EC2 answers DeleteKeyPair of an unknown name with success; so do we. */
export const remove = (accountId: string, by: { readonly name?: string | undefined; readonly id?: string | undefined }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    if (by.id !== undefined) yield* sql`DELETE FROM key_pairs WHERE account_id = ${accountId} AND id = ${by.id}`
    else if (by.name !== undefined) yield* sql`DELETE FROM key_pairs WHERE account_id = ${accountId} AND name = ${by.name}`
  })

export { createPrivateKey }
