/**
 * The storage controller host's commands, as shell lines built from argument vectors (Shell quotes
 * every word, so a name or path is always exactly one argument): qemu-img for volume files, cp for
 * sparse copies, qemu-nbd for the NBD exports. Pure: the StorageAgent runs them over SSH.
 *
 * Files in the storage directory: `vol-….img` (a volume), `snap-….img` (a snapshot), and for an
 * exported volume `vol-….pid` (qemu-nbd's pid file) and `vol-….port` (the port it listens on).
 * Volumes are made under a `.part` name and renamed when complete, so a volume file is never half
 * made; a snapshot likewise.
 */
import * as Shell from "../xen/Shell.js"

export type Prefix = ReadonlyArray<string>
export type Format = "raw" | "qcow2"

const VOLUME = /^vol-[0-9a-f]{8,17}$/
const SNAPSHOT = /^snap-[0-9a-f]{8,17}$/

/** A volume id as a file name part (anything else is refused: it names files and an export). */
export const volumeName = (id: string): string => {
  if (!VOLUME.test(id)) throw new TypeError(`not a volume id: ${JSON.stringify(id)}`)
  return id
}

export const snapshotName = (id: string): string => {
  if (!SNAPSHOT.test(id)) throw new TypeError(`not a snapshot id: ${JSON.stringify(id)}`)
  return id
}

const dirOf = (d: string): string => {
  if (!d.startsWith("/") || d.length < 2) throw new TypeError(`the storage directory must be an absolute path: ${JSON.stringify(d)}`)
  return d.endsWith("/") ? d.slice(0, -1) : d
}

export interface Files {
  readonly image: string
  readonly part: string
  readonly pid: string
  readonly port: string
}

export const volumeFiles = (dir: string, id: string): Files => {
  const base = `${dirOf(dir)}/${volumeName(id)}`
  return { image: `${base}.img`, part: `${base}.img.part`, pid: `${base}.pid`, port: `${base}.port` }
}

export const snapshotFile = (dir: string, id: string): { readonly image: string; readonly part: string } => {
  const base = `${dirOf(dir)}/${snapshotName(id)}`
  return { image: `${base}.img`, part: `${base}.img.part` }
}

const sizeOf = (gib: number): string => {
  if (!Number.isSafeInteger(gib) || gib < 1) throw new TypeError(`a volume size must be a whole number of GiB above 0, got ${gib}`)
  return `${gib}G`
}

/** Every command of a line gets the host's prefix (e.g. `sudo -n`, `ip netns exec …`). */
const cmd = (prefix: Prefix, argv: ReadonlyArray<string>): string => Shell.commandLine([...prefix, ...argv])

export interface Host {
  readonly prefix: Prefix
  readonly qemuImg: Prefix
  readonly qemuNbd: Prefix
  readonly dir: string
  readonly format: Format
}

/** `mkdir -p DIR` (the storage directory). */
export const prepare = (h: Host): string => cmd(h.prefix, ["mkdir", "-p", "--", dirOf(h.dir)])

/** A new empty volume: `qemu-img create -f FMT DIR/vol-….img.part SIZEG`, then renamed. */
export const createVolume = (h: Host, id: string, sizeGiB: number): string => {
  const f = volumeFiles(h.dir, id)
  return Shell.and(
    prepare(h),
    cmd(h.prefix, [...h.qemuImg, "create", "-q", "-f", h.format, f.part, sizeOf(sizeGiB)]),
    cmd(h.prefix, ["mv", "-f", "--", f.part, f.image])
  )
}

/** A copy keeping holes (raw) or a qcow2 conversion (`-U`: a snapshot may read a volume that is exported). */
const copy = (h: Host, from: string, to: string): string =>
  h.format === "raw"
    ? cmd(h.prefix, ["cp", "--sparse=always", "--", from, to])
    : cmd(h.prefix, [...h.qemuImg, "convert", "-U", "-q", "-f", "qcow2", "-O", "qcow2", from, to])

/** A volume from a snapshot: a copy of the snapshot's file, grown to the volume's size, then renamed. */
export const createVolumeFromSnapshot = (h: Host, id: string, snapshotId: string, sizeGiB: number): string => {
  const f = volumeFiles(h.dir, id)
  const s = snapshotFile(h.dir, snapshotId)
  return Shell.and(
    prepare(h),
    copy(h, s.image, f.part),
    cmd(h.prefix, [...h.qemuImg, "resize", "-q", "-f", h.format, f.part, sizeOf(sizeGiB)]),
    cmd(h.prefix, ["mv", "-f", "--", f.part, f.image])
  )
}

