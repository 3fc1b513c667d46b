/**
 * Fuzzing the whole front door with fast-check: random actions from the table (and unknown ones),
 * parameter names from the EC2 model and made up, values of the right and the wrong type — ids
 * that exist, huge numbers, unicode, empty and enormous strings — and raw hostile bodies, all
 * signed correctly with the SDK's SigV4 signer. Every answer is a 2xx, or a 4xx with EC2's error
 * XML (500 only for InsufficientInstanceCapacity, as EC2), the server never falls over, and a
 * request that fails changes nothing: the journal and the side tables are as before.
 *
 * Simulated boots and shutdowns take an hour here, so nothing changes in the background between
 * the before and after snapshots.
 */
import { CreateKeyPairCommand, CreateSecurityGroupCommand, CreateTagsCommand, AllocateAddressCommand, AssociateAddressCommand, RunInstancesCommand, RegisterImageCommand } from "@aws-sdk/client-ec2"
import { SqlClient } from "@effect/sql"
import { Effect, FastCheck as fc, ManagedRuntime } from "effect"
import { generateKeyPairSync } from "node:crypto"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as Ec2Error from "../../src/api/protocol/Ec2Error.js"
import * as Shapes from "../../src/api/protocol/Ec2Shapes.js"
import * as Model from "../../src/api/protocol/Model.js"
import * as Db from "../../src/store/Database.js"
import { Database } from "../support/db.js"
import * as TestServer from "../support/server.js"
import { type Credentials, errorCode, form, machineImage, postBodyV4, postV4 } from "./client.js"

const slow = TestServer.fastConfig({
  backend: { kind: "sim", bootDelay: { kind: "constant", seconds: 3600 }, stopDelay: { kind: "constant", seconds: 3600 }, seed: 13 },
  tickSeconds: 3600
})

let server: TestServer.TestServer
let db: ManagedRuntime.ManagedRuntime<SqlClient.SqlClient, unknown>
let accounts: Array<Credentials>
/** Real ids and names from the setup, so that some requests reach deep into the handlers. */
const real: Array<string> = []

beforeAll(async () => {
  server = await TestServer.start({ config: slow })
  db = ManagedRuntime.make(Db.layer(server.dataDir))
  const ec2 = server.client()
  const emi = await machineImage(ec2)
  const key = await ec2.send(new CreateKeyPairCommand({ KeyName: "fuzz-key" }))
  const sg = await ec2.send(new CreateSecurityGroupCommand({ GroupName: "fuzz-group", Description: "fuzz" }))
  const run = await ec2.send(new RunInstancesCommand({ ImageId: emi, MinCount: 2, MaxCount: 2, KeyName: "fuzz-key", SecurityGroupIds: [sg.GroupId!], ClientToken: "fuzz-token" }))
  const eip = await ec2.send(new AllocateAddressCommand({}))
  const assoc = await ec2.send(new AssociateAddressCommand({ AllocationId: eip.AllocationId, InstanceId: run.Instances![0]!.InstanceId }))
  const img = await ec2.send(new RegisterImageCommand({ Name: "fuzz-image", ImageLocation: "fuzz/image.manifest.xml" }))
  await ec2.send(new CreateTagsCommand({ Resources: [run.Instances![0]!.InstanceId!, sg.GroupId!], Tags: [{ Key: "Name", Value: "fuzz" }] }))
  real.push(
    emi, img.ImageId!, key.KeyPairId!, "fuzz-key", sg.GroupId!, "fuzz-group", "default", ...run.Instances!.map((i) => i.InstanceId!), run.ReservationId!,
    eip.PublicIp!, eip.AllocationId!, assoc.AssociationId!, "fuzz-token", "euca-1a", "euca-1b", server.region, "m1.small", "c1.xlarge", "tcp", "0.0.0.0/0", "Name", "fuzz", "verbose"
  )
  const other = await Database.createAccount(server.dataDir, "fuzz-user")
  accounts = [server.credentials, other.credentials]
})
afterAll(async () => {
  await db?.dispose()
  await server?.stop()
})

// --- parameter names from the model ---------------------------------------------------------------

