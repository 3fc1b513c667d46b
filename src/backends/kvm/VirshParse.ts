/**
 * Pure parsers for what `virsh` prints (libvirt 9.0, Debian 12; fixtures captured from the real
 * virsh in test/backends/kvm/fixtures/virsh) and the classification of its failures. Like XlParse:
 * values in `Either`, never a throw — a node printing something unexpected is an observation.
 */
import { Either } from "effect"
import * as XlParse from "../xen/XlParse.js"

export type ParseFailure = XlParse.ParseFailure
export const formatFailure = XlParse.formatFailure

const failure = (what: string, message: string, line?: number): ParseFailure => ({ _tag: "ParseFailure", what, line, message })

const lines = (text: string): Array<string> => {
  const ls = text.split("\n")
  while (ls.length > 0 && ls[ls.length - 1]!.trim() === "") ls.pop()
  return ls
}

// ── states ──────────────────────────────────────────────────────────────────────────────────────

/** The state names virsh prints (tools/virsh-domain-monitor.c, virshDomainStateToString). */
export const STATES = ["no state", "running", "idle", "paused", "in shutdown", "shut off", "crashed", "pmsuspended"] as const
export type DomainState = (typeof STATES)[number]

const isState = (s: string): s is DomainState => (STATES as ReadonlyArray<string>).includes(s)

// ── virsh list --all ────────────────────────────────────────────────────────────────────────────

export interface ListEntry {
  /** undefined for a domain that is not running (`-`). */
  readonly id: number | undefined
  readonly name: string
  readonly state: DomainState
}

// ` 2    i-0123abcd   running` / ` -    i-0123abcd   shut off`: names cannot contain spaces here
// (we name domains by instance id), the state may ("shut off", "in shutdown", "no state").
const ROW = /^\s*(\d+|-)\s+(\S+)\s+(.+?)\s*$/

/** `virsh list --all`: a header, a dashed rule, one row per domain. */
export const parseList = (text: string): Either.Either<Array<ListEntry>, ParseFailure> => {
  const what = "virsh list"
  const ls = lines(text)
  if (ls.length < 2 || !/^\s*Id\s+Name\s+State\s*$/.test(ls[0]!) || !/^-+$/.test(ls[1]!.trim())) {
    return Either.left(failure(what, `expected the header " Id   Name   State" and a rule, got ${JSON.stringify(ls.slice(0, 2).join("\n"))}`, 1))
  }
  const out: Array<ListEntry> = []
  for (let i = 2; i < ls.length; i++) {
    const l = ls[i]!
    if (l.trim() === "") continue
    const m = ROW.exec(l)
    if (m === null) return Either.left(failure(what, `not a domain row: ${JSON.stringify(l)}`, i + 1))
    const state = m[3]!
    if (!isState(state)) return Either.left(failure(what, `unknown domain state ${JSON.stringify(state)}`, i + 1))
    out.push({ id: m[1] === "-" ? undefined : Number(m[1]), name: m[2]!, state })
  }
  return Either.right(out)
}

// ── virsh domstate [--reason] ───────────────────────────────────────────────────────────────────

export interface DomState {
  readonly state: DomainState
  /** With `--reason`: `booted`, `destroyed`, `crashed`, `failed`, `user`, … */
  readonly reason: string | undefined
}

export const parseDomstate = (text: string): Either.Either<DomState, ParseFailure> => {
  const what = "virsh domstate"
  const ls = lines(text).filter((l) => l.trim() !== "")
  if (ls.length !== 1) return Either.left(failure(what, `expected one line, got ${ls.length}`))
  const m = /^(.+?)(?: \(([^()]+)\))?$/.exec(ls[0]!.trim())
  const state = m?.[1] ?? ""
  if (!isState(state)) return Either.left(failure(what, `unknown domain state ${JSON.stringify(ls[0])}`, 1))
  return Either.right({ state, reason: m?.[2] })
}

// ── key: value outputs ──────────────────────────────────────────────────────────────────────────

const keyValues = (what: string, text: string, sep: RegExp): Either.Either<Map<string, string>, ParseFailure> => {
  const out = new Map<string, string>()
  const ls = lines(text)
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i]!
    if (l.trim() === "") continue
    const m = sep.exec(l)
    if (m === null) return Either.left(failure(what, `not a "key: value" line: ${JSON.stringify(l)}`, i + 1))
    out.set(m[1]!.trim(), m[2]!.trim())
  }
  return Either.right(out)
}

const KV = /^([^:]+):\s*(.*)$/

const need = (what: string, kv: Map<string, string>, key: string): Either.Either<string, ParseFailure> => {
  const v = kv.get(key)
  return v === undefined ? Either.left(failure(what, `no "${key}" line`)) : Either.right(v)
}

const int = (what: string, key: string, v: string, unit?: string): Either.Either<number, ParseFailure> => {
  const re = unit === undefined ? /^(\d+)$/ : new RegExp(`^(\\d+) ${unit}$`)
  const m = re.exec(v)
  return m === null ? Either.left(failure(what, `${key}: expected a whole number${unit === undefined ? "" : ` in ${unit}`}, got ${JSON.stringify(v)}`)) : Either.right(Number(m[1]))
}

