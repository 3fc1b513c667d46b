/**
 * CloudSim's PlanetLab workload (Beloglazov & Buyya, CCPE 2012): a folder per day, one file per VM,
 * 288 lines, each an integer CPU utilisation in percent for a 300 s interval (24 h).
 *
 * Read either from a folder (`…/20110303/`) or streamed out of a `.tar.gz`/`.tar` archive holding
 * `…/<day>/<vm file>` entries (the bundled `traces/planetlab/planetlab-cloudsim-10days.tar.gz`);
 * the archive is gunzipped and untarred on the fly, never loaded whole.
 *
 * CloudSim's `UtilizationModelPlanetLabInMemory` keeps 289 values (the 288 read, then the last one
 * repeated) as fractions (`percent / 100.0`); `values` here is exactly that array. CloudSim lists a
 * day's files with `File.listFiles()`, whose order the JDK leaves unspecified (directory order);
 * we sort by name (Java `String.compareTo` order, which is JavaScript's default string order), or
 * keep the archive's order with `order: "archive"`.
 */
import * as Fs from "node:fs"
import * as FsP from "node:fs/promises"
import * as Path from "node:path"
import * as Zlib from "node:zlib"
import * as TraceError from "./TraceError.js"

/** Samples per day file, and the length CloudSim keeps (one more: the last sample repeated). */
export const samplesPerDay = 288
export const keptSamples = samplesPerDay + 1

export interface PlanetLabVm {
  /** The file's name inside the day folder (CloudSim's cloudlet i reads the i-th file). */
  readonly name: string
  /** 289 fractions: the 288 samples / 100, then the last one repeated (as CloudSim keeps them). */
  readonly values: Float64Array
}

export interface PlanetLabDay {
  readonly day: string
  readonly vms: ReadonlyArray<PlanetLabVm>
}

export interface ReadOptions {
  /** `name` (default): files sorted by name. `archive`: the order they are stored in (or readdir order). */
  readonly order?: "name" | "archive"
}

/** Parses one VM file; errors name `where` (the archive or folder), the entry and the line. */
export const parseVmFile = (where: string, name: string, text: string): PlanetLabVm => {
  const values = new Float64Array(keptSamples)
  let line = 0
  let pos = 0
  while (line < samplesPerDay) {
    if (pos >= text.length) {
      throw TraceError.make(`${where}/${name}`, line + 1, "utilisation", `the file ends after ${line} lines; CloudSim reads ${samplesPerDay}`)
    }
    let end = text.indexOf("\n", pos)
    if (end < 0) end = text.length
    let raw = text.slice(pos, end)
    if (raw.endsWith("\r")) raw = raw.slice(0, -1)
    pos = end + 1
    // Java's Integer.valueOf: an optional sign and decimal digits, nothing else (no blanks).
    if (!/^[+-]?\d+$/.test(raw)) {
      throw TraceError.make(`${where}/${name}`, line + 1, "utilisation", `expected an integer percentage, found ${JSON.stringify(raw)}`)
    }
    const v = Number(raw)
    if (!Number.isSafeInteger(v) || v < -2147483648 || v > 2147483647) {
      throw TraceError.make(`${where}/${name}`, line + 1, "utilisation", `${raw} is not a 32-bit integer`)
    }
    values[line] = v / 100.0
    line++
  }
  values[samplesPerDay] = values[samplesPerDay - 1]!
  return { name, values }
}

const sortByName = (vms: Array<PlanetLabVm>): Array<PlanetLabVm> =>
  vms.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))

const cannotRead = (file: string, e: unknown): TraceError.TraceError => {
  const err = e as NodeJS.ErrnoException
  return TraceError.make(file, undefined, undefined, `cannot read: ${err?.code ?? ""} ${err?.message ?? String(e)}`.trim())
}

/** The day folders (names) in a folder or archive, sorted. */
export const listDays = async (source: string): Promise<Array<string>> => {
  const days = new Set<string>()
  const st = await FsP.stat(source).catch((e) => {
    throw cannotRead(source, e)
  })
  if (st.isDirectory()) {
    for (const d of await FsP.readdir(source, { withFileTypes: true })) if (d.isDirectory()) days.add(d.name)
  } else {
    await walkArchive(source, (path) => {
      const parts = path.split("/").filter((p) => p !== "")
      if (parts.length >= 2) days.add(parts[parts.length - 2]!)
      return false
    })
  }
  return [...days].sort()
}

