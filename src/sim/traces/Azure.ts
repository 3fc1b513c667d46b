/**
 * Azure VM trace v1 as processed by Huawei Cloud (trace_generation_rnn): a flavour file and a duration
 * file read in lockstep, plus two maps.
 *
 * - Flavour file, line `<t> f,f,|,f,…`: the VMs that arrived in the 300 s bin ending at t (seconds from
 *   the trace start); `|` closes a tenant's batch. Letters map to `<vCPU>,<GiB>` in flav_map.txt
 *   (`flavourMap`, default: flav_map.txt beside the flavour file); GiB become MiB (× 1024).
 * - Duration file (`durations`), same layout, `U<k>` (ended before the trace was cut) or `C<k>` (still
 *   running at the cut, after running for a duration in bin k). v1.interval_map.txt (`intervalMap`,
 *   default beside the flavour file) maps durations to bins: bin k is [lower_k, lower_{k+1}) seconds,
 *   lower_k = the smallest duration listed for k; the last bin (one past the map, as in trace_generation_rnn)
 *   starts one step after the largest duration listed and has no upper end.
 *
 * Lifetime of `U<k>`: a fixed point of bin k, `lifetimePoint` = "midpoint" (default), "lower" or "upper"
 * (the open last bin always takes its lower bound). `C<k>`: `censored: "horizon"` (default) runs until
 * the simulation horizon, i.e. past the censoring time as the VM did; `"censorTime"` ends it at the cut
 * (`censorTimeS`, default read from the duration file name, e.g. v1.dev.c2100000.txt → 2,100,000 s).
 * Without a duration file every VM runs until the horizon.
 *
 * Requests: `batches: "batch"` (default) turns a tenant batch into one RunInstances of count N when all
 * its VMs have the same flavour and the same duration token (the tenant asked for N identical VMs, all
 * or nothing), and into one RunInstances per VM otherwise (one request carries one lifetime, so a batch
 * with mixed durations cannot be one request); `"vm"`: one per VM. The m requests of the bin ending at t
 * arrive at the midpoints of m equal slices of [t − 300 s, t) in file order (`spread: "uniform"`,
 * default; `"none"`: all at t), so arrivals are non-decreasing. Disk: `diskGiB` (default 0).
 */
import * as Path from "node:path"
import { Schema } from "effect"
import * as Resources from "../../model/Resources.js"
import * as Fields from "./Fields.js"
import * as LineSource from "./LineSource.js"
import * as TraceError from "./TraceError.js"
import * as TraceReader from "./TraceReader.js"
import * as TraceRequest from "./TraceRequest.js"

export const Options = Schema.Struct({
  durations: Schema.optional(Schema.String),
  flavourMap: Schema.optional(Schema.String),
  intervalMap: Schema.optional(Schema.String),
  lifetimePoint: Schema.optional(Schema.Literal("lower", "midpoint", "upper")),
  censored: Schema.optional(Schema.Literal("horizon", "censorTime")),
  censorTimeS: Schema.optional(Schema.Int.pipe(Schema.positive())),
  batches: Schema.optional(Schema.Literal("batch", "vm")),
  spread: Schema.optional(Schema.Literal("uniform", "none")),
  binS: Schema.optional(Schema.Int.pipe(Schema.positive())),
  diskGiB: Schema.optional(Schema.Int.pipe(Schema.nonNegative())),
  ...TraceReader.CommonOptions
})
export type Options = typeof Options.Type

export const defaultFlavourMap = "flav_map.txt"
export const defaultIntervalMap = "v1.interval_map.txt"
export const horizonReasons = {
  censored: "censored (still running when the trace was cut)",
  noDurations: "no duration file"
} as const

const readLines = async (file: string): Promise<Array<[number, string]>> => {
  const src = await LineSource.LineSource.open(file)
  try {
    const lines: Array<[number, string]> = []
    for (;;) {
      const s = await src.next()
      if (s === undefined) return lines
      if (s.trim().length > 0) lines.push([src.lineNo, s.trim()])
    }
  } finally {
    src.close()
  }
}

