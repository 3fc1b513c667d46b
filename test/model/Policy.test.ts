import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import * as ExternalPolicy from "../../src/controller/ExternalPolicy.js"
import * as Decide from "../../src/model/Decide.js"
import * as Effects from "../../src/model/Effects.js"
import { evolveAll } from "../../src/model/Evolve.js"
import * as Policy from "../../src/model/Policy.js"
import * as Resources from "../../src/model/Resources.js"
import * as State from "../../src/model/State.js"
import { alice, at, launchedIds, launchedIds as launchedIdsOf, make, placements, runCmd, topology } from "../support/cloud.js"

const threeNodes = topology([
  [4, 4096, 100],
  [4, 4096, 100],
  [4, 4096, 100]
])

describe("GREEDY", () => {
  it("fills node 1 first, then node 2, in configuration order", () => {
    const c = make(Policy.greedy(), threeNodes)
    // m1.large: 2 vCPU / 512 MiB / 10 GiB → two per node.
    const p = [1, 2, 3, 4, 5].flatMap((k) => placements(c.ok(runCmd({ at: at(k), vmType: "m1.large" }))))
    expect(p).toEqual(["z1n1", "z1n1", "z1n2", "z1n2", "z1n3"])
  })

  it("goes back to the first node with room after a termination", () => {
    const c = make(Policy.greedy(), threeNodes)
    const ids = launchedIds(c.ok(runCmd({ vmType: "m1.large", minCount: 4, maxCount: 4 })))
    c.ok({ _tag: "TerminateInstances", at: at(1), account: alice, instanceIds: [ids[0]!] })
    c.ok({ _tag: "InstanceStopped", at: at(2), instanceId: ids[0]! })
    expect(placements(c.ok(runCmd({ at: at(3), vmType: "m1.large" })))).toEqual(["z1n1"])
  })

  it("skips a node that fits on cores but not on memory (every dimension counts)", () => {
    const c = make(Policy.greedy(), topology([[8, 300, 100], [8, 4096, 100]]))
    expect(placements(c.ok(runCmd({ vmType: "c1.medium", minCount: 2, maxCount: 2 })))).toEqual(["z1n1", "z1n2"])
  })
})

describe("ROUNDROBIN", () => {
  it("rotates a cursor past the chosen node and wraps", () => {
    const c = make(Policy.roundRobin(), threeNodes)
    const p = [1, 2, 3, 4].flatMap((k) => placements(c.ok(runCmd({ at: at(k) }))))
    expect(p).toEqual(["z1n1", "z1n2", "z1n3", "z1n1"])
    expect(c.state.policyState["zone-1"]).toEqual({ cursor: 1 })
  })

  it("does not move the cursor when nothing fits", () => {
    const c = make(Policy.roundRobin(), threeNodes)
    c.ok(runCmd())
    expect(c.state.policyState["zone-1"]).toEqual({ cursor: 1 })
    const d = c.run(runCmd({ at: at(1), vmType: "c1.xlarge", minCount: 4, maxCount: 4 }))
    expect(d._tag).toBe("Rejected")
    expect(c.state.policyState["zone-1"]).toEqual({ cursor: 1 })
    // c1.xlarge needs all 4 cores: n1 has 3 left, so the cursor at n2 takes n2, then n3, then wraps past n1.
    expect(placements(c.ok(runCmd({ at: at(2), vmType: "c1.xlarge", minCount: 1, maxCount: 3 })))).toEqual(["z1n2", "z1n3"])
    expect(c.state.policyState["zone-1"]).toEqual({ cursor: 0 })
  })

  it("keeps one cursor per zone", () => {
    const c = make(Policy.roundRobin(), topology([[4, 4096, 100], [4, 4096, 100]], [[4, 4096, 100], [4, 4096, 100]]))
    c.ok(runCmd({ zone: "zone-1" }))
    c.ok(runCmd({ at: at(1), zone: "zone-2" }))
    expect(placements(c.ok(runCmd({ at: at(2), zone: "zone-2" })))).toEqual(["z2n2"])
    expect(placements(c.ok(runCmd({ at: at(3), zone: "zone-1" })))).toEqual(["z1n2"])
  })
})