/** A flat parameter: its name, its scalar type, and whether the model requires it (it and every structure above it). */
type Leaf = { readonly name: string; readonly type: string; readonly required: boolean }

/** The flat Query parameter names of an operation's input, lists expanded at index 1 (and 2), to a bounded depth. */
const leavesOf = (shapeName: string, prefix: string, depth: number, required: boolean, out: Array<Leaf>): void => {
  const s = Model.shape(shapeName)
  if (s.type === "structure") {
    if (depth > 4) return
    const req = new Set(s.required ?? [])
    for (const [member, ref] of Object.entries(s.members)) {
      leavesOf(ref.shape, prefix === "" ? Model.queryName(member, ref) : `${prefix}.${Model.queryName(member, ref)}`, depth + 1, required && req.has(member), out)
    }
  } else if (s.type === "list") {
    if (depth > 4) return
    leavesOf(s.member.shape, `${prefix}.1`, depth + 1, required, out)
    if (depth < 2) leavesOf(s.member.shape, `${prefix}.2`, depth + 1, false, out)
  } else out.push({ name: prefix, type: s.type, required })
}

const leaves = new Map<string, ReadonlyArray<Leaf>>()
for (const op of Shapes.operationNames) {
  const out: Array<Leaf> = []
  leavesOf(Model.operation(op)!.input, "", 0, true, out)
  leaves.set(op, out)
}

// --- values ---------------------------------------------------------------------------------------

const hostileString = fc.oneof(
  fc.constantFrom("", " ", "*", "?", "\\", "**??\\*", "%", "%zz", "&", "=", "..", "null", "undefined", "NaN", "[object Object]", "<x/>", "]]>", "\u0000", "\uFFFE", "\uD800", "i-", "sg-", "emi-", "eipalloc-", "key-"),
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.constantFrom(1000, 70_000, 300_000).map((n) => "x".repeat(n)),
  fc.constantFrom(...["ümlaut", "名前", "🙂🙃", "\u202Eevil", "a\nb\tc\r"])
)
const numberString = fc.oneof(
  fc.integer({ min: -5, max: 1100 }).map(String),
  fc.constantFrom("0", "-0", "+1", "1.5", "1e3", "1e309", "2147483648", "-2147483649", "9007199254740993", "99999999999999999999999", "0x10", " 1", "1 ", "")
)
const boolString = fc.constantFrom("true", "false", "TRUE", "False", "1", "0", "yes", "")
const blobString = fc.oneof(
  fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b).toString("base64")),
  fc.constantFrom("not base64!", "====", "QQ", "QUJD\nREVG", "")
)
const realValue = fc.constant(null).map(() => real).chain((r) => fc.constantFrom(...r))

const valueFor = (type: string) => {
  const right = type === "integer" || type === "long" ? numberString : type === "boolean" ? boolString : type === "blob" ? blobString : type === "timestamp" ? fc.constantFrom("2026-01-01T00:00:00Z", "yesterday", "") : fc.oneof(realValue, hostileString)
  // Mostly the right type; sometimes any type.
  return fc.oneof({ weight: 4, arbitrary: right }, { weight: 1, arbitrary: fc.oneof(numberString, boolString, blobString, hostileString, realValue) })
}

// Values a well-meaning client would send: real ids and names, small counts, a real public key.
const edKey = (() => {
  const der = generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "der" })
  const str = (b: Buffer) => Buffer.concat([Buffer.from([0, 0, 0, b.length]), b])
  return `ssh-ed25519 ${Buffer.concat([str(Buffer.from("ssh-ed25519")), str(der.subarray(der.length - 32))]).toString("base64")} fuzz`
})()
const plausibleFor = (type: string) =>
  type === "integer" || type === "long"
    ? fc.oneof(fc.integer({ min: 1, max: 3 }), fc.integer({ min: -1, max: 1000 })).map(String)
    : type === "boolean"
      ? fc.constantFrom("true", "false", "false")
      : type === "blob"
        ? fc.constantFrom(Buffer.from(edKey).toString("base64"), Buffer.from("#!/bin/sh\necho hi\n").toString("base64"))
        : type === "timestamp"
          ? fc.constant("2026-01-01T00:00:00Z")
          : fc.oneof({ weight: 3, arbitrary: realValue }, { weight: 1, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,11}$/) })

