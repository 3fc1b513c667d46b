/**
 * The API benchmark: our server against moto_server (the EC2 emulator most developers use), each
 * started here as a child process on a free port, both driven by the same lean SigV4 client
 * (support/Ec2Http.ts). Per server:
 *   - 100 instances put in (100 single-instance RunInstances);
 *   - DescribeInstances (all 100) requests/s, sequential and with 8 concurrent clients;
 *   - RunInstances latency p50/p99 over single-instance launches (each terminated right after, untimed);
 *   - peak RSS (VmHWM of the server process and its children, from /proc).
 * Prints a table and our/moto ratios; with --json, `{ours, moto, accountSize, launchProfile}`.
 *
 * Then, ours only, the account-size section (issue 17: a request must not cost more in a bigger
 * account): two servers on a cloud roomy enough for 10,000 instances, one with 100 instances in the
 * account and one with 10,000 (put in with 1,000-instance RunInstances, one security group per
 * thousand, private addressing, a Name tag each); p50 latency and server CPU per request of
 * RunInstances (without and with a tag), a ClientToken re-send and DescribeInstances of one
 * instance, the two servers asked in turn (so that the machine's other load weighs on both alike),
 * and the ratio.
 *
 * Last, where a launch's server time goes (auth, parse, decide, journal, serialise…): a CPU profile
 * (node --cpu-prof) of our server over `--runs` launches, each sample given to the innermost of our
 * modules on its stack.
 *
 *   npm run bench:api [-- --json] [-- --seconds 5] [-- --runs 200] [-- --ours-only] [-- --no-account-size] [-- --no-launch-profile]
 *
 * Our server runs `node dist/src/cli/main.js serve` over a simulated cloud sized so that every
 * launch fits (two zones of eight 32-core nodes, a /24 of public addresses; instances boot and stop
 * in 200 ms), with a temporary data directory that is removed at the end. EUCA_BENCH_NODE_ARGS
 * passes node flags to it (e.g. "--cpu-prof --cpu-prof-dir=DIR" to profile it).
 */
import { type ChildProcess, execFile, spawn } from "node:child_process"
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as Http from "node:http"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { promisify } from "node:util"
import { all, Client, type Endpoint } from "./support/Ec2Http.js"

interface Figures {
  readonly describeInstancesPerSecond: number
  readonly describeInstancesPerSecond8: number
  readonly runInstancesP50Ms: number
  readonly runInstancesP99Ms: number
  readonly peakRssMiB: number
}

interface Server {
  readonly name: string
  readonly endpoint: Endpoint
  readonly pid: number
  readonly imageId: string
  readonly instanceType: string
  readonly stop: () => Promise<void>
}

const args = process.argv.slice(2)
const option = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  return i >= 0 ? Number(args[i + 1]) : fallback
}
const json = args.includes("--json")
const oursOnly = args.includes("--ours-only")
const seconds = option("--seconds", 5)
const runs = option("--runs", 200)
const accountSize = !args.includes("--no-account-size")
const launchProfile = !args.includes("--no-launch-profile")
const INSTANCES = 100
const ACCOUNT_SIZES = [100, 10_000] as const
const log = (s: string) => {
  if (!json) process.stderr.write(`${s}\n`)
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const s = Net.createServer()
    s.once("error", reject)
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as Net.AddressInfo).port
      s.close(() => resolve(port))
    })
  })

/** Waits until anything answers HTTP at `url` (or the child dies, or the time runs out). */
const waitUntilAnswers = async (url: string, child: ChildProcess, what: string, timeoutMs = 60_000) => {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${what} exited with status ${child.exitCode} before answering`)
    const answered = await new Promise<boolean>((resolve) => {
      const req = Http.get(url, { agent: false }, (res) => {
        res.resume()
        resolve(true)
      })
      req.on("error", () => resolve(false))
      req.setTimeout(1000, () => {
        req.destroy()
        resolve(false)
      })
    })
    if (answered) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`${what} did not answer at ${url} within ${timeoutMs / 1000} s`)
}

/** VmHWM (peak resident set) of a process and all its descendants, MiB. */
const peakRssMiB = (pid: number): number => {
  const parents = new Map<number, number>()
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8")
      parents.set(Number(d), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]))
    } catch {
      // the process ended meanwhile
    }
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) for (const [p, pp] of parents) if (pp === tree[i]) tree.push(p)
  let kb = 0
  for (const p of tree) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${p}/status`, "utf8"))
      kb += Number(m?.[1] ?? 0)
    } catch {
      // ended
    }
  }
  return kb / 1024
}

