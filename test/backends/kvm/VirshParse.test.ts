import * as Fs from "node:fs"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as Reconcile from "../../../src/backends/xen/Reconcile.js"
import * as VirshParse from "../../../src/backends/kvm/VirshParse.js"

const fixture = (name: string) => Fs.readFileSync(Path.join(import.meta.dirname, "fixtures", "virsh", name), "utf8")
const ok = <A>(e: Either.Either<A, VirshParse.ParseFailure>): A => {
  if (Either.isLeft(e)) throw new Error(VirshParse.formatFailure(e.left))
  return e.right
}

describe("virsh list --all", () => {
  it("reads the real outputs: empty, shut off, running, paused, mid-crash", () => {
    expect(ok(VirshParse.parseList(fixture("list-empty.txt")))).toEqual([])
    expect(ok(VirshParse.parseList(fixture("list-shutoff.txt")))).toEqual([{ id: undefined, name: "i-0123abcd", state: "shut off" }])
    expect(ok(VirshParse.parseList(fixture("list-running.txt")))).toEqual([{ id: 2, name: "i-0123abcd", state: "running" }])
    expect(ok(VirshParse.parseList(fixture("list-paused.txt")))).toEqual([{ id: 2, name: "i-0123abcd", state: "paused" }])
    expect(ok(VirshParse.parseList(fixture("list-mixed.txt")))).toEqual([
      { id: 3, name: "i-0123abcd", state: "running" },
      { id: 4, name: "i-4567ef01", state: "shut off" }
    ])
  })
  it("refuses what is not virsh list", () => {
    expect(Either.isLeft(VirshParse.parseList(""))).toBe(true)
    expect(Either.isLeft(VirshParse.parseList(fixture("nodeinfo.txt")))).toBe(true)
    const bad = VirshParse.parseList(fixture("list-running.txt").replace("running", "exploded"))
    expect(Either.isLeft(bad) && bad.left.line).toBe(3)
  })
  it("gives the shared reconcile what it needs: running alive, shut off and crashed dead, ids by name", () => {
    const ds = ok(VirshParse.parseList(fixture("list-mixed.txt"))).map(VirshParse.toReconcileEntry)
    const r = Reconcile.reconcile(
      [{ id: "i-0123abcd", node: "n1", state: "running" }, { id: "i-4567ef01", node: "n1", state: "running" }],
      [{ node: "n1", domains: ds }]
    )
    expect(r.running.map((x) => x.id)).toEqual(["i-0123abcd"])
    expect(r.lost.map((x) => x.id)).toEqual(["i-4567ef01"])
    expect(Reconcile.deadReason(VirshParse.toReconcileEntry({ id: undefined, name: "x", state: "crashed" }))).toBe("the domain crashed")
    expect(Reconcile.deadReason(VirshParse.toReconcileEntry({ id: 5, name: "x", state: "paused" }))).toBeUndefined()
    expect(Reconcile.deadReason(VirshParse.toReconcileEntry({ id: 5, name: "x", state: "in shutdown" }))).toBeUndefined()
  })
})

describe("virsh domstate --reason", () => {
  it("reads state and reason", () => {
    expect(ok(VirshParse.parseDomstate(fixture("domstate-reason-running.txt")))).toEqual({ state: "running", reason: "booted" })
    expect(ok(VirshParse.parseDomstate(fixture("domstate-reason-paused.txt")))).toEqual({ state: "paused", reason: "user" })
    expect(ok(VirshParse.parseDomstate(fixture("domstate-reason-destroyed.txt")))).toEqual({ state: "shut off", reason: "destroyed" })
    expect(ok(VirshParse.parseDomstate(fixture("domstate-reason-crashed.txt")))).toEqual({ state: "shut off", reason: "crashed" })
    expect(ok(VirshParse.parseDomstate(fixture("domstate-running.txt")))).toEqual({ state: "running", reason: undefined })
    expect(Either.isLeft(VirshParse.parseDomstate("sleeping (deeply)\n"))).toBe(true)
  })
})

describe("virsh nodeinfo / nodememstats / dominfo", () => {
  it("reads nodeinfo", () => {
    expect(ok(VirshParse.parseNodeinfo(fixture("nodeinfo.txt")))).toEqual({
      cpuModel: "x86_64", cpus: 2, mhz: 2445, sockets: 1, coresPerSocket: 2, threadsPerCore: 1, numaCells: 1, memoryKiB: 6514424
    })
    const noMem = VirshParse.parseNodeinfo(fixture("nodeinfo.txt").replace(/Memory size.*\n/, ""))
    expect(Either.isLeft(noMem) && noMem.left.message).toMatch(/Memory size/)
    expect(Either.isLeft(VirshParse.parseNodeinfo(fixture("nodeinfo.txt").replace("6514424 KiB", "6514424 MiB")))).toBe(true)
  })
  it("reads nodememstats", () => {
    expect(ok(VirshParse.parseNodememstats(fixture("nodememstats.txt")))).toEqual({ totalKiB: 24683584, freeKiB: 24049520, buffersKiB: 8316, cachedKiB: 342732 })
    expect(Either.isLeft(VirshParse.parseNodememstats("free : 12 KiB\n"))).toBe(true)
  })
  it("reads dominfo, running and shut off", () => {
    const r = ok(VirshParse.parseDominfo(fixture("dominfo-running.txt")))
    expect(r).toMatchObject({ id: 2, name: "i-0123abcd", uuid: "babe688c-c73b-48d7-8fde-ff720cedaed4", state: "running", cpus: 1, cpuSeconds: 0.7, maxMemoryKiB: 131072, persistent: true, autostart: false })
    const s = ok(VirshParse.parseDominfo(fixture("dominfo-shutoff.txt")))
    expect(s).toMatchObject({ id: undefined, state: "shut off", cpuSeconds: undefined })
  })
  it("reads qemu-img info and virsh domid", () => {
    expect(ok(VirshParse.parseImageInfo('{"virtual-size": 1048576, "format": "raw"}'))).toEqual({ format: "raw", virtualSizeBytes: 1048576 })
    expect(Either.isLeft(VirshParse.parseImageInfo('{"virtual-size": 1, "format": "vmdk"}'))).toBe(true)
    expect(ok(VirshParse.parseDomid("7\n\n"))).toBe(7)
    expect(ok(VirshParse.parseDomid("-\n"))).toBeUndefined()
  })
})

describe("classify", () => {
  it("reads the real errors", () => {
    expect(VirshParse.classify(1, fixture("domstate-nosuch.stderr"))).toBe("DomainNotFound")
    expect(VirshParse.classify(1, fixture("create-kvm-denied.stderr"))).toBe("KvmUnavailable")
    expect(VirshParse.classify(1, "error: Failed to destroy domain 'x'\nerror: Requested operation is not valid: domain is not running\n")).toBe("NotRunning")
    expect(VirshParse.classify(1, "error: operation failed: domain 'i-4567ef01' already exists with uuid ac18e684\n")).toBe("NameInUse")
    expect(VirshParse.classify(1, "error: failed to connect to the hypervisor\n")).toBe("NoHypervisor")
    expect(VirshParse.classify(127, "sh: virsh: not found\n")).toBe("CommandNotFound")
    expect(VirshParse.classify(0, "")).toBeUndefined()
    expect(VirshParse.summary(fixture("create-kvm-denied.stderr"))).toMatch(/^Failed to create domain .* \/ internal error/)
  })
})