describe("POWERSAVE", () => {
  const policy = Policy.powerSave({ idleThresholdMs: 300_000, wakeDelayMs: 30_000 })

  it("clamps an idle threshold below 300 s up to 300 s, as Eucalyptus did", () => {
    expect(Policy.powerSave({ idleThresholdMs: 10_000 }).power!.idleThresholdMs).toBe(300_000)
    expect(Policy.powerSave({ idleThresholdMs: 900_000 }).power!.idleThresholdMs).toBe(900_000)
  })

  it("powers idle nodes down after the threshold, not before", () => {
    const c = make(policy, threeNodes)
    c.ok(runCmd({ at: at(0) }))
    expect(c.ok({ _tag: "Tick", at: at(300_000) })).toEqual([])
    const events = c.ok({ _tag: "Tick", at: at(300_001) })
    expect(events.map((e) => (e._tag === "NodePoweredDown" ? e.node : e._tag))).toEqual(["z1n2", "z1n3"])
    expect(c.state.nodes.map((n) => n.state)).toEqual(["up", "asleep", "asleep"])
  })

  it("wakes the first asleep node that fits when no awake node does, and starts the instance once it is up", () => {
    const c = make(policy, threeNodes)
    c.ok(runCmd({ vmType: "c1.xlarge" })) // fills n1's 4 cores
    c.ok({ _tag: "Tick", at: at(400_000) })
    const before = c.state
    const events = c.ok(runCmd({ at: at(400_001), vmType: "m1.small" }))
    const launched = events.find((e) => e._tag === "InstancesLaunched")!
    expect(launched._tag === "InstancesLaunched" && launched.woken).toEqual(["z1n2"])
    const effects = events.flatMap((e) => Effects.of(before, e, evolveAll(before, [e])))
    expect(effects.map((e) => e._tag)).toEqual(["PowerUp"])
    const [id] = launchedIds(events)
    expect(State.instance(c.state, id!)).toMatchObject({ state: "pending", dispatched: false, node: "z1n2" })
    expect(c.state.nodes[1]!.state).toBe("waking")

    const waking = c.state
    const reported = c.ok({ _tag: "NodeReported", at: at(430_001), nodeId: "z1n2", capacity: Resources.make(4, 4096, 100) })
    const started = reported.flatMap((e) => Effects.of(waking, e, evolveAll(waking, [e])))
    expect(started).toMatchObject([{ _tag: "StartInstance", instance: { id, node: "z1n2" } }])
    expect(State.instance(c.state, id!)!.dispatched).toBe(true)
  })

  it("prefers an awake node over waking an asleep one", () => {
    const c = make(policy, threeNodes)
    c.ok(runCmd({ vmType: "m1.small" }))
    c.ok({ _tag: "Tick", at: at(400_000) })
    const events = c.ok(runCmd({ at: at(400_001), vmType: "m1.small" }))
    expect(placements(events)).toEqual(["z1n1"])
    expect(events.find((e) => e._tag === "InstancesLaunched")).toMatchObject({ woken: [] })
  })
})

describe("best-fit and worst-fit", () => {
  const uneven = topology([
    [4, 4096, 100],
    [4, 1024, 100],
    [4, 2048, 100]
  ])

  it("best-fit picks the node left with the least free memory", () => {
    const c = make(Policy.bestFit(), uneven)
    expect(placements(c.ok(runCmd({ vmType: "m1.large" })))).toEqual(["z1n2"])
    expect(placements(c.ok(runCmd({ at: at(1), vmType: "m1.xlarge" })))).toEqual(["z1n3"])
  })

  it("worst-fit spreads to the node with the most free memory", () => {
    const c = make(Policy.worstFit(), uneven)
    const p = [1, 2, 3].flatMap((k) => placements(c.ok(runCmd({ at: at(k), vmType: "m1.xlarge" }))))
    // m1.xlarge = 2 vCPU / 1024 MiB. n1 (4096) → 3072 MiB, 2 cores; n1 (3072) beats n3 (2048) → 2048 MiB, 0 cores;
    // n1 is out of cores, so n3 (2048).
    expect(p).toEqual(["z1n1", "z1n1", "z1n3"])
    // n2 and n3 tie at 1024 MiB; n2 has more free cores (4 against 2).
    expect(placements(c.ok(runCmd({ at: at(4), vmType: "m1.xlarge" })))).toEqual(["z1n2"])
  })
})