const stopChild = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000)
    child.once("exit", () => {
      clearTimeout(timer)
      resolve()
    })
    child.kill("SIGTERM")
  })

/** Our server's cloud: two zones of eight nodes of `cores` cores (32: the main section; more for 10,000 instances). */
const ourConfig = (cores: number) => ({
  region: "bench-1",
  cloud: {
    zones: [
      { name: "bench-1a", nodes: [{ prefix: "a", count: 8, cores, memoryMiB: Math.max(131072, cores * 128), diskGiB: Math.max(2000, cores * 2) }] },
      { name: "bench-1b", nodes: [{ prefix: "b", count: 8, cores, memoryMiB: Math.max(131072, cores * 128), diskGiB: Math.max(2000, cores * 2) }] }
    ]
  },
  network: { mode: "MANAGED", subnet: "10.0.0.0/12", addressesPerNetwork: 1024, publicIps: ["198.18.0.0/24"] },
  backend: { kind: "sim", bootDelay: { kind: "constant", ms: 200 }, stopDelay: { kind: "constant", ms: 200 }, seed: 1 },
  tickSeconds: 10
})

const startOurs = async (config: object = ourConfig(32), extraNodeArgs: ReadonlyArray<string> = []): Promise<Server> => {
  const dir = mkdtempSync(join(tmpdir(), "euca-bench-api-"))
  const main = fileURLToPath(new URL("../src/cli/main.js", import.meta.url))
  writeFileSync(join(dir, "config.json"), JSON.stringify(config))
  const port = await freePort()
  const out = openSync(join(dir, "server.log"), "a")
  // EUCA_BENCH_NODE_ARGS: extra node flags for our server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile it.
  const nodeArgs = [...(process.env.EUCA_BENCH_NODE_ARGS ?? "").split(/\s+/).filter((a) => a !== ""), ...extraNodeArgs]
  const child = spawn(process.execPath, [...nodeArgs, main, "serve", "--host", "127.0.0.1", "--port", String(port), "--data", join(dir, "data"), "--config", join(dir, "config.json")], {
    stdio: ["ignore", out, out]
  })
  const url = `http://127.0.0.1:${port}`
  const stop = async () => {
    await stopChild(child)
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    await waitUntilAnswers(url, child, "our server")
    const { stdout } = await promisify(execFile)(process.execPath, [main, "admin", "credentials", "--data", join(dir, "data"), "--json"], { encoding: "utf8" })
    const creds = JSON.parse(stdout.trim().split("\n").pop()!) as { accessKeyId: string; secretAccessKey: string }
    const endpoint = { url, region: "bench-1", ...creds }
    const c = new Client(endpoint)
    const images = await c.ok("DescribeImages", [["Owner.1", "eucalyptus"], ["Filter.1.Name", "image-type"], ["Filter.1.Value.1", "machine"]])
    c.close()
    return { name: "ours", endpoint, pid: child.pid!, imageId: all(images, "imageId")[0]!, instanceType: "m1.small", stop }
  } catch (e) {
    await stop()
    throw new Error(`${(e as Error).message}\n${readFileSync(join(dir, "server.log"), "utf8").slice(-2000)}`)
  }
}

const startMoto = async (): Promise<Server> => {
  const port = await freePort()
  const child = spawn("moto_server", ["-H", "127.0.0.1", "-p", String(port)], { stdio: ["ignore", "ignore", "pipe"] })
  let stderr = ""
  child.stderr!.on("data", (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-4000)
  })
  const spawned = await new Promise<Error | undefined>((resolve) => {
    child.once("spawn", () => resolve(undefined))
    child.once("error", (e) => resolve(e))
  })
  if (spawned) throw new Error(`cannot start moto_server (is it on the PATH? pip install 'moto[server]'): ${spawned.message}`)
  const url = `http://127.0.0.1:${port}`
  try {
    await waitUntilAnswers(url, child, "moto_server")
  } catch (e) {
    await stopChild(child)
    throw new Error(`${(e as Error).message}\n${stderr}`)
  }
  const endpoint = { url, region: "us-east-1", accessKeyId: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" }
  const c = new Client(endpoint)
  const images = await c.ok("DescribeImages", [["Owner.1", "amazon"]])
  c.close()
  return { name: "moto", endpoint, pid: child.pid!, imageId: all(images, "imageId")[0]!, instanceType: "m1.small", stop: () => stopChild(child) }
}

