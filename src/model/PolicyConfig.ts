/** Policies by name, as experiment and server config files select them. */
import { Either, Schema } from "effect"
import * as Policy from "./Policy.js"

export const Overcommit = Schema.Struct({
  cores: Schema.optional(Schema.Number.pipe(Schema.greaterThanOrEqualTo(1))),
  memory: Schema.optional(Schema.Number.pipe(Schema.greaterThanOrEqualTo(1))),
  disk: Schema.optional(Schema.Number.pipe(Schema.greaterThanOrEqualTo(1)))
})

export const PolicyName = Schema.Literal("greedy", "roundrobin", "powersave", "bestfit", "worstfit", "user")
export type PolicyName = typeof PolicyName.Type

export const PolicyConfig = Schema.Struct({
  name: PolicyName,
  /** Overcommit ratios per dimension (≥ 1); Eucalyptus had none. */
  overcommit: Schema.optional(Overcommit),
  /** POWERSAVE: idle time before a node is powered down (Eucalyptus's POWER_IDLETHRESH, clamped up to 300 s). */
  idleThresholdSeconds: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  /** POWERSAVE: how long a woken node takes to come up. */
  wakeDelaySeconds: Schema.optional(Schema.Number.pipe(Schema.nonNegative())),
  /** USER: the placement program (Eucalyptus's SCHEDPOLICY=<path>). */
  program: Schema.optional(Schema.String)
})
export type PolicyConfig = typeof PolicyConfig.Type

export const make = (c: PolicyConfig): Either.Either<Policy.Policy<any>, string> => {
  const ratios = { cores: c.overcommit?.cores ?? 1, memory: c.overcommit?.memory ?? 1, disk: c.overcommit?.disk ?? 1 }
  switch (c.name) {
    case "greedy":
      return Either.right(Policy.greedy(ratios))
    case "roundrobin":
      return Either.right(Policy.roundRobin(ratios))
    case "powersave": {
      const settings: { idleThresholdMs?: number; wakeDelayMs?: number } = {}
      if (c.idleThresholdSeconds !== undefined) settings.idleThresholdMs = c.idleThresholdSeconds * 1000
      if (c.wakeDelaySeconds !== undefined) settings.wakeDelayMs = c.wakeDelaySeconds * 1000
      return Either.right(Policy.powerSave(settings, ratios))
    }
    case "bestfit":
      return Either.right(Policy.bestFit(ratios))
    case "worstfit":
      return Either.right(Policy.worstFit(ratios))
    case "user":
      return c.program === undefined || c.program.trim() === ""
        ? Either.left(`policy "user" needs "program": the path of the placement program`)
        : Either.right(Policy.user(c.program, ratios))
  }
}
