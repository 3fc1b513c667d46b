/**
 * POSIX shell quoting. Every command we send over SSH is one string that the node's login shell
 * (`sh -c`) splits again, so every argument is quoted here — names, paths and values alike — and
 * nothing we build relies on the shell's word splitting, globbing or expansions.
 */

/** Words made only of these need no quotes anywhere on a command line (no `=`: a bare `A=b` first word is an assignment). */
const SAFE = /^[A-Za-z0-9_@%+:,./-]+$/

/**
 * Quote one argument so that `sh` reads it back as exactly this string: single quotes around
 * everything, each embedded `'` written as `'\''`. Single quotes keep `$`, backticks, `\`, `!`,
 * newlines and any byte literal. NUL cannot be passed in an argv at all, so it is refused.
 */
export const quote = (arg: string): string => {
  if (arg.includes("\0")) throw new TypeError("a shell argument cannot contain NUL")
  if (SAFE.test(arg)) return arg
  return `'${arg.replaceAll("'", `'\\''`)}'`
}

/** One command line from an argv: each word quoted, joined by spaces. */
export const commandLine = (argv: ReadonlyArray<string>): string => {
  if (argv.length === 0) throw new TypeError("empty command")
  return argv.map(quote).join(" ")
}

/** Commands joined so that each runs only if the previous one succeeded. */
export const and = (...lines: ReadonlyArray<string>): string => lines.join(" && ")

/** Commands run in order regardless of failures (the exit status is the last one's). */
export const seq = (...lines: ReadonlyArray<string>): string => lines.join("; ")

/** Redirect a command's stdout (and stderr if `both`) to /dev/null. */
export const quiet = (line: string, both = true): string => `${line} >/dev/null${both ? " 2>&1" : ""}`
