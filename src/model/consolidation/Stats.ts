/**
 * The statistics CloudSim 3.0.3's consolidation policies use (`org.cloudbus.cloudsim.util.MathUtil`
 * and the Apache Commons Math 3 pieces it calls), ported operation for operation so that thresholds
 * and regressions come out bit-identical. Pure.
 */

/** Commons Math's `Percentile` (legacy estimation, the default): position p(n+1)/100, linear between neighbours. */
export const percentile = (values: ArrayLike<number>, p: number): number => {
  const n = values.length
  if (n === 0) return Number.NaN
  if (n === 1) return values[0]!
  const sorted = Float64Array.from(values).sort()
  const pos = (p * (n + 1)) / 100
  const fpos = Math.floor(pos)
  const intPos = fpos
  const dif = pos - fpos
  if (pos < 1) return sorted[0]!
  if (pos >= n) return sorted[n - 1]!
  const lower = sorted[intPos - 1]!
  const upper = sorted[intPos]!
  return lower + dif * (upper - lower)
}

export const median = (values: ArrayLike<number>): number => percentile(values, 50)

/** MathUtil.mad: the median of absolute deviations from the median. */
export const mad = (data: ArrayLike<number>): number => {
  if (data.length === 0) return 0
  const m = median(data)
  const dev = new Float64Array(data.length)
  for (let i = 0; i < data.length; i++) dev[i] = Math.abs(m - data[i]!)
  return median(dev)
}

/** Java's Math.round for the small positive values used here. */
const javaRound = (x: number): number => Math.floor(x + 0.5)

/** MathUtil.iqr: sorts, then q3 − q1 at positions round(0.25(n+1)) − 1 and round(0.75(n+1)) − 1. */
export const iqr = (data: ArrayLike<number>): number => {
  const s = Float64Array.from(data).sort()
  const q1 = javaRound(0.25 * (s.length + 1)) - 1
  const q3 = javaRound(0.75 * (s.length + 1)) - 1
  return s[q3]! - s[q1]!
}

/** MathUtil.countNonZeroBeginning: the length once trailing zeros are dropped. */
export const countNonZeroBeginning = (data: ArrayLike<number>): number => {
  let i = data.length - 1
  while (i >= 0) {
    if (data[i--] !== 0) break
  }
  return i + 2
}

export const trimZeroTail = (data: Float64Array): Float64Array => data.slice(0, countNonZeroBeginning(data))

/** MathUtil.mean. */
export const mean = (list: ArrayLike<number>): number => {
  let sum = 0
  for (let i = 0; i < list.length; i++) sum += list[i]!
  return sum / list.length
}

/** MathUtil.stDev: the square root of MathUtil.variance (its running update, starting from the mean). */
export const stDev = (list: ArrayLike<number>): number => {
  let n = 0
  let m = mean(list)
  let s = 0
  for (let i = 0; i < list.length; i++) {
    const x = list[i]!
    n++
    const delta = x - m
    m += delta / n
    s += delta * (x - m)
  }
  return Math.sqrt(s / (n - 1))
}

/** Commons Math 3 `SimpleRegression` (with intercept): the same incremental sums, so the same bits. */
export class SimpleRegression {
  private sumX = 0
  private sumXX = 0
  private sumY = 0
  private sumYY = 0
  private sumXY = 0
  private n = 0
  private xbar = 0
  private ybar = 0

  addData(x: number, y: number): void {
    if (this.n === 0) {
      this.xbar = x
      this.ybar = y
    } else {
      const fact1 = 1.0 + this.n
      const fact2 = this.n / (1.0 + this.n)
      const dx = x - this.xbar
      const dy = y - this.ybar
      this.sumXX += dx * dx * fact2
      this.sumYY += dy * dy * fact2
      this.sumXY += dx * dy * fact2
      this.xbar += dx / fact1
      this.ybar += dy / fact1
    }
    this.sumX += x
    this.sumY += y
    this.n++
  }

  slope(): number {
    if (this.n < 2) return Number.NaN
    if (Math.abs(this.sumXX) < 10 * Number.MIN_VALUE) return Number.NaN
    return this.sumXY / this.sumXX
  }

