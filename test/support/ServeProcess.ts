/**
 * The real `euca` command for tests: `node dist/src/cli/main.js …` (build first: `npx tsc -p .`, as
 * `npm test` does). `startServe` runs `euca serve` as its own process, waits until it answers on its
 * port, reads the admin key with `euca admin credentials --json`, and `stop()` ends it (SIGTERM, then
 * SIGKILL) — also when the test process exits without running its hooks.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import { EC2Client } from "@aws-sdk/client-ec2"

const HERE = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..", "..")
/** The checkout (also when this file runs compiled, from dist/test/support, as in bench:kvm). */
export const ROOT = Path.basename(HERE) === "dist" && Fs.existsSync(Path.join(HERE, "..", "package.json")) ? Path.dirname(HERE) : HERE
export const MAIN = Path.join(ROOT, "dist", "src", "cli", "main.js")

let warned = false

/** Throws when the compiled CLI is missing; warns (once) when sources are newer than it. */
export const checkBuilt = (): void => {
  if (!Fs.existsSync(MAIN)) throw new Error(`${MAIN} is missing: build first with \`npx tsc -p .\` (npm test does)`)
  const newer: Array<string> = []
  const walk = (dir: string) => {
    for (const e of Fs.readdirSync(dir, { withFileTypes: true })) {
      const p = Path.join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith(".ts")) {
        // tsc --incremental rewrites only what changed: compare each source with its own output.
        const out = Path.join(ROOT, "dist", Path.relative(ROOT, p)).replace(/\.ts$/, ".js")
        if (!Fs.existsSync(out) || Fs.statSync(p).mtimeMs > Fs.statSync(out).mtimeMs) newer.push(Path.relative(ROOT, p))
      }
    }
  }
  walk(Path.join(ROOT, "src"))
  if (newer.length > 0 && !warned) {
    warned = true
    console.warn(`dist/ may be stale (${newer.length} source files are newer, e.g. ${newer[0]}): run \`npx tsc -p .\``)
  }
}

export interface Euca {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `euca <args>` to completion. */
export const euca = (args: ReadonlyArray<string>): Promise<Euca> =>
  new Promise((resolve) => {
    ChildProcess.execFile(process.execPath, [MAIN, ...args], { encoding: "utf8", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0
      resolve({ code, stdout, stderr })
    })
  })

/** Runs `euca <args>` and parses its `--json` output; throws with stderr when it fails. */
export const eucaJson = async <A>(args: ReadonlyArray<string>): Promise<A> => {
  const r = await euca([...args, "--json"])
  if (r.code !== 0) throw new Error(`euca ${args.join(" ")} → exit ${r.code}: ${r.stderr.trim() || r.stdout.trim()}`)
  return JSON.parse(r.stdout) as A
}

export interface ServeOptions {
  /** Listen address; the SDK client connects to it (so it must be reachable from this process). */
  readonly host: string
  readonly port: number
  readonly dataDir: string
  readonly configPath: string
  /** The region the config names (default euca-1, the server's default). */
  readonly region?: string | undefined
  /** `--backend`, if the config's should be overridden. */
  readonly backend?: "sim" | "xen" | undefined
  /** How long to wait for the port to answer (the Xen backend polls its nodes first). */
  readonly readyMs?: number | undefined
}

export interface Serve {
  readonly url: string
  readonly region: string
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly pid: number
  /** Everything the server printed so far (stdout and stderr). */
  readonly log: () => string
  readonly client: () => EC2Client
  /** SIGTERM (a clean shutdown), SIGKILL after 5 s. Idempotent. */
  readonly stop: () => Promise<void>
}

const live = new Set<ChildProcess.ChildProcess>()
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL")
})

const canConnect = (host: string, port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = Net.connect({ host, port }, () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

/** A free TCP port on `host` (which must be a local address). */
export const freePort = (host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = Net.createServer()
    srv.once("error", reject)
    srv.listen(0, host, () => {
      const port = (srv.address() as Net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })

export const startServe = async (options: ServeOptions): Promise<Serve> => {
  checkBuilt()
  const args = ["serve", "--host", options.host, "--port", String(options.port), "--data", options.dataDir, "--config", options.configPath]
  if (options.backend !== undefined) args.push("--backend", options.backend)
  const proc = ChildProcess.spawn(process.execPath, [MAIN, ...args], { stdio: ["ignore", "pipe", "pipe"] })
  live.add(proc)
  let out = ""
  proc.stdout.setEncoding("utf8").on("data", (d: string) => (out += d))
  proc.stderr.setEncoding("utf8").on("data", (d: string) => (out += d))
  let exited = false
  const gone = new Promise<void>((r) =>
    proc.once("exit", () => {
      exited = true
      live.delete(proc)
      r()
    })
  )
  const stop = async () => {
    if (!exited) {
      proc.kill("SIGTERM")
      const t = setTimeout(() => proc.kill("SIGKILL"), 5_000)
      await gone
      clearTimeout(t)
    }
  }
  try {
    const deadline = Date.now() + (options.readyMs ?? 30_000)
    while (!(await canConnect(options.host, options.port))) {
      if (exited) throw new Error(`euca serve exited before answering on ${options.host}:${options.port}:\n${out}`)
      if (Date.now() > deadline) throw new Error(`euca serve did not answer on ${options.host}:${options.port}:\n${out}`)
      await new Promise((r) => setTimeout(r, 50))
    }
    const credentials = await eucaJson<{ accessKeyId: string; secretAccessKey: string }>(["admin", "credentials", "--data", options.dataDir])
    const region = options.region ?? "euca-1"
    const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${options.port}`
    return {
      url,
      region,
      credentials,
      pid: proc.pid!,
      log: () => out,
      client: () => new EC2Client({ endpoint: url, region, credentials, maxAttempts: 1 }),
      stop
    }
  } catch (e) {
    await stop()
    throw e
  }
}
