import { describe, expect, it } from "@effect/vitest"
import { FastCheck as fc } from "effect"
import * as Reconcile from "../../../src/backends/xen/Reconcile.js"
import * as XlParse from "../../../src/backends/xen/XlParse.js"
import * as Units from "../../../src/model/Units.js"

const dom = (name: string | null, domid: number, letters = "-b----"): XlParse.ListEntry => ({
  name,
  domid,
  memoryMiB: 256,
  vcpus: 1,
  state: XlParse.parseState(letters)!,
  cpuSeconds: 1
})
const dom0 = dom("Domain-0", 0, "r-----")

describe("Reconcile.reconcile", () => {
  it("sorts expected instances and observed domains into buckets", () => {
    const r = Reconcile.reconcile(
      [
        { id: "i-00000001", node: "n1", state: "running" },
        { id: "i-00000002", node: "n1", state: "pending" },
        { id: "i-00000003", node: "n1", state: "running" },
        { id: "i-00000004", node: "n1", state: "pending" },
        { id: "i-00000005", node: "n1", state: "running" },
        { id: "i-00000006", node: "n1", state: "shutting-down" },
        { id: "i-00000007", node: "n1", state: "shutting-down" },
        { id: "i-00000008", node: "n2", state: "running" },
        { id: "i-00000009", node: "n1", state: "running" }
      ],
      [
        {
          node: "n1",
          domains: [
            dom0,
            dom("i-00000001", 11),
            dom("i-00000002", 12, "r-----"),
            dom("i-00000005", 15, "---sc-"),
            dom("i-00000007", 17),
            dom("i-00000009", 19, "---sr-"),
            dom("i-000000ff", 20),
            dom("i-00000008", 21),
            dom(null, 22, "--p--d"),
            dom(null, 23, "r-----")
          ]
        }
      ]
    )
    expect(r.running).toEqual([
      { id: "i-00000001", node: "n1", domid: 11, wasPending: false },
      { id: "i-00000002", node: "n1", domid: 12, wasPending: true },
      // rebooting (on_reboot="restart"): coming back, not lost
      { id: "i-00000009", node: "n1", domid: 19, wasPending: false }
    ])
    expect(r.lost).toEqual([
      { id: "i-00000003", node: "n1", reason: "domain i-00000003 is no longer on node n1" },
      { id: "i-00000005", node: "n1", reason: "the domain crashed (domain 15 on node n1, state ---sc-)" }
    ])
    expect(r.stopped).toEqual([{ id: "i-00000006", node: "n1" }])
    expect(r.stopping).toEqual([{ id: "i-00000007", node: "n1", domid: 17 }])
    expect(r.unknown).toEqual([
      { node: "n1", name: "i-000000ff", domid: 20 },
      { node: "n1", name: "i-00000008", domid: 21, expectedOn: "n2" },
      { node: "n1", name: null, domid: 23 }
    ])
  })

  it("turns the buckets into the controller's observations; unknown domains are not its business", () => {
    const expected = Reconcile.expectedOf([
      { id: "i-00000001", node: "n1", state: "pending" },
      { id: "i-00000002", node: "n1", state: "running" },
      { id: "i-00000003", node: "n1", state: "running" },
      { id: "i-00000004", node: "n1", state: "shutting-down" },
      { id: "i-00000005", node: "n1", state: "terminated" }
    ])
    expect(expected.map((e) => e.id)).toEqual(["i-00000001", "i-00000002", "i-00000003", "i-00000004"])
    const r = Reconcile.reconcile(expected, [{ node: "n1", domains: [dom0, dom("i-00000001", 3), dom("i-00000002", 4), dom("i-00000005", 5)] }])
    expect(Reconcile.commands(r, Units.ms(1000))).toEqual([
      { _tag: "InstanceBooted", at: 1000, instanceId: "i-00000001" },
      { _tag: "InstanceFailed", at: 1000, instanceId: "i-00000003", reason: "domain i-00000003 is no longer on node n1" },
      { _tag: "InstanceStopped", at: 1000, instanceId: "i-00000004" }
    ])
    expect(r.unknown).toEqual([{ node: "n1", name: "i-00000005", domid: 5 }])
  })

  it("says nothing about instances on nodes it could not observe", () => {
    const r = Reconcile.reconcile([{ id: "i-00000001", node: "n2", state: "running" }], [{ node: "n1", domains: [dom0] }])
    expect(r).toEqual({ running: [], lost: [], stopped: [], stopping: [], unknown: [] })
  })

  it("explains dead domains", () => {
    expect(Reconcile.deadReason(dom("x", 1, "---s--"))).toBe("the domain shut down")
    expect(Reconcile.deadReason(dom("x", 1, "---sw-"))).toBe("the domain's watchdog fired")
    expect(Reconcile.deadReason(dom("x", 1, "---ss-"))).toBe("the domain was suspended")
    expect(Reconcile.deadReason(dom("x", 1, "-b---d"))).toBe("the domain is dying")
    expect(Reconcile.deadReason(dom("x", 1, "--p---"))).toBeUndefined()
  })

  const letters = fc.constantFrom("r-----", "-b----", "--p---", "---s--", "---sc-", "---sr-", "---sw-", "-b---d")
  const ids = fc.constantFrom(...Array.from({ length: 8 }, (_, i) => `i-0000000${i}`))
  const nodes = fc.constantFrom("n1", "n2", "n3")

  it.prop("puts every expected instance on an observed node in at most one bucket, and loses no domain", [
    fc.uniqueArray(fc.record({ id: ids, node: nodes, state: fc.constantFrom<Reconcile.ExpectedState>("pending", "running", "shutting-down") }), { selector: (e) => e.id }),
    fc.array(fc.record({ node: nodes, domains: fc.uniqueArray(fc.record({ name: fc.option(ids, { nil: null }), letters }), { selector: (d) => d.name ?? "" }) }), { maxLength: 3 })
      .map((os) => os.filter((o, i) => os.findIndex((p) => p.node === o.node) === i))
  ], ([expected, obs]) => {
    let domid = 1
    const observed = obs.map((o) => ({ node: o.node, domains: [dom0, ...o.domains.map((d) => dom(d.name, domid++, d.letters))] }))
    const r = Reconcile.reconcile(expected, observed)
    const buckets = [...r.running, ...r.lost, ...r.stopped, ...r.stopping].map((x) => x.id)
    expect(new Set(buckets).size).toBe(buckets.length)
    for (const e of expected) {
      const o = observed.find((x) => x.node === e.node)
      if (o === undefined) expect(buckets).not.toContain(e.id)
      else if (e.state !== "pending") expect(buckets).toContain(e.id)
    }
    // Each domain is matched to its instance, reported unknown, or a nameless dying one.
    for (const o of observed) {
      for (const d of o.domains) {
        if (d.domid === 0) continue
        const matched = [...r.running, ...r.stopping].some((x) => "domid" in x && x.domid === d.domid) ||
          r.lost.some((x) => x.reason.includes(`domain ${d.domid} `))
        const unknown = r.unknown.some((u) => u.node === o.node && u.domid === d.domid)
        const expectedHere = d.name !== null && expected.some((e) => e.id === d.name && e.node === o.node)
        if (expectedHere) expect(unknown).toBe(false)
        else expect(unknown || (d.name === null && d.state.dying)).toBe(true)
        if (matched) expect(unknown).toBe(false)
      }
    }
  })
})