  intercept(slope = this.slope()): number {
    return (this.sumY - slope * this.sumX) / this.n
  }

  predict(x: number): number {
    const b1 = this.slope()
    return this.intercept(b1) + b1 * x
  }

  /** `regress().getParameterEstimates()`: [intercept, slope]; fewer than 3 points is an error (NoDataException). */
  estimates(): [number, number] {
    if (this.n < 3) throw new RangeError("not enough data for a regression")
    if (Math.abs(this.sumXX) > 2.2250738585072014e-308) return [this.intercept(), this.slope()]
    return [this.sumY / this.n, Number.NaN]
  }
}

/** MathUtil.getTricubeWeigts. */
export const tricubeWeights = (n: number): Float64Array => {
  const w = new Float64Array(n)
  const top = n - 1
  const spread = top
  for (let i = 2; i < n; i++) {
    const k = Math.pow(1 - Math.pow((top - i) / spread, 3), 3)
    w[i] = k > 0 ? 1 / k : Number.MAX_VALUE
  }
  w[0] = w[1] = w[2]!
  return w
}

/** MathUtil.getTricubeBisquareWeigts. */
export const tricubeBisquareWeights = (residuals: Float64Array): Float64Array => {
  const n = residuals.length
  const w = tricubeWeights(n)
  const w2 = new Float64Array(n)
  const s6 = median(residuals.map(Math.abs)) * 6
  for (let i = 2; i < n; i++) {
    const k = Math.pow(1 - Math.pow(residuals[i]! / s6, 2), 2)
    w2[i] = k > 0 ? (1 / k) * w[i]! : Number.MAX_VALUE
  }
  w2[0] = w2[1] = w2[2]!
  return w2
}

/**
 * MathUtil.createWeigthedLinearRegression. CloudSim applies the weights only when at least 40 % of
 * them are ≤ 0, which tricube weights never are: the "local regression" is ordinary least squares.
 * Kept literally (a quirk, documented in docs/consolidation.md).
 */
export const weightedRegression = (x: ArrayLike<number>, y: ArrayLike<number>, w: ArrayLike<number>): SimpleRegression => {
  let zero = 0
  for (let i = 0; i < w.length; i++) if (w[i]! <= 0) zero++
  const r = new SimpleRegression()
  for (let i = 0; i < x.length; i++) {
    if (zero >= 0.4 * w.length) r.addData(Math.sqrt(w[i]!) * x[i]!, Math.sqrt(w[i]!) * y[i]!)
    else r.addData(x[i]!, y[i]!)
  }
  return r
}

const xs = (n: number): Float64Array => Float64Array.from({ length: n }, (_, i) => i + 1)

/** MathUtil.getLoessParameterEstimates: [intercept, slope] over x = 1..n. */
export const loessEstimates = (y: Float64Array): [number, number] => weightedRegression(xs(y.length), y, tricubeWeights(y.length)).estimates()

/** MathUtil.getRobustLoessParameterEstimates. */
export const robustLoessEstimates = (y: Float64Array): [number, number] => {
  const x = xs(y.length)
  const first = weightedRegression(x, y, tricubeWeights(y.length))
  const residuals = new Float64Array(y.length)
  for (let i = 0; i < y.length; i++) residuals[i] = y[i]! - first.predict(x[i]!)
  const est = weightedRegression(x, y, tricubeBisquareWeights(residuals)).estimates()
  if (Number.isNaN(est[0]) || Number.isNaN(est[1])) return first.estimates()
  return est
}

/**
 * The coefficient of determination (R²) of an ordinary least-squares fit of `y` on the rows of `xs`
 * with an intercept, as CloudSim 3.0.3's MC policy gets it from Commons Math 3's
 * `OLSMultipleLinearRegression.calculateRSquared()`, operation for operation: Householder QR of
 * [1, x1, …] (`QRDecomposition`, threshold 0), β from its solver, R² = 1 − RSS / TSS with RSS the
 * residuals' dot product and TSS Commons Math's `SecondMoment`. Throws RangeError where Commons Math
 * throws a MathIllegalArgumentException (fewer observations than predictors + 1, or an exactly
 * singular R), on which MC falls back to MMT.
 */
