/**
 * Delay distributions for the simulated backend (boot, stop): constant, uniform, exponential and
 * log-normal. Every parameter names its unit — `seconds`/`ms`, `minSeconds`/`minMs`, … — and a
 * distribution gives exactly one of the two. Samples are integer milliseconds, never negative.
 */
import { Either, Schema } from "effect"
import type * as Random from "./Random.js"

const Seconds = Schema.Number.pipe(Schema.nonNegative(), Schema.finite())
const Ms = Schema.Number.pipe(Schema.int(), Schema.nonNegative())

export const Constant = Schema.Struct({
  kind: Schema.Literal("constant"),
  seconds: Schema.optional(Seconds),
  ms: Schema.optional(Ms)
})
export const Uniform = Schema.Struct({
  kind: Schema.Literal("uniform"),
  minSeconds: Schema.optional(Seconds),
  maxSeconds: Schema.optional(Seconds),
  minMs: Schema.optional(Ms),
  maxMs: Schema.optional(Ms)
})
export const Exponential = Schema.Struct({
  kind: Schema.Literal("exponential"),
  meanSeconds: Schema.optional(Seconds),
  meanMs: Schema.optional(Ms)
})
/** ln(X) ~ Normal(ln(median), sigma²). */
export const LogNormal = Schema.Struct({
  kind: Schema.Literal("lognormal"),
  medianSeconds: Schema.optional(Seconds),
  medianMs: Schema.optional(Ms),
  sigma: Schema.Number.pipe(Schema.nonNegative(), Schema.finite())
})

export const Distribution = Schema.Union(Constant, Uniform, Exponential, LogNormal)
export type Distribution = typeof Distribution.Type

export interface DistributionError {
  /** Field path below the distribution, e.g. "maxSeconds". */
  readonly field: string
  readonly message: string
}

const CONSTANT = 0
const UNIFORM = 1
const EXPONENTIAL = 2
const LOGNORMAL = 3

/** A compiled distribution: parameters in ms, sampling without allocation. */
export class Sampler {
  constructor(
    readonly kind: number,
    readonly a: number,
    readonly b: number
  ) {}

  /** One delay in integer ms. Draws 0 (constant), 1 (uniform, exponential) or 2 (log-normal) uniforms. */
  sample(rng: Random.Random): number {
    switch (this.kind) {
      case CONSTANT:
        return this.a
      case UNIFORM:
        return Math.round(this.a + (this.b - this.a) * rng.next())
      case EXPONENTIAL:
        return Math.round(-this.a * Math.log(1 - rng.next()))
      default:
        return Math.round(this.a * Math.exp(this.b * rng.normal()))
    }
  }

  /** The mean in ms (for reports). */
  get meanMs(): number {
    switch (this.kind) {
      case CONSTANT:
        return this.a
      case UNIFORM:
        return (this.a + this.b) / 2
      case EXPONENTIAL:
        return this.a
      default:
        return this.a * Math.exp((this.b * this.b) / 2)
    }
  }
}

export const constantMs = (ms: number): Sampler => new Sampler(CONSTANT, Math.round(ms), 0)
export const uniformMs = (min: number, max: number): Sampler => new Sampler(UNIFORM, min, max)
export const exponentialMs = (mean: number): Sampler => new Sampler(EXPONENTIAL, mean, 0)
export const logNormalMs = (median: number, sigma: number): Sampler => new Sampler(LOGNORMAL, median, sigma)

const one = (
  sec: number | undefined,
  ms: number | undefined,
  secName: string,
  msName: string
): Either.Either<number, DistributionError> => {
  if (sec !== undefined && ms !== undefined) {
    return Either.left({ field: secName, message: `give either "${secName}" or "${msName}", not both` })
  }
  if (sec === undefined && ms === undefined) return Either.left({ field: secName, message: `missing: give "${secName}" or "${msName}"` })
  return Either.right(sec !== undefined ? sec * 1000 : ms!)
}

/** Checks the unit choices and ranges, and compiles to a Sampler. */
export const compile = (d: Distribution): Either.Either<Sampler, DistributionError> => {
  switch (d.kind) {
    case "constant":
      return Either.map(one(d.seconds, d.ms, "seconds", "ms"), constantMs)
    case "uniform": {
      const lo = one(d.minSeconds, d.minMs, "minSeconds", "minMs")
      if (Either.isLeft(lo)) return Either.left(lo.left)
      const hi = one(d.maxSeconds, d.maxMs, "maxSeconds", "maxMs")
      if (Either.isLeft(hi)) return Either.left(hi.left)
      if (hi.right < lo.right) {
        return Either.left({ field: d.maxSeconds !== undefined ? "maxSeconds" : "maxMs", message: `the maximum is below the minimum` })
      }
      return Either.right(uniformMs(lo.right, hi.right))
    }
    case "exponential":
      return Either.map(one(d.meanSeconds, d.meanMs, "meanSeconds", "meanMs"), exponentialMs)
    case "lognormal":
      return Either.map(one(d.medianSeconds, d.medianMs, "medianSeconds", "medianMs"), (m) => logNormalMs(m, d.sigma))
  }
}

export const describe = (s: Sampler): string => {
  const sec = (ms: number) => `${+(ms / 1000).toFixed(3)} s`
  switch (s.kind) {
    case CONSTANT:
      return `constant ${sec(s.a)}`
    case UNIFORM:
      return `uniform ${sec(s.a)}…${sec(s.b)}`
    case EXPONENTIAL:
      return `exponential, mean ${sec(s.a)}`
    default:
      return `log-normal, median ${sec(s.a)}, sigma ${s.b}`
  }
}
