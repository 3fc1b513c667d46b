/**
 * Progress on a terminal: a transient status line that is overwritten in place, and lines to keep.
 * Without a terminal (CI logs), transient statuses are printed at most every 10 s so a long run still
 * shows signs of life without flooding the log.
 */
export const reporter = (stream: NodeJS.WriteStream = process.stderr): ((line: string, final: boolean) => void) => {
  const tty = stream.isTTY === true
  let lastPlain = 0
  return (line, final) => {
    if (tty) {
      const width = Math.max(20, (stream.columns ?? 100) - 1)
      const text = line.length > width ? `${line.slice(0, width - 1)}…` : line
      stream.write(`\r\x1b[K${text}${final ? "\n" : ""}`)
      return
    }
    const now = Date.now()
    if (final || now - lastPlain >= 10_000) {
      stream.write(`${line}\n`)
      lastPlain = now
    }
  }
}
