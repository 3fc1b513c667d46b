/**
 * Key pairs with real material: created RSA and ed25519 keys that OpenSSH reads, imported keys made
 * by `ssh-keygen`, and fingerprints computed as EC2 documents them (checked with openssl/ssh-keygen
 * where installed, else with node:crypto).
 */
import { execFileSync } from "node:child_process"
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto"
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import {
  CreateKeyPairCommand,
  DeleteKeyPairCommand,
  DescribeKeyPairsCommand,
  type EC2Client,
  ImportKeyPairCommand
} from "@aws-sdk/client-ec2"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"
import { codeOf } from "./client.js"

let server: TestServer.TestServer
let ec2: EC2Client
let dir: string

const has = (tool: string) => {
  try {
    execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" })
    return true
  } catch {
    return false
  }
}
const sshKeygen = has("ssh-keygen")

beforeAll(async () => {
  server = await TestServer.start()
  ec2 = server.client()
  dir = mkdtempSync(join(tmpdir(), "euca-keys-"))
})
afterAll(async () => {
  await server?.stop()
  if (dir) rmSync(dir, { recursive: true, force: true })
})

const colonHex = (b: Buffer) => b.toString("hex").match(/../g)!.join(":")
const sshBlob = (line: string) => Buffer.from(line.trim().split(/\s+/)[1]!, "base64")
/** EC2's ed25519 fingerprint: base64 SHA-256 of the OpenSSH public key blob, padding kept. */
const ed25519Fingerprint = (publicLine: string) => createHash("sha256").update(sshBlob(publicLine)).digest("base64")

/** An OpenSSH public key line and, for RSA, its SPKI PEM — from ssh-keygen, or node:crypto without it. */
const makeKey = (type: "rsa" | "ed25519", name: string): { line: string; spkiPem?: string } => {
  if (sshKeygen) {
    const file = join(dir, name)
    execFileSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", `${name}@test`, "-f", file])
    const line = readFileSync(`${file}.pub`, "utf8")
    return type === "rsa" ? { line, spkiPem: execFileSync("ssh-keygen", ["-e", "-m", "PKCS8", "-f", `${file}.pub`], { encoding: "utf8" }) } : { line }
  }
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, (b.length >> 8) & 255, b.length & 255]), b])
  if (type === "ed25519") {
    const der = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" })
    const blob = Buffer.concat([str(Buffer.from("ssh-ed25519")), str(der.subarray(der.length - 32))])
    return { line: `ssh-ed25519 ${blob.toString("base64")} ${name}@test` }
  }
  const { publicKey } = generateKeyPairSync("rsa", { modulusLength: 2048 })
  const jwk = publicKey.export({ format: "jwk" })
  const mpint = (b64: string) => {
    const b = Buffer.from(b64, "base64url")
    return str(b[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), b]) : b)
  }
  const blob = Buffer.concat([str(Buffer.from("ssh-rsa")), mpint(jwk.e!), mpint(jwk.n!)])
  return { line: `ssh-rsa ${blob.toString("base64")} ${name}@test`, spkiPem: publicKey.export({ type: "spki", format: "pem" }).toString() }
}

