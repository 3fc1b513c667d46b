import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { SqlClient } from "@effect/sql"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Exit, Layer, Scope } from "effect"
import * as Controller from "../../src/controller/Controller.js"
import * as Cloud from "../../src/model/Cloud.js"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import * as Database from "../../src/store/Database.js"
import * as Journal from "../../src/store/Journal.js"
import { alice, topology } from "../support/cloud.js"
import * as FakeBackend from "../support/FakeBackend.js"

const policy = Policy.roundRobin()
const genesis = Either.getOrThrow(Cloud.make({ topology: topology([[4, 4096, 100], [4, 4096, 100]]) }, policy))

/** Opens the cloud on a data directory, runs `use` with its controller, closes everything. */
const withCloud = <A, E>(dir: string, use: (c: Controller.ControllerShape) => Effect.Effect<A, E, SqlClient.SqlClient>) =>
  Effect.scoped(
    Effect.gen(function* () {
      const c = yield* Controller.make({ policy, genesis, logEvents: false })
      return yield* use(c)
    }).pipe(Effect.provide(Layer.merge(Database.layer(dir), FakeBackend.layer({ autoBoot: true }))))
  )

describe("Controller", () => {
  it.live("journals every accepted command in SQLite and gets the same state back after a restart", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "euca-ctl-"))
      try {
        const first = yield* withCloud(dir, (c) =>
          Effect.gen(function* () {
            const run = yield* c.submit({ _tag: "RunInstances", account: alice, imageId: "emi-1", minCount: 3, maxCount: 3 })
            expect(run.events.map((e) => e._tag)).toEqual(["GroupCreated", "InstancesLaunched"])
            // The fake backend boots instances as soon as they start.
            yield* Effect.sleep("50 millis")
            const s = yield* c.state
            expect(State.liveInstances(s).map((i) => i.state)).toEqual(["running", "running", "running"])
            return s
          })
        )
        const again = yield* withCloud(dir, (c) => c.state)
        expect(State.instances(again)).toEqual(State.instances(first))
        expect(again.policyState).toEqual(first.policyState)
        expect(again.nodes).toEqual(first.nodes)
        const n = yield* Effect.provide(Journal.count, Database.layer(dir))
        expect(n).toBe(5) // group, launch, three boots
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.live("answers a rejection with the core's reason and journals nothing", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "euca-ctl-"))
      try {
        const exit = yield* withCloud(dir, (c) =>
          Effect.exit(c.submit({ _tag: "RunInstances", account: alice, imageId: "emi-1", minCount: 100, maxCount: 100 }))
        )
        expect(Exit.isFailure(exit)).toBe(true)
        if (Exit.isFailure(exit) && exit.cause._tag === "Fail") {
          expect(exit.cause.error).toMatchObject({ _tag: "Rejected", rejection: { _tag: "InsufficientCapacity", requested: 100 } })
        }
        expect(yield* Effect.provide(Journal.count, Database.layer(dir))).toBe(0)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.live("rolls the events back when the caller's step in the same transaction fails", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "euca-ctl-"))
      try {
        const exit = yield* withCloud(dir, (c) =>
          Effect.gen(function* () {
            const r = yield* Effect.exit(
              c.submit(
                { _tag: "CreateSecurityGroup", account: alice, name: "web", description: "w" },
                { inTransaction: () => Effect.fail("disk full" as const) }
              )
            )
            const s = yield* c.state
            return { r, groups: State.groups(s).length }
          })
        )
        expect(Exit.isFailure(exit.r)).toBe(true)
        expect(exit.groups).toBe(0)
        expect(yield* Effect.provide(Journal.count, Database.layer(dir))).toBe(0)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )

  it.live("decides the commands `together` names with the command, in order, all or none, in one transaction", () =>
    Effect.gen(function* () {
      const dir = mkdtempSync(join(tmpdir(), "euca-ctl-"))
      try {
        const out = yield* withCloud(dir, (c) =>
          Effect.gen(function* () {
            // The last one fails (a duplicate of the first): nothing of the three is applied or journaled.
            const refused = yield* Effect.exit(
              c.submit(
                { _tag: "CreateSecurityGroup", account: alice, name: "web", description: "w" },
                {
                  together: () => ({
                    before: [{ _tag: "CreateSecurityGroup", account: alice, name: "db", description: "d" }],
                    after: [{ _tag: "CreateSecurityGroup", account: alice, name: "db", description: "again" }]
                  })
                }
              )
            )
            const afterRefusal = State.groups(yield* c.state).length
            // The together step sees the state under the lock: it asks for the group only while it is missing.
            const ensure = (s: State.State) => (State.groupByName(s, alice, "default") ? {} : { before: [{ _tag: "CreateSecurityGroup" as const, account: alice, name: "default", description: "default group" }] })
            const first = yield* c.submit({ _tag: "CreateSecurityGroup", account: alice, name: "web", description: "w" }, { together: ensure })
            const second = yield* c.submit({ _tag: "CreateSecurityGroup", account: alice, name: "app", description: "a" }, { together: ensure })
            return { refused, afterRefusal, first, second, names: State.groups(yield* c.state).map((g) => g.name) }
          })
        )
        expect(Exit.isFailure(out.refused)).toBe(true)
        expect(out.afterRefusal).toBe(0)
        expect(out.first.events.map((e) => (e._tag === "GroupCreated" ? e.name : e._tag))).toEqual(["default", "web"])
        expect(out.second.events.map((e) => (e._tag === "GroupCreated" ? e.name : e._tag))).toEqual(["app"])
        expect(out.names).toEqual(["app", "default", "web"])
        expect(yield* Effect.provide(Journal.count, Database.layer(dir))).toBe(3)
      } finally {
        rmSync(dir, { recursive: true, force: true })
      }
    })
  )
})
void Scope
