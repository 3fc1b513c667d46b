/**
 * Pure parsers for what `xl` prints (formats from Xen stable-4.17, tools/xl/xl_info.c; fixtures in
 * test/backends/xen/fixtures) and the classification of its failures. Parsers return values —
 * `Either<T, ParseFailure>` — never throw: a node printing something unexpected is an observation,
 * not a crash of the controller.
 */
import { Either, ParseResult, Schema } from "effect"

export interface ParseFailure {
  readonly _tag: "ParseFailure"
  /** Which output: "xl list", "xl info", … */
  readonly what: string
  /** 1-based line of the output, when the problem is on a line. */
  readonly line?: number | undefined
  readonly message: string
}

const failure = (what: string, message: string, line?: number): ParseFailure => ({ _tag: "ParseFailure", what, line, message })

export const formatFailure = (f: ParseFailure): string => `${f.what}${f.line === undefined ? "" : ` line ${f.line}`}: ${f.message}`

const lines = (text: string): Array<string> => {
  const ls = text.split("\n")
  if (ls.length > 0 && ls[ls.length - 1] === "") ls.pop()
  return ls
}

// ── xl list ─────────────────────────────────────────────────────────────────────────────────────

/** The reason a domain shut down, from the 5th state letter (`"-rscwS"`; `-` with the `s` flag = poweroff). */
export type ShutdownReason = "poweroff" | "reboot" | "suspend" | "crash" | "watchdog" | "soft_reset"

export interface DomainState {
  /** The six letters as printed, e.g. `-b----`. */
  readonly letters: string
  readonly running: boolean
  readonly blocked: boolean
  readonly paused: boolean
  readonly shutdown: boolean
  /** Only when `shutdown`. */
  readonly shutdownReason: ShutdownReason | undefined
  readonly dying: boolean
}

const REASONS: Record<string, ShutdownReason> = { "-": "poweroff", r: "reboot", s: "suspend", c: "crash", w: "watchdog", S: "soft_reset" }

export const parseState = (letters: string): DomainState | undefined => {
  if (!/^[r-][b-][p-][s-][-rscwS][d-]$/.test(letters)) return undefined
  const shutdown = letters[3] === "s"
  return {
    letters,
    running: letters[0] === "r",
    blocked: letters[1] === "b",
    paused: letters[2] === "p",
    shutdown,
    // A reason letter without the shutdown flag does not happen; read the letter only with the flag.
    shutdownReason: shutdown ? REASONS[letters[4]!] : undefined,
    dying: letters[5] === "d"
  }
}

export interface ListEntry {
  /** `null` when xl printed `(null)`: a dying domain whose name is already gone. */
  readonly name: string | null
  readonly domid: number
  readonly memoryMiB: number
  readonly vcpus: number
  readonly state: DomainState
  readonly cpuSeconds: number
  /** Only with `xl list -v`. */
  readonly uuid?: string | undefined
}

// Rows are `%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f`; the name is whatever precedes the numeric
// columns, so rows are read from the right (a name may be longer than 40 characters, or `(null)`).
const ROW = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S{6})\s+(-?\d+(?:\.\d+)?)$/
const ROW_V = /^(.+?)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\S{6})\s+(-?\d+(?:\.\d+)?)\s+([0-9a-fA-F-]{36})\s+(\S+)\s+(.+)$/

/** `xl list` (or `xl list -v`): the header, then one row per domain (Domain-0 included). */
export const parseList = (text: string): Either.Either<Array<ListEntry>, ParseFailure> => {
  const what = "xl list"
  const ls = lines(text)
  if (ls.length === 0) return Either.left(failure(what, "empty output (expected a header line)"))
  const header = ls[0]!
  if (!/^Name\s+ID\s+Mem\s+VCPUs\s+State\s+Time\(s\)/.test(header)) {
    return Either.left(failure(what, `unexpected header ${JSON.stringify(header)}`, 1))
  }
  const verbose = /\bUUID\b/.test(header)
  const out: Array<ListEntry> = []
  for (let i = 1; i < ls.length; i++) {
    const line = ls[i]!
    if (line.trim() === "") continue
    const m = (verbose ? ROW_V : ROW).exec(line.trimEnd())
    if (m === null) return Either.left(failure(what, `cannot read row ${JSON.stringify(line)}`, i + 1))
    const state = parseState(m[5]!)
    if (state === undefined) return Either.left(failure(what, `bad state letters ${JSON.stringify(m[5])}`, i + 1))
    const name = m[1]!.trim()
    out.push({
      name: name === "(null)" ? null : name,
      domid: Number(m[2]),
      memoryMiB: Number(m[3]),
      vcpus: Number(m[4]),
      state,
      cpuSeconds: Number(m[6]),
      ...(verbose ? { uuid: m[7]!.toLowerCase() } : {})
    })
  }
  return Either.right(out)
}

// ── xl list -l ──────────────────────────────────────────────────────────────────────────────────

