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
