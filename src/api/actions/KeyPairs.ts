/** Key pairs with real key material: CreateKeyPair, ImportKeyPair, DescribeKeyPairs, DeleteKeyPair. */
import { Effect, Option } from "effect"
import * as KeyPairs from "../../store/KeyPairs.js"
import * as Tags from "../../store/Tags.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as Ec2Error from "../protocol/Ec2Error.js"
import * as Filter from "../protocol/Filter.js"

const NAME = /^[\x20-\x7e]{1,255}$/

const checkName = (name: string) =>
  NAME.test(name) ? Effect.void : Effect.fail(Ec2Error.make("InvalidParameterValue", `Invalid key pair name '${Ec2Error.quote(name)}': 1–255 printable ASCII characters`))

const store = (k: Omit<KeyPairs.KeyPair, "id">) =>
  KeyPairs.insert(k).pipe(
    Effect.catchTags({
      KeyPairError: (e) => Effect.fail(Ec2Error.make("InvalidKeyPair.Duplicate", e.message)),
      SqlError: H.internal
    })
  )

export const CreateKeyPair: H.Handler<"CreateKeyPair"> = (input, rc) =>
  Effect.gen(function* () {
    yield* checkName(input.KeyName)
    const type = input.KeyType ?? "rsa"
    if (type !== "rsa" && type !== "ed25519") return yield* Ec2Error.make("InvalidParameterValue", `KeyType must be rsa or ed25519, not '${Ec2Error.quote(type)}'`)
    if (input.KeyFormat !== undefined && input.KeyFormat !== "pem") {
      return yield* Ec2Error.make("InvalidParameterValue", `KeyFormat '${Ec2Error.quote(input.KeyFormat)}' is not supported; use pem`)
    }
    yield* H.dryRun(input)
    const existing = yield* H.db(KeyPairs.get(rc.account.id, input.KeyName))
    if (Option.isSome(existing)) return yield* Ec2Error.make("InvalidKeyPair.Duplicate", `The keypair '${Ec2Error.quote(input.KeyName)}' already exists.`)
    const g = KeyPairs.generate(type, input.KeyName)
    const k = yield* store({ accountId: rc.account.id, name: input.KeyName, fingerprint: g.fingerprint, publicKey: g.publicKey, keyType: type, createdAt: rc.now })
    return { KeyName: k.name, KeyFingerprint: k.fingerprint, KeyMaterial: g.material, KeyPairId: k.id }
  })

export const ImportKeyPair: H.Handler<"ImportKeyPair"> = (input, rc) =>
  Effect.gen(function* () {
    yield* checkName(input.KeyName)
    const text = Buffer.from(input.PublicKeyMaterial).toString("utf8")
    // Clients send the key itself (base64-encoded on the wire); some send it base64-encoded twice.
    const parsed = KeyPairs.parsePublic(text, input.KeyName).pipe(Option.orElse(() => KeyPairs.parsePublic(Buffer.from(text, "base64").toString("utf8"), input.KeyName)))
    if (Option.isNone(parsed)) {
      return yield* Ec2Error.make("InvalidKeyPair.Format", "Key is not in valid OpenSSH public key format (ssh-rsa or ssh-ed25519)")
    }
    yield* H.dryRun(input)
    const k = yield* store({ accountId: rc.account.id, name: input.KeyName, fingerprint: parsed.value.fingerprint, publicKey: parsed.value.publicKey, keyType: parsed.value.keyType, createdAt: rc.now })
    return { KeyName: k.name, KeyFingerprint: k.fingerprint, KeyPairId: k.id }
  })

export const DescribeKeyPairs: H.Handler<"DescribeKeyPairs"> = (input, rc) =>
  Effect.gen(function* () {
    yield* H.dryRun(input)
    const all = yield* H.db(KeyPairs.list(rc.account.id))
    const tags = yield* H.db(Tags.byResource(rc.account.id))
    const names = input.KeyNames ?? []
    const ids = input.KeyPairIds ?? []
    for (const n of names) if (!all.some((k) => k.name === n)) return yield* Ec2Error.make("InvalidKeyPair.NotFound", `The key pair '${Ec2Error.quote(n)}' does not exist`)
    for (const n of ids) if (!all.some((k) => k.id === n)) return yield* Ec2Error.make("InvalidKeyPair.NotFound", `The key pair ID '${Ec2Error.quote(n)}' does not exist`)
    const keep = yield* Filter.compile<KeyPairs.KeyPair>(
      { "key-name": (k) => k.name, fingerprint: (k) => k.fingerprint, "key-pair-id": (k) => k.id, "key-type": (k) => k.keyType },
      input.Filters,
      { tags: (k) => (tags.get(k.id) ?? []).map((t) => ({ key: t.key, value: t.value })) }
    )
    const chosen = all.filter((k) => (names.length === 0 || names.includes(k.name)) && (ids.length === 0 || ids.includes(k.id)) && keep(k))
    return {
      KeyPairs: chosen.map((k) => ({
        KeyPairId: k.id,
        KeyName: k.name,
        KeyFingerprint: k.fingerprint,
        KeyType: k.keyType,
        CreateTime: k.createdAt,
        ...(input.IncludePublicKey === true ? { PublicKey: k.publicKey } : {}),
        ...(Views.tagList(tags.get(k.id)) ? { Tags: Views.tagList(tags.get(k.id))! } : {})
      }))
    }
  })

export const DeleteKeyPair: H.Handler<"DeleteKeyPair"> = (input, rc) =>
  Effect.gen(function* () {
    if (input.KeyName === undefined && input.KeyPairId === undefined) return yield* Ec2Error.missingParameter("KeyName")
    yield* H.dryRun(input)
    const all = yield* H.db(KeyPairs.list(rc.account.id))
    const k = all.find((x) => (input.KeyPairId !== undefined ? x.id === input.KeyPairId : x.name === input.KeyName))
    yield* H.db(KeyPairs.remove(rc.account.id, { name: input.KeyName, id: input.KeyPairId }))
    return { Return: true, ...(k ? { KeyPairId: k.id } : {}) }
  })