export interface NodeInfo {
  readonly cpuModel: string
  readonly cpus: number
  readonly mhz: number | undefined
  readonly sockets: number
  readonly coresPerSocket: number
  readonly threadsPerCore: number
  readonly numaCells: number
  /**
   * `Memory size` as libvirt reports it. Beware: on some hosts it is the first NUMA cell's size,
   * not the machine's (the fixture's 6.2 GiB on a 24 GiB machine); nodememstats' `total` is the
   * machine's. Capacity uses the larger of the two.
   */
  readonly memoryKiB: number
}

/** `virsh nodeinfo`. */
export const parseNodeinfo = (text: string): Either.Either<NodeInfo, ParseFailure> =>
  Either.gen(function*() {
    const what = "virsh nodeinfo"
    const kv = yield* keyValues(what, text, KV)
    const n = (key: string, unit?: string) => Either.flatMap(need(what, kv, key), (v) => int(what, key, v, unit))
    const mhzText = kv.get("CPU frequency")
    return {
      cpuModel: yield* need(what, kv, "CPU model"),
      cpus: yield* n("CPU(s)"),
      mhz: mhzText === undefined ? undefined : yield* int(what, "CPU frequency", mhzText, "MHz"),
      sockets: yield* n("CPU socket(s)"),
      coresPerSocket: yield* n("Core(s) per socket"),
      threadsPerCore: yield* n("Thread(s) per core"),
      numaCells: yield* n("NUMA cell(s)"),
      memoryKiB: yield* n("Memory size", "KiB")
    }
  })

export interface NodeMemStats {
  readonly totalKiB: number
  readonly freeKiB: number
  readonly buffersKiB: number | undefined
  readonly cachedKiB: number | undefined
}

/** `virsh nodememstats` (`total  :   24683584 KiB`). */
export const parseNodememstats = (text: string): Either.Either<NodeMemStats, ParseFailure> =>
  Either.gen(function*() {
    const what = "virsh nodememstats"
    const kv = yield* keyValues(what, text, KV)
    const n = (key: string) => Either.flatMap(need(what, kv, key), (v) => int(what, key, v, "KiB"))
    const opt = (key: string) => (kv.has(key) ? Either.map(n(key), (x): number | undefined => x) : Either.right(undefined))
    return { totalKiB: yield* n("total"), freeKiB: yield* n("free"), buffersKiB: yield* opt("buffers"), cachedKiB: yield* opt("cached") }
  })

export interface DomInfo {
  readonly id: number | undefined
  readonly name: string
  readonly uuid: string
  readonly osType: string
  readonly state: DomainState
  readonly cpus: number
  readonly cpuSeconds: number | undefined
  readonly maxMemoryKiB: number
  readonly usedMemoryKiB: number
  readonly persistent: boolean
  readonly autostart: boolean
}

/** `virsh dominfo NAME`. */
export const parseDominfo = (text: string): Either.Either<DomInfo, ParseFailure> =>
  Either.gen(function*() {
    const what = "virsh dominfo"
    const kv = yield* keyValues(what, text, KV)
    const get = (key: string) => need(what, kv, key)
    const idText = yield* get("Id")
    const state = yield* get("State")
    if (!isState(state)) return yield* Either.left(failure(what, `unknown domain state ${JSON.stringify(state)}`))
    const cpuTime = kv.get("CPU time")
    const cpuSeconds = cpuTime === undefined ? undefined : Number(/^(\d+(?:\.\d+)?)s$/.exec(cpuTime)?.[1] ?? Number.NaN)
    if (cpuSeconds !== undefined && !Number.isFinite(cpuSeconds)) return yield* Either.left(failure(what, `CPU time: not a duration: ${JSON.stringify(cpuTime)}`))
    return {
      id: idText === "-" ? undefined : yield* int(what, "Id", idText),
      name: yield* get("Name"),
      uuid: yield* get("UUID"),
      osType: yield* get("OS Type"),
      state,
      cpus: yield* Either.flatMap(get("CPU(s)"), (v) => int(what, "CPU(s)", v)),
      cpuSeconds,
      maxMemoryKiB: yield* Either.flatMap(get("Max memory"), (v) => int(what, "Max memory", v, "KiB")),
      usedMemoryKiB: yield* Either.flatMap(get("Used memory"), (v) => int(what, "Used memory", v, "KiB")),
      persistent: (yield* get("Persistent")) === "yes",
      autostart: (yield* get("Autostart")) === "enable"
    }
  })

// ── failures ────────────────────────────────────────────────────────────────────────────────────

export type VirshFailureKind =
  /** `failed to get domain 'x'` / `Domain not found`. */
  | "DomainNotFound"
  /** `domain is not running` (destroy/reboot of a shut-off domain). */
  | "NotRunning"
  /** `domain 'x' already exists` / `already exists with uuid`. */
  | "NameInUse"
  /** QEMU could not use KVM (`failed to initialize kvm`, `Could not access KVM kernel module`). */
  | "KvmUnavailable"
  /** virsh could not reach libvirtd (`failed to connect to the hypervisor`). */
  | "NoHypervisor"
  | "PermissionDenied"
  | "CommandNotFound"
  | "Failed"

