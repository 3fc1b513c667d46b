/**
 * The controller: the shell around the pure core. It stamps commands with the clock, asks the
 * decider, journals the events (in one SQLite transaction, with whatever the caller must store beside
 * them) before anyone hears of them, applies them to the state, and hands the derived effects to the
 * backend — simulated or Xen, it does not know which. Observations from the backend come back as
 * commands through the same door. One command at a time: decisions are serialized.
 */
import { SqlClient, type SqlError } from "@effect/sql"
import { Clock, Context, Data, Duration, Effect, Queue, Ref, type Scope } from "effect"
import type * as Commands from "../model/Commands.js"
import * as Decide from "../model/Decide.js"
import * as Effects from "../model/Effects.js"
import type * as Events from "../model/Events.js"
import { evolve } from "../model/Evolve.js"
import type * as Policy from "../model/Policy.js"
import * as Rejection from "../model/Rejection.js"
import type * as State from "../model/State.js"
import * as Units from "../model/Units.js"
import * as Journal from "../store/Journal.js"
import { Backend } from "./Backend.js"
import * as ExternalPolicy from "./ExternalPolicy.js"

export class Rejected extends Data.TaggedError("Rejected")<{ readonly rejection: Rejection.Rejection }> {
  override get message() {
    return Rejection.message(this.rejection)
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never
/** A command before the controller stamps it with the time. */
export type Unstamped = DistributiveOmit<Commands.Command, "at">

export interface Applied<A> {
  readonly events: ReadonlyArray<Events.Event>
  readonly before: State.State
  readonly after: State.State
  /** What the caller's `inTransaction` step returned. */
  readonly extra: A
}

/** Commands decided with a command, before and after it. */
export interface Together {
  readonly before?: ReadonlyArray<Unstamped>
  readonly after?: ReadonlyArray<Unstamped>
}

export interface SubmitOptions<A, E> {
  /** Runs in the journal's transaction, after the events are written: commit both or neither. */
  readonly inTransaction?: (applied: Omit<Applied<never>, "extra">) => Effect.Effect<A, E, SqlClient.SqlClient>
  /**
   * Commands that go with this one (an account's default group, made on first need), chosen from the
   * state under the controller's lock and decided in order on the state each leaves: all are
   * accepted and journaled in one transaction, or none is. `Applied.events` holds the events of all.
   */
  readonly together?: (state: State.State) => Together
}

export interface ControllerShape {
  readonly policy: Policy.Policy<any>
  readonly state: Effect.Effect<State.State>
  readonly submit: <A = undefined, E = never>(
    command: Unstamped,
    options?: SubmitOptions<A, E>
  ) => Effect.Effect<Applied<A | undefined>, Rejected | E | SqlError.SqlError>
}

export class Controller extends Context.Tag("eucalyptus/Controller")<Controller, ControllerShape>() {}

export interface Options {
  readonly policy: Policy.Policy<any>
  /** The cloud as configured, before any event. */
  readonly genesis: State.State
  /** How often time passes for the core (POWERSAVE power-downs, forgetting old instances). Default 10 s. */
  readonly tickEvery?: Duration.DurationInput
  /** Log every accepted event at info level (what an operator reads). Default true. */
  readonly logEvents?: boolean
}

const describeEvent = (e: Events.Event): string => {
  switch (e._tag) {
    case "InstancesLaunched":
      return `${e.reservationId} ${e.account} ${e.zone}: ${e.instances.map((i) => `${i.id}@${i.node}`).join(" ")}`
    case "InstancesTerminating":
      return e.instances.join(" ")
    case "InstanceTerminated":
      return `${e.instance} (${e.reason.code})`
    default: {
      const { _tag, at, ...rest } = e as Record<string, unknown>
      void _tag
      void at
      return JSON.stringify(rest)
    }
  }
}

export const make = (options: Options): Effect.Effect<ControllerShape, Journal.JournalCorrupt | SqlError.SqlError, SqlClient.SqlClient | Backend | Scope.Scope> =>
  Effect.gen(function* () {
    const sql = yield* SqlClient.SqlClient
    const backend = yield* Backend
    const ctx: Decide.Context = { policy: options.policy }
    const journal = yield* Journal.load
    let replayed = options.genesis
    for (const e of journal) replayed = evolve(replayed, e)
    const state = yield* Ref.make(replayed)
    const lock = yield* Effect.makeSemaphore(1)
    const effects = yield* Queue.unbounded<Effects.Effect>()
    const logEvents = options.logEvents ?? true
    yield* Effect.logInfo(`controller: ${journal.length} journaled events replayed; policy ${options.policy.name}`)

    const submit = <A = undefined, E = never>(command: Unstamped, opts: SubmitOptions<A, E> = {}) =>
      lock.withPermits(1)(
        Effect.gen(function* () {
          const now = yield* Clock.currentTimeMillis
          const at = Units.ms(Math.max(0, Math.round(now)))
          const before = yield* Ref.get(state)
          const together = opts.together?.(before) ?? {}
          const commands = [...(together.before ?? []), command, ...(together.after ?? [])]
          const events: Array<Events.Event> = []
          let after = before
          const out: Array<Effects.Effect> = []
          for (const c of commands) {
            const stamped = { ...c, at } as Commands.Command
            const current = after
            const decision = stamped._tag === "RunInstances"
              ? yield* ExternalPolicy.decideEffect((answers) => Decide.decide(ctx, current, { ...stamped, answers }), stamped.userData)
              : Decide.decide(ctx, current, stamped)
            if (decision._tag === "Rejected") return yield* new Rejected({ rejection: decision.rejection })
            if (decision._tag === "Consult") return yield* Effect.dieMessage("unanswered consultation")
            for (const e of decision.events) {
              const next = evolve(after, e)
              out.push(...Effects.of(after, e, next))
              after = next
              events.push(e)
            }
          }
          let extra: A | undefined = undefined
          if (events.length > 0 || opts.inTransaction) {
            extra = yield* sql.withTransaction(
              Effect.gen(function* () {
                yield* Journal.append(events)
                return opts.inTransaction ? yield* opts.inTransaction({ events, before, after }) : undefined
              })
            ).pipe(Effect.provideService(SqlClient.SqlClient, sql))
          }
          yield* Ref.set(state, after)
          if (logEvents) for (const e of events) yield* Effect.logInfo(`${e._tag} ${describeEvent(e)}`)
          yield* Queue.offerAll(effects, out)
          return { events, before, after, extra } satisfies Applied<A | undefined>
        })
      )

    const shape: ControllerShape = { policy: options.policy, state: Ref.get(state), submit }

    // Effects go to the backend one at a time, in the order they were decided.
    yield* Effect.forkScoped(
      Effect.forever(Queue.take(effects).pipe(Effect.flatMap((e) => backend.execute(e))))
    )
    yield* backend.start({
      state: Ref.get(state),
      report: (c) =>
        submit(c as Unstamped).pipe(
          Effect.asVoid,
          Effect.catchAll((e) => Effect.logWarning(`backend observation ${c._tag} not applied: ${e.message}`))
        )
    })
    const tick = Effect.sleep(options.tickEvery ?? Duration.seconds(10)).pipe(
      Effect.zipRight(submit({ _tag: "Tick" })),
      Effect.catchAll((e) => Effect.logWarning(`tick failed: ${e.message}`)),
      Effect.forever
    )
    yield* Effect.forkScoped(tick)
    return shape
  })