const percentile = (sorted: ReadonlyArray<number>, p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!

const measure = async (s: Server): Promise<Figures> => {
  const c = new Client(s.endpoint)
  const run = (): Promise<string> => c.ok("RunInstances", [["ImageId", s.imageId], ["InstanceType", s.instanceType], ["MinCount", "1"], ["MaxCount", "1"]])
  log(`${s.name}: launching ${INSTANCES} instances`)
  for (let k = 0; k < INSTANCES; k++) await run()
  const described = await c.ok("DescribeInstances")
  const count = all(described, "instanceId").length
  if (count !== INSTANCES) throw new Error(`${s.name}: DescribeInstances shows ${count} instances, not ${INSTANCES}`)
  for (let k = 0; k < 10; k++) await c.ok("DescribeInstances") // warm-up

  log(`${s.name}: DescribeInstances, sequential, ${seconds} s`)
  let n = 0
  let t0 = performance.now()
  while (performance.now() - t0 < seconds * 1000 || n < 3) {
    await c.ok("DescribeInstances")
    n++
  }
  const describeInstancesPerSecond = n / ((performance.now() - t0) / 1000)

  log(`${s.name}: DescribeInstances, 8 concurrent clients, ${seconds} s`)
  const clients = Array.from({ length: 8 }, () => new Client(s.endpoint))
  let n8 = 0
  t0 = performance.now()
  await Promise.all(
    clients.map(async (k) => {
      while (performance.now() - t0 < seconds * 1000) {
        await k.ok("DescribeInstances")
        n8++
      }
    })
  )
  const describeInstancesPerSecond8 = n8 / ((performance.now() - t0) / 1000)
  for (const k of clients) k.close()
  const last = await c.ok("DescribeInstances")
  if (all(last, "instanceId").length !== INSTANCES) throw new Error(`${s.name}: the instance count changed during the DescribeInstances runs`)

  log(`${s.name}: RunInstances latency over ${runs} launches`)
  const latencies: Array<number> = []
  for (let k = 0; k < runs; k++) {
    const t = performance.now()
    const body = await run()
    latencies.push(performance.now() - t)
    const id = all(body, "instanceId")[0]
    if (id === undefined) throw new Error(`${s.name}: RunInstances answered without an instance id`)
    await c.ok("TerminateInstances", [["InstanceId.1", id]])
  }
  latencies.sort((a, b) => a - b)
  c.close()
  return {
    describeInstancesPerSecond,
    describeInstancesPerSecond8,
    runInstancesP50Ms: percentile(latencies, 50),
    runInstancesP99Ms: percentile(latencies, 99),
    peakRssMiB: peakRssMiB(s.pid)
  }
}

/** CPU time (user + system) the process has used so far, ms. */
const cpuMs = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100 // utime, stime in USER_HZ (100 on Linux)
}

interface Cost {
  readonly p50Ms: number
  /** The server's CPU per request, ms. */
  readonly cpuMs: number
}

interface AtSize {
  readonly instances: number
  readonly runInstances: Cost
  readonly runInstancesTagged: Cost
  readonly clientTokenResend: Cost
  readonly describeOne: Cost
}

/** The requests measured on one server of the account-size section, and what fills its account. */
interface Sized {
  readonly server: Server
  readonly client: Client
  readonly size: number
  /** Instance ids of the filled account (DescribeInstances picks among them). */
  readonly bulk: ReadonlyArray<string>
  readonly run: () => Promise<string>
  /** A launch with a tag (TagSpecification), as Terraform and Ansible launch. */
  readonly runTagged: (k: number) => Promise<string>
  readonly resend: () => Promise<string>
  readonly describeOne: (k: number) => Promise<string>
  readonly terminate: (body: string) => Promise<string>
}

/** Waits until none of the account's instances is pending or shutting down (boots are commands too: let them pass). */
const settle = async (c: Client) => {
  for (;;) {
    const body = await c.ok("DescribeInstances", [["Filter.1.Name", "instance-state-name"], ["Filter.1.Value.1", "pending"], ["Filter.1.Value.2", "shutting-down"], ["MaxResults", "5"]])
    if (all(body, "instanceId").length === 0) return
    await new Promise((r) => setTimeout(r, 500))
  }
}