export const rSquared = (xs: ReadonlyArray<ArrayLike<number>>, y: ArrayLike<number>): number => {
  const m = y.length
  const nVars = xs.length
  if (m === 0) throw new RangeError("no data")
  if (nVars + 1 > m) throw new RangeError("not enough data for the number of predictors")
  const n = nVars + 1
  // qrt = Xᵀ: row j is column j of X = [1, x1, …].
  const qrt: Array<Float64Array> = Array.from({ length: n }, (_, j) => (j === 0 ? new Float64Array(m).fill(1) : Float64Array.from({ length: m }, (_, i) => xs[j - 1]![i]!)))
  const rDiag = new Float64Array(Math.min(m, n))
  for (let minor = 0; minor < Math.min(n, m); minor++) {
    const q = qrt[minor]!
    let xNormSqr = 0
    for (let row = minor; row < m; row++) xNormSqr += q[row]! * q[row]!
    const a = q[minor]! > 0 ? -Math.sqrt(xNormSqr) : Math.sqrt(xNormSqr)
    rDiag[minor] = a
    if (a !== 0) {
      q[minor]! -= a
      for (let col = minor + 1; col < n; col++) {
        const c = qrt[col]!
        let alpha = 0
        for (let row = minor; row < m; row++) alpha -= c[row]! * q[row]!
        alpha /= a * q[minor]!
        for (let row = minor; row < m; row++) c[row]! -= alpha * q[row]!
      }
    }
  }
  for (const d of rDiag) if (Math.abs(d) <= 0) throw new RangeError("singular matrix")
  // Solver: apply the Householder reflections to y, then back-substitute R β = Qᵀ y.
  const yy = Float64Array.from({ length: m }, (_, i) => y[i]!)
  for (let minor = 0; minor < Math.min(m, n); minor++) {
    const q = qrt[minor]!
    let dot = 0
    for (let row = minor; row < m; row++) dot += yy[row]! * q[row]!
    dot /= rDiag[minor]! * q[minor]!
    for (let row = minor; row < m; row++) yy[row]! += dot * q[row]!
  }
  const beta = new Float64Array(n)
  for (let row = rDiag.length - 1; row >= 0; --row) {
    yy[row]! /= rDiag[row]!
    const yRow = yy[row]!
    const qr = qrt[row]!
    beta[row] = yRow
    for (let i = 0; i < row; i++) yy[i]! -= yRow * qr[i]!
  }
  // Residuals y − X β (Array2DRowRealMatrix.operate), RSS their dot product.
  let rss = 0
  for (let i = 0; i < m; i++) {
    let f = 0
    for (let j = 0; j < n; j++) f += (j === 0 ? 1 : xs[j - 1]![i]!) * beta[j]!
    const r = y[i]! - f
    rss += r * r
  }
  // SecondMoment, incrementally as Commons Math computes it.
  let count = 0
  let m1 = 0
  let m2 = 0
  for (let i = 0; i < m; i++) {
    count++
    const dev = y[i]! - m1
    const nDev = dev / count
    m1 += nDev
    m2 += (count - 1) * dev * nDev
  }
  return 1 - rss / m2
}

/** java.util.Random (the 48-bit LCG), for RS selection seeded from the experiment's seed. */
export class JavaRandom {
  private seed: bigint
  private static readonly mult = 0x5deece66dn
  private static readonly mask = (1n << 48n) - 1n

  constructor(seed: number) {
    this.seed = (BigInt.asIntN(64, BigInt(Math.trunc(seed))) ^ JavaRandom.mult) & JavaRandom.mask
  }

  private next(bits: number): number {
    this.seed = (this.seed * JavaRandom.mult + 0xbn) & JavaRandom.mask
    return Number(BigInt.asIntN(32, this.seed >> BigInt(48 - bits)))
  }

  /** Random.nextInt(bound), bound > 0. */
  nextInt(bound: number): number {
    if ((bound & -bound) === bound) return Number((BigInt(bound) * BigInt(this.next(31))) >> 31n)
    let bits: number
    let val: number
    do {
      bits = this.next(31)
      val = bits % bound
    } while (bits - val + (bound - 1) > 2147483647)
    return val
  }
}