// Only the fields the controller needs; everything else libxl emits is ignored (Schema.Struct drops
// excess properties). Fields equal to their libxl default are omitted by libxl, hence optional.
const LongNic = Schema.Struct({
  mac: Schema.optional(Schema.String),
  bridge: Schema.optional(Schema.String),
  ifname: Schema.optional(Schema.String)
})
const LongDisk = Schema.Struct({
  pdev_path: Schema.optional(Schema.String),
  vdev: Schema.optional(Schema.String)
})
const LongDomain = Schema.Struct({
  domid: Schema.Int,
  config: Schema.Struct({
    c_info: Schema.Struct({
      name: Schema.optional(Schema.String),
      uuid: Schema.optional(Schema.String),
      type: Schema.optional(Schema.String)
    }),
    b_info: Schema.optional(
      Schema.Struct({
        max_memkb: Schema.optional(Schema.Number),
        target_memkb: Schema.optional(Schema.Number),
        max_vcpus: Schema.optional(Schema.Number)
      })
    ),
    nics: Schema.optional(Schema.Array(LongNic)),
    disks: Schema.optional(Schema.Array(LongDisk))
  })
})
const LongList = Schema.Array(LongDomain)

export interface DomainDetail {
  readonly domid: number
  readonly name: string | undefined
  readonly uuid: string | undefined
  readonly type: string | undefined
  readonly maxMemoryMiB: number | undefined
  readonly targetMemoryMiB: number | undefined
  readonly maxVcpus: number | undefined
  readonly nics: ReadonlyArray<{ readonly mac: string | undefined; readonly bridge: string | undefined; readonly ifname: string | undefined }>
  readonly disks: ReadonlyArray<{ readonly pdevPath: string | undefined; readonly vdev: string | undefined }>
}

const kibToMib = (k: number | undefined): number | undefined => (k === undefined ? undefined : Math.floor(k / 1024))

/** `xl list -l`: a JSON array of `{domid, config: {c_info, b_info, disks, nics, …}}`. */
export const parseListLong = (text: string): Either.Either<Array<DomainDetail>, ParseFailure> => {
  const what = "xl list -l"
  let json: unknown
  try {
    json = JSON.parse(text.trim() === "" ? "[]" : text)
  } catch (e) {
    return Either.left(failure(what, `not JSON: ${(e as Error).message}`))
  }
  return Schema.decodeUnknownEither(LongList)(json).pipe(
    Either.mapLeft((e) => failure(what, ParseResult.TreeFormatter.formatErrorSync(e))),
    Either.map((ds) =>
      ds.map((d) => ({
        domid: d.domid,
        name: d.config.c_info.name,
        uuid: d.config.c_info.uuid,
        type: d.config.c_info.type,
        maxMemoryMiB: kibToMib(d.config.b_info?.max_memkb),
        targetMemoryMiB: kibToMib(d.config.b_info?.target_memkb),
        maxVcpus: d.config.b_info?.max_vcpus,
        nics: (d.config.nics ?? []).map((n) => ({ mac: n.mac, bridge: n.bridge, ifname: n.ifname })),
        disks: (d.config.disks ?? []).map((x) => ({ pdevPath: x.pdev_path, vdev: x.vdev }))
      }))
    )
  )
}

// ── xl info ─────────────────────────────────────────────────────────────────────────────────────

export interface XlInfo {
  readonly host: string | undefined
  readonly nrCpus: number
  readonly totalMemoryMiB: number
  readonly freeMemoryMiB: number
  readonly xenVersion: string | undefined
  /** Every `key: value` line as printed (values trimmed on the left by one space only). */
  readonly fields: Readonly<Record<string, string>>
}

/** `xl info`: `"%-23s: %s"` lines. total_memory and free_memory are MiB. */
export const parseInfoFields = (text: string): Either.Either<Record<string, string>, ParseFailure> => {
  const fields: Record<string, string> = {}
  const ls = lines(text)
  for (let i = 0; i < ls.length; i++) {
    const line = ls[i]!
    if (line.trim() === "") continue
    const m = /^(\S+)\s*:(.*)$/.exec(line)
    if (m === null) return Either.left(failure("xl info", `not a "key : value" line: ${JSON.stringify(line)}`, i + 1))
    fields[m[1]!] = m[2]!.startsWith(" ") ? m[2]!.slice(1) : m[2]!
  }
  return Either.right(fields)
}

const intField = (fields: Record<string, string>, key: string): Either.Either<number, ParseFailure> => {
  const v = fields[key]
  if (v === undefined) return Either.left(failure("xl info", `missing field ${key}`))
  if (!/^\d+$/.test(v.trim())) return Either.left(failure("xl info", `field ${key} is not a whole number: ${JSON.stringify(v)}`))
  return Either.right(Number(v.trim()))
}

