/**
 * `euca admin`: the operator's commands. They work on the data directory directly (SQLite in WAL
 * mode), so they also work while the server runs: accounts and access keys, images, and read-only
 * views of nodes and VM types. Nodes, VM types and the policy are changed in the config file; the
 * next start brings the cloud in line (each change journaled).
 */
import { createHash } from "node:crypto"
import { existsSync, readFileSync, statSync } from "node:fs"
import { join, resolve } from "node:path"
import { Args, Command, Options } from "@effect/cli"
import { Console, Effect, Option } from "effect"
import * as Bootstrap from "../app/Bootstrap.js"
import * as Availability from "../model/Availability.js"
import * as Capacity from "../model/Capacity.js"
import * as Ids from "../model/Ids.js"
import * as Devices from "../model/NetworkDevices.js"
import * as NetworkDiff from "../model/NetworkDiff.js"
import * as NetworkPlan from "../model/NetworkPlan.js"
import * as NetworkRender from "../model/NetworkRender.js"
import * as State from "../model/State.js"
import * as Accounts from "../store/Accounts.js"
import * as Database from "../store/Database.js"
import * as Images from "../store/Images.js"

const data = Options.directory("data").pipe(Options.withDefault("./data"), Options.withDescription("the cloud's data directory"))
const json = Options.boolean("json").pipe(Options.withDescription("print JSON (for scripts)"))

/** Admin commands work on an existing cloud: they never create a data directory by accident. */
const withDb = <A, E, R>(dir: string, eff: Effect.Effect<A, E, R>) =>
  Effect.suspend(() =>
    existsSync(join(resolve(dir), Database.FILE_NAME))
      ? Effect.void
      : Effect.fail(new Accounts.AccountError({ message: `no cloud in ${resolve(dir)}: start one there with \`euca serve --data ${dir}\`` }))
  ).pipe(Effect.zipRight(Effect.provide(eff, Database.layer(resolve(dir)))))

const table = (rows: ReadonlyArray<ReadonlyArray<string>>): string => {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)))
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd()).join("\n")
}

const credentials = Command.make("credentials", { data, json, account: Options.text("account").pipe(Options.withDefault(Accounts.ADMIN)) }, ({ data, json, account }) =>
  withDb(
    data,
    Effect.gen(function* () {
      const k = yield* Accounts.firstKey(account)
      if (Option.isNone(k)) return yield* Effect.fail(new Accounts.AccountError({ message: `no active access key for account ${account} in ${data}` }))
      if (json) yield* Console.log(JSON.stringify({ accessKeyId: k.value.accessKeyId, secretAccessKey: k.value.secretAccessKey }))
      else yield* Console.log(`export AWS_ACCESS_KEY_ID=${k.value.accessKeyId}\nexport AWS_SECRET_ACCESS_KEY=${k.value.secretAccessKey}`)
    })
  )
).pipe(Command.withDescription("print an account's access key (the admin's by default)"))

const createAccount = Command.make("create-account", { data, json, name: Args.text({ name: "NAME" }) }, ({ data, json, name }) =>
  withDb(
    data,
    Effect.gen(function* () {
      const made = yield* Accounts.create(name, { now: Date.now() })
      if (json) yield* Console.log(JSON.stringify({ accountId: made.account.id, ...made.credentials }))
      else yield* Console.log(`account ${name} (${made.account.id})\nexport AWS_ACCESS_KEY_ID=${made.credentials.accessKeyId}\nexport AWS_SECRET_ACCESS_KEY=${made.credentials.secretAccessKey}`)
    })
  )
).pipe(Command.withDescription("create an account and its first access key"))

const accounts = Command.make("accounts", { data, json }, ({ data, json }) =>
  withDb(
    data,
    Effect.gen(function* () {
      const list = yield* Accounts.list
      if (json) yield* Console.log(JSON.stringify(list))
      else yield* Console.log(table([["NAME", "ID", "ADMIN"], ...list.map((a) => [a.name, a.id, a.admin ? "yes" : ""])]))
    })
  )
).pipe(Command.withDescription("list accounts"))

const addKey = Command.make("add-key", { data, json, name: Args.text({ name: "ACCOUNT" }) }, ({ data, json, name }) =>
  withDb(
    data,
    Effect.gen(function* () {
      const k = yield* Accounts.addKey(name, Date.now())
      yield* Console.log(json ? JSON.stringify(k) : `export AWS_ACCESS_KEY_ID=${k.accessKeyId}\nexport AWS_SECRET_ACCESS_KEY=${k.secretAccessKey}`)
    })
  )
).pipe(Command.withDescription("give an account another access key"))

const deactivateKey = Command.make("deactivate-key", { data, key: Args.text({ name: "ACCESS_KEY_ID" }) }, ({ data, key }) =>
  withDb(data, Accounts.deactivateKey(key).pipe(Effect.zipRight(Console.log(`${key} deactivated`))))
).pipe(Command.withDescription("stop an access key from working"))

const imagesList = Command.make("list", { data, json }, ({ data, json }) =>
  withDb(
    data,
    Effect.gen(function* () {
      const list = yield* Images.all
      if (json) yield* Console.log(JSON.stringify(list))
      else yield* Console.log(table([["ID", "KIND", "NAME", "OWNER", "PATH"], ...list.map((i) => [i.id, i.kind, i.name, i.owner, i.path ?? ""])]))
    })
  )
).pipe(Command.withDescription("list registered images"))