describe("overcommit", () => {
  it("places up to floor(capacity × ratio) per dimension", () => {
    const c = make(Policy.greedy({ cores: 2, memory: 1, disk: 1 }), topology([[2, 4096, 100]]))
    const ids = launchedIds(c.ok(runCmd({ minCount: 1, maxCount: 10 })))
    expect(ids).toHaveLength(4) // 2 cores × 2 = 4 m1.small
  })
})

describe("USER (an external program decides)", () => {
  const script = (body: string) => {
    const dir = mkdtempSync(join(tmpdir(), "euca-user-test-"))
    const path = join(dir, "place.sh")
    writeFileSync(path, `#!/bin/sh\n${body}\n`)
    chmodSync(path, 0o755)
    return { dir, path }
  }

  it("places on the node whose 1-based index the program exits with, given Eucalyptus's files and arguments", async () => {
    // Pick the last node with at least <mem> MiB free; record what we were given.
    const { dir, path } = script(`
cp "$1" "${"$(dirname $0)"}/res.seen"; cp "$2" "${"$(dirname $0)"}/inst.seen"; echo "$@" > "${"$(dirname $0)"}/args.seen"; cp "$7" "${"$(dirname $0)"}/ud.seen"
best=0
while IFS=, read -r idx ip state mem disk cores; do
  i=\${idx#idx=}; m=\${mem#availmem=}
  if [ "$m" -ge "$3" ]; then best=$((i + 1)); fi
done < "$1"
exit $best`)
    const policy = Policy.user(path)
    const c = make(policy, threeNodes)
    const decide = (answers: ReadonlyArray<number>) => Decide.decide(c.ctx, c.state, runCmd({ minCount: 2, maxCount: 2, answers }))
    const d = await Effect.runPromise(ExternalPolicy.decideEffect(decide, "hello"))
    expect(d._tag).toBe("Accepted")
    if (d._tag !== "Accepted") return
    expect(placements(d.events)).toEqual(["z1n3", "z1n3"])
    expect(readFileSync(join(dir, "res.seen"), "utf8").split("\n")[0]).toBe(
      "idx=0,ip=z1n1,state=1,availmem=4096,availdisk=100,availcores=4"
    )
    // The second call sees the first instance's placement in the resources file.
    expect(readFileSync(join(dir, "res.seen"), "utf8").split("\n")[2]).toBe(
      "idx=2,ip=z1n3,state=1,availmem=3968,availdisk=98,availcores=3"
    )
    const args = readFileSync(join(dir, "args.seen"), "utf8").trim().split(" ")
    // resfile instfile mem disk cores instId userdatafile platform
    expect(args.slice(2, 5)).toEqual(["128", "2", "1"])
    expect(args[5]).toBe(launchedIdsOf(d.events)[1])
    expect(readFileSync(join(dir, "ud.seen"), "utf8")).toBe("hello")
    expect(args[7]).toBe("linux")
  })

  it("rejects when the program exits 0, or names a node that does not fit", async () => {
    const none = script("exit 0")
    const c = make(Policy.user(none.path), threeNodes)
    const d = await Effect.runPromise(ExternalPolicy.decideEffect((answers) => Decide.decide(c.ctx, c.state, runCmd({ answers }))))
    expect(d).toMatchObject({ _tag: "Rejected", rejection: { _tag: "InsufficientCapacity", detail: expect.stringContaining("exit 0") } })

    const liar = script("exit 1")
    const small = make(Policy.user(liar.path), topology([[1, 64, 1], [4, 4096, 100]]))
    const d2 = await Effect.runPromise(ExternalPolicy.decideEffect((answers) => Decide.decide(small.ctx, small.state, runCmd({ answers }))))
    expect(d2).toMatchObject({ _tag: "Rejected", rejection: { detail: expect.stringContaining("does not fit") } })
  })

  it("treats a program that hangs past its timeout as no fit", async () => {
    const slow = script("sleep 5; exit 1")
    const answer = await Effect.runPromise(ExternalPolicy.run({ program: slow.path, timeoutMs: 200, resources: "", instances: "", args: ["128", "2", "1", "i-00000001"] }))
    expect(answer.code).toBe(0)
    expect(answer.diagnostic).toMatch(/did not answer within 200 ms/)
  })
})