/** flav_map.txt: `<vCPU>,<GiB> <letter>` per line. */
export const readFlavourMap = async (file: string, diskGiB: number): Promise<Map<string, Resources.Resources>> => {
  const map = new Map<string, Resources.Resources>()
  for (const [n, s] of await readLines(file)) {
    const [size, letter, more] = s.split(/\s+/)
    const [c, g, extra] = (size ?? "").split(",")
    const cores = Fields.digits(c ?? "")
    const gib = Fields.num(g ?? "")
    if (letter === undefined || more !== undefined || extra !== undefined || cores < 1 || !(gib >= 0)) {
      throw TraceError.make(file, n, "flavour", `expected "<vCPU>,<GiB> <letter>", found ${JSON.stringify(s)}`)
    }
    if (map.has(letter)) throw TraceError.make(file, n, "flavour", `flavour ${letter} is listed twice`)
    map.set(letter, Resources.make(cores, Math.round(gib * 1024), diskGiB))
  }
  if (map.size === 0) throw TraceError.make(file, undefined, undefined, "the flavour map is empty")
  return map
}

/** Lower bounds (s) of the duration bins, the open last bin included. */
export const readIntervalMap = async (file: string): Promise<Array<number>> => {
  const lowers: Array<number> = []
  let lastD = -1
  let step = 300
  for (const [n, s] of await readLines(file)) {
    const [a, b, more] = s.split(/\s+/)
    const d = Fields.digits(a ?? "")
    const k = Fields.digits(b ?? "")
    if (d < 0 || k < 0 || more !== undefined) {
      throw TraceError.make(file, n, "interval", `expected "<duration s> <bin>", found ${JSON.stringify(s)}`)
    }
    if (d <= lastD) throw TraceError.make(file, n, "duration", `durations must increase (${d} after ${lastD})`)
    if (k === lowers.length) lowers.push(d)
    else if (k !== lowers.length - 1) {
      throw TraceError.make(file, n, "bin", `bins must count up from 0 by one (bin ${k} after bin ${lowers.length - 1})`)
    }
    if (lastD >= 0) step = d - lastD
    lastD = d
  }
  if (lowers.length === 0) throw TraceError.make(file, undefined, undefined, "the interval map is empty")
  lowers.push(lastD + step)
  return lowers
}

const parseLine = (file: string, lineNo: number, text: string): { readonly t: number; readonly items: Array<string> } => {
  const sp = text.indexOf(" ")
  const head = sp < 0 ? text : text.slice(0, sp)
  const t = Fields.digits(head)
  if (t < 0) throw TraceError.make(file, lineNo, "time", `expected "<seconds> <items>", found ${JSON.stringify(text.slice(0, 40))}`)
  const rest = sp < 0 ? "" : text.slice(sp + 1).trim()
  return { t, items: rest.length === 0 ? [] : rest.split(",") }
}