/** A snapshot: a copy of the volume's file as it is now, then renamed. */
export const createSnapshot = (h: Host, snapshotId: string, volumeId: string): string => {
  const f = volumeFiles(h.dir, volumeId)
  const s = snapshotFile(h.dir, snapshotId)
  return Shell.and(prepare(h), copy(h, f.image, s.part), cmd(h.prefix, ["mv", "-f", "--", s.part, s.image]))
}

/** Removing a volume's files (its export is stopped first: see stopExport). Idempotent. */
export const deleteVolume = (h: Host, id: string): string => {
  const f = volumeFiles(h.dir, id)
  return cmd(h.prefix, ["rm", "-f", "--", f.image, f.part, f.pid, f.port])
}

export const deleteSnapshot = (h: Host, id: string): string => {
  const s = snapshotFile(h.dir, id)
  return cmd(h.prefix, ["rm", "-f", "--", s.image, s.part])
}

/** The ports the host's exports hold now: one `vol-….port` file each (prints `vol-… PORT` lines). */
export const listExports = (h: Host): string =>
  `for f in ${Shell.quote(dirOf(h.dir))}/vol-*.port; do [ -f "$f" ] && printf '%s %s\\n' "$(basename "$f" .port)" "$(cat "$f")"; done; true`

/** Parses listExports' output: volume id → port. */
export const parseExports = (out: string): Map<string, number> => {
  const m = new Map<string, number>()
  for (const line of out.split("\n")) {
    const [id, port] = line.trim().split(/\s+/)
    if (id !== undefined && port !== undefined && VOLUME.test(id) && /^\d+$/.test(port)) m.set(id, Number(port))
  }
  return m
}

/** The lowest port of [first, last] no export holds (undefined: all taken). */
export const freePort = (used: Iterable<number>, first: number, last: number): number | undefined => {
  const taken = new Set(used)
  for (let p = first; p <= last; p++) if (!taken.has(p)) return p
  return undefined
}

/**
 * Exporting a volume: `qemu-nbd --fork --persistent --shared=1 --export-name=vol-… -p PORT -b ADDR
 * -f FMT --pid-file=… FILE` (its format given, never guessed), then the port recorded.
 * `--fork` returns once the server listens, so a zero exit means the export is up.
 */
export const startExport = (h: Host, id: string, address: string, port: number): string => {
  const f = volumeFiles(h.dir, id)
  if (!/^[A-Za-z0-9_.:-]+$/.test(address)) throw new TypeError(`not an address: ${JSON.stringify(address)}`)
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new TypeError(`not a port: ${port}`)
  return Shell.and(
    cmd(h.prefix, [
      ...h.qemuNbd,
      "--fork",
      "--persistent",
      "--shared=1",
      `--export-name=${volumeName(id)}`,
      "-p",
      String(port),
      "-b",
      address,
      "-f",
      h.format,
      "--cache=writethrough",
      `--pid-file=${f.pid}`,
      f.image
    ]),
    cmd(h.prefix, ["sh", "-c", `printf '%s\\n' ${port} > "$1"`, "sh", f.port])
  )
}

/**
 * Stopping a volume's export (idempotent): the pid from the pid file is sent SIGTERM (if it is a
 * qemu-nbd), waited for (up to 5 s, then SIGKILL), and the pid and port files removed. The prefix may
 * change namespaces but not the pid namespace: /proc shows the same processes.
 */
export const stopExport = (h: Host, id: string): string => {
  const f = volumeFiles(h.dir, id)
  const pid = Shell.quote(f.pid)
  // "$p" must stay a shell expansion: the only word not quoted by commandLine.
  const kill = (sig: string) => `${cmd(h.prefix, ["kill", `-${sig}`])} "$p"`
  return [
    `if [ -f ${pid} ]; then p=$(cat ${pid})`,
    `if [ -n "$p" ] && grep -q qemu-nbd "/proc/$p/cmdline" 2>/dev/null; then ${kill("TERM")} 2>/dev/null`,
    // A zombie (nobody reaped it yet) has an empty cmdline: it is gone as far as the export goes.
    `i=0; while grep -q qemu-nbd "/proc/$p/cmdline" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i+1)); done`,
    `if grep -q qemu-nbd "/proc/$p/cmdline" 2>/dev/null; then ${kill("KILL")} 2>/dev/null; fi; fi; fi`,
    cmd(h.prefix, ["rm", "-f", "--", f.pid, f.port])
  ].join("; ")
}

/** Whether a volume's export is running: prints `up PORT` or `down`. */
export const exportStatus = (h: Host, id: string): string => {
  const f = volumeFiles(h.dir, id)
  const pid = Shell.quote(f.pid)
  return `p=$(cat ${pid} 2>/dev/null); if [ -n "$p" ] && grep -q qemu-nbd "/proc/$p/cmdline" 2>/dev/null; then printf 'up %s\\n' "$(cat ${Shell.quote(f.port)} 2>/dev/null)"; else echo down; fi`
}