/** Puts `size` instances in the account of `s`: RunInstances of up to 1,000, a security group per thousand, private addressing. */
const filled = async (s: Server, size: number): Promise<Sized> => {
  const c = new Client(s.endpoint)
  const bulk: Array<string> = []
  for (let g = 0; bulk.length < size; g++) {
    const n = Math.min(1000, size - bulk.length)
    const group = `bulk-${g}`
    await c.ok("CreateSecurityGroup", [["GroupName", group], ["GroupDescription", "bench bulk"]])
    const body = await c.ok("RunInstances", [["ImageId", s.imageId], ["InstanceType", s.instanceType], ["MinCount", String(n)], ["MaxCount", String(n)], ["SecurityGroup.1", group], ["AddressingType", "private"], ["TagSpecification.1.ResourceType", "instance"], ["TagSpecification.1.Tag.1.Key", "Name"], ["TagSpecification.1.Tag.1.Value", group]])
    const ids = all(body, "instanceId")
    if (ids.length !== n) throw new Error(`account size: RunInstances of ${n} made ${ids.length}`)
    bulk.push(...ids)
  }
  await settle(c)
  const base: Array<readonly [string, string]> = [["ImageId", s.imageId], ["InstanceType", s.instanceType], ["MinCount", "1"], ["MaxCount", "1"]]
  const tokened = [...base, ["ClientToken", `bench-token-${size}`] as const]
  await c.ok("RunInstances", tokened)
  return {
    server: s,
    client: c,
    size,
    bulk,
    run: () => c.ok("RunInstances", base),
    runTagged: (k) => c.ok("RunInstances", [...base, ["TagSpecification.1.ResourceType", "instance"], ["TagSpecification.1.Tag.1.Key", "Name"], ["TagSpecification.1.Tag.1.Value", `launch-${k}`]]),
    resend: () => c.ok("RunInstances", tokened),
    describeOne: (k) => c.ok("DescribeInstances", [["InstanceId.1", bulk[(k * 7919) % bulk.length]!]]),
    terminate: (body) => {
      const id = all(body, "instanceId")[0]
      if (id === undefined) throw new Error("account size: RunInstances answered without an instance id")
      return c.ok("TerminateInstances", [["InstanceId.1", id]])
    }
  }
}

/**
 * `n` rounds of one request on every server in turn, so that what else the machine does weighs on
 * each size alike; `after` (untimed) follows each request. p50 latency and the server's CPU per request.
 */
const interleaved = async (servers: ReadonlyArray<Sized>, n: number, request: (x: Sized, k: number) => Promise<string>, after?: (x: Sized, body: string) => Promise<unknown>): Promise<Array<Cost>> => {
  const latencies = servers.map((): Array<number> => [])
  const cpu = servers.map(() => 0)
  for (let k = 0; k < n; k++) {
    for (const [j, x] of servers.entries()) {
      const c0 = cpuMs(x.server.pid)
      const t = performance.now()
      const body = await request(x, k)
      latencies[j]!.push(performance.now() - t)
      cpu[j]! += cpuMs(x.server.pid) - c0
      if (after) await after(x, body)
    }
  }
  return servers.map((_, j) => {
    const sorted = latencies[j]!.sort((a, b) => a - b)
    return { p50Ms: percentile(sorted, 50), cpuMs: cpu[j]! / n }
  })
}

/** The account-size section: the same three requests on a server with 100 and one with 10,000 instances in the account. */
const measureAccountSize = async (servers: ReadonlyArray<Sized>): Promise<ReadonlyArray<AtSize>> => {
  log(`ours: account sizes ${servers.map((x) => x.size).join(" and ")}: warm-up`)
  await interleaved(servers, 20, (x) => x.run(), (x, body) => x.terminate(body))
  await interleaved(servers, 20, (x) => x.resend())
  await interleaved(servers, 20, (x, k) => x.describeOne(k))
  for (const x of servers) await settle(x.client)
  log(`ours: account sizes: ${runs} of each request, the servers in turn`)
  const run = await interleaved(servers, runs, (x) => x.run(), (x, body) => x.terminate(body))
  for (const x of servers) await settle(x.client)
  const runTagged = await interleaved(servers, runs, (x, k) => x.runTagged(k), (x, body) => x.terminate(body))
  for (const x of servers) await settle(x.client)
  const resend = await interleaved(servers, runs, (x) => x.resend())
  const describe = await interleaved(servers, runs, (x, k) => x.describeOne(k))
  return servers.map((x, j) => ({ instances: x.size, runInstances: run[j]!, runInstancesTagged: runTagged[j]!, clientTokenResend: resend[j]!, describeOne: describe[j]! }))
}