export const open = async (file: string, options: Options): Promise<TraceReader.TraceReader> => {
  const dir = Path.dirname(file)
  const disk = options.diskGiB ?? 0
  const flavours = await readFlavourMap(options.flavourMap ?? Path.join(dir, defaultFlavourMap), disk)
  const durFile = options.durations
  const lowers = durFile === undefined ? [] : await readIntervalMap(options.intervalMap ?? Path.join(dir, defaultIntervalMap))
  const censorTimeS = options.censorTimeS ?? (durFile === undefined ? undefined : Number(/\.c(\d+)\./.exec(Path.basename(durFile))?.[1] ?? Number.NaN))
  const censorAtCut = options.censored === "censorTime"
  if (censorAtCut && (censorTimeS === undefined || Number.isNaN(censorTimeS))) {
    throw TraceError.make(durFile ?? file, undefined, "censorTimeS", `censored: "censorTime" needs censorTimeS (or a file name like v1.dev.c2100000.txt)`)
  }
  const point = options.lifetimePoint ?? "midpoint"
  const last = lowers.length - 1
  const pointMs = lowers.map((lo, k) => {
    const hi = k < last ? lowers[k + 1]! : lo
    return 1000 * (point === "lower" ? lo : point === "upper" ? hi : (lo + hi) / 2)
  })
  const grouped = (options.batches ?? "batch") === "batch"
  const spread = (options.spread ?? "uniform") === "uniform"
  const binMs = (options.binS ?? 300) * 1000

  const flav = await LineSource.LineSource.open(file)
  let durs: LineSource.LineSource | undefined
  try {
    durs = durFile === undefined ? undefined : await LineSource.LineSource.open(durFile)
  } catch (e) {
    flav.close()
    throw e
  }
  const tally = new TraceReader.Tally()

  // One line pair → the line's requests (reused buffers: a line holds thousands of VMs).
  const fl: Array<string> = []
  const du: Array<string> = []
  const cnt: Array<number> = []
  const lineRequests = (lineNo: number, fText: string, dText: string | undefined, out: TraceReader.Out): void => {
    const f = parseLine(file, lineNo, fText)
    const d = dText === undefined ? undefined : parseLine(durFile!, lineNo, dText)
    if (d !== undefined) {
      if (d.t !== f.t) throw TraceError.make(durFile!, lineNo, "time", `time ${d.t} does not match time ${f.t} of the flavour file`)
      if (d.items.length !== f.items.length) {
        throw TraceError.make(durFile!, lineNo, "items", `${d.items.length} items where the flavour file has ${f.items.length}`)
      }
    }
    fl.length = du.length = cnt.length = 0
    const items = f.items
    let b = 0
    for (let i = 0; i <= items.length; i++) {
      if (i < items.length && items[i] !== "|") {
        if (d !== undefined && d.items[i] === "|") throw TraceError.make(durFile!, lineNo, "items", `item ${i + 1} is "|" but flavour ${items[i]} in the flavour file`)
        continue
      }
      if (d !== undefined && i < items.length && d.items[i] !== "|") {
        throw TraceError.make(durFile!, lineNo, "items", `item ${i + 1} is ${JSON.stringify(d.items[i])} where the flavour file closes a batch`)
      }
      // batch = items[b, i)
      let same = grouped && i > b
      for (let j = b + 1; same && j < i; j++) same = items[j] === items[b] && (d === undefined || d.items[j] === d.items[b])
      if (same) {
        fl.push(items[b]!)
        du.push(d === undefined ? "" : d.items[b]!)
        cnt.push(i - b)
      } else {
        for (let j = b; j < i; j++) {
          fl.push(items[j]!)
          du.push(d === undefined ? "" : d.items[j]!)
          cnt.push(1)
        }
      }
      b = i + 1
    }
    const m = fl.length
    const binStart = Math.max(0, f.t * 1000 - binMs)
    for (let k = 0; k < m; k++) {
      const size = flavours.get(fl[k]!)
      if (size === undefined) throw TraceError.make(file, lineNo, "flavour", `unknown flavour ${JSON.stringify(fl[k])} (not in the flavour map)`)
      const arrival = spread ? binStart + Math.floor(((2 * k + 1) * binMs) / (2 * m)) : f.t * 1000
      if (d === undefined) {
        out.pushUntilHorizon(TraceRequest.sized(lineNo, arrival, undefined, size, cnt[k]), horizonReasons.noDurations)
        continue
      }
      const tok = du[k]!
      const kind = tok.charCodeAt(0)
      const bin = Fields.digits(tok.slice(1))
      if ((kind !== 85 /* U */ && kind !== 67) /* C */ || bin < 0 || bin > last) {
        throw TraceError.make(durFile!, lineNo, "duration", `expected U<bin> or C<bin> with bin 0…${last}, found ${JSON.stringify(tok)}`)
      }
      if (kind === 85) out.push(TraceRequest.sized(lineNo, arrival, pointMs[bin], size, cnt[k]))
      else if (censorAtCut) out.push(TraceRequest.sized(lineNo, arrival, Math.max(0, censorTimeS! * 1000 - arrival), size, cnt[k]))
      else out.pushUntilHorizon(TraceRequest.sized(lineNo, arrival, undefined, size, cnt[k]), horizonReasons.censored)
    }
  }

  const producer: TraceReader.Producer = {
    async fill(out, want) {
      while (out.length < want) {
        const fText = flav.take() ?? (await flav.next())
        const dText = durs === undefined ? undefined : (durs.take() ?? (await durs.next()))
        if (fText === undefined) {
          if (dText !== undefined) throw TraceError.make(durFile!, durs!.lineNo, "line", "the duration file is longer than the flavour file")
          return false
        }
        if (durs !== undefined && dText === undefined) {
          throw TraceError.make(durFile!, flav.lineNo, "line", "the duration file ends before the flavour file")
        }
        if (fText.trim().length === 0 && (dText === undefined || dText.trim().length === 0)) continue
        lineRequests(flav.lineNo, fText, dText, out)
      }
      return true
    },
    lines: () => flav.lineNo,
    close: () => {
      flav.close()
      durs?.close()
    }
  }
  return TraceReader.make("azure", file, producer, tally, options)
}
