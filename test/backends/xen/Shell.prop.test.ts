import * as ChildProcess from "node:child_process"
import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Shell from "../../../src/backends/xen/Shell.js"

/** What /bin/sh hands to a program for this command line: printf '%s\0' each argument (after a marker, since printf with no argument still prints once). */
const argvThroughSh = (args: ReadonlyArray<string>): Array<string> => {
  const r = ChildProcess.spawnSync("/bin/sh", ["-c", Shell.commandLine(["printf", "%s\\0", "MARK", ...args])], { encoding: "buffer" })
  expect(r.status, r.stderr.toString()).toBe(0)
  const out = r.stdout.toString("utf8").split("\0")
  out.pop() // after the last NUL
  expect(out.shift()).toBe("MARK")
  return out
}

const hostile = [
  "", " ", "a b", "'", "''", "\"", "\\", "$(id)", "`id`", "${HOME}", "$HOME", "a\nb", "\n", "\t", "*", "?", "[a]", "~", "~root",
  "-n", "--", "-rf /", "!", "!!", "#comment", "a;b", "a&&b", "a|b", ">x", "<x", "(x)", "{x}", "a=b", "=x", "é", "日本語", "🙂", "\u202e",
  "\x01\x7f", "%s", "%%", "\\0", "it's", "'$(x)'"
]

describe("Shell.quote", () => {
  it("gives sh exactly the argv, for a list of hostile words", () => {
    expect(argvThroughSh(hostile)).toEqual(hostile)
  })

  it.prop("gives sh exactly the argv, for any words without NUL", [
    fc.array(
      fc.oneof(
        fc.string({ unit: "binary" }),
        fc.string({ unit: fc.constantFrom("'", "\"", "\\", "$", "`", "(", ")", "\n", " ", "-", "=", "~", "*", "!", "a", "é", "🙂") }),
        fc.constantFrom(...hostile)
      ).map((s) => s.replaceAll("\0", "")),
      { maxLength: 8 }
    )
  ], ([args]) => {
    expect(argvThroughSh(args)).toEqual(args)
  }, { fastCheck: { numRuns: 150 } })

  it("leaves plain words alone and refuses NUL", () => {
    expect(Shell.commandLine(["xl", "list", "-l", "i-1a2b3c4d", "/etc/xen/a.cfg"])).toBe("xl list -l i-1a2b3c4d /etc/xen/a.cfg")
    expect(Shell.quote("a=b")).toBe("'a=b'")
    expect(() => Shell.quote("a\0b")).toThrow(/NUL/)
    expect(() => Shell.commandLine([])).toThrow(/empty/)
  })
})
