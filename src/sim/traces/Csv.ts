/**
 * Our own CSV: a header row, then one RunInstances per row, in row order (arrivals need not be sorted;
 * the row order is the request order).
 *
 * Header: `arrival_ms,lifetime_ms,vm_type` or `arrival_ms,lifetime_ms,cores,memory_mib,disk_gib`, in that
 * order, then optionally `zone`, `count` and/or `root_volume_gib` in any order (the header names them;
 * nothing else). `root_volume_gib`: each instance's root volume (1…16384 GiB, from its zone's storage).
 * Values: integers in plain digits. `lifetime_ms` empty = runs until the horizon; `count` empty = 1;
 * `zone` empty = any zone. No quoting: no field of this format needs commas or quotes.
 *
 * Every problem names file, line and column; `malformed: "skip"` skips (and counts) bad rows instead,
 * but a bad header always stops.
 */
import { Schema } from "effect"
import * as Resources from "../../model/Resources.js"
import * as Fields from "./Fields.js"
import * as LineSource from "./LineSource.js"
import * as TraceError from "./TraceError.js"
import * as TraceReader from "./TraceReader.js"
import * as TraceRequest from "./TraceRequest.js"

export const Options = Schema.Struct({
  malformed: Schema.optional(TraceReader.Malformed),
  ...TraceReader.CommonOptions
})
export type Options = typeof Options.Type

export type Optional = "zone" | "count" | "root_volume_gib"
export interface Layout {
  /** cores,memory_mib,disk_gib (true) or vm_type (false). */
  readonly sized: boolean
  /** Optional columns after the required ones, in file order. */
  readonly extra: ReadonlyArray<Optional>
}

export const columns = (layout: Layout): ReadonlyArray<string> => [
  "arrival_ms",
  "lifetime_ms",
  ...(layout.sized ? ["cores", "memory_mib", "disk_gib"] : ["vm_type"]),
  ...layout.extra
]

export const skipReasons = { malformed: "malformed row" } as const
export const horizonReason = "lifetime_ms empty"

const vmTypeName = /^[a-z0-9][a-z0-9.\-_]*$/i

/** Parses the header row into a layout, or says which column is wrong. */
export const parseHeader = (file: string, text: string): Layout => {
  const cols = text.split(",").map((c) => c.trim())
  const expect = (i: number, name: string) => {
    if (cols[i] !== name) {
      throw TraceError.make(
        file,
        1,
        cols[i] ?? `column ${i + 1}`,
        `bad header: column ${i + 1} must be "${name}" (header "arrival_ms,lifetime_ms,vm_type" or ` +
          `"arrival_ms,lifetime_ms,cores,memory_mib,disk_gib", then optionally "zone" and "count")`
      )
    }
  }
  expect(0, "arrival_ms")
  expect(1, "lifetime_ms")
  const sized = cols[2] !== "vm_type"
  if (sized) {
    expect(2, "cores")
    expect(3, "memory_mib")
    expect(4, "disk_gib")
  }
  const extra: Array<Optional> = []
  for (let i = sized ? 5 : 3; i < cols.length; i++) {
    const c = cols[i]!
    if ((c !== "zone" && c !== "count" && c !== "root_volume_gib") || extra.includes(c)) {
      throw TraceError.make(
        file,
        1,
        c,
        `bad header: unexpected column ${i + 1} "${c}" (after the required columns only "zone", "count" and "root_volume_gib" may follow, once each)`
      )
    }
    extra.push(c)
  }
  return { sized, extra }
}

/** A bad cell of a row (becomes a TraceError, or a skip). */
class Bad {
  constructor(
    readonly field: string,
    readonly detail: string
  ) {}
}