/** A request a client might well send: the required parameters and a few others, with plausible values. */
const plausible = fc.constantFrom(...Shapes.operationNames).chain((a) => {
  const known = leaves.get(a) ?? []
  const required = known.filter((l) => l.required)
  const optional = known.filter((l) => !l.required)
  return fc.record({
    action: fc.constant(a as string),
    params: fc
      .tuple(
        fc.tuple(...required.map((l) => plausibleFor(l.type).map((v) => [l.name, v] as const))),
        optional.length === 0 ? fc.constant([]) : fc.array(fc.constantFrom(...optional).chain((l) => plausibleFor(l.type).map((v) => [l.name, v] as const)), { maxLength: 4 })
      )
      .map(([r, o]) => [...r, ...o] as Array<readonly [string, string]>),
    extra: fc.constant([] as Array<[string, string]>),
    version: fc.constant("2016-11-15"),
    account: fc.integer({ min: 0, max: 2 })
  })
})

const madeUpName = fc.oneof(
  fc.constantFrom("Filter.0.Name", "Filter.1.Value.0", "InstanceId.-1", "InstanceId.01", "InstanceId.99999999999", "InstanceId", "InstanceId.1.x", ".", "a..b", "Action.1", "DryRun.x", "Filter.1", "Filter.1.Value", "TagSpecification.1.Tag.1"),
  fc.string({ maxLength: 20 })
)

const action = fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...Shapes.operationNames) }, { weight: 1, arbitrary: fc.oneof(fc.constantFrom("RunInstance", "describeinstances", "", "StopInstances"), fc.string({ maxLength: 12 })) })

/** One request: an action, a subset of its parameters with values, a few made-up ones; or a raw body. */
const request = fc.oneof(
  { weight: 6, arbitrary: plausible },
  {
    weight: 4,
    arbitrary: action.chain((a) => {
      const known = leaves.get(a) ?? []
      const pick = known.length === 0 ? fc.constant([] as Array<readonly [string, string]>) : fc.array(fc.constantFrom(...known).chain((l) => valueFor(l.type).map((v) => [l.name, v] as const)), { maxLength: 8 })
      return fc.record({
        action: fc.constant(a),
        params: pick,
        extra: fc.array(fc.tuple(madeUpName, fc.oneof(hostileString, realValue)), { maxLength: 2 }),
        version: fc.constantFrom("2016-11-15", "2016-11-15", "2009-04-04", "", "1999-01-01", "latest"),
        account: fc.integer({ min: 0, max: 2 })
      })
    })
  },
  { weight: 1, arbitrary: fc.record({ raw: fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 100 }), fc.constantFrom("Action=DescribeInstances&Version=2016-11-15&%", "Action=%E0%A4%A&Version=2016-11-15", "Action=DescribeInstances&Action=RunInstances", "=&=&=")), account: fc.integer({ min: 0, max: 1 }) }) }
)

// --- state ----------------------------------------------------------------------------------------

/** Everything a request could change: the journal and the tables beside it. */
const snapshot = () =>
  db.runPromise(
    Effect.gen(function* () {
      const sql = yield* SqlClient.SqlClient
      const events = yield* sql`SELECT COUNT(*) AS n, MAX(seq) AS last FROM events`
      const side = yield* sql`
        SELECT 'tag' AS t, account_id || '|' || resource_id || '|' || key || '|' || value AS v FROM tags
        UNION ALL SELECT 'key', account_id || '|' || name || '|' || id || '|' || fingerprint FROM key_pairs
        UNION ALL SELECT 'image', id || '|' || owner || '|' || name || '|' || state FROM images
        UNION ALL SELECT 'token', account_id || '|' || token || '|' || reservation_id FROM client_tokens
        UNION ALL SELECT 'meta', key || '|' || value FROM meta
        UNION ALL SELECT 'account', id || '|' || name FROM accounts
        ORDER BY 1, 2`
      return JSON.stringify([events, side])
    })
  )

