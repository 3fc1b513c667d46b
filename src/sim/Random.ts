/**
 * The simulator's one source of randomness: xoshiro128** (Blackman & Vigna), seeded through
 * SplitMix32. Small, fast on 32-bit integer ops, and explicit: a `Random` is created from the
 * experiment's seed and passed to whatever draws, so the same seed gives the same run.
 */

const splitmix32 = (state: { s: number }): number => {
  state.s = (state.s + 0x9e3779b9) | 0
  let z = state.s
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
  return (z ^ (z >>> 16)) >>> 0
}

export class Random {
  private a: number
  private b: number
  private c: number
  private d: number
  private spare = 0
  private hasSpare = false

  /** Any finite integer seed (the high bits of seeds above 2^32 are mixed in too). */
  constructor(seed: number) {
    const lo = seed >>> 0
    const hi = Math.floor(seed / 4294967296) >>> 0
    const st = { s: (lo ^ Math.imul(hi, 0x27d4eb2d)) | 0 }
    this.a = splitmix32(st)
    this.b = splitmix32(st)
    this.c = splitmix32(st)
    this.d = splitmix32(st)
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0
    const t = this.b << 9
    this.c ^= this.a
    this.d ^= this.b
    this.b ^= this.c
    this.a ^= this.d
    this.c ^= t
    this.d = rotl(this.d, 11)
    return result
  }

  /** A uniform number in [0, 1) with 32 random bits. */
  next(): number {
    return this.nextU32() / 4294967296
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  /**
   * A standard normal deviate: Marsaglia's polar method, which makes two at a time; the second is kept
   * for the next call (part of the generator's state, so the sequence is still fixed by the seed).
   */
  normal(): number {
    if (this.hasSpare) {
      this.hasSpare = false
      return this.spare
    }
    let u: number
    let v: number
    let s: number
    do {
      u = 2 * this.next() - 1
      v = 2 * this.next() - 1
      s = u * u + v * v
    } while (s >= 1 || s === 0)
    const m = Math.sqrt((-2 * Math.log(s)) / s)
    this.spare = v * m
    this.hasSpare = true
    return u * m
  }

  /** An independent generator derived from this one's next outputs (for a separate stream). */
  fork(): Random {
    return new Random(this.nextU32() * 4294967296 + this.nextU32())
  }
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k))

export const make = (seed: number): Random => new Random(seed)
