/**
 * Network namespaces for tests: made under a prefix unique to this process, processes started in
 * them tracked, and everything removed at the end (listeners killed, then whatever still runs in
 * each namespace by `ip netns pids`, then `ip netns del`, which takes its veths, bridges and VXLANs).
 * Namespaces left by an earlier test process that died are removed on start.
 */
import { describe, it } from "@effect/vitest"
import { type ChildProcess, execFile, spawn } from "node:child_process"

export const isRoot = process.getuid?.() === 0
export const inCI = process.env.CI === "true"
/** Why namespace tests cannot run here, or undefined when they can. */
export const cannotRun = isRoot ? undefined : "needs root (network namespaces, iptables); run as root or in CI"

/**
 * A describe block of namespace tests: runs as root; skipped with the reason when not root; failing
 * under CI=true, where skipping would hide that the network policy went untested.
 */
export const describeNet = (name: string, body: () => void): void => {
  if (cannotRun === undefined) describe(name, body)
  else if (inCI) describe(name, () => it(`cannot run under CI: ${cannotRun}`, () => {
    throw new Error(`${name}: ${cannotRun}`)
  }))
  else describe.skip(`${name} (skipped: ${cannotRun})`, body)
}

export const TOOLS = ["ip", "iptables-restore", "iptables-save", "socat", "ping", "ss", "timeout", "bash"]

/** Fails clearly when a tool the namespace tests need is missing. */
export const checkTools = async (): Promise<void> => {
  const missing: Array<string> = []
  for (const t of TOOLS) if ((await run(["sh", "-c", `command -v ${t}`])).code !== 0) missing.push(t)
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(", ")}: apt-get -o DPkg::Lock::Timeout=300 install -y --no-install-recommends iproute2 iptables socat iputils-ping`)
  }
}

export interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

export const run = (argv: ReadonlyArray<string>, stdin?: string): Promise<Run> =>
  new Promise((resolve) => {
    const child = execFile(argv[0]!, argv.slice(1), { encoding: "utf8", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 127) : 0
      resolve({ code, stdout, stderr })
    })
    child.stdin?.on("error", () => {})
    child.stdin?.end(stdin ?? "")
  })

export const must = async (argv: ReadonlyArray<string>, stdin?: string): Promise<string> => {
  const r = await run(argv, stdin)
  if (r.code !== 0) throw new Error(`${argv.join(" ")} → exit ${r.code}: ${r.stderr.trim()}`)
  return r.stdout
}

const PREFIX_RE = /^eu-(\d+)-\d+-/
let labs = 0

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export const listNamespaces = async (): Promise<Array<string>> =>
  (await must(["ip", "netns", "list"])).split("\n").map((l) => l.split(" ")[0]!).filter((n) => n !== "")

export class Lab {
  private readonly namespaces: Array<string> = []
  private readonly children: Array<ChildProcess> = []

  private constructor(readonly prefix: string) {}

  static async create(): Promise<Lab> {
    for (const name of await listNamespaces()) {
      const m = PREFIX_RE.exec(name)
      if (m && !alive(Number(m[1]))) await removeNamespace(name)
    }
    return new Lab(`eu-${process.pid}-${++labs}`)
  }

  ns(name: string): string {
    return `${this.prefix}-${name}`
  }

  async addNamespace(name: string): Promise<string> {
    const ns = this.ns(name)
    await must(["ip", "netns", "add", ns])
    this.namespaces.push(ns)
    await must(["ip", "-n", ns, "link", "set", "lo", "up"])
    return ns
  }

  async removeNamespace(ns: string): Promise<void> {
    const i = this.namespaces.indexOf(ns)
    if (i >= 0) this.namespaces.splice(i, 1)
    await removeNamespace(ns)
  }

  /** Run in a namespace; throws with stderr when it fails. */
  x(ns: string, argv: ReadonlyArray<string>, stdin?: string): Promise<string> {
    return must(["ip", "netns", "exec", ns, ...argv], stdin)
  }

  try(ns: string, argv: ReadonlyArray<string>, stdin?: string): Promise<Run> {
    return run(["ip", "netns", "exec", ns, ...argv], stdin)
  }

  /** A long-running process in a namespace (`ip netns exec` execs it: the pid is the process's own). */
  spawn(ns: string, argv: ReadonlyArray<string>): ChildProcess {
    const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: "ignore" })
    child.on("error", () => {})
    this.children.push(child)
    return child
  }

  /** A long-running process whose output is collected; `stop` kills it and returns what it printed. */
  watch(ns: string, argv: ReadonlyArray<string>): { readonly output: () => string; readonly stop: () => Promise<string> } {
    const child = spawn("ip", ["netns", "exec", ns, ...argv], { stdio: ["ignore", "pipe", "ignore"] })
    child.on("error", () => {})
    this.children.push(child)
    let out = ""
    child.stdout.setEncoding("utf8").on("data", (d: string) => (out += d))
    const exited = new Promise((r) => child.once("close", r))
    return {
      output: () => out,
      stop: async () => {
        child.kill("SIGKILL")
        await exited
        return out
      }
    }
  }

  async destroy(): Promise<void> {
    for (const c of this.children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGKILL")
    await Promise.all(this.children.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once("exit", r)))))
    this.children.length = 0
    for (const ns of [...this.namespaces].reverse()) await removeNamespace(ns)
    this.namespaces.length = 0
  }
}

const removeNamespace = async (ns: string): Promise<void> => {
  const pids = await run(["ip", "netns", "pids", ns])
  for (const p of pids.stdout.split(/\s+/).filter((x) => x !== "")) {
    try {
      process.kill(Number(p), "SIGKILL")
    } catch {
      // already gone
    }
  }
  await run(["ip", "netns", "del", ns])
}

/** Poll until `check` holds (setup readiness, not a timing assertion). */
export const until = async (what: string, check: () => Promise<boolean>, tries = 250, everyMs = 20): Promise<void> => {
  for (let i = 0; i < tries; i++) {
    if (await check()) return
    await new Promise((r) => setTimeout(r, everyMs))
  }
  throw new Error(`gave up waiting for ${what}`)
}
