/** Reading the xl fixtures (copied from ../shared/reference/xen/fixtures; see fixtures/PROVENANCE.md). */
import * as Fs from "node:fs"
import * as Path from "node:path"

export const fixturesDir = Path.join(import.meta.dirname, "fixtures")

export const fixture = (name: string): string => Fs.readFileSync(Path.join(fixturesDir, name), "utf8")

export interface ErrorBlock {
  /** The `## …` heading the block is under. */
  readonly title: string
  readonly command: string
  readonly exit: number
  /** The expected stderr, each line ending in a newline. */
  readonly stderr: string
}

/** The SOURCE/MEASURED blocks of xl-errors.txt: command, exit code, stderr. */
export const errorBlocks = (): Array<ErrorBlock> => {
  const blocks: Array<ErrorBlock> = []
  let title = ""
  let cur: { title: string; command: string; exit: number; lines: Array<string> } | undefined
  const flush = () => {
    if (cur) blocks.push({ title: cur.title, command: cur.command, exit: cur.exit, stderr: cur.lines.map((l) => `${l}\n`).join("") })
    cur = undefined
  }
  for (const line of fixture("xl-errors.txt").split("\n")) {
    if (line.startsWith("## ")) {
      flush()
      if (!line.startsWith("## With") && !line.startsWith("##   ") && !line.startsWith("## preceded") && !line.startsWith("## (domid")) title = line.slice(3)
    } else if (line.startsWith("$ ")) {
      flush()
      cur = { title, command: line.slice(2).replace(/\s{2,}\(.*$/, "").trim(), exit: NaN, lines: [] }
    } else if (cur && /^exit \d+/.test(line) && Number.isNaN(cur.exit)) cur.exit = Number(/^exit (\d+)/.exec(line)![1])
    else if (cur && line !== "" && !line.startsWith("#") && !line.startsWith("... ")) cur.lines.push(line)
  }
  flush()
  return blocks
}

