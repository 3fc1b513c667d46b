/**
 * The backend port: what carries the core's effects out into the world. Two implementations stand
 * behind it — the simulated backend (src/sim) and the Xen backend (src/backends/xen) — and the
 * controller does not know which one it runs on.
 *
 * The backend never answers an effect synchronously: it reports what happened later, as observation
 * commands (InstanceBooted, InstanceFailed, InstanceStopped, NodeReported, NodeLost) through
 * `BackendContext.report`. A start that fails is reported as InstanceFailed after the backend has
 * cleaned up what it did (compensation), so the core can release the capacity.
 */
import { Context, type Effect, Schema, type Scope } from "effect"
import type * as Commands from "../model/Commands.js"
import type * as Effects from "../model/Effects.js"
import type * as State from "../model/State.js"

export class BackendError extends Schema.TaggedError<BackendError>()("BackendError", {
  message: Schema.String,
  node: Schema.optional(Schema.String)
}) {}

export interface BackendContext {
  /** Feed an observation back to the controller (it is decided and journaled like any command). */
  readonly report: (command: Commands.Command) => Effect.Effect<void>
  /** The controller's current state: for reconciling and for compiling network plans. */
  readonly state: Effect.Effect<State.State>
}

export interface BackendShape {
  readonly name: "sim" | "xen" | "kvm"
  /**
   * Start the backend's own loops (initial node reports, polling, reconcile) for as long as the
   * scope lives. Called once by the controller, before any `execute`.
   */
  readonly start: (ctx: BackendContext) => Effect.Effect<void, never, Scope.Scope>
  /** Carry out one effect. Returns once it is under way; failures come back as observations. */
  readonly execute: (effect: Effects.Effect) => Effect.Effect<void>
  /** The console log of an instance (GetConsoleOutput). */
  readonly consoleOutput: (instance: State.Instance) => Effect.Effect<string, BackendError>
}

export class Backend extends Context.Tag("eucalyptus/Backend")<Backend, BackendShape>() {}