export const parser = (file: string, options: Options, tally: TraceReader.Tally): TraceReader.LineParser => {
  const skipMalformed = options.malformed === "skip"
  let layout: Layout | undefined
  let names: ReadonlyArray<string> = []
  let zoneAt = -1
  let countAt = -1
  let rootAt = -1

  const int = (f: ReadonlyArray<string>, i: number, min: number): number => {
    const n = Fields.digits(f[i]!)
    if (n < min) throw new Bad(names[i]!, `expected an integer ≥ ${min}, found ${JSON.stringify(f[i])}`)
    return n
  }

  return {
    line(text, lineNo, out) {
      if (layout === undefined) {
        layout = parseHeader(file, text)
        names = columns(layout)
        zoneAt = names.indexOf("zone")
        countAt = names.indexOf("count")
        rootAt = names.indexOf("root_volume_gib")
        return
      }
      if (text.length === 0 || text.trim().length === 0) return
      const f = text.split(",")
      try {
        if (f.length !== names.length) {
          throw new Bad("columns", `expected ${names.length} comma-separated columns (${names.join(",")}), found ${f.length}`)
        }
        for (let i = 0; i < f.length; i++) f[i] = f[i]!.trim()
        const arrival = int(f, 0, 0)
        const lifetime = f[1] === "" ? undefined : int(f, 1, 0)
        const zone = zoneAt < 0 || f[zoneAt] === "" ? undefined : f[zoneAt]
        const count = countAt < 0 || f[countAt] === "" ? 1 : int(f, countAt, 1)
        const root = rootAt < 0 || f[rootAt] === "" ? undefined : int(f, rootAt, 1)
        if (root !== undefined && root > 16384) throw new Bad("root_volume_gib", `a volume is at most 16384 GiB, found ${root}`)
        let r: TraceRequest.TraceRequest
        if (layout.sized) {
          r = TraceRequest.sized(lineNo, arrival, lifetime, Resources.make(int(f, 2, 1), int(f, 3, 0), int(f, 4, 0)), count, zone, root)
        } else {
          if (!vmTypeName.test(f[2]!)) throw new Bad("vm_type", `not a VM type name: ${JSON.stringify(f[2])}`)
          r = TraceRequest.typed(lineNo, arrival, lifetime, f[2]!, count, zone, root)
        }
        if (lifetime === undefined) out.pushUntilHorizon(r, horizonReason)
        else out.push(r)
      } catch (e) {
        if (!(e instanceof Bad)) throw e
        if (!skipMalformed) throw TraceError.make(file, lineNo, e.field, e.detail)
        tally.skip(skipReasons.malformed)
      }
    },
    end() {
      if (layout === undefined) throw TraceError.make(file, 1, undefined, "empty file: expected a header row")
    }
  }
}

export const open = async (file: string, options: Options): Promise<TraceReader.TraceReader> => {
  const src = await LineSource.LineSource.open(file)
  const tally = new TraceReader.Tally()
  return TraceReader.make("csv", file, TraceReader.fromLines(src, parser(file, options, tally)), tally, options)
}

/** The CSV text of requests in a layout (header included): the inverse of the reader. */
export const format = (requests: Iterable<TraceRequest.TraceRequest>, layout: Layout): string => {
  const lines = [columns(layout).join(",")]
  for (const r of requests) lines.push(row(r, layout))
  return lines.join("\n") + "\n"
}

export const row = (r: TraceRequest.TraceRequest, layout: Layout): string => {
  const cells: Array<string | number> = [r.arrivalMs, r.lifetimeMs ?? ""]
  if (layout.sized) {
    if (r.size === undefined) throw new Error(`request of line ${r.line} has a VM type, not a size`)
    cells.push(r.size.cores, r.size.memoryMiB, r.size.diskGiB)
  } else {
    if (r.vmType === undefined) throw new Error(`request of line ${r.line} has a size, not a VM type`)
    cells.push(r.vmType)
  }
  if (r.count !== 1 && !layout.extra.includes("count")) throw new Error(`request of line ${r.line} has count ${r.count}: the layout needs a count column`)
  if (r.zone !== undefined && !layout.extra.includes("zone")) throw new Error(`request of line ${r.line} names a zone: the layout needs a zone column`)
  if (r.rootVolumeGiB !== undefined && !layout.extra.includes("root_volume_gib")) throw new Error(`request of line ${r.line} has a root volume: the layout needs a root_volume_gib column`)
  for (const c of layout.extra) cells.push(c === "zone" ? (r.zone ?? "") : c === "count" ? r.count : (r.rootVolumeGiB ?? ""))
  return cells.join(",")
}
