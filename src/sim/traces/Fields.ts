/** Field parsing shared by the readers: strict numbers, and the rounding of fractional cores. */
import { Schema } from "effect"

/** A decimal number ("12", "-1", "0.5", "1e3"); NaN for anything else, including "" and "0x10". */
export const num = (s: string): number => {
  const t = s.trim()
  if (t.length === 0) return Number.NaN
  const c = t.charCodeAt(0)
  // Number() also accepts hex, binary, "Infinity": a trace field is none of those.
  if (!((c >= 48 && c <= 57) || c === 45 || c === 43 || c === 46)) return Number.NaN
  const n = Number(t)
  return Number.isFinite(n) && (t.length < 2 || t.charCodeAt(1) !== 120) ? n : Number.NaN
}

/** A non-negative integer written as plain digits; -1 for anything else. */
export const digits = (s: string): number => {
  const n = s.length
  if (n === 0 || n > 15) return n > 15 && /^\d+$/.test(s) ? Number(s) : -1
  let v = 0
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) return -1
    v = v * 10 + c
  }
  return v
}

/** How fractional cores (Alibaba's cpu_milli / 1000, Google's normalised CPU × machine cores) become whole vCPUs. */
export const Rounding = Schema.Literal("ceil", "round", "floor")
export type Rounding = typeof Rounding.Type

/** Whole vCPUs for a positive fractional amount: rounded as asked, never below 1. */
export const wholeCores = (x: number, rounding: Rounding): number => {
  // Tolerate float noise (0.1 × 30 = 3.0000000000000004) before rounding up.
  const y = Math.round(x * 1e6) / 1e6
  const r = rounding === "ceil" ? Math.ceil(y) : rounding === "floor" ? Math.floor(y) : Math.round(y)
  return Math.max(1, r)
}

/**
 * Splits a line on whitespace and parses every token as a number into `out` (NaN where a token is not
 * one), without allocating a string per token; returns the number of tokens (which may exceed out.length).
 */
export const wsNumbers = (s: string, out: Float64Array): number => {
  const len = s.length
  let n = 0
  let i = 0
  for (;;) {
    while (i < len && s.charCodeAt(i) <= 32) i++
    if (i >= len) return n
    const a = i
    while (i < len && s.charCodeAt(i) > 32) i++
    if (n < out.length) out[n] = token(s, a, i)
    n++
  }
}

/** [-]digits[.digits] parsed in place; anything else goes through num(). */
const token = (s: string, a: number, b: number): number => {
  let i = a
  let neg = false
  if (s.charCodeAt(i) === 45) {
    neg = true
    i++
  }
  if (i === b) return Number.NaN
  let v = 0
  let c = 0
  for (; i < b; i++) {
    c = s.charCodeAt(i) - 48
    if (c < 0 || c > 9) break
    v = v * 10 + c
  }
  if (i < b) {
    // Not [-]digits[.digits] (no digit before ".", an exponent, a "+"): the slow, strict path.
    if (s.charCodeAt(i) !== 46 || i === a || (neg && i === a + 1)) return num(s.slice(a, b))
    let scale = 1
    let frac = 0
    for (i++; i < b; i++) {
      c = s.charCodeAt(i) - 48
      if (c < 0 || c > 9) return num(s.slice(a, b))
      frac = frac * 10 + c
      scale *= 10
    }
    v += frac / scale
  }
  return neg ? -v : v
}
