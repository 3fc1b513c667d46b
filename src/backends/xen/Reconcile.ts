/**
 * Reconciling what the controller expects with what `xl list` shows (pure; a Nomad-style
 * reconciler: it computes buckets and never acts). Domains are matched by name — the instance id —
 * never by domid, since a reboot gives a domain a new domid.
 *
 * - running: the domain is there and alive (a pending instance found running has booted);
 * - lost: an instance whose domain is gone or dead (crashed, shut down) — it becomes a failure with
 *   the reason given, and its capacity is released;
 * - stopped: a shutting-down instance whose domain is gone — its stop is complete;
 * - stopping: a shutting-down instance whose domain is still there (the destroy may be re-sent);
 * - unknown: a domain nobody expects on that node — reported, never killed.
 *
 * A node that could not be observed (absent from `observed`) says nothing: its instances are in
 * none of the buckets (losing a node is NodeLost's business, not this one's).
 */
import type * as Commands from "../../model/Commands.js"
import type * as Lifecycle from "../../model/Lifecycle.js"
import type * as Units from "../../model/Units.js"
import type * as XlParse from "./XlParse.js"

export type ExpectedState = "pending" | "running" | "shutting-down"

export interface Expected {
  readonly id: string
  readonly node: string
  readonly state: ExpectedState
}

export interface Observed {
  readonly node: string
  readonly domains: ReadonlyArray<XlParse.ListEntry>
}

export interface Result {
  readonly running: ReadonlyArray<{ readonly id: string; readonly node: string; readonly domid: number; readonly wasPending: boolean }>
  readonly lost: ReadonlyArray<{ readonly id: string; readonly node: string; readonly reason: string }>
  readonly stopped: ReadonlyArray<{ readonly id: string; readonly node: string }>
  readonly stopping: ReadonlyArray<{ readonly id: string; readonly node: string; readonly domid: number }>
  readonly unknown: ReadonlyArray<{ readonly node: string; readonly name: string | null; readonly domid: number; readonly expectedOn?: string | undefined }>
}

/** Why a domain that is present no longer counts as running, or undefined if it is alive. */
export const deadReason = (d: XlParse.ListEntry): string | undefined => {
  if (d.state.dying) return "the domain is dying"
  if (!d.state.shutdown) return undefined
  switch (d.state.shutdownReason) {
    case "crash":
      return "the domain crashed"
    case "watchdog":
      return "the domain's watchdog fired"
    case "poweroff":
      return "the domain shut down"
    case "reboot":
    case "soft_reset":
      // on_reboot="restart": xl re-creates it; it is coming back, not lost.
      return undefined
    case "suspend":
      return "the domain was suspended"
    case undefined:
      return "the domain shut down"
  }
}

const byId = <A extends { readonly id: string }>(a: A, b: A) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)

export const reconcile = (expected: ReadonlyArray<Expected>, observed: ReadonlyArray<Observed>): Result => {
  const running: Array<Result["running"][number]> = []
  const lost: Array<Result["lost"][number]> = []
  const stopped: Array<Result["stopped"][number]> = []
  const stopping: Array<Result["stopping"][number]> = []
  const unknown: Array<Result["unknown"][number]> = []

  const expectedById = new Map(expected.map((e) => [e.id, e]))
  const seen = new Map<string, Map<string, XlParse.ListEntry>>() // node → name → domain
  for (const o of observed) {
    const names = new Map<string, XlParse.ListEntry>()
    for (const d of o.domains) {
      if (d.domid === 0) continue // dom0
      const e = d.name === null ? undefined : expectedById.get(d.name)
      if (d.name !== null && e !== undefined && e.node === o.node) {
        // Two domains of one name cannot exist on one host; keep the first if a parser ever sees it.
        if (!names.has(d.name)) names.set(d.name, d)
        continue
      }
      // A dying domain without a name is on its way out; nothing to report.
      if (d.name === null && d.state.dying) continue
      unknown.push({ node: o.node, name: d.name, domid: d.domid, ...(e !== undefined ? { expectedOn: e.node } : {}) })
    }
    seen.set(o.node, names)
  }

  for (const e of [...expected].sort(byId)) {
    const names = seen.get(e.node)
    if (names === undefined) continue // node not observed
    const d = names.get(e.id)
    if (e.state === "shutting-down") {
      if (d === undefined) stopped.push({ id: e.id, node: e.node })
      else stopping.push({ id: e.id, node: e.node, domid: d.domid })
      continue
    }
    if (d === undefined) {
      // A pending instance may still be starting (staging its image): its start reports its own failure.
      if (e.state === "running") lost.push({ id: e.id, node: e.node, reason: `domain ${e.id} is no longer on node ${e.node}` })
      continue
    }
    const dead = deadReason(d)
    if (dead !== undefined) lost.push({ id: e.id, node: e.node, reason: `${dead} (domain ${d.domid} on node ${e.node}, state ${d.state.letters})` })
    else running.push({ id: e.id, node: e.node, domid: d.domid, wasPending: e.state === "pending" })
  }
  unknown.sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : a.domid - b.domid))
  return { running, lost, stopped, stopping, unknown }
}

/** What the controller expects, from its instances (terminated and stopped ones expect nothing). */
export const expectedOf = (
  instances: Iterable<{ readonly id: string; readonly node: string; readonly state: Lifecycle.InstanceState }>
): Array<Expected> => {
  const out: Array<Expected> = []
  // A stopped (EBS) instance has no domain anywhere; a stopping one's domain is going away, like a terminating one's.
  for (const i of instances) {
    if (i.state !== "terminated" && i.state !== "stopped") out.push({ id: i.id, node: i.node, state: i.state === "stopping" ? "shutting-down" : i.state })
  }
  return out
}

/**
 * The observations to feed back to the controller: a pending instance found running has booted, a
 * lost one failed (with its reason, so its capacity is released), a stopped one is gone. Unknown
 * domains are not the controller's: they are for the log and the operator.
 */
export const commands = (r: Result, at: Units.Millis): Array<Commands.Command> => [
  ...r.running.filter((x) => x.wasPending).map((x): Commands.Command => ({ _tag: "InstanceBooted", at, instanceId: x.id })),
  ...r.lost.map((x): Commands.Command => ({ _tag: "InstanceFailed", at, instanceId: x.id, reason: x.reason })),
  ...r.stopped.map((x): Commands.Command => ({ _tag: "InstanceStopped", at, instanceId: x.id }))
]
