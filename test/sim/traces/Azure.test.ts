import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Azure from "../../../src/sim/traces/Azure.js"
import { readAll, readError, sum, text, traces, withTmp } from "./support.js"

const dev = {
  format: "azure",
  path: "traces/azure-v1/v1.dev.txt.gz",
  durations: "traces/azure-v1/v1.dev.c2100000.txt.gz"
} as const

/** Independent reading of a flavour/duration file: [t, items] per line. */
const lines = async (relative: string) =>
  (await text(relative))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [t, items] = l.split(" ")
      return [Number(t), items === undefined || items === "" ? [] : items.split(",")] as const
    })

describe("Azure v1 reader on the bundled dev split", () => {
  it("reads every VM once: instances, vCPUs and censored VMs match the files", async () => {
    const flav = await lines("azure-v1/v1.dev.txt.gz")
    const durs = await lines("azure-v1/v1.dev.c2100000.txt.gz")
    const map = new Map(
      (await text("azure-v1/flav_map.txt"))
        .trim()
        .split("\n")
        .map((l) => {
          const [size, letter] = l.split(" ")
          const [c, g] = size!.split(",").map(Number)
          return [letter!, { cores: c!, mib: Math.round(g! * 1024) }] as const
        })
    )
    const vms = flav.flatMap(([, items]) => items.filter((x) => x !== "|"))
    const censored = durs.flatMap(([, items]) => items.filter((x) => x.startsWith("C"))).length

    const perVm = await readAll({ ...dev, batches: "vm" })
    expect(perVm.stats.requests).toBe(vms.length)
    expect(perVm.stats.instances).toBe(vms.length)
    expect(perVm.stats.vcpus).toBe(sum(vms.map((f) => map.get(f)!.cores)))
    expect(perVm.stats.memoryMiB).toBe(sum(vms.map((f) => map.get(f)!.mib)))
    expect(perVm.stats.untilHorizon).toEqual({ [Azure.horizonReasons.censored]: censored })
    expect(perVm.stats.skipped).toEqual({})
    expect(perVm.stats.sorted).toBe(true)
    expect(perVm.stats.lines).toBe(flav.length)

    const batched = await readAll(dev)
    expect(batched.stats.instances).toBe(vms.length)
    expect(batched.stats.vcpus).toBe(perVm.stats.vcpus)
    expect(batched.stats.requests).toBeLessThan(vms.length)
    // Same VMs in the same order: expanding each request by its count gives the per-VM sizes back.
    expect(batched.requests.flatMap((r) => Array<number>(r.count).fill(r.size!.cores))).toEqual(perVm.requests.map((r) => r.size!.cores))
  })

  it("spreads the arrivals of a bin over the 300 s before its time stamp, in file order", async () => {
    const flav = await lines("azure-v1/v1.dev.txt.gz")
    const { requests } = await readAll({ ...dev, batches: "vm" })
    const [t0] = flav[0]!
    const firstLine = requests.filter((r) => r.line === 1)
    expect(firstLine).toHaveLength(flav[0]![1].filter((x) => x !== "|").length)
    expect(firstLine.every((r) => r.arrivalMs >= (t0 - 300) * 1000 && r.arrivalMs < t0 * 1000)).toBe(true)
    const lastT = flav.at(-1)![0]
    expect(requests.at(-1)!.arrivalMs).toBeLessThan(lastT * 1000)
    const none = await readAll({ ...dev, spread: "none", limit: 10 })
    expect(none.requests.every((r) => r.arrivalMs === t0 * 1000)).toBe(true)
  })
})

