/**
 * The property, with real packets: for random small sets of groups (two accounts), rules and
 * instances, compile → apply → probe every ordered pair on one TCP port, and the reachability
 * matrix equals what the rules mean (the oracle, computed from the state independently of the plan).
 * One cluster serves all runs, so each apply is also a diff from the previous run's random plan.
 */
import { afterAll, beforeAll, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import * as NetworkPlan from "../../src/model/NetworkPlan.js"
import * as State from "../../src/model/State.js"
import { allowed } from "../model/network/Oracle.js"
import { build, PORT, scenarioArb, ZONE } from "../model/network/Scenario.js"
import { ALLOW_SECONDS, Cluster, DENY_SECONDS, HEAD } from "./support/Cluster.js"
import { checkTools, describeNet, Lab } from "./support/Lab.js"

const RUNS = 6

describeNet("reachability matrix in namespaces equals the security groups' meaning", () => {
  let lab: Lab
  let cluster: Cluster

  beforeAll(async () => {
    await checkTools()
    lab = await Lab.create()
    cluster = await Cluster.start(lab)
  })
  afterAll(async () => {
    await lab?.destroy()
  })

  it(`${RUNS} random clouds (2–3 groups, 3–4 instances, 2–4 rules): probed == oracle for every ordered pair on tcp/${PORT}`, async () => {
    let runs = 0
    await fc.assert(
      fc.asyncProperty(scenarioArb({ minInstances: 3, maxInstances: 4, minRules: 2, maxRules: 4, portBias: 4 }), async (spec) => {
        runs++
        const b = build(spec)
        const plan = Either.getOrThrow(NetworkPlan.compile(b.cloud.state, ZONE, HEAD))
        try {
          await cluster.apply(plan)
          await cluster.attach(plan)
          const ids = State.liveInstances(b.cloud.state).map((i) => i.id)
          await Promise.all(ids.map((id) => cluster.listen(id, PORT)))
          const pairs = ids.flatMap((from) => ids.filter((to) => to !== from).map((to) => [from, to] as const))
          const want = pairs.map(([from, to]) => allowed(b.cloud.state, from, to, { protocol: "tcp", port: PORT }))
          const got = await Promise.all(pairs.map(async ([from, to], k) => {
            const ip = State.instance(b.cloud.state, to)!.net.privateIp!
            // The wait only bounds the probe: a dropped SYN never answers, however long we wait.
            const answer = await cluster.tcp(cluster.nsOf(from), ip, PORT, want[k] ? ALLOW_SECONDS : DENY_SECONDS)
            if (answer !== undefined && answer !== `${to}-${PORT}`) throw new Error(`${from} → ${to}: answered by ${answer}`)
            return answer !== undefined
          }))
          const show = (xs: ReadonlyArray<boolean>) => pairs.map(([f, t], k) => `${f}→${t}:${xs[k] ? "open" : "closed"}`)
          expect(show(got)).toEqual(show(want))
        } finally {
          for (const id of [...cluster.instances.keys()]) await cluster.detach(id)
        }
      }),
      { numRuns: RUNS, endOnFailure: true }
    )
    expect(runs).toBe(RUNS)
  }, 180_000)
})