export const parseInfo = (text: string): Either.Either<XlInfo, ParseFailure> =>
  Either.gen(function*() {
    const fields = yield* parseInfoFields(text)
    return {
      host: fields["host"],
      nrCpus: yield* intField(fields, "nr_cpus"),
      totalMemoryMiB: yield* intField(fields, "total_memory"),
      freeMemoryMiB: yield* intField(fields, "free_memory"),
      xenVersion: fields["xen_version"],
      fields
    }
  })

/** The output of `xl info <field>` or `xl domid <name>`: one whole number on one line. */
const single = (what: string) => (text: string): Either.Either<number, ParseFailure> => {
  const t = text.trim()
  return /^\d+$/.test(t) ? Either.right(Number(t)) : Either.left(failure(what, `expected a whole number, got ${JSON.stringify(text)}`))
}

/** `xl info free_memory` (MiB). */
export const parseFreeMemory = single("xl info free_memory")
/** `xl domid <name>`. */
export const parseDomid = single("xl domid")

// ── failures ────────────────────────────────────────────────────────────────────────────────────

/**
 * What went wrong, read from xl's stderr and exit code. Messages from Xen stable-4.17 (see
 * fixtures/xl-errors.txt); the libxl lines vary by version, so matching is on stable fragments.
 */
export type XlFailureKind =
  /** `<name> is an invalid domain identifier (rc=-6)`: no domain of that name. */
  | "InvalidDomain"
  /** Numeric id or name that does not exist (`does not exist`, `rc=-21`, `Can't get domid`). */
  | "DomainNotFound"
  /** `Domain with name "x" already exists.` */
  | "NameInUse"
  /**
   * A device of the new domain could not be added (`unable to add disk devices`, a hotplug script
   * killed on libxl's timeout: measured on Xen 4.17 with a slow dom0). libxl removed the domain.
   */
  | "DeviceFailed"
  /** `failed to free memory for the domain`, or a build failing with out of memory. */
  | "OutOfMemory"
  /** No hypervisor / no privcmd: xl cannot work on this host at all. */
  | "NotUsable"
  /**
   * `PV control interface not available`, or `guest didn't acknowledge control request` (measured on
   * Xen 4.17.7: a PV guest that does not answer, rc=-9): the guest cannot be asked to shut down or reboot.
   */
  | "NoPvControl"
  /** `Failed to read config file`. */
  | "ConfigUnreadable"
  /** The config did not parse. */
  | "ConfigInvalid"
  /** `Not destroying domain 0`. */
  | "Dom0Refused"
  /** sudo asked for a password, or permission denied running xl. */
  | "PermissionDenied"
  /** The shell could not find xl (exit 127) or run it (126). */
  | "CommandNotFound"
  | "Failed"

const RULES: ReadonlyArray<readonly [RegExp, XlFailureKind]> = [
  [/Can't find hypervisor information|cannot init xl context|Could not obtain handle on privileged command interface|cannot open libxc handle/, "NotUsable"],
  [/sudo: .*password is required|sudo: a terminal is required|sudo: .* not allowed|Permission denied/, "PermissionDenied"],
  [/is an invalid domain identifier/, "InvalidDomain"],
  // A failed create ends with libxl's cleanup lines ("Non-existant domain", "Destruction of domain
  // failed"), as measured on Xen 4.17: what made it fail is matched before them.
  [/Domain with name ".*" already exists/, "NameInUse"],
  [/failed to free memory for the domain|Out of memory|out of memory/, "OutOfMemory"],
  [/unable to add (disk|nic|vtpm|pci|usb)\w* devices|because of timeout/, "DeviceFailed"],
  [/Domain '\d+' does not exist|rc=-21\)|Non-existant domain|Can't get domid of domain name|Can't get domain name of domain id/, "DomainNotFound"],
  [/PV control interface not available|guest didn't acknowledge control request/, "NoPvControl"],
  [/Failed to read config file/, "ConfigUnreadable"],
  [/config parsing error|Failed to parse config/, "ConfigInvalid"],
  [/Not destroying domain 0/, "Dom0Refused"]
]

/** The failure an `xl` invocation reports, or undefined for success (exit 0). */
export const classify = (exitCode: number | null, stderr: string): XlFailureKind | undefined => {
  if (exitCode === 0) return undefined
  for (const [re, kind] of RULES) if (re.test(stderr)) return kind
  if (exitCode === 127 || exitCode === 126) return "CommandNotFound"
  return "Failed"
}

/** The domain does not exist (by name or by id): what an idempotent destroy treats as done. */
export const isNoSuchDomain = (kind: XlFailureKind | undefined): boolean => kind === "InvalidDomain" || kind === "DomainNotFound"

/** xl's stderr in one line for error messages (without the `Parsing config from` preamble), at most 500 characters. */
export const summary = (stderr: string): string => {
  const text = lines(stderr).map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("Parsing config from")).join(" / ")
  return text.length > 500 ? `${text.slice(0, 497)}...` : text
}
