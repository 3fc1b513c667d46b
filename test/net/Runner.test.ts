import { describe, expect, it } from "@effect/vitest"
import { Effect, Either } from "effect"
import * as NetworkApplier from "../../src/backends/net/NetworkApplier.js"
import * as Runner from "../../src/backends/net/Runner.js"
import { describeNet, Lab } from "./support/Lab.js"

describe("the local runner", () => {
  const local = Runner.local()

  it.effect("passes stdin and returns stdout, stderr and the exit code", () =>
    Effect.gen(function*() {
      expect(yield* local.run(["sh", "-c", "tr a-z A-Z; echo oops >&2; exit 3"], "hello\n")).toEqual({ code: 3, stdout: "HELLO\n", stderr: "oops\n" })
      expect(yield* local.run(["true"])).toEqual({ code: 0, stdout: "", stderr: "" })
    }))

  it.effect("a command that cannot start is a RunnerError naming it", () =>
    Effect.gen(function*() {
      const r = yield* Effect.either(local.run(["no-such-binary-for-sure", "x"]))
      expect(r).toMatchObject({ _tag: "Left", left: { _tag: "RunnerError", where: "local", command: "no-such-binary-for-sure x" } })
    }))

  it.live("a command that hangs is killed and reported", () =>
    Effect.gen(function*() {
      const r = yield* Effect.either(Runner.local({ timeoutMs: 200 }).run(["sleep", "30"]))
      expect(r).toMatchObject({ _tag: "Left", left: { _tag: "RunnerError", command: "sleep 30" } })
      expect(Either.isLeft(r) && r.left.message).toMatch(/no answer within/)
    }))
})

describe("the applier as a service", () => {
  it.effect("is provided by a layer; a bad configuration fails the layer with the field named", () =>
    Effect.gen(function*() {
      const head = { privateInterface: "eth1", publicInterface: "eth0" }
      const good = NetworkApplier.layer({ zones: { "zone-1": { head, headHost: { runner: Runner.local(), segment: { _tag: "vlan", dev: "eth1" } } } } })
      const last = yield* Effect.flatMap(NetworkApplier.NetworkApplier, (a) => a.lastApplied("zone-1")).pipe(Effect.provide(good))
      expect(last).toBeUndefined()
      const bad = NetworkApplier.layer({ zones: { "zone-1": { head: { ...head, publicInterface: "" }, headHost: { runner: Runner.local(), segment: { _tag: "vlan", dev: "eth1" } } } } })
      const r = yield* Effect.either(Effect.flatMap(NetworkApplier.NetworkApplier, (a) => a.lastApplied("zone-1")).pipe(Effect.provide(bad)))
      expect(r).toMatchObject({ _tag: "Left", left: { _tag: "NetworkConfigError", field: "zones.zone-1.head.publicInterface" } })
    }))
})

describeNet("the local runner in a network namespace", () => {
  it("runs inside the namespace", async () => {
    const lab = await Lab.create()
    try {
      const ns = await lab.addNamespace("runner")
      const r = await Effect.runPromise(Runner.local({ netns: ns }).run(["ip", "-o", "link", "show"]))
      expect(r.code).toBe(0)
      // A fresh namespace has only its loopback.
      expect(r.stdout.trim().split("\n").map((l) => l.split(":")[1]!.trim())).toEqual(["lo"])
    } finally {
      await lab.destroy()
    }
  })
})