const imagesRegister = Command.make(
  "register",
  {
    data,
    json,
    kind: Options.choice("kind", ["machine", "kernel", "ramdisk"]).pipe(Options.withDefault("machine" as const)),
    name: Options.text("name"),
    file: Options.file("file", { exists: "yes" }).pipe(Options.optional, Options.withDescription("the image file (the Xen backend stages it onto nodes)")),
    kernel: Options.text("kernel").pipe(Options.optional),
    ramdisk: Options.text("ramdisk").pipe(Options.optional)
  },
  ({ data, json, kind, name, file, kernel, ramdisk }) =>
    withDb(
      data,
      Effect.gen(function* () {
        let path: string | undefined
        let digest: string | undefined
        let sizeBytes: number | undefined
        if (Option.isSome(file)) {
          path = resolve(file.value)
          digest = createHash("sha256").update(readFileSync(path)).digest("hex")
          sizeBytes = statSync(path).size
        }
        const id = yield* Images.register({
          owner: Images.SYSTEM_OWNER,
          name,
          kind,
          location: path ?? `eucalyptus/${name}.manifest.xml`,
          public: true,
          kernelId: Option.getOrUndefined(kernel),
          ramdiskId: Option.getOrUndefined(ramdisk),
          path,
          digest,
          sizeBytes,
          now: Date.now()
        })
        yield* Console.log(json ? JSON.stringify({ imageId: id, digest }) : id)
      })
    )
).pipe(Command.withDescription("register a public image (optionally backed by a file)"))

const images = Command.make("images").pipe(Command.withSubcommands([imagesList, imagesRegister]), Command.withDescription("images"))

const nodes = Command.make("nodes", { data, json }, ({ data, json }) =>
  withDb(
    data,
    Effect.gen(function* () {
      const { state } = yield* Bootstrap.replay
      const rows = state.nodes.map((n) => ({
        node: n.id,
        zone: n.zone,
        state: n.state,
        instances: n.instances,
        cores: `${n.used.cores}/${n.capacity.cores}`,
        memoryMiB: `${n.used.memoryMiB}/${n.capacity.memoryMiB}`,
        diskGiB: `${n.used.diskGiB}/${n.capacity.diskGiB}`
      }))
      if (json) yield* Console.log(JSON.stringify(rows))
      else yield* Console.log(table([["NODE", "ZONE", "STATE", "INSTANCES", "CORES", "MEMORY MiB", "DISK GiB"], ...rows.map((r) => [r.node, r.zone, r.state, String(r.instances), r.cores, r.memoryMiB, r.diskGiB])]))
    })
  )
).pipe(Command.withDescription("nodes with their state and used/total capacity (as journaled)"))

const vmTypes = Command.make("vm-types", { data, json }, ({ data, json }) =>
  withDb(
    data,
    Effect.gen(function* () {
      const { state } = yield* Bootstrap.replay
      const out = state.zones.map((z) => ({
        zone: z.name,
        types: Availability.rows(new Capacity.ArrayCapacity(State.nodeRows(state, z)), state.vmTypes).map((r) => ({ type: r.type.name, cores: r.type.cores, memoryMiB: r.type.memoryMiB, diskGiB: r.type.diskGiB, free: r.free, max: r.max }))
      }))
      if (json) {
        yield* Console.log(JSON.stringify(out))
        return
      }
      for (const z of out) {
        yield* Console.log(`${z.zone}\n${table([["TYPE", "CPU", "RAM MiB", "DISK GiB", "FREE / MAX"], ...z.types.map((t) => [t.type, String(t.cores), String(t.memoryMiB), String(t.diskGiB), `${String(t.free).padStart(4, "0")} / ${String(t.max).padStart(4, "0")}`])])}\n`)
      }
    })
  )
).pipe(Command.withDescription("VM types with free / max slots per zone, Eucalyptus's arithmetic"))

const networkPlan = Command.make(
  "network-plan",
  {
    data,
    zone: Options.text("zone"),
    privateInterface: Options.text("private-interface").pipe(Options.withDefault("eth1"), Options.withDescription("the head's interface toward the nodes")),
    publicInterface: Options.text("public-interface").pipe(Options.withDefault("eth0"), Options.withDescription("the head's public interface")),
    format: Options.choice("format", ["iptables", "ip", "json"]).pipe(Options.withDefault("iptables" as const))
  },
  (o) =>
    withDb(
      o.data,
      Effect.gen(function* () {
        const { state } = yield* Bootstrap.replay
        const head = { privateInterface: o.privateInterface, publicInterface: o.publicInterface }
        const plan = NetworkPlan.compile(state, Ids.zoneName(o.zone), head)
        if (plan._tag === "Left") return yield* Effect.fail(new Accounts.AccountError({ message: `${plan.left.field}: ${plan.left.message}` }))
        if (o.format === "json") return yield* Console.log(JSON.stringify(plan.right, null, 2))
        if (o.format === "ip") {
          const devices = NetworkRender.headDevices(plan.right, { _tag: "vlan", dev: o.privateInterface })
          for (const argv of NetworkDiff.devices(Devices.none, devices)) yield* Console.log(argv.join(" "))
          return
        }
        yield* Console.log(NetworkRender.restore(plan.right, NetworkRender.nothing) ?? "# empty plan: nothing to apply in this zone")
      })
    )
).pipe(Command.withDescription("print a zone's network plan as the cluster head would apply it (iptables-restore input, ip commands or JSON)"))

export const adminCommand = Command.make("admin").pipe(
  Command.withSubcommands([credentials, createAccount, accounts, addKey, deactivateKey, images, nodes, vmTypes, networkPlan]),
  Command.withDescription("operate a cloud: accounts, keys, images, nodes, VM types")
)