const bench = async (start: () => Promise<Server>): Promise<Figures> => {
  const s = await start()
  try {
    return await measure(s)
  } finally {
    await s.stop()
  }
}

const round = (x: number, digits: number) => Number(x.toFixed(digits))
const rounded = (f: Figures): Figures => ({
  describeInstancesPerSecond: round(f.describeInstancesPerSecond, 1),
  describeInstancesPerSecond8: round(f.describeInstancesPerSecond8, 1),
  runInstancesP50Ms: round(f.runInstancesP50Ms, 2),
  runInstancesP99Ms: round(f.runInstancesP99Ms, 2),
  peakRssMiB: round(f.peakRssMiB, 1)
})

// ---------------------------------------------------------------------------------------------
// Where a launch's server time goes: a CPU profile of our server (node --cpu-prof) over `runs` launches,
// each sample given to the innermost frame of ours that it is in. SQLite's calls (the journal's
// commit with synchronous=FULL, the ClientToken and tag rows) block the thread, so they are sampled.

interface ProfileNode {
  readonly id: number
  readonly callFrame: { readonly functionName: string; readonly url: string }
  readonly children?: ReadonlyArray<number>
}
interface CpuProfile {
  readonly nodes: ReadonlyArray<ProfileNode>
  readonly startTime: number
  readonly samples: ReadonlyArray<number>
  readonly timeDeltas: ReadonlyArray<number>
}

/** What a frame is part of; undefined for frames that say nothing by themselves (Effect's runtime, node's internals). */
const category = (f: ProfileNode["callFrame"]): string | undefined => {
  const u = f.url
  if (f.functionName === "(garbage collector)") return "garbage collection"
  if (f.functionName === "(idle)") return "idle"
  if (u.includes("/src/api/protocol/Auth.") || u.includes("/src/store/Accounts.")) return "auth (SigV4, keys)"
  if (u.includes("/src/api/protocol/Query.")) return "parse (query → input)"
  if (u.includes("/src/api/protocol/Xml.")) return "serialise (output → XML)"
  if (u.includes("/src/model/")) return "decide + evolve (core)"
  if (u.includes("/src/controller/")) return "controller (effects, lock)"
  if (u.includes("better-sqlite3") || u.includes("@effect/sql") || u.includes("/src/store/")) return "journal + SQLite (commit, tokens, tags)"
  if (u.includes("/src/api/actions/") || u.includes("/src/api/Views.") || u.includes("/src/api/Handler.") || u.includes("/src/api/Vpc.") || u.includes("/src/api/protocol/")) return "handler (checks, views)"
  if (u.includes("/src/api/Server.") || u.startsWith("node:_http") || u.startsWith("node:net") || u.startsWith("node:_stream") || u.startsWith("node:internal/streams")) return "HTTP"
  if (u.includes("/src/backends/") || u.includes("/src/sim/")) return "backend (simulated boots)"
  return undefined
}

/** Milliseconds of samples per category, between `from` and `to` (µs on the monotonic clock the profile uses too). */
const attribute = (p: CpuProfile, from: number, to: number): Map<string, number> => {
  const byId = new Map(p.nodes.map((n) => [n.id, n]))
  const parent = new Map<number, number>()
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const memo = new Map<number, string>()
  const of = (id: number): string => {
    const hit = memo.get(id)
    if (hit !== undefined) return hit
    const n = byId.get(id)!
    const own = category(n.callFrame)
    const up = parent.get(id)
    const c = own ?? (up === undefined ? (n.callFrame.url.includes("node_modules/effect") ? "Effect runtime" : "other") : of(up))
    // A frame of Effect's runtime with nothing of ours above it is the runtime's own time.
    const result = c === "other" && n.callFrame.url.includes("node_modules/effect") ? "Effect runtime" : c
    memo.set(id, result)
    return result
  }
  const out = new Map<string, number>()
  let t = p.startTime
  for (let k = 0; k < p.samples.length; k++) {
    t += p.timeDeltas[k]!
    if (t < from || t > to) continue
    const next = p.timeDeltas[k + 1] ?? 0
    const c = of(p.samples[k]!)
    out.set(c, (out.get(c) ?? 0) + next / 1000)
  }
  return out
}