const ERROR_XML = /^<\?xml version="1.0" encoding="UTF-8"\?>\s*<Response><Errors><Error><Code>([A-Za-z.]+)<\/Code><Message>[^<]*<\/Message><\/Error><\/Errors><RequestID>[0-9a-f-]{36}<\/RequestID><\/Response>\s*$/

describe("fuzzing the Query API", () => {
  it("answers every random or hostile request with a 2xx or an EC2 4xx error, and a failed request changes nothing", async () => {
    let fresh = 0
    const statuses = new Map<string, number>()
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        // A third of the requests come from a brand-new account (no default group yet).
        let credentials = accounts[req.account] ?? undefined
        if (credentials === undefined) credentials = (await Database.createAccount(server.dataDir, `fresh-${fresh++}`)).credentials
        const before = await snapshot()
        const o = { region: server.region, credentials }
        const r = "raw" in req ? await postBodyV4(server.url, req.raw, o) : await postV4(server.url, [["Action", req.action], ["Version", req.version], ...req.params, ...req.extra], o)
        const code = errorCode(r)
        statuses.set(`${r.status} ${r.status >= 300 ? code : "ok"}`, (statuses.get(`${r.status} ${r.status >= 300 ? code : "ok"}`) ?? 0) + 1)
        const what = `${r.status} ${code}: ${"raw" in req ? `raw ${JSON.stringify(req.raw).slice(0, 200)}` : `${req.action} ${JSON.stringify(req.params).slice(0, 400)}`}\n${r.body.slice(0, 400)}`
        if (r.status >= 200 && r.status < 300) {
          expect(r.body, what).toMatch(/^<\?xml version="1.0" encoding="UTF-8"\?>\s*<[A-Za-z]+Response xmlns="http:\/\/ec2\.amazonaws\.com\/doc\/[0-9-]+\/">/)
          return
        }
        expect(r.status >= 400 && r.status < 500 || (r.status === 500 && code === "InsufficientInstanceCapacity"), what).toBe(true)
        expect(r.body, what).toMatch(ERROR_XML)
        expect(Ec2Error.isCode(code ?? ""), what).toBe(true)
        expect(Ec2Error.status(code as Ec2Error.Code), what).toBe(r.status)
        expect(await snapshot(), `a failed request changed the state: ${what}`).toBe(before)
      }),
      // EUCA_FUZZ_RUNS raises the count for a longer hunt; 200 keeps the suite quick.
      { numRuns: Number(process.env.EUCA_FUZZ_RUNS ?? 200), endOnFailure: true }
    )
    if (process.env.EUCA_FUZZ_RUNS !== undefined) console.log([...statuses].sort((a, b) => b[1] - a[1]))
    // The server is still answering, and the run reached the handlers, not just the parser.
    const alive = await postV4(server.url, [["Action", "DescribeInstances"], ["Version", "2016-11-15"]], { region: server.region, credentials: server.credentials })
    expect(alive.status).toBe(200)
    expect([...statuses.keys()].some((k) => k.startsWith("200"))).toBe(true)
    expect([...statuses.keys()].filter((k) => !k.startsWith("200")).length).toBeGreaterThan(3)
  }, 300_000)

  it("a request body full of parameters is refused or answered, not choked on", async () => {
    const many: Array<readonly [string, string]> = [["Action", "DescribeInstances"], ["Version", "2016-11-15"]]
    for (let k = 1; k <= 5000; k++) many.push([`Filter.${k}.Name`, "tag:Name"], [`Filter.${k}.Value.1`, `v${k}`])
    const r = await postV4(server.url, many, { region: server.region, credentials: server.credentials })
    expect([r.status, r.status === 200 ? "ok" : errorCode(r)]).toEqual(r.status === 200 ? [200, "ok"] : [400, expect.any(String)])
    expect(form(many).length).toBeGreaterThan(100_000)
    // Larger than the body limit: a 4xx, not a dropped connection.
    const huge = await postV4(server.url, [["Action", "DescribeInstances"], ["Version", "2016-11-15"], ["Filter.1.Name", "tag:x"], ["Filter.1.Value.1", "x".repeat(2 * 1024 * 1024)]], { region: server.region, credentials: server.credentials })
    expect(huge.status).toBeGreaterThanOrEqual(400)
    expect(huge.status).toBeLessThan(500)
  })
})
