/**
 * A throwaway OpenSSH server on 127.0.0.1 for tests (the recipe of
 * ../shared/reference/testhosts/start-sshd.sh, run in the foreground): its own host and client keys
 * generated per run, a free port, a login user with /bin/sh (default `xltest`; root's ~/.bashrc on
 * these machines costs seconds per command), and `SetEnv PATH=<dir>/bin:… XL_STATE_DIR=<dir>/xl-state`
 * with the stand-in xl in <dir>/bin. `stop()` kills sshd by its pid and removes the directory.
 *
 * Needs root (sshd's privilege separation, useradd). Tests call `rootOrSkip()` first.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"
import Ssh2 from "ssh2"

export const SSHD = "/usr/sbin/sshd"
// Compiled into dist/test/support (bench:kvm), the script is still in the checkout's test/support.
const SUPPORT = ((here: string) => here.endsWith(`${Path.sep}dist${Path.sep}test${Path.sep}support`) ? Path.join(here, "..", "..", "..", "test", "support") : here)(Path.dirname(fileURLToPath(import.meta.url)))
export const FAKE_XL = Path.join(SUPPORT, "fake-xl", "xl")

/**
 * True when the real-sshd tests can run. Not root: false (the caller skips, with this message
 * printed), except in CI where a missing prerequisite fails the run.
 */
export const rootOrSkip = (what = "real-sshd tests"): boolean => {
  const problems: Array<string> = []
  if (process.getuid?.() !== 0) problems.push("they need root (sshd privilege separation, useradd)")
  if (!Fs.existsSync(SSHD)) problems.push(`${SSHD} is not installed (apt-get install openssh-server)`)
  if (problems.length === 0) return true
  const message = `${what} skipped: ${problems.join("; ")}`
  if (process.env["CI"] === "true") throw new Error(message)
  console.warn(message)
  return false
}

export interface SshdOptions {
  /** The login user: `xltest` (default, /bin/sh) or `root` (for the stand-in xl's network namespaces). */
  readonly user?: "xltest" | "root" | undefined
  /** Extra `SetEnv` variables. */
  readonly env?: Readonly<Record<string, string>> | undefined
}

export interface Sshd {
  readonly host: "127.0.0.1"
  readonly port: number
  readonly user: string
  readonly privateKeyPath: string
  /** The pinned known_hosts line: `[127.0.0.1]:<port> ssh-ed25519 AAAA…`. */
  readonly knownHostsLine: string
  /** The run's directory (0755); files under `remote/` belong to the login user. */
  readonly dir: string
  /** XL_STATE_DIR of the stand-in xl. */
  readonly stateDir: string
  /** Writable by the login user: use for node paths (configs, instances, cache, …). */
  readonly remoteDir: string
  readonly logPath: string
  readonly pid: number
  /** Run the stand-in xl locally against this server's state (as the login user would). */
  readonly xl: (...args: ReadonlyArray<string>) => { readonly status: number; readonly stdout: string; readonly stderr: string }
  readonly stop: () => Promise<void>
}

const run = (cmd: string, args: ReadonlyArray<string>): ChildProcess.SpawnSyncReturns<string> =>
  ChildProcess.spawnSync(cmd, args, { encoding: "utf8" })

/**
 * Create the login user once (concurrent test files race for it, hence the lock); it is left in
 * place, as the recipe does. Its home is `/`: sshd complains on stderr of every command when the
 * home directory is missing, and /bin/sh reads nothing from it.
 */
const ensureUser = (user: string): { uid: number; gid: number } => {
  if (user !== "root") {
    const r = run("flock", ["/tmp/eucalyptus-xltest-user.lock", "sh", "-c",
      `id ${user} >/dev/null 2>&1 || useradd -M -d / -s /bin/sh ${user}; usermod -p '*' ${user}`])
    if (r.status !== 0) throw new Error(`cannot create the test user ${user}: ${r.stderr}`)
  }
  const uid = Number(run("id", ["-u", user]).stdout.trim())
  const gid = Number(run("id", ["-g", user]).stdout.trim())
  return { uid, gid }
}

const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const srv = Net.createServer()
    srv.once("error", reject)
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as Net.AddressInfo).port
      srv.close(() => resolve(port))
    })
  })

const canConnect = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = Net.connect({ host: "127.0.0.1", port }, () => {
      s.destroy()
      resolve(true)
    })
    s.once("error", () => resolve(false))
  })

const live = new Set<ChildProcess.ChildProcess>()
// Last resort if a test process dies without running its hooks: no sshd outlives it.
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL")
})

const chownR = (path: string, uid: number, gid: number) => {
  Fs.chownSync(path, uid, gid)
  if (Fs.statSync(path).isDirectory()) for (const e of Fs.readdirSync(path)) chownR(Path.join(path, e), uid, gid)
}

