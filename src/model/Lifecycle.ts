/**
 * The instance state machine: the only place transitions are allowed. EC2's codes:
 * pending 0, running 16, shutting-down 32, terminated 48.
 *
 *   pending ──boot──► running ──reboot──► running
 *      │                 │
 *      ├──terminate──────┴──terminate──► shutting-down ──stopped──► terminated
 *      └──fail / node lost (from pending, running or shutting-down) ──► terminated
 */
import { Either, Schema } from "effect"

export const InstanceState = Schema.Literal("pending", "running", "shutting-down", "terminated")
export type InstanceState = typeof InstanceState.Type

export const code: Record<InstanceState, number> = { pending: 0, running: 16, "shutting-down": 32, terminated: 48 }

export type Action = "boot" | "reboot" | "terminate" | "stopped" | "fail"

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
      return from === "pending" || from === "running"
        ? Either.right("shutting-down")
        : Either.right(from)
    case "stopped":
      return from === "shutting-down" ? Either.right("terminated") : from === "terminated" ? Either.right(from) : illegal
    case "fail":
      return from === "terminated" ? illegal : Either.right("terminated")
  }
}

/** Does an instance in this state hold node capacity (and its addresses)? From placement until terminated. */
export const holdsCapacity = (s: InstanceState): boolean => s !== "terminated"