describe("key pairs", () => {
  it("creates an RSA key: PEM material, EC2's SHA-1-of-PKCS#8 fingerprint, the OpenSSH public key", async () => {
    const k = await ec2.send(new CreateKeyPairCommand({ KeyName: "rsa-made" }))
    expect(k.KeyMaterial).toMatch(/^-----BEGIN RSA PRIVATE KEY-----\n[\s\S]+\n-----END RSA PRIVATE KEY-----\n?$/)
    expect(k.KeyPairId).toMatch(/^key-[0-9a-f]{17}$/)
    const priv = createPrivateKey(k.KeyMaterial!)
    expect(priv.asymmetricKeyDetails?.modulusLength).toBe(2048)
    // AWS: `openssl pkcs8 -in key.pem -inform PEM -outform DER -topk8 -nocrypt | openssl sha1 -c`.
    expect(k.KeyFingerprint).toBe(colonHex(createHash("sha1").update(priv.export({ type: "pkcs8", format: "der" })).digest()))
    const described = (await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["rsa-made"], IncludePublicKey: true }))).KeyPairs!
    expect(described.map((d) => [d.KeyName, d.KeyType, d.KeyFingerprint, d.KeyPairId])).toEqual([["rsa-made", "rsa", k.KeyFingerprint, k.KeyPairId]])
    // The stored public key is the private key's.
    const fromPrivate = createPublicKey(priv).export({ type: "spki", format: "der" })
    const stored = described[0]!.PublicKey!
    expect(stored).toMatch(/^ssh-rsa AAAA/)
    if (sshKeygen) {
      const file = join(dir, "rsa-made.pem")
      writeFileSync(file, k.KeyMaterial!)
      chmodSync(file, 0o600)
      const derived = execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" })
      expect(sshBlob(derived)).toEqual(sshBlob(stored))
      const spki = createPublicKey(execFileSync("ssh-keygen", ["-e", "-m", "PKCS8", "-f", file], { encoding: "utf8" })).export({ type: "spki", format: "der" })
      expect(spki).toEqual(fromPrivate)
    }
  })

  it("creates an ed25519 key: OpenSSH material, base64 SHA-256 fingerprint", async () => {
    const k = await ec2.send(new CreateKeyPairCommand({ KeyName: "ed-made", KeyType: "ed25519" }))
    expect(k.KeyMaterial).toMatch(/^-----BEGIN OPENSSH PRIVATE KEY-----\n/)
    const described = (await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["ed-made"], IncludePublicKey: true }))).KeyPairs![0]!
    expect(described.KeyType).toBe("ed25519")
    expect(described.PublicKey).toMatch(/^ssh-ed25519 AAAA/)
    expect(k.KeyFingerprint).toBe(ed25519Fingerprint(described.PublicKey!))
    expect(k.KeyFingerprint).toMatch(/^[A-Za-z0-9+/]{43}=$/)
    if (sshKeygen) {
      // OpenSSH reads the private key, derives the same public key and prints the same fingerprint.
      const file = join(dir, "ed-made")
      writeFileSync(file, k.KeyMaterial!)
      chmodSync(file, 0o600)
      expect(sshBlob(execFileSync("ssh-keygen", ["-y", "-f", file], { encoding: "utf8" }))).toEqual(sshBlob(described.PublicKey!))
      const printed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", file], { encoding: "utf8" })
      expect(printed).toContain(`SHA256:${k.KeyFingerprint!.replace(/=$/, "")}`)
    }
  })

  it("imports OpenSSH public keys (RSA: MD5 of the DER public key; ed25519: SHA-256 of the blob)", async () => {
    const rsa = makeKey("rsa", "imported-rsa")
    const r = await ec2.send(new ImportKeyPairCommand({ KeyName: "imported-rsa", PublicKeyMaterial: Buffer.from(rsa.line) }))
    // AWS: `openssl rsa -in key.pem -pubout -outform DER | openssl md5 -c`.
    const der = createPublicKey(rsa.spkiPem!).export({ type: "spki", format: "der" })
    expect(r.KeyFingerprint).toBe(colonHex(createHash("md5").update(der).digest()))
    expect(r.KeyPairId).toMatch(/^key-/)

    const ed = makeKey("ed25519", "imported-ed")
    const e = await ec2.send(new ImportKeyPairCommand({ KeyName: "imported-ed", PublicKeyMaterial: Buffer.from(ed.line) }))
    expect(e.KeyFingerprint).toBe(ed25519Fingerprint(ed.line))
    if (sshKeygen) {
      const printed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", join(dir, "imported-ed.pub")], { encoding: "utf8" })
      expect(printed).toContain(`SHA256:${e.KeyFingerprint!.replace(/=$/, "")}`)
    }
    const described = (await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["imported-rsa", "imported-ed"], IncludePublicKey: true }))).KeyPairs!
    expect(described.map((d) => [d.KeyName, d.KeyType]).sort()).toEqual([["imported-ed", "ed25519"], ["imported-rsa", "rsa"]])
    for (const d of described) expect(sshBlob(d.PublicKey!)).toEqual(sshBlob(d.KeyName === "imported-rsa" ? rsa.line : ed.line))
  })

  it("rejects duplicates, bad material and bad types; filters; deletes (unknown names too, as EC2 does)", async () => {
    await ec2.send(new CreateKeyPairCommand({ KeyName: "dup" }))
    expect(await codeOf(ec2.send(new CreateKeyPairCommand({ KeyName: "dup" })))).toBe("InvalidKeyPair.Duplicate 400")
    expect(await codeOf(ec2.send(new ImportKeyPairCommand({ KeyName: "dup", PublicKeyMaterial: Buffer.from(makeKey("ed25519", "dup-ed").line) })))).toBe("InvalidKeyPair.Duplicate 400")
    expect(await codeOf(ec2.send(new ImportKeyPairCommand({ KeyName: "junk", PublicKeyMaterial: Buffer.from("ssh-rsa not-base64!!") })))).toBe("InvalidKeyPair.Format 400")
    const { privateKey } = generateKeyPairSync("ed25519")
    const privatePem = privateKey.export({ type: "pkcs8", format: "pem" }).toString()
    expect(await codeOf(ec2.send(new ImportKeyPairCommand({ KeyName: "private", PublicKeyMaterial: Buffer.from(privatePem) })))).toBe("InvalidKeyPair.Format 400")
    expect(await codeOf(ec2.send(new CreateKeyPairCommand({ KeyName: "dsa", KeyType: "dsa" as never })))).toBe("InvalidParameterValue 400")
    expect(await codeOf(ec2.send(new CreateKeyPairCommand({ KeyName: "bad\u00e9name" })))).toBe("InvalidParameterValue 400")

    const byType = (await ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: "key-type", Values: ["ed25519"] }] }))).KeyPairs!.map((k) => k.KeyName).sort()
    expect(byType).toEqual(["ed-made", "imported-ed"])
    const byName = (await ec2.send(new DescribeKeyPairsCommand({ Filters: [{ Name: "key-name", Values: ["imported-*"] }] }))).KeyPairs!.map((k) => k.KeyName).sort()
    expect(byName).toEqual(["imported-ed", "imported-rsa"])
    expect(await codeOf(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["nope"] })))).toBe("InvalidKeyPair.NotFound 400")

    const dup = (await ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["dup"] }))).KeyPairs![0]!
    const deleted = await ec2.send(new DeleteKeyPairCommand({ KeyPairId: dup.KeyPairId }))
    expect(deleted.Return).toBe(true)
    expect(await codeOf(ec2.send(new DescribeKeyPairsCommand({ KeyNames: ["dup"] })))).toBe("InvalidKeyPair.NotFound 400")
    await ec2.send(new DeleteKeyPairCommand({ KeyName: "imported-rsa" }))
    expect(await codeOf(ec2.send(new DeleteKeyPairCommand({ KeyName: "never-existed" })))).toBe("ok")
    const left = (await ec2.send(new DescribeKeyPairsCommand({}))).KeyPairs!.map((k) => k.KeyName).sort()
    expect(left).toEqual(["ed-made", "imported-ed", "rsa-made"])
    // The name is free again.
    await ec2.send(new CreateKeyPairCommand({ KeyName: "dup", KeyType: "ed25519" }))
  })
})
