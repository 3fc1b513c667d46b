/**
 * Opening a cloud's data directory. The first start records the cloud's configuration (its genesis),
 * creates the admin account and its access key and registers the default images. Later starts
 * rebuild the state from the genesis plus the journal, then bring it in line with the config file:
 * new nodes are added, removed nodes removed (only if empty), VM types and the policy updated — each
 * as a journaled command. A changed network on a cloud that has run anything is refused: addresses
 * already handed out would no longer mean what they meant.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Effect, Either, Option, Schema } from "effect"
import type * as Controller from "../controller/Controller.js"
import * as Capacity from "../model/Capacity.js"
import * as Cloud from "../model/Cloud.js"
import * as Network from "../model/Network.js"
import * as PolicyConfig from "../model/PolicyConfig.js"
import type * as Policy from "../model/Policy.js"
import type * as State from "../model/State.js"
import * as Topology from "../model/Topology.js"
import * as VmType from "../model/VmType.js"
import * as Accounts from "../store/Accounts.js"
import * as Images from "../store/Images.js"
import * as Journal from "../store/Journal.js"
import { evolve } from "../model/Evolve.js"
import * as Meta from "../store/Meta.js"
import type * as ServerConfig from "./ServerConfig.js"

export class BootstrapError extends Schema.TaggedError<BootstrapError>()("BootstrapError", { message: Schema.String }) {}

const Genesis = Schema.Struct({
  region: Schema.String,
  cloud: Topology.Topology,
  vmTypes: VmType.VmTypeTable,
  network: Network.NetworkSettings,
  policy: PolicyConfig.PolicyConfig
})
type Genesis = typeof Genesis.Type
const encodeGenesis = Schema.encodeSync(Schema.parseJson(Genesis))
const decodeGenesis = Schema.decodeUnknownEither(Schema.parseJson(Genesis))

export interface Opened {
  readonly genesis: State.State
  readonly policy: Policy.Policy<any>
  readonly region: string
  /** Set on the first start only: the admin's credentials, to print once. */
  readonly firstStart: Option.Option<Accounts.Credentials>
  /** Commands that bring the replayed state in line with the config file (submit after the controller starts). */
  readonly reconcile: (c: Controller.ControllerShape) => Effect.Effect<ReadonlyArray<string>, SqlError.SqlError>
}

const policyOf = (c: PolicyConfig.PolicyConfig) =>
  Either.mapLeft(PolicyConfig.make(c), (message) => new BootstrapError({ message: `policy: ${message}` }))

const stateOf = (g: Genesis, policy: Policy.Policy<any>, nodeState: Capacity.NodeState) =>
  Either.mapLeft(
    Cloud.make({ topology: g.cloud, vmTypes: g.vmTypes, network: g.network, nodeState }, policy),
    (e) => new BootstrapError({ message: `${e.field}: ${e.message}` })
  )