const RULES: ReadonlyArray<readonly [RegExp, VirshFailureKind]> = [
  [/failed to connect to the hypervisor|Failed to connect socket to '[^']*libvirt-sock'/, "NoHypervisor"],
  [/failed to initialize kvm|Could not access KVM kernel module|no accelerator found|KVM is not available/, "KvmUnavailable"],
  [/failed to get domain|Domain not found|no domain with matching name/, "DomainNotFound"],
  [/domain is not running/, "NotRunning"],
  [/already exists/, "NameInUse"],
  [/sudo: .*password is required|sudo: a terminal is required|sudo: .* not allowed|authentication failed|Permission denied/, "PermissionDenied"]
]

/** The failure a virsh invocation reports, or undefined for success (exit 0). */
export const classify = (exitCode: number | null, stderr: string): VirshFailureKind | undefined => {
  if (exitCode === 0) return undefined
  for (const [re, kind] of RULES) if (re.test(stderr)) return kind
  if (exitCode === 127 || exitCode === 126) return "CommandNotFound"
  return "Failed"
}

/** virsh's stderr in one line, at most 500 characters. */
export const summary = (stderr: string): string => {
  const text = lines(stderr).map((l) => l.trim().replace(/^error: /, "")).filter((l) => l !== "").join(" / ")
  return text.length > 500 ? `${text.slice(0, 497)}...` : text
}

// ── the reconcile's view ────────────────────────────────────────────────────────────────────────

const letters = (running: boolean, blocked: boolean, paused: boolean, shutdown: boolean, reason: string, dying: boolean) =>
  `${running ? "r" : "-"}${blocked ? "b" : "-"}${paused ? "p" : "-"}${shutdown ? "s" : "-"}${reason}${dying ? "d" : "-"}`

/**
 * A virsh row in the shape the shared reconcile (src/backends/xen/Reconcile.ts) reads: it matches
 * domains by name and asks whether they are alive. `shut off` counts as a poweroff, `crashed` as a
 * crash; a shut-off domain has no id, so it gets -1 (reconcile reports ids only in messages).
 */
export const toReconcileEntry = (e: ListEntry): XlParse.ListEntry => {
  const state: XlParse.DomainState = (() => {
    switch (e.state) {
      case "running":
        return { letters: letters(true, false, false, false, "-", false), running: true, blocked: false, paused: false, shutdown: false, shutdownReason: undefined, dying: false }
      case "idle":
      case "no state":
      case "in shutdown":
        return { letters: letters(false, true, false, false, "-", false), running: false, blocked: true, paused: false, shutdown: false, shutdownReason: undefined, dying: false }
      case "paused":
      case "pmsuspended":
        return { letters: letters(false, false, true, false, "-", false), running: false, blocked: false, paused: true, shutdown: false, shutdownReason: undefined, dying: false }
      case "crashed":
        return { letters: letters(false, false, false, true, "c", false), running: false, blocked: false, paused: false, shutdown: true, shutdownReason: "crash", dying: false }
      case "shut off":
        return { letters: letters(false, false, false, true, "-", false), running: false, blocked: false, paused: false, shutdown: true, shutdownReason: "poweroff", dying: false }
    }
  })()
  return { name: e.name, domid: e.id ?? -1, memoryMiB: 0, vcpus: 0, state, cpuSeconds: 0 }
}

// ── qemu-img info --output=json ─────────────────────────────────────────────────────────────────

export interface ImageInfo {
  readonly format: "raw" | "qcow2"
  readonly virtualSizeBytes: number
}

export const parseImageInfo = (text: string): Either.Either<ImageInfo, ParseFailure> => {
  const what = "qemu-img info"
  let j: unknown
  try {
    j = JSON.parse(text)
  } catch (e) {
    return Either.left(failure(what, `not JSON: ${(e as Error).message}`))
  }
  if (typeof j !== "object" || j === null) return Either.left(failure(what, "not a JSON object"))
  const o = j as Record<string, unknown>
  const format = o["format"]
  const size = o["virtual-size"]
  if (format !== "raw" && format !== "qcow2") return Either.left(failure(what, `image format ${JSON.stringify(format)}: only raw and qcow2 images can be booted`))
  if (typeof size !== "number" || !Number.isSafeInteger(size) || size < 0) return Either.left(failure(what, `virtual-size: not a size: ${JSON.stringify(size)}`))
  return Either.right({ format, virtualSizeBytes: size })
}

/** `virsh domid NAME`: a number, or `-` for a domain that is not running. */
export const parseDomid = (text: string): Either.Either<number | undefined, ParseFailure> => {
  const t = text.trim()
  if (t === "-") return Either.right(undefined)
  return /^\d+$/.test(t) ? Either.right(Number(t)) : Either.left(failure("virsh domid", `not a domain id: ${JSON.stringify(t)}`))
}
