import { mkdtempSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { Effect, Either, Exit, Schema } from "effect"
import { describe, expect, it } from "vitest"
import * as ServerConfig from "../../src/app/ServerConfig.js"
import * as ConfigFile from "../../src/config/ConfigFile.js"

const S = Schema.Struct({ name: Schema.String, sizes: Schema.Array(Schema.Number), inner: Schema.optional(Schema.Struct({ on: Schema.Boolean })) })

const messageOf = <A>(r: Either.Either<A, ConfigFile.ConfigError>) => (Either.isLeft(r) ? r.left.message : "(decoded)")

describe("ConfigFile", () => {
  it("names the file, the line and column of the field, and the field", () => {
    const text = `{\n  "name": "x",\n  "sizes": [1, 2,\n    "three"],\n  "inner": { "on": 1 }\n}\n`
    const m = messageOf(ConfigFile.decode(S, "c.json", text)).split("\n")
    expect(m).toContain(`c.json:4:5: sizes[2]: Expected number, actual "three"`)
    expect(m).toContain(`c.json:5:14: inner.on: Expected boolean, actual 1`)
    expect(m).toHaveLength(2)
  })

  it("points an unknown field at its key, and a missing one at the object that lacks it", () => {
    const text = `{\n  "sizes": [],\n  "colour": "red"\n}`
    const m = messageOf(ConfigFile.decode(S, "c.json", text)).split("\n")
    expect(m).toContain("c.json:1:1: name: is missing")
    expect(m).toContain("c.json:3:3: colour: unknown field")
  })

  it("gives the line and column of a JSON syntax error", () => {
    expect(messageOf(ConfigFile.decode(S, "c.json", `{\n  "name": "x",\n  "sizes": [1,,]\n}`))).toMatch(/^c\.json:3:15: not valid JSON/)
  })

  it("decodes a valid file to its value", () => {
    expect(ConfigFile.decode(S, "c.json", `{"name":"n","sizes":[3]}`)).toEqual(Either.right({ name: "n", sizes: [3] }))
  })

  it("loads the server config with the same errors, and says when the file cannot be read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "euca-config-"))
    const path = join(dir, "server.json")
    writeFileSync(path, `{\n  "region": "euca-1",\n  "backend": { "kind": "sim", "failureProbability": 2 }\n}\n`)
    const exit = await Effect.runPromiseExit(ServerConfig.load(path))
    expect(Exit.isFailure(exit) && JSON.stringify(exit.cause)).toContain(`server.json:3:31: backend.failureProbability: Expected a number between 0 and 1, actual 2`)
    const missing = await Effect.runPromiseExit(ServerConfig.load(join(dir, "nope.json")))
    expect(Exit.isFailure(missing) && JSON.stringify(missing.cause)).toContain("nope.json: cannot read the file")
    const ok = await Effect.runPromise(ServerConfig.load(undefined))
    expect(ok.backend.kind).toBe("sim")
  })
})