export const open = (config: ServerConfig.Resolved, options: { readonly now: number; readonly nodeState: Capacity.NodeState }) =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const policy = yield* policyOf(config.policy)
    const wanted: Genesis = { region: config.region, cloud: config.cloud, vmTypes: config.vmTypes, network: config.network, policy: config.policy }
    // Validate the whole configuration before touching anything.
    yield* stateOf(wanted, policy, options.nodeState)
    const stored = yield* Meta.get("genesis")

    if (Option.isNone(stored)) {
      const made = yield* sql.withTransaction(
        Effect.gen(function* () {
          yield* Meta.set("genesis", encodeGenesis(wanted))
          const admin = yield* Accounts.create(Accounts.ADMIN, { admin: true, now: options.now })
          yield* Images.registerDefaults(options.now)
          return admin
        })
      )
      const genesis = yield* stateOf(wanted, policy, options.nodeState)
      return {
        genesis,
        policy,
        region: wanted.region,
        firstStart: Option.some(made.credentials),
        reconcile: () => Effect.succeed([])
      } satisfies Opened
    }

    const g = decodeGenesis(stored.value)
    if (Either.isLeft(g)) return yield* new BootstrapError({ message: `the stored cloud configuration is unreadable: ${g.left.message}` })
    const old = g.right
    const events = yield* Journal.count.pipe(Effect.catchTag("SqlError", (e) => Effect.fail(new BootstrapError({ message: e.message }))))
    if (JSON.stringify(old.network) !== JSON.stringify(wanted.network) && events > 0) {
      return yield* new BootstrapError({
        message:
          `the network settings differ from those this cloud was created with (${old.network.mode} → ${wanted.network.mode}); ` +
          `addresses already handed out would change meaning. Keep the old settings, or start from a new data directory.`
      })
    }
    if (old.region !== wanted.region) {
      return yield* new BootstrapError({ message: `the region of this cloud is ${old.region}; the config file says ${wanted.region}` })
    }
    const oldPolicy = yield* policyOf(old.policy)
    const genesis = yield* stateOf({ ...old, network: events > 0 ? old.network : wanted.network }, oldPolicy, options.nodeState)
    if (events === 0 && JSON.stringify(old.network) !== JSON.stringify(wanted.network)) {
      yield* Meta.set("genesis", encodeGenesis({ ...old, network: wanted.network }))
    }

    const reconcile = (c: Controller.ControllerShape) =>
      Effect.gen(function* () {
        const notes: Array<string> = []
        const s = yield* c.state
        const note = (what: string) => (r: Effect.Effect<unknown, Controller.Rejected | SqlError.SqlError>) =>
          r.pipe(
            Effect.as(notes.push(what)),
            Effect.catchTag("Rejected", (e) => Effect.sync(() => notes.push(`not done: ${what}: ${e.message}`)))
          )
        const want = Topology.expand(wanted.cloud)
        for (const n of want) {
          if (!s.nodes.some((x) => x.id === n.id)) {
            yield* note(`node ${n.id} added to ${n.zone}`)(
              c.submit({ _tag: "AddNode", zone: n.zone, nodeId: n.id, capacity: n.capacity, idleWatts: n.idleWatts, peakWatts: n.peakWatts })
            )
          }
        }
        for (const n of s.nodes) {
          if (!want.some((x) => x.id === n.id)) yield* note(`node ${n.id} removed`)(c.submit({ _tag: "RemoveNode", nodeId: n.id }))
        }
        const types = (t: VmType.VmTypeTable) => JSON.stringify(t.map((x) => [x.name, x.cores, x.memoryMiB, x.diskGiB]))
        if (types(s.vmTypes) !== types(wanted.vmTypes)) {
          yield* note("VM types updated")(
            c.submit({ _tag: "SetVmTypes", vmTypes: wanted.vmTypes.map((t) => ({ name: t.name, cores: t.cores, memoryMiB: t.memoryMiB, diskGiB: t.diskGiB })) })
          )
        }
        if (s.policyName !== policy.name) {
          yield* note(`policy ${s.policyName} → ${policy.name}`)(c.submit({ _tag: "SetPolicy", policy: policy.name, initial: policy.initial }))
        }
        // The genesis stays as the cloud was created: the journal records every change since.
        return notes
      })

    return { genesis, policy, region: old.region, firstStart: Option.none(), reconcile } satisfies Opened
  })

/** The cloud's current state from the data directory alone (genesis + journal), read-only: for `euca admin` while the server runs. */
export const replay = Effect.gen(function* () {
  const stored = yield* Meta.get("genesis")
  if (Option.isNone(stored)) return yield* new BootstrapError({ message: "this data directory holds no cloud yet: start it once with `euca serve`" })
  const g = decodeGenesis(stored.value)
  if (Either.isLeft(g)) return yield* new BootstrapError({ message: `the stored cloud configuration is unreadable: ${g.left.message}` })
  const policy = yield* policyOf(g.right.policy)
  const genesis = yield* stateOf(g.right, policy, "up")
  const events = yield* Journal.load
  let s = genesis
  for (const e of events) s = evolve(s, e)
  return { state: s, region: g.right.region }
})
