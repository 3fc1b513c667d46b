/**
 * Volumes in the simulator: each request's root volume is held in its zone's storage controller from
 * the launch until the instance is gone; a full zone rejects with StorageFull; the summary carries
 * the storage figures only when a zone has a capacity. Both engines, the same numbers.
 */
import { describe, expect, it } from "@effect/vitest"
import * as Distribution from "../../src/sim/Distribution.js"
import * as Policy from "../../src/model/Policy.js"
import type * as Topology from "../../src/model/Topology.js"
import { run, setup, topology, typed } from "./support.js"

const compile = (d: Distribution.Distribution) => {
  const s = Distribution.compile(d)
  if (s._tag === "Left") throw new Error(s.left.message)
  return s.right
}

const cloud = (storageGiB: number | undefined): Topology.Topology => {
  const t = topology([[8, 8192, 100], [8, 8192, 100]])
  return storageGiB === undefined ? t : { zones: t.zones.map((z) => ({ ...z, storageGiB: storageGiB as never })) }
}

const experiment = (storageGiB: number | undefined) =>
  setup({
    topology: cloud(storageGiB),
    policy: Policy.greedy(),
    backend: { boot: compile({ kind: "constant", seconds: 30 }), stop: compile({ kind: "constant", seconds: 2 }) },
    horizonMs: 200_000
  })

// One zone of two nodes, 100 GiB of storage. Two instances of 30 GiB at 0 s (running 100 s each), two more at 10 s: 40 GiB are left.
const requests = [
  { ...typed(0, 100, "m1.small", 2), rootVolumeGiB: 30 },
  { ...typed(10, 100, "m1.small", 2), rootVolumeGiB: 30 },
  typed(20, 100, "m1.small", 1)
]

describe("storage in the simulator", () => {
  for (const engine of ["fast", "reference"] as const) {
    it(`${engine}: holds root volumes from launch to termination, rejects StorageFull, reports use and peak`, () => {
      const out = run(experiment(100), requests, { engine })
      expect(out.summary.requests).toMatchObject({ total: 3, accepted: 2, rejectedByReason: { StorageFull: 1 } })
      // Held from 0 s until gone at 0 + 30 (boot) + 100 (lifetime) + 2 (stop) = 132 s, of a 200 s run.
      expect(out.summary.storage).toEqual({ capacityGiB: 100, utilisation: (60 * 132) / (100 * 200), peakGiB: 60 })
      expect(out.log).toContain("reject")
    })
  }

  it("leaves the summary as it was without a storage capacity (volumes are then unlimited)", () => {
    const out = run(experiment(undefined), requests, { engine: "fast" })
    expect(out.summary.storage).toBeUndefined()
    expect(out.summary.requests.accepted).toBe(3)
    const plain = run(experiment(undefined), requests.map(({ rootVolumeGiB: _r, ...r }) => ({ ...r, rootVolumeGiB: undefined })), { engine: "fast" })
    expect(out.summary).toEqual(plain.summary)
    expect(out.log).toBe(plain.log)
  })
})