export const startSshd = async (options: SshdOptions = {}): Promise<Sshd> => {
  const user = options.user ?? "xltest"
  const { uid, gid } = ensureUser(user)
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-sshd-"))
  try {
    Fs.chmodSync(dir, 0o755) // sshd reads authorized_keys as the target user
    const hostKeys = Ssh2.utils.generateKeyPairSync("ed25519")
    const clientKeys = Ssh2.utils.generateKeyPairSync("ed25519")
    const hostKeyPath = Path.join(dir, "host_ed25519")
    const privateKeyPath = Path.join(dir, "client_ed25519")
    Fs.writeFileSync(hostKeyPath, hostKeys.private, { mode: 0o600 })
    Fs.writeFileSync(privateKeyPath, clientKeys.private, { mode: 0o600 })
    Fs.writeFileSync(Path.join(dir, "authorized_keys"), `${clientKeys.public}\n`, { mode: 0o644 })
    const binDir = Path.join(dir, "bin")
    Fs.mkdirSync(binDir, { mode: 0o755 })
    Fs.copyFileSync(FAKE_XL, Path.join(binDir, "xl"))
    Fs.chmodSync(Path.join(binDir, "xl"), 0o755)
    const stateDir = Path.join(dir, "xl-state")
    const remoteDir = Path.join(dir, "remote")
    const home = Path.join(dir, "home")
    for (const d of [stateDir, remoteDir, home]) {
      Fs.mkdirSync(d, { mode: 0o755 })
      Fs.chownSync(d, uid, gid)
    }
    Fs.mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }) // privilege separation directory sshd insists on
    const logPath = Path.join(dir, "sshd.log")
    const env: Record<string, string> = {
      PATH: `${binDir}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`,
      XL_STATE_DIR: stateDir,
      // An empty home: no ~/.bashrc runs for a bash login shell (root's costs seconds here).
      HOME: home,
      ...options.env
    }
    const setEnv = Object.entries(env).map(([k, v]) => `${k}=${v}`).join(" ")
    for (let attempt = 1; ; attempt++) {
      const port = await freePort()
      Fs.writeFileSync(Path.join(dir, "sshd_config"), [
        "ListenAddress 127.0.0.1",
        `Port ${port}`,
        `HostKey ${hostKeyPath}`,
        `PidFile ${Path.join(dir, "sshd.pid")}`,
        `AuthorizedKeysFile ${Path.join(dir, "authorized_keys")}`,
        "PermitRootLogin prohibit-password",
        `AllowUsers ${user}`,
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "PubkeyAuthentication yes",
        "UsePAM no",
        "StrictModes no",
        "UseDNS no",
        "MaxSessions 64",
        "MaxStartups 64:30:128",
        "LogLevel ERROR",
        "Subsystem sftp internal-sftp",
        `SetEnv ${setEnv}`,
        ""
      ].join("\n"))
      const proc = ChildProcess.spawn(SSHD, ["-D", "-f", Path.join(dir, "sshd_config"), "-E", logPath], { stdio: "ignore" })
      live.add(proc)
      let exited = false
      proc.once("exit", () => {
        exited = true
        live.delete(proc)
      })
      for (let i = 0; i < 200 && !exited; i++) {
        if (await canConnect(port)) break
        await new Promise((r) => setTimeout(r, 10))
      }
      if (exited || !(await canConnect(port))) {
        proc.kill("SIGKILL")
        const log = Fs.existsSync(logPath) ? Fs.readFileSync(logPath, "utf8") : ""
        if (attempt < 3 && /Address already in use/.test(log)) continue
        throw new Error(`sshd did not start on port ${port}: ${log}`)
      }
      const knownHostsLine = `[127.0.0.1]:${port} ${hostKeys.public.split(" ").slice(0, 2).join(" ")}`
      const stop = async () => {
        if (!exited) {
          const gone = new Promise<void>((r) => proc.once("exit", () => r()))
          proc.kill("SIGTERM")
          const t = setTimeout(() => proc.kill("SIGKILL"), 2_000)
          await gone
          clearTimeout(t)
        }
        Fs.rmSync(dir, { recursive: true, force: true })
      }
      const xl = (...args: ReadonlyArray<string>) => {
        const r = ChildProcess.spawnSync(Path.join(binDir, "xl"), args, { encoding: "utf8", env: { ...process.env, XL_STATE_DIR: stateDir }, uid, gid })
        return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr }
      }
      return { host: "127.0.0.1", port, user, privateKeyPath, knownHostsLine, dir, stateDir, remoteDir, logPath, pid: proc.pid!, xl, stop }
    }
  } catch (e) {
    Fs.rmSync(dir, { recursive: true, force: true })
    throw e
  }
}

/** Make `path` (under the run's directory) belong to the login user, recursively. */
export const giveToUser = (sshd: Sshd, path: string): void => {
  const uid = Number(run("id", ["-u", sshd.user]).stdout.trim())
  const gid = Number(run("id", ["-g", sshd.user]).stdout.trim())
  chownR(path, uid, gid)
}
