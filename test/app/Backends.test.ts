import { Either, Option } from "effect"
import { Effect, Exit } from "effect"
import { describe, expect, it } from "vitest"
import * as Backends from "../../src/app/Backends.js"

describe("Backends (the composition root's table of backends)", () => {
  it("runs the configured backend unless --backend names another kind", () => {
    const xen: Backends.Config = { kind: "xen", nodesFile: "nodes.json" }
    expect(Backends.choose(xen, {})).toEqual(Either.right(xen))
    expect(Backends.choose(xen, { kind: "sim" })).toEqual(Either.right({ kind: "sim" }))
    expect(Backends.choose({ kind: "sim", seed: 4 }, { kind: "sim" })).toEqual(Either.right({ kind: "sim", seed: 4 }))
    expect(Backends.choose(xen, { nodesFile: "other.json" })).toEqual(Either.right({ kind: "xen", nodesFile: "other.json" }))
  })

  it("refuses a real backend without a nodes file, saying how to give one", () => {
    const r = Backends.choose({ kind: "sim" }, { kind: "xen" })
    expect(Either.isLeft(r) && r.left.message).toBe("--backend xen needs a nodes file: --nodes FILE, or backend.nodesFile in the config")
  })

  it("builds the simulated backend with its nodes up, and names a bad distribution's field", async () => {
    const p = await Effect.runPromise(Backends.prepare({ kind: "sim", bootDelay: { kind: "constant", seconds: 1 } }, "."))
    expect(p.nodeState).toBe("up")
    expect(Option.isNone(p.topology)).toBe(true)
    const bad = await Effect.runPromiseExit(Backends.prepare({ kind: "sim", stopDelay: { kind: "uniform", minSeconds: 1 } as never }, "."))
    expect(Exit.isFailure(bad) && JSON.stringify(bad.cause)).toContain("backend.stopDelay.maxSeconds")
  })

  it("takes a Xen cloud's shape from its nodes file, and reports a missing one", async () => {
    const bad = await Effect.runPromiseExit(Backends.prepare({ kind: "xen", nodesFile: "no-such-nodes.json" }, "/nonexistent"))
    expect(Exit.isFailure(bad) && JSON.stringify(bad.cause)).toContain("/nonexistent/no-such-nodes.json")
  })
})
