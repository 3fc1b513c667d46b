/**
 * The instance state machine: the only place transitions are allowed. EC2's codes:
 * pending 0, running 16, shutting-down 32, terminated 48, stopping 64, stopped 80.
 *
 *   pending ──boot──► running ──reboot──► running
 *      │                 │
 *      ├──terminate──────┴──terminate──► shutting-down ──stopped──► terminated
 *      └──fail / node lost (from pending, running or shutting-down) ──► terminated
 *
 *   EBS-backed only:  running ──stop──► stopping ──halted──► stopped ──start──► pending
 *                     stopping ──terminate──► shutting-down;  stopped ──terminate──► terminated
 *
 * Two views of the one machine: `next` answers a user's or an observer's action (the decider asks
 * it, and a no-op such as terminating a terminated instance is allowed); `after` is the table of the
 * journal's instance events, which `evolve` consults for every state it gives an instance (an event
 * it does not allow is a bug in the decider, and evolve refuses it). Every event transition is one
 * of `next`'s (test/model/Lifecycle.test.ts checks both tables against each other).
 */
import { Either, Schema } from "effect"

export const InstanceState = Schema.Literal("pending", "running", "shutting-down", "terminated", "stopping", "stopped")
export type InstanceState = typeof InstanceState.Type

export const code: Record<InstanceState, number> = { pending: 0, running: 16, "shutting-down": 32, terminated: 48, stopping: 64, stopped: 80 }

export type Action = "boot" | "reboot" | "terminate" | "stopped" | "fail" | "stop" | "halted" | "start"

export interface IllegalTransition {
  readonly _tag: "IllegalTransition"
  readonly from: InstanceState
  readonly action: Action
}

/**
 * The next state, or an illegal transition as a value. Terminating a shutting-down or terminated
 * instance is allowed and changes nothing (EC2 answers it the same way); so is a late `stopped`.
 */
export const next = (from: InstanceState, action: Action): Either.Either<InstanceState, IllegalTransition> => {
  const illegal = Either.left<IllegalTransition>({ _tag: "IllegalTransition", from, action })
  switch (action) {
    case "boot":
      return from === "pending" ? Either.right("running") : illegal
    case "reboot":
      return from === "running" ? Either.right("running") : illegal
    case "terminate":
      return from === "pending" || from === "running" || from === "stopping"
        ? Either.right("shutting-down")
        : from === "stopped"
          ? Either.right("terminated")
          : Either.right(from)
    case "stopped":
      return from === "shutting-down" ? Either.right("terminated") : from === "terminated" ? Either.right(from) : illegal
    case "fail":
      return from === "terminated" ? illegal : Either.right("terminated")
    case "stop":
      return from === "running" ? Either.right("stopping") : from === "stopping" || from === "stopped" ? Either.right(from) : illegal
    case "halted":
      return from === "stopping" ? Either.right("stopped") : illegal
    case "start":
      return from === "stopped" ? Either.right("pending") : from === "pending" || from === "running" ? Either.right(from) : illegal
  }
}

/** Does an instance in this state hold node capacity? From placement until terminated or stopped (a stopped one keeps its addresses). */
export const holdsCapacity = (s: InstanceState): boolean => s !== "terminated" && s !== "stopped"

/** The state a launched instance starts in. */
export const initial: InstanceState = "pending"

/** The journal's events that move an instance from one state to another. */
export type TransitionEvent =
  | "InstanceBooted"
  | "InstanceRebootRequested"
  | "InstancesTerminating"
  | "InstanceTerminated"
  | "InstancesStopping"
  | "InstanceStopCompleted"
  | "InstanceStarting"

/** Every allowed transition: per event, the states it applies to and the state each leads to. Nothing else is allowed. */
export const transitions: { readonly [E in TransitionEvent]: Readonly<Partial<Record<InstanceState, InstanceState>>> } = {
  InstanceBooted: { pending: "running" },
  InstanceRebootRequested: { running: "running" },
  InstancesTerminating: { pending: "shutting-down", running: "shutting-down", stopping: "shutting-down" },
  // Stopped after shutting down; failed or its node lost; a never-started or stopped instance terminated at once.
  InstanceTerminated: { pending: "terminated", running: "terminated", "shutting-down": "terminated", stopping: "terminated", stopped: "terminated" },
  InstancesStopping: { running: "stopping" },
  InstanceStopCompleted: { stopping: "stopped" },
  InstanceStarting: { stopped: "pending" }
}

/** The state after the event, undefined when the event does not apply to an instance in `from`. */
export const after = (from: InstanceState, event: TransitionEvent): InstanceState | undefined => transitions[event][from]

/** The decider emitted an instance event its instance's state does not allow: a bug (a defect), never applied. */
export class TransitionDefect extends Error {
  override readonly name = "TransitionDefect"
  constructor(readonly instance: string, readonly from: InstanceState, readonly event: TransitionEvent) {
    super(`${event} does not apply to ${instance}, which is ${from}: not an allowed instance transition`)
  }
}

/** `after`, for evolve: the new state, or a TransitionDefect thrown. */
export const enter = (instance: string, from: InstanceState, event: TransitionEvent): InstanceState => {
  const to = after(from, event)
  if (to === undefined) throw new TransitionDefect(instance, from, event)
  return to
}
