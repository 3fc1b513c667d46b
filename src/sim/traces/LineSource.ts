/**
 * Lines of a text file, streamed: the file is read in chunks (gunzipped on the fly when it starts with
 * the gzip magic bytes 1f 8b, whatever its name), never loaded whole. The splitter is hand-rolled
 * rather than node:readline because it hands out a whole chunk's lines synchronously: the caller awaits
 * once per chunk (~64 KiB), not once per line (bench/traces.ts measures both).
 *
 * Usage: `take()` returns the next buffered line or undefined when the buffer is empty; then `fill()`
 * reads the next chunk (false at end of file). Lines lose their "\n" and a trailing "\r".
 */
import * as Fs from "node:fs"
import * as FsP from "node:fs/promises"
import * as Stream from "node:stream"
import * as StringDecoder from "node:string_decoder"
import * as Zlib from "node:zlib"
import * as TraceError from "./TraceError.js"

const chunkBytes = 256 * 1024

/** Does the file start with the gzip magic bytes? (A ".gz" name alone does not decide.) */
const isGzip = async (file: string): Promise<boolean> => {
  const fh = await FsP.open(file, "r")
  try {
    const buf = Buffer.alloc(2)
    const { bytesRead } = await fh.read(buf, 0, 2, 0)
    return bytesRead === 2 && buf[0] === 0x1f && buf[1] === 0x8b
  } finally {
    await fh.close()
  }
}

const cannotRead = (file: string, e: unknown): TraceError.TraceError => {
  const err = e as NodeJS.ErrnoException
  return TraceError.make(file, undefined, undefined, `cannot read the file: ${err?.code ?? ""} ${err?.message ?? String(e)}`.trim())
}

/** The decompressed bytes of a file as a Readable (for the readline comparison in the benchmark, and LineSource). */
export const openBytes = async (file: string): Promise<{ readonly stream: Stream.Readable; readonly gzip: boolean }> => {
  let gzip: boolean
  try {
    // Opening first turns a missing file into a clear error here rather than a stream error later.
    gzip = await isGzip(file)
  } catch (e) {
    throw cannotRead(file, e)
  }
  const raw = Fs.createReadStream(file, { highWaterMark: chunkBytes })
  if (!gzip) return { stream: raw, gzip }
  const gunzip = Zlib.createGunzip({ chunkSize: chunkBytes })
  // pipeline forwards a read error of the file into the gunzip stream and destroys both on failure.
  Stream.pipeline(raw, gunzip, () => {})
  return { stream: gunzip, gzip }
}

export class LineSource {
  /** Number of the line most recently returned by take() (1-based; 0 before the first). */
  lineNo = 0
  private lines: Array<string> = []
  private idx = 0
  private rest = ""
  private done = false
  private readonly decoder = new StringDecoder.StringDecoder("utf8")
  private readonly chunks: AsyncIterator<Buffer>

  private constructor(
    readonly file: string,
    private readonly stream: Stream.Readable,
    readonly gzip: boolean
  ) {
    this.chunks = stream[Symbol.asyncIterator]()
  }

  static async open(file: string): Promise<LineSource> {
    const { stream, gzip } = await openBytes(file)
    return new LineSource(file, stream, gzip)
  }

  /** The next buffered line, or undefined if fill() must be awaited first. */
  take(): string | undefined {
    if (this.idx >= this.lines.length) return undefined
    let s = this.lines[this.idx++]!
    this.lineNo++
    if (s.length > 0 && s.charCodeAt(s.length - 1) === 13) s = s.slice(0, -1)
    if (this.lineNo === 1 && s.charCodeAt(0) === 0xfeff) s = s.slice(1)
    return s
  }

  /** Reads the next chunk into the buffer; false once the file is exhausted and nothing is buffered. */
  async fill(): Promise<boolean> {
    if (this.done) return false
    let r: IteratorResult<Buffer>
    try {
      r = await this.chunks.next()
    } catch (e) {
      this.done = true
      throw this.gzip && isZlibError(e)
        ? TraceError.make(
            this.file,
            this.lineNo + 1,
            "gzip",
            `corrupt or truncated gzip data after line ${this.lineNo} (${(e as Error).message})`
          )
        : cannotRead(this.file, e)
    }
    if (r.done) {
      this.done = true
      const tail = this.rest + this.decoder.end()
      this.rest = ""
      this.lines = tail.length > 0 ? [tail] : []
      this.idx = 0
      return this.lines.length > 0
    }
    const parts = (this.rest + this.decoder.write(r.value)).split("\n")
    this.rest = parts.pop()!
    this.lines = parts
    this.idx = 0
    return true
  }

  /** The next line, awaiting a chunk only when the buffer is empty; undefined at end of file. */
  async next(): Promise<string | undefined> {
    for (;;) {
      const s = this.take()
      if (s !== undefined) return s
      if (!(await this.fill())) return undefined
    }
  }

  close(): void {
    this.done = true
    this.stream.destroy()
  }
}

const isZlibError = (e: unknown): boolean => {
  const code = (e as NodeJS.ErrnoException)?.code
  return typeof code === "string" && code.startsWith("Z_")
}