describe("Azure v1 reader semantics (hand-made files)", () => {
  // Bins: 0 = [0, 300), 1 = [300, 600), 2 = [600, 1800), 3 = [1800, …) (one step past the largest listed).
  const intervals = "0 0\n300 1\n600 2\n900 2\n1200 2\n1500 2\n"
  const flavours = "1,0.75 a\n2,3.5 g\n"
  const write = async (dir: string, flav: string, durs: string, name = "d.c3000.txt") => {
    await Fs.writeFile(Path.join(dir, "flav_map.txt"), flavours)
    await Fs.writeFile(Path.join(dir, "v1.interval_map.txt"), intervals)
    await Fs.writeFile(Path.join(dir, "f.txt"), flav)
    await Fs.writeFile(Path.join(dir, name), durs)
    return { format: "azure", path: Path.join(dir, "f.txt"), durations: Path.join(dir, name) } as const
  }

  it("groups a batch of identical VMs into one RunInstances, splits a mixed one, and maps bins to lifetimes", async () => {
    await withTmp(async (dir) => {
      const spec = await write(dir, "600 g,g,g,|,a,g,|,a,a,|\n900 a\n", "600 U1,U1,U1,|,U0,U2,|,U2,U3,|\n900 C2\n")
      const { requests, stats } = await readAll(spec)
      expect(requests.map((r) => [r.count, r.size!.cores, r.size!.memoryMiB, r.lifetimeMs])).toEqual([
        [3, 2, 3584, 450_000], // midpoint of [300, 600)
        [1, 1, 768, 150_000],
        [1, 2, 3584, 1_200_000], // midpoint of [600, 1800)
        [1, 1, 768, 1_200_000], // same flavour, different durations: one request each
        [1, 1, 768, 1_800_000], // the open last bin: its lower bound
        [1, 1, 768, undefined] // censored: runs until the horizon
      ])
      // Five requests in the first bin: midpoints of five 60 s slices of [300 s, 600 s); one in the second.
      expect(requests.map((r) => r.arrivalMs)).toEqual([330_000, 390_000, 450_000, 510_000, 570_000, 750_000])
      expect(stats.untilHorizon).toEqual({ [Azure.horizonReasons.censored]: 1 })
      expect(stats.instances).toBe(8)

      const lower = await readAll({ ...spec, lifetimePoint: "lower", censored: "censorTime" })
      expect(lower.requests.map((r) => r.lifetimeMs)).toEqual([300_000, 0, 600_000, 600_000, 1_800_000, 3_000_000 - 750_000])
      const upper = await readAll({ ...spec, lifetimePoint: "upper", batches: "vm" })
      expect(upper.requests.map((r) => r.lifetimeMs)).toEqual([600_000, 600_000, 600_000, 300_000, 1_800_000, 1_800_000, 1_800_000, undefined])
    })
  })

  it("without a duration file, every VM runs until the horizon (and says why)", async () => {
    await withTmp(async (dir) => {
      const spec = await write(dir, "300 a,|,g\n", "")
      const { requests, stats } = await readAll({ format: "azure", path: spec.path })
      expect(requests.map((r) => r.lifetimeMs)).toEqual([undefined, undefined])
      expect(stats.untilHorizon).toEqual({ [Azure.horizonReasons.noDurations]: 2 })
    })
  })

  it("names file, line and field when the two files disagree or a letter is unknown", async () => {
    await withTmp(async (dir) => {
      const mismatch = await write(dir, "300 a\n600 a\n", "300 U1\n900 U1\n")
      expect(await readError(mismatch)).toMatchObject({ file: mismatch.durations, line: 2, field: "time" })
      const shorter = await write(dir, "300 a\n600 a\n", "300 U1\n")
      expect(await readError(shorter)).toMatchObject({ file: shorter.durations, line: 2, field: "line" })
      const unknown = await write(dir, "300 a,z\n", "300 U1,U1\n")
      const e = await readError(unknown)
      expect(e).toMatchObject({ file: unknown.path, line: 1, field: "flavour" })
      expect(e.message).toContain('"z"')
      const badBin = await write(dir, "300 a\n", "300 U9\n")
      expect(await readError(badBin)).toMatchObject({ file: badBin.durations, line: 1, field: "duration" })
      const badTime = await write(dir, "3x0 a\n", "300 U1\n")
      expect(await readError(badTime)).toMatchObject({ file: badTime.path, line: 1, field: "time" })
    })
  })

  it("names the map file when a map is missing or malformed", async () => {
    await withTmp(async (dir) => {
      const spec = await write(dir, "300 a\n", "300 U1\n")
      await Fs.writeFile(Path.join(dir, "v1.interval_map.txt"), "0 0\n300 2\n")
      expect(await readError(spec)).toMatchObject({ file: Path.join(dir, "v1.interval_map.txt"), line: 2, field: "bin" })
      await Fs.rm(Path.join(dir, "flav_map.txt"))
      const e = await readError(spec)
      expect(e.file).toBe(Path.join(dir, "flav_map.txt"))
      expect(e.message).toContain("ENOENT")
    })
  })

  it("censored: censorTime needs the censoring time", async () => {
    await withTmp(async (dir) => {
      const spec = await write(dir, "300 a\n", "300 C1\n", "durations.txt")
      expect(await readError({ ...spec, censored: "censorTime" })).toMatchObject({ field: "censorTimeS" })
      const ok = await readAll({ ...spec, censored: "censorTime", censorTimeS: 1000 })
      expect(ok.requests[0]!.lifetimeMs).toBe(1_000_000 - 150_000)
    })
  })

  it("finds the maps beside the flavour file of the bundled sample", async () => {
    const { stats } = await readAll({ format: "azure", path: Path.join(traces, "azure-v1/v1.test.txt.gz"), limit: 5 })
    expect(stats.requests).toBe(5)
    expect(stats.truncated).toBe(true)
  })
})