/** Reads one day (`20110303`) from a folder holding day folders, a day folder itself, or an archive. */
export const readDay = async (source: string, day: string, options: ReadOptions = {}): Promise<PlanetLabDay> => {
  const st = await FsP.stat(source).catch((e) => {
    throw cannotRead(source, e)
  })
  let vms: Array<PlanetLabVm>
  if (st.isDirectory()) {
    const folder = Path.basename(source) === day ? source : Path.join(source, day)
    const names = await FsP.readdir(folder).catch((e) => {
      throw cannotRead(folder, e)
    })
    vms = []
    for (const name of names) {
      const file = Path.join(folder, name)
      if (!(await FsP.stat(file)).isFile()) continue
      vms.push(parseVmFile(folder, name, await FsP.readFile(file, "latin1")))
    }
  } else {
    vms = []
    await walkArchive(source, (path) => {
      const parts = path.split("/").filter((p) => p !== "")
      return parts.length >= 2 && parts[parts.length - 2] === day
    }, (path, data) => {
      const name = path.split("/").filter((p) => p !== "").pop()!
      vms.push(parseVmFile(`${source}:${day}`, name, data.toString("latin1")))
    })
  }
  if (vms.length === 0) throw TraceError.make(source, undefined, "day", `no VM files for day ${JSON.stringify(day)}`)
  return { day, vms: (options.order ?? "name") === "name" ? sortByName(vms) : vms }
}

// ------------------------------------------------------------------------------------------------
// A minimal streaming tar reader (ustar and GNU long names), fed by a gunzip stream when gzipped.

const octal = (buf: Buffer, off: number, len: number): number => {
  const s = buf.toString("latin1", off, off + len).replace(/\0.*$/s, "").trim()
  return s === "" ? 0 : parseInt(s, 8)
}

const cstr = (buf: Buffer, off: number, len: number): string => {
  const end = buf.indexOf(0, off)
  return buf.toString("utf8", off, end < 0 || end > off + len ? off + len : end)
}

/**
 * Calls `want(path)` for every regular file entry; when it returns true, `onFile(path, data)` gets
 * the entry's bytes. Streams: at most one entry is held in memory.
 */
export const walkArchive = async (
  archive: string,
  want: (path: string) => boolean,
  onFile?: (path: string, data: Buffer) => void
): Promise<void> => {
  const fh = await FsP.open(archive, "r").catch((e) => {
    throw cannotRead(archive, e)
  })
  const magic = Buffer.alloc(2)
  await fh.read(magic, 0, 2, 0)
  await fh.close()
  const gz = magic[0] === 0x1f && magic[1] === 0x8b
  const input = Fs.createReadStream(archive, { highWaterMark: 256 * 1024 })
  const stream = gz ? input.pipe(Zlib.createGunzip()) : input
  let pending: Buffer = Buffer.alloc(0)
  // Parser state: waiting for a header, or inside an entry's data (with padding to 512).
  let inEntry = false
  let entryPath = ""
  let entrySize = 0
  let entryKeep = false
  let entryType = "0"
  let longName: string | undefined
  let chunks: Array<Buffer> = []
  let got = 0
  let ended = false
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk])
      let off = 0
      for (;;) {
        if (ended) break
        if (!inEntry) {
          if (pending.length - off < 512) break
          const h = pending.subarray(off, off + 512)
          off += 512
          if (h.every((b) => b === 0)) {
            ended = true
            break
          }
          const name = cstr(h, 0, 100)
          const prefix = h.toString("latin1", 257, 262) === "ustar" ? cstr(h, 345, 155) : ""
          entryType = String.fromCharCode(h[156] || 0x30)
          entrySize = octal(h, 124, 12)
          entryPath = longName ?? (prefix === "" ? name : `${prefix}/${name}`)
          longName = undefined
          entryKeep = entryType === "L" || ((entryType === "0" || entryType === "\0") && want(entryPath))
          chunks = []
          got = 0
          inEntry = true
        }
        const padded = Math.ceil(entrySize / 512) * 512
        const avail = Math.min(pending.length - off, padded - got)
        if (entryKeep && got < entrySize) chunks.push(pending.subarray(off, off + Math.min(avail, entrySize - got)))
        got += avail
        off += avail
        if (got < padded) break
        inEntry = false
        if (entryKeep) {
          const data = Buffer.concat(chunks)
          if (entryType === "L") longName = data.toString("utf8").replace(/\0+$/, "")
          else onFile?.(entryPath, data)
        }
      }
      pending = Buffer.from(pending.subarray(off))
      if (ended) break
    }
  } catch (e) {
    if (TraceError.is(e)) throw e
    throw TraceError.make(archive, undefined, gz ? "gzip" : "tar", `corrupt archive: ${(e as Error)?.message ?? String(e)}`)
  } finally {
    input.destroy()
  }
  if (inEntry) throw TraceError.make(archive, undefined, "tar", `the archive ends inside the entry ${JSON.stringify(entryPath)}`)
}
