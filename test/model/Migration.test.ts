import { describe, expect, it } from "vitest"
import * as Migration from "../../src/model/Migration.js"

const state: Migration.State = {
  hosts: [
    { id: "h1", cpuMips: 5320, memoryMiB: 4096, bandwidthKbps: 1_000_000, up: true },
    { id: "h2", cpuMips: 3720, memoryMiB: 4096, bandwidthKbps: 1_000_000, up: true },
    { id: "h3", cpuMips: 5320, memoryMiB: 4096, bandwidthKbps: 1_000_000, up: false }
  ],
  instances: [
    { instance: "i-1", host: "h1", cpuMips: 2500, memoryMiB: 870 },
    { instance: "i-2", host: "h1", cpuMips: 2000, memoryMiB: 1740 },
    { instance: "i-3", host: "h2", cpuMips: 1000, memoryMiB: 1740 }
  ]
}

describe("MigrateInstance → MigrationStarted → MigrationFinished", () => {
  it("reserves the target at once, takes RAM / (bandwidth / 2), and frees the source at the end", () => {
    const d = Migration.decide(state, { _tag: "MigrateInstance", instance: "i-1", target: "h2", at: 300.1 })
    expect(d._tag).toBe("Accepted")
    const started = (d as { events: ReadonlyArray<Migration.MigrationEvent> }).events[0] as Migration.MigrationStarted
    expect(started).toEqual({ _tag: "MigrationStarted", instance: "i-1", source: "h1", target: "h2", at: 300.1, finishesAt: 300.1 + 13.92 })
    const during = Migration.evolve(state, started)
    expect(Migration.used(during, "h2")).toEqual({ cpuMips: 3500, memoryMiB: 2610 })
    expect(Migration.used(during, "h1")).toEqual({ cpuMips: 4500, memoryMiB: 2610 })
    // A second migration of the same instance, or one that no longer fits, is refused while it runs.
    expect(Migration.decide(during, { _tag: "MigrateInstance", instance: "i-1", target: "h1", at: 301 })).toEqual({
      _tag: "Rejected",
      reason: { _tag: "AlreadyMigrating", instance: "i-1", target: "h2" }
    })
    expect(Migration.decide(during, { _tag: "MigrateInstance", instance: "i-2", target: "h2", at: 301 })).toEqual({
      _tag: "Rejected",
      reason: { _tag: "InsufficientCapacity", host: "h2", resource: "cpu", free: 220, needed: 2000 }
    })
    const after = Migration.evolve(during, Migration.finish(started))
    expect(after.instances.find((i) => i.instance === "i-1")).toEqual({ instance: "i-1", host: "h2", cpuMips: 2500, memoryMiB: 870 })
    expect(Migration.used(after, "h1")).toEqual({ cpuMips: 2000, memoryMiB: 1740 })
    expect(Migration.cpuShares(1000)).toEqual({ source: 900, target: 100 })
  })

  it("refuses a move to the instance's own host, a down or unknown host, an unknown instance", () => {
    const r = (instance: string, target: string) => Migration.decide(state, { _tag: "MigrateInstance", instance, target, at: 0 })
    expect(r("i-1", "h1")).toEqual({ _tag: "Rejected", reason: { _tag: "SameHost", instance: "i-1", host: "h1" } })
    expect(r("i-1", "h3")).toEqual({ _tag: "Rejected", reason: { _tag: "TargetDown", host: "h3" } })
    expect(r("i-1", "h9")).toEqual({ _tag: "Rejected", reason: { _tag: "UnknownHost", host: "h9" } })
    expect(r("i-9", "h2")).toEqual({ _tag: "Rejected", reason: { _tag: "UnknownInstance", instance: "i-9" } })
  })
})
