import * as Fs from "node:fs/promises"
import * as Path from "node:path"
import { describe, expect, it } from "@effect/vitest"
import * as Alibaba from "../../../src/sim/traces/Alibaba.js"
import { readAll, readError, sum, text, withTmp } from "./support.js"

const path = "traces/alibaba-gpu-v2023/openb_pod_list_default.csv"

/** Independent reading of the pod list: one record per pod. */
const pods = async () => {
  const [header, ...rows] = (await text("alibaba-gpu-v2023/openb_pod_list_default.csv")).trim().split("\n")
  const cols = header!.split(",")
  return rows.map((r) => Object.fromEntries(r.split(",").map((v, i) => [cols[i]!, v])) as Record<string, string>)
}

describe("Alibaba openb reader on the bundled pod list", () => {
  it("reads the 8,152 pods: scheduled ones become requests, never-scheduled ones are skipped and counted", async () => {
    const all = await pods()
    expect(all).toHaveLength(8152)
    const scheduled = all.filter((p) => p.scheduled_time !== "")
    const { requests, stats } = await readAll({ format: "alibaba", path })
    expect(stats.requests).toBe(scheduled.length)
    expect(stats.skipped).toEqual({ [Alibaba.skipReasons.unscheduled]: all.length - scheduled.length })
    expect(stats.vcpus).toBe(sum(scheduled.map((p) => Math.ceil(Number(p.cpu_milli) / 1000))))
    expect(stats.memoryMiB).toBe(sum(scheduled.map((p) => Number(p.memory_mib))))
    expect(stats.sorted).toBe(true)
    const first = scheduled[0]!
    expect(requests[0]).toEqual({
      line: 2,
      arrivalMs: Number(first.creation_time) * 1000,
      lifetimeMs: (Number(first.deletion_time) - Number(first.creation_time)) * 1000,
      size: { cores: Math.ceil(Number(first.cpu_milli) / 1000), memoryMiB: Number(first.memory_mib), diskGiB: 0 },
      vmType: undefined,
      count: 1,
      zone: undefined
    })
    const last = scheduled.at(-1)!
    expect(requests.at(-1)).toMatchObject({
      line: all.indexOf(last) + 2,
      arrivalMs: Number(last.creation_time) * 1000,
      lifetimeMs: (Number(last.deletion_time) - Number(last.creation_time)) * 1000
    })
  })

  it("options: unscheduled pods included, GPU pods skipped, rounding, lifetime from the scheduling time", async () => {
    const all = await pods()
    const included = await readAll({ format: "alibaba", path, unscheduled: "include" })
    expect(included.stats.requests).toBe(all.length)
    expect(included.stats.skipped).toEqual({})
    const noGpu = await readAll({ format: "alibaba", path, gpu: "skip" })
    const cpuOnly = all.filter((p) => p.scheduled_time !== "" && Number(p.num_gpu) === 0)
    expect(noGpu.stats.requests).toBe(cpuOnly.length)
    expect(noGpu.stats.skipped[Alibaba.skipReasons.gpu]).toBe(all.filter((p) => p.scheduled_time !== "").length - cpuOnly.length)
    const floor = await readAll({ format: "alibaba", path, cpuRounding: "floor" })
    expect(floor.stats.vcpus).toBe(sum(all.filter((p) => p.scheduled_time !== "").map((p) => Math.max(1, Math.floor(Number(p.cpu_milli) / 1000)))))
    const fromScheduled = await readAll({ format: "alibaba", path, lifetimeFrom: "scheduled" })
    expect(sum(fromScheduled.requests.map((r) => r.lifetimeMs!))).toBe(
      sum(all.filter((p) => p.scheduled_time !== "").map((p) => (Number(p.deletion_time) - Number(p.scheduled_time)) * 1000))
    )
  })
})

describe("Alibaba reader on edge cases and broken input", () => {
  const header = "name,cpu_milli,memory_mib,num_gpu,gpu_milli,gpu_spec,qos,pod_phase,creation_time,deletion_time,scheduled_time"
  const file = async (dir: string, body: string) => {
    const f = Path.join(dir, "pods.csv")
    await Fs.writeFile(f, `${header}\n${body}`)
    return f
  }

  it("a pod never deleted runs until the horizon; zero CPU and deletion before creation are skipped", async () => {
    await withTmp(async (dir) => {
      const f = await file(dir, "p0,1500,100.5,0,0,,BE,Running,10,,10\np1,0,100,0,0,,BE,Running,10,20,10\np2,1000,100,0,0,,BE,Failed,30,20,30\n")
      const { requests, stats } = await readAll({ format: "alibaba", path: f })
      expect(requests).toHaveLength(1)
      expect(requests[0]).toMatchObject({ arrivalMs: 10_000, lifetimeMs: undefined, size: { cores: 2, memoryMiB: 101 } })
      expect(stats.untilHorizon).toEqual({ [Alibaba.horizonReason]: 1 })
      expect(stats.skipped).toEqual({ [Alibaba.skipReasons.noCpu]: 1, [Alibaba.skipReasons.negative]: 1 })
    })
  })

  it("names file, line and field: missing column, non-numeric value, wrong column count", async () => {
    await withTmp(async (dir) => {
      const noCol = Path.join(dir, "x.csv")
      await Fs.writeFile(noCol, "name,cpu_milli,memory_mib\np,1,2\n")
      expect(await readError({ format: "alibaba", path: noCol })).toMatchObject({ file: noCol, line: 1, field: "creation_time" })
      const f = await file(dir, "p0,1000,100,0,0,,BE,Running,10,20,10\np1,lots,100,0,0,,BE,Running,10,20,10\n")
      const e = await readError({ format: "alibaba", path: f })
      expect(e).toMatchObject({ file: f, line: 3, field: "cpu_milli" })
      expect(e.message).toContain('"lots"')
      const g = await file(dir, "p0,1000,100\n")
      expect(await readError({ format: "alibaba", path: g })).toMatchObject({ line: 2, field: "columns" })
      const skipped = await readAll({
        format: "alibaba",
        path: await file(dir, "p0,x,y,0,0,,BE,Running,10,20,10\np1,1000,100,0,0,,BE,Running,10,20,10\n"),
        malformed: "skip"
      })
      expect(skipped.stats).toMatchObject({ requests: 1, skipped: { [Alibaba.skipReasons.malformed]: 1 } })
    })
  })
})
