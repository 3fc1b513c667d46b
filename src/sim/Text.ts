/**
 * Buffered text output for recorders that write lines (the event log, placements.csv): lines are
 * joined into chunks of ~64 KiB before they reach the sink, so a file gets few large writes.
 */
export class Buffered {
  private parts: Array<string> = []
  private bytes = 0

  constructor(private readonly sink: (chunk: string) => void) {}

  line(s: string): void {
    this.parts.push(s)
    this.bytes += s.length + 1
    if (this.bytes >= 65536) this.flush()
  }

  flush(): void {
    if (this.parts.length === 0) return
    this.sink(this.parts.join("\n") + "\n")
    this.parts = []
    this.bytes = 0
  }
}

/** A sink that keeps everything in memory (tests, small runs). */
export class Collect {
  readonly chunks: Array<string> = []
  readonly sink = (chunk: string): void => {
    this.chunks.push(chunk)
  }
  get text(): string {
    return this.chunks.join("")
  }
}