const benchLaunchProfile = async (): Promise<{ readonly launches: number; readonly msPerLaunch: Record<string, number> }> => {
  const dir = mkdtempSync(join(tmpdir(), "euca-bench-prof-"))
  try {
    const s = await startOurs(ourConfig(32), ["--cpu-prof", `--cpu-prof-dir=${dir}`])
    const c = new Client(s.endpoint)
    const base: Array<readonly [string, string]> = [["ImageId", s.imageId], ["InstanceType", s.instanceType], ["MinCount", "1"], ["MaxCount", "1"]]
    let from = 0
    let to = 0
    try {
      for (let k = 0; k < 20; k++) await c.ok("TerminateInstances", [["InstanceId.1", all(await c.ok("RunInstances", base), "instanceId")[0]!]])
      await settle(c)
      log(`ours: CPU profile over ${runs} launches`)
      from = Number(process.hrtime.bigint() / 1000n)
      for (let k = 0; k < runs; k++) await c.ok("RunInstances", base)
      await settle(c) // the launches' boots are part of their cost
      to = Number(process.hrtime.bigint() / 1000n)
    } finally {
      c.close()
      await s.stop()
    }
    const file = readdirSync(dir).find((f) => f.endsWith(".cpuprofile"))
    if (file === undefined) throw new Error("launch profile: the server wrote no .cpuprofile (did it exit cleanly?)")
    const ms = attribute(JSON.parse(readFileSync(join(dir, file), "utf8")) as CpuProfile, from, to)
    ms.delete("idle")
    const msPerLaunch: Record<string, number> = {}
    for (const [k, v] of [...ms].sort((a, b) => b[1] - a[1])) msPerLaunch[k] = round(v / runs, 3)
    return { launches: runs, msPerLaunch }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const printLaunchProfile = (p: { readonly launches: number; readonly msPerLaunch: Record<string, number> }) => {
  const total = Object.values(p.msPerLaunch).reduce((a, b) => a + b, 0)
  const rows = Object.entries(p.msPerLaunch).map(([k, v]) => [k, `${v.toFixed(3)} ms`, `${((100 * v) / total).toFixed(0)} %`])
  const widths = [0, 1, 2].map((i) => Math.max(...rows.map((r) => r[i]!.length)))
  // The profiler samples the main thread's stack at wall-clock intervals: a thread blocked in SQLite's fsync (or, on a busy machine, waiting for a core) is counted too.
  process.stdout.write(`\nwhere a launch's server time goes (main thread, CPU profile over ${p.launches} RunInstances and their boots; ${total.toFixed(2)} ms per launch):\n`)
  process.stdout.write(`${rows.map((r) => `  ${r[0]!.padEnd(widths[0]!)}  ${r[1]!.padStart(widths[1]!)}  ${r[2]!.padStart(widths[2]!)}`).join("\n")}\n`)
}

const roundCost = (c: Cost): Cost => ({ p50Ms: round(c.p50Ms, 3), cpuMs: round(c.cpuMs, 3) })

const benchAccountSize = async (): Promise<ReadonlyArray<AtSize>> => {
  // Room for 10,000 instances and the measured launches: 16 nodes of 800 m1.small each. One server per size.
  const started: Array<Server> = []
  const sized: Array<Sized> = []
  try {
    for (const size of ACCOUNT_SIZES) {
      const s = await startOurs(ourConfig(800))
      started.push(s)
      log(`ours: account size ${size}: putting instances in`)
      sized.push(await filled(s, size))
    }
    return (await measureAccountSize(sized)).map((a) => ({
      instances: a.instances,
      runInstances: roundCost(a.runInstances),
      runInstancesTagged: roundCost(a.runInstancesTagged),
      clientTokenResend: roundCost(a.clientTokenResend),
      describeOne: roundCost(a.describeOne)
    }))
  } finally {
    for (const x of sized) x.client.close()
    for (const s of started) await s.stop()
  }
}

const printAccountSize = (sizes: ReadonlyArray<AtSize>) => {
  const [small, big] = [sizes[0]!, sizes[sizes.length - 1]!]
  const rows: Array<[string, keyof Omit<AtSize, "instances">]> = [
    ["RunInstances", "runInstances"],
    ["RunInstances with a tag", "runInstancesTagged"],
    ["ClientToken re-send", "clientTokenResend"],
    ["DescribeInstances(one id)", "describeOne"]
  ]
  const head = ["account size", `p50 @${small.instances}`, `p50 @${big.instances}`, "ratio", `CPU/req @${small.instances}`, `CPU/req @${big.instances}`, "ratio"]
  const table = [head]
  let worst = 0
  for (const [label, key] of rows) {
    const a = small[key]
    const b = big[key]
    const ratio = b.p50Ms / a.p50Ms
    worst = Math.max(worst, Math.abs(ratio - 1))
    table.push([label, `${a.p50Ms} ms`, `${b.p50Ms} ms`, `${ratio.toFixed(2)}×`, `${a.cpuMs} ms`, `${b.cpuMs} ms`, `${(b.cpuMs / a.cpuMs).toFixed(2)}×`])
  }
  const widths = head.map((_, i) => Math.max(...table.map((r) => r[i]!.length)))
  process.stdout.write(`\n${table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n")}\n`)
  process.stdout.write(`target: the same cost (within 20 %) at ${small.instances} and ${big.instances} instances — p50 worst ${(worst * 100).toFixed(0)} % (${worst <= 0.2 ? "met" : "MISSED"})\n`)
}

const main = async () => {
  const ours = rounded(await bench(() => startOurs()))
  const moto = oursOnly ? undefined : rounded(await bench(startMoto))
  const sizes = accountSize ? await benchAccountSize() : undefined
  const profile = launchProfile ? await benchLaunchProfile() : undefined
  if (json) {
    process.stdout.write(`${JSON.stringify({ ours, ...(moto ? { moto } : {}), ...(sizes ? { accountSize: sizes } : {}), ...(profile ? { launchProfile: profile } : {}) })}\n`)
    return
  }
  const rows: Array<[string, keyof Figures, string, "higher" | "lower"]> = [
    ["DescribeInstances(100) req/s, sequential", "describeInstancesPerSecond", "", "higher"],
    ["DescribeInstances(100) req/s, 8 clients", "describeInstancesPerSecond8", "", "higher"],
    ["RunInstances p50 latency", "runInstancesP50Ms", " ms", "lower"],
    ["RunInstances p99 latency", "runInstancesP99Ms", " ms", "lower"],
    ["peak RSS", "peakRssMiB", " MiB", "lower"]
  ]
  const table = [["", "ours", ...(moto ? ["moto", "ours / moto"] : [])]]
  for (const [label, key, unit, better] of rows) {
    // The ratio says how many times better ours is (below 1: worse).
    const ratio = moto ? (better === "higher" ? ours[key] / moto[key] : moto[key] / ours[key]) : 0
    const verdict = better === "higher" ? "× the rate" : ratio >= 1 ? "× lower" : "× (higher)"
    table.push([label, `${ours[key]}${unit}`, ...(moto ? [`${moto[key]}${unit}`, `${ratio >= 1 ? ratio.toFixed(1) : (1 / ratio).toFixed(2)}${verdict}`] : [])])
  }
  const widths = table[0]!.map((_, i) => Math.max(...table.map((r) => r[i]!.length)))
  process.stdout.write(`${table.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ")).join("\n")}\n`)
  if (moto) {
    const x = ours.describeInstancesPerSecond / moto.describeInstancesPerSecond
    process.stdout.write(
      `\ntargets: DescribeInstances ≥ 100× moto — ${x.toFixed(0)}× (${x >= 100 ? "met" : "MISSED"}); RunInstances p50 < 2 ms — ${ours.runInstancesP50Ms} ms (${ours.runInstancesP50Ms < 2 ? "met" : "MISSED"})\n`
    )
  }
  if (sizes) printAccountSize(sizes)
  if (profile) printLaunchProfile(profile)
}

main().catch((e) => {
  process.stderr.write(`bench:api failed: ${(e as Error).stack ?? e}\n`)
  process.exit(1)
})
