/**
 * The instance state machine is the one place transitions are allowed: evolve consults
 * Lifecycle.transitions for every lifecycle event, applies exactly the allowed ones and refuses the
 * rest (a defect in the decider), and that table agrees with the actions' `Lifecycle.next`.
 */
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Decide from "../../src/model/Decide.js"
import type * as Events from "../../src/model/Events.js"
import { evolve } from "../../src/model/Evolve.js"
import type * as Ids from "../../src/model/Ids.js"
import * as Lifecycle from "../../src/model/Lifecycle.js"
import * as Policy from "../../src/model/Policy.js"
import * as State from "../../src/model/State.js"
import { alice, at, launchedIds, make, runCmd, topology, type TestCloud } from "../support/cloud.js"

const states = Lifecycle.InstanceState.literals
const events = Object.keys(Lifecycle.transitions) as Array<Lifecycle.TransitionEvent>
const actions: ReadonlyArray<Lifecycle.Action> = ["boot", "reboot", "terminate", "stopped", "fail", "stop", "halted", "start"]

/** A cloud with one EBS-backed instance brought to `target` by the decider's own commands. */
const instanceIn = (target: Lifecycle.InstanceState): { readonly c: TestCloud; readonly id: Ids.InstanceId } => {
  const c = make(Policy.greedy(), topology([[8, 8192, 100], [8, 8192, 100]]))
  const id = launchedIds(c.ok(runCmd({ ebsRoot: "/dev/sda1", blockDevices: [{ device: "/dev/sda1", sizeGiB: 5, deleteOnTermination: true }] })))[0]! as Ids.InstanceId
  const step = (to: Lifecycle.InstanceState) => {
    if (State.instance(c.state, id)!.state === to) return
    throw new Error(`could not bring ${id} to ${to}`)
  }
  const path: Record<Lifecycle.InstanceState, ReadonlyArray<Lifecycle.InstanceState>> = {
    pending: ["pending"],
    running: ["pending", "running"],
    "shutting-down": ["pending", "running", "shutting-down"],
    terminated: ["pending", "running", "shutting-down", "terminated"],
    stopping: ["pending", "running", "stopping"],
    stopped: ["pending", "running", "stopping", "stopped"]
  }
  for (const [k, to] of path[target].entries()) {
    const from = k === 0 ? undefined : path[target][k - 1]
    if (to === "running") c.ok({ _tag: "InstanceBooted", at: at(k), instanceId: id })
    if (to === "shutting-down") c.ok({ _tag: "TerminateInstances", at: at(k), account: alice, instanceIds: [id] })
    if (to === "stopping") c.ok({ _tag: "StopInstances", at: at(k), account: alice, instanceIds: [id] })
    if ((to === "terminated" && from === "shutting-down") || to === "stopped") c.ok({ _tag: "InstanceStopped", at: at(k), instanceId: id })
    step(to)
  }
  return { c, id }
}

/** The event `tag` about instance `id` of state `s`. */
const eventOf = (s: State.State, id: Ids.InstanceId, tag: Lifecycle.TransitionEvent): Events.Event => {
  const i = State.instance(s, id)!
  const reason = Decide.USER_SHUTDOWN
  switch (tag) {
    case "InstanceBooted":
    case "InstanceRebootRequested":
    case "InstanceStopCompleted":
      return { _tag: tag, at: at(100), instance: id }
    case "InstancesTerminating":
    case "InstancesStopping":
      return { _tag: tag, at: at(100), instances: [id], reason }
    case "InstanceTerminated":
      return { _tag: tag, at: at(100), instance: id, reason }
    case "InstanceStarting":
      return { _tag: tag, at: at(100), instance: id, node: i.node, woken: [], policyState: s.policyState[i.zone] }
  }
}

describe("instance transitions", () => {
  it("evolve applies every allowed transition of the table, and the instance is then in the table's state", () => {
    let applied = 0
    for (const event of events) {
      for (const [from, to] of Object.entries(Lifecycle.transitions[event]) as Array<[Lifecycle.InstanceState, Lifecycle.InstanceState]>) {
        const { c, id } = instanceIn(from)
        const after = evolve(c.state, eventOf(c.state, id, event))
        expect([event, from, State.instance(after, id)!.state]).toEqual([event, from, to])
        applied++
      }
    }
    // Boot, reboot, 3 terminating, 5 terminated, stopping, stop completed, starting.
    expect(applied).toBe(13)
  })

  it("evolve refuses every other (event, state) pair with a TransitionDefect", () => {
    let refused = 0
    for (const event of events) {
      for (const from of states) {
        if (Lifecycle.after(from, event) !== undefined) continue
        const { c, id } = instanceIn(from)
        const e = eventOf(c.state, id, event)
        expect(() => evolve(c.state, e), `${event} from ${from}`).toThrow(Lifecycle.TransitionDefect)
        refused++
      }
    }
    expect(refused).toBe(events.length * states.length - 13)
  })

  it("a refused event names the instance, its state and the event: a terminated instance is not terminated twice", () => {
    const { c, id } = instanceIn("terminated")
    const before = c.state
    let thrown: unknown
    try {
      evolve(before, { _tag: "InstanceTerminated", at: at(9), instance: id, reason: Decide.USER_SHUTDOWN })
    } catch (e) {
      thrown = e
    }
    expect(thrown).toBeInstanceOf(Lifecycle.TransitionDefect)
    expect(thrown).toMatchObject({ instance: id, from: "terminated", event: "InstanceTerminated" })
    expect((thrown as Error).message).toBe(`InstanceTerminated does not apply to ${id}, which is terminated: not an allowed instance transition`)
  })

  it("the decider never asks for a refused one: late or repeated observations decide nothing", () => {
    const { c, id } = instanceIn("terminated")
    expect(c.ok({ _tag: "InstanceBooted", at: at(10), instanceId: id })).toEqual([])
    expect(c.ok({ _tag: "InstanceFailed", at: at(11), instanceId: id, reason: "late" })).toEqual([])
    expect(c.ok({ _tag: "InstanceStopped", at: at(12), instanceId: id })).toEqual([])
    const running = instanceIn("running")
    expect(running.c.ok({ _tag: "InstanceBooted", at: at(10), instanceId: running.id })).toEqual([])
    expect(running.c.ok({ _tag: "InstanceFailed", at: at(11), instanceId: running.id, reason: "crashed" }).map((e) => e._tag)).toEqual(["InstanceTerminated"])
    expect(State.instance(running.c.state, running.id)!.state).toBe("terminated")
  })

  it("every event transition is one of the actions' (Lifecycle.next), and every action that changes a state has its event", () => {
    for (const event of events) {
      for (const [from, to] of Object.entries(Lifecycle.transitions[event]) as Array<[Lifecycle.InstanceState, Lifecycle.InstanceState]>) {
        const by = actions.filter((a) => {
          const n = Lifecycle.next(from, a)
          return Either.isRight(n) && n.right === to
        })
        expect(by.length, `${event}: ${from} → ${to}`).toBeGreaterThan(0)
      }
    }
    for (const from of states) {
      for (const a of actions) {
        const n = Lifecycle.next(from, a)
        if (Either.isLeft(n) || (n.right === from && a !== "reboot")) continue
        expect(events.some((e) => Lifecycle.after(from, e) === n.right), `${a}: ${from} → ${n.right}`).toBe(true)
      }
    }
  })

  it("a launched instance starts pending", () => {
    const { c, id } = instanceIn("pending")
    expect(Lifecycle.initial).toBe("pending")
    expect(State.instance(c.state, id)!.state).toBe(Lifecycle.initial)
  })
})
