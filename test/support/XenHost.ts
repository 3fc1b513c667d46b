/**
 * A real Xen 4.17 host for tests: the dom0 image of scripts/xen-host/build.sh (built once, cached
 * by content) booted under qemu-system-x86_64, dom0's sshd forwarded to 127.0.0.1:<port>.
 *
 * - `build()` runs the build script and reads its manifest; `canBuild()` says why it cannot run here.
 * - `boot()` starts QEMU and waits until dom0's sshd answers (with the image's pinned host key) and
 *   `xl info` works. Acceleration: `EUCA_XEN_ACCEL=kvm|tcg` forces one; otherwise KVM is tried first
 *   and kept only if dom0's /init prints its first line within `kvmProbeMs`, else QEMU is restarted
 *   with TCG (KVM under QEMU 7.2 on these machines aborts or hangs in early boot: see
 *   ../shared/reference/real-hypervisors.md). Under TCG a boot takes about a minute.
 * - `pause()`/`resume()`: the QEMU monitor's `stop`/`cont` (the whole machine stops answering, as a
 *   node that hangs). `stop()` kills QEMU by its pid and removes the run directory.
 *
 * One booted host is meant to be shared by the tests of a file (vitest `beforeAll`).
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

/** The checkout (also when this file runs compiled from dist/test/support). */
const root = (() => {
  let d = Path.dirname(fileURLToPath(import.meta.url))
  while (!Fs.existsSync(Path.join(d, "scripts", "xen-host", "build.sh")) && Path.dirname(d) !== d) d = Path.dirname(d)
  return d
})()
export const BUILD_SCRIPT = Path.join(root, "scripts", "xen-host", "build.sh")
export const QEMU = "/usr/bin/qemu-system-x86_64"

export interface XenHostImage {
  readonly dir: string
  readonly xen: string
  readonly kernel: string
  readonly initrd: string
  readonly xenCmdline: string
  readonly kernelCmdline: string
  readonly user: string
  /** The login user's private key (generated per build). */
  readonly privateKeyPath: string
  /** The host key of the image: `ssh-ed25519 AAAA… root@xen-dom0`. */
  readonly hostPublicKey: string
  readonly versions: Readonly<Record<string, string>>
  readonly buildSeconds: number
}

/** Why the image cannot be built or booted here (undefined: it can). */
export const canBuild = (): string | undefined => {
  const problems: Array<string> = []
  if (process.getuid?.() !== 0) problems.push("it needs root (mmdebstrap --mode=root, chroot)")
  for (const t of ["/usr/bin/mmdebstrap", "/usr/bin/cpio", QEMU, "/usr/bin/ssh", "/usr/bin/ssh-keygen"]) {
    if (!Fs.existsSync(t)) problems.push(`${t} is missing`)
  }
  return problems.length === 0 ? undefined : problems.join("; ")
}

/**
 * True when the real-Xen tests can run; otherwise they skip with the reason printed, except under
 * CI=true where a missing prerequisite fails the run.
 */
export const xenOrSkip = (what: string): boolean => {
  const why = canBuild()
  if (why === undefined) return true
  const message = `${what} skipped: ${why}`
  if (process.env["CI"] === "true") throw new Error(message)
  console.warn(message)
  return false
}

/** Runs the build script (a cached build returns in about a second). */
export const build = async (): Promise<XenHostImage> => {
  const t0 = Date.now()
  const { stdout, stderr, code } = await new Promise<{ stdout: string; stderr: string; code: number | null }>((resolve) => {
    const p = ChildProcess.spawn("bash", [BUILD_SCRIPT], { stdio: ["ignore", "pipe", "pipe"] })
    let out = ""
    let err = ""
    p.stdout.setEncoding("utf8").on("data", (d: string) => (out += d))
    p.stderr.setEncoding("utf8").on("data", (d: string) => (err += d))
    p.on("close", (c) => resolve({ stdout: out, stderr: err, code: c }))
  })
  if (code !== 0) throw new Error(`${BUILD_SCRIPT} failed (exit ${code}):\n${stderr.slice(-4000)}`)
  const dir = stdout.trim().split("\n").pop()!.trim()
  const m = JSON.parse(Fs.readFileSync(Path.join(dir, "manifest.json"), "utf8")) as {
    xen: string; kernel: string; initrd: string; user: string; key: string; hostKey: string
    xenCmdline: string; kernelCmdline: string; versions: Record<string, string>; buildSeconds: number
  }
  const hostPublicKey = Fs.readFileSync(Path.join(dir, m.hostKey), "utf8").trim()
  if (process.env["EUCA_XEN_VERBOSE"]) console.log(`xen host image ${dir} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return {
    dir,
    xen: Path.join(dir, m.xen),
    kernel: Path.join(dir, m.kernel),
    initrd: Path.join(dir, m.initrd),
    xenCmdline: m.xenCmdline,
    kernelCmdline: m.kernelCmdline,
    user: m.user,
    privateKeyPath: Path.join(dir, m.key),
    hostPublicKey,
    versions: m.versions,
    buildSeconds: m.buildSeconds
  }
}

export interface Exec {
  readonly status: number
  readonly stdout: string
  readonly stderr: string
}

export interface XenHost {
  readonly image: XenHostImage
  readonly host: "127.0.0.1"
  /** dom0's sshd, forwarded. */
  readonly port: number
  readonly user: string
  readonly privateKeyPath: string
  /** The pinned known_hosts line for 127.0.0.1:<port>. */
  readonly knownHostsLine: string
  readonly accel: "kvm" | "tcg"
  /** From QEMU's start to dom0's sshd answering and `xl info` working. */
  readonly bootSeconds: number
  /** The serial console so far (Xen's and dom0's messages). */
  readonly serial: () => string
  /** A command on dom0 as the login user, through the OpenSSH client with the pinned host key. */
  readonly ssh: (command: string, timeoutMs?: number) => Promise<Exec>
  /** Copies a local file to dom0 (scp, as the login user). */
  readonly upload: (local: string, remote: string) => Promise<void>
  /** `sudo -n xl …` on dom0 (120 s timeout; `xlWithin` for longer ones such as create). */
  readonly xl: (...args: ReadonlyArray<string>) => Promise<Exec>
  readonly xlWithin: (timeoutMs: number, ...args: ReadonlyArray<string>) => Promise<Exec>
  /** The QEMU monitor's `stop`: the machine freezes (TCP connections stay open, nothing answers). */
  readonly pause: () => Promise<void>
  readonly resume: () => Promise<void>
  readonly stop: () => Promise<void>
}

export interface BootOptions {
  /** Guest RAM of the QEMU machine in MiB (default 2048; dom0 has 1024 of it). */
  readonly memoryMiB?: number
  readonly cpus?: number
  /** How long to wait for sshd (default 240 s). */
  readonly readyMs?: number
  readonly kvmProbeMs?: number
  /** More `hostfwd=` entries for the user-mode network, e.g. `tcp:127.0.0.1:8080-10.0.2.15:80`. */
  readonly hostForwards?: ReadonlyArray<string>
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

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const live = new Set<ChildProcess.ChildProcess>()
process.once("exit", () => {
  for (const p of live) p.kill("SIGKILL")
})

interface Qemu {
  readonly proc: ChildProcess.ChildProcess
  readonly serial: () => string
  readonly exited: () => boolean
  readonly kill: () => Promise<void>
}

const startQemu = (image: XenHostImage, accel: "kvm" | "tcg", port: number, monitor: string, o: BootOptions): Qemu => {
  const fwd = [`tcp:127.0.0.1:${port}-10.0.2.15:22`, ...(o.hostForwards ?? [])].map((f) => `,hostfwd=${f}`).join("")
  const args = [
    "-accel", accel,
    // TCG's default CPU model (qemu64) is what the measured recipe used; `-cpu max` crashed dom0's early boot.
    ...(accel === "kvm" ? ["-cpu", "host"] : []),
    "-m", String(o.memoryMiB ?? 2048),
    "-smp", String(o.cpus ?? 2),
    "-display", "none",
    "-serial", "stdio",
    "-monitor", `unix:${monitor},server,nowait`,
    "-no-reboot",
    "-kernel", image.xen,
    "-append", image.xenCmdline,
    "-initrd", `${image.kernel} ${image.kernelCmdline},${image.initrd}`,
    "-netdev", `user,id=n0${fwd}`,
    "-device", "virtio-net-pci,netdev=n0,romfile="
  ]
  const proc = ChildProcess.spawn(QEMU, args, { stdio: ["ignore", "pipe", "pipe"] })
  live.add(proc)
  let out = ""
  let exited = false
  proc.stdout!.setEncoding("utf8").on("data", (d: string) => (out += d))
  proc.stderr!.setEncoding("utf8").on("data", (d: string) => (out += d))
  const gone = new Promise<void>((r) => proc.once("exit", () => {
    exited = true
    live.delete(proc)
    r()
  }))
  return {
    proc,
    serial: () => out,
    exited: () => exited,
    kill: async () => {
      if (!exited) {
        proc.kill("SIGTERM")
        const t = setTimeout(() => proc.kill("SIGKILL"), 3000)
        await gone
        clearTimeout(t)
      }
    }
  }
}

const monitorCommand = (socket: string, command: string): Promise<string> =>
  new Promise((resolve, reject) => {
    const c = Net.connect(socket)
    let buf = ""
    let sent = false
    const timer = setTimeout(() => {
      c.destroy()
      reject(new Error(`QEMU monitor: no answer to ${command}: ${buf}`))
    }, 5000)
    c.setEncoding("utf8")
    c.on("data", (d: string) => {
      buf += d
      if (!sent && buf.includes("(qemu)")) {
        sent = true
        buf = ""
        c.write(`${command}\n`)
      } else if (sent && buf.includes("(qemu)")) {
        clearTimeout(timer)
        c.end()
        resolve(buf)
      }
    })
    c.on("error", (e) => {
      clearTimeout(timer)
      reject(e)
    })
  })

const run = (cmd: string, args: ReadonlyArray<string>, timeoutMs: number): Promise<Exec> =>
  new Promise((resolve) => {
    ChildProcess.execFile(cmd, args, { encoding: "utf8", timeout: timeoutMs, maxBuffer: 32 << 20 }, (err, stdout, stderr) => {
      const status = err === null ? 0 : typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 255
      resolve({ status, stdout, stderr })
    })
  })

/** Boots the image and waits for dom0. Throws (after killing QEMU) if it does not come up. */
export const boot = async (image: XenHostImage, o: BootOptions = {}): Promise<XenHost> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-xen-host-"))
  const monitor = Path.join(dir, "monitor.sock")
  const knownHosts = Path.join(dir, "known_hosts")
  const port = await freePort()
  const knownHostsLine = `[127.0.0.1]:${port} ${image.hostPublicKey.split(/\s+/).slice(0, 2).join(" ")}`
  Fs.writeFileSync(knownHosts, `${knownHostsLine}\n`)
  // ssh refuses a private key readable by others.
  Fs.chmodSync(image.privateKeyPath, 0o600)
  const ssh = (command: string, timeoutMs = 120_000) =>
    run("/usr/bin/ssh", [
      "-i", image.privateKeyPath, "-p", String(port),
      "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", `UserKnownHostsFile=${knownHosts}`,
      "-o", "StrictHostKeyChecking=yes", "-o", "ConnectTimeout=10", "-o", "LogLevel=ERROR",
      // One multiplexed connection: a new SSH handshake costs seconds against a dom0 under TCG.
      "-o", "ControlMaster=auto", "-o", `ControlPath=${dir}/cm`, "-o", "ControlPersist=900", "-o", "ServerAliveInterval=0",
      `${image.user}@127.0.0.1`, command
    ], timeoutMs)

  const upload = async (local: string, remote: string) => {
    const r = await run("/usr/bin/scp", [
      "-q", "-i", image.privateKeyPath, "-P", String(port),
      "-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes", "-o", `UserKnownHostsFile=${knownHosts}`,
      "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR",
      local, `${image.user}@127.0.0.1:${remote}`
    ], 300_000)
    if (r.status !== 0) throw new Error(`scp ${local} → dom0:${remote} failed (exit ${r.status}): ${r.stderr}`)
  }

  const t0 = Date.now()
  const forced = process.env["EUCA_XEN_ACCEL"]
  let accel: "kvm" | "tcg" = forced === "tcg" ? "tcg" : forced === "kvm" ? "kvm" : Fs.existsSync("/dev/kvm") ? "kvm" : "tcg"
  let qemu = startQemu(image, accel, port, monitor, o)
  if (accel === "kvm" && forced !== "kvm") {
    // Keep KVM only if dom0's /init runs soon; QEMU 7.2 here may abort (MSR 0x10a) or hang.
    const end = Date.now() + (o.kvmProbeMs ?? 20_000)
    const failed = () => qemu.exited() || /KVM internal error|Hardware Dom0 crashed|failed to set MSR/.test(qemu.serial())
    while (!failed() && !qemu.serial().includes("EUCA-DOM0: mounted") && Date.now() < end) await sleep(200)
    if (!qemu.serial().includes("EUCA-DOM0: mounted")) {
      await qemu.kill()
      Fs.rmSync(monitor, { force: true })
      accel = "tcg"
      qemu = startQemu(image, accel, port, monitor, o)
    }
  }
  const q = qemu
  const stop = async () => {
    await run("/usr/bin/ssh", ["-o", `ControlPath=${dir}/cm`, "-O", "exit", "x"], 5000)
    await q.kill()
    Fs.rmSync(dir, { recursive: true, force: true })
  }
  try {
    const end = Date.now() + (o.readyMs ?? 240_000)
    for (;;) {
      if (q.exited()) throw new Error(`QEMU exited while booting Xen (${accel}):\n${q.serial().slice(-6000)}\n(QEMU exited, ${accel})`)
      if (Date.now() > end) throw new Error(`dom0 did not answer over SSH within ${o.readyMs ?? 240_000} ms (${accel}):\n${q.serial().slice(-6000)}\n(timed out, ${accel})`)
      if (q.serial().includes("EUCA-DOM0: sshd up")) {
        const r = await ssh("sudo -n /usr/sbin/xl info free_memory", 30_000)
        if (r.status === 0 && /^\d+\s*$/.test(r.stdout)) break
      }
      await sleep(1000)
    }
  } catch (e) {
    await stop()
    throw e
  }
  const bootSeconds = (Date.now() - t0) / 1000
  const quote = (a: string) => (/^[A-Za-z0-9_./:=,@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)
  return {
    image,
    host: "127.0.0.1",
    port,
    user: image.user,
    privateKeyPath: image.privateKeyPath,
    knownHostsLine,
    accel,
    bootSeconds,
    serial: q.serial,
    ssh,
    upload,
    xl: (...args) => ssh(["sudo", "-n", "/usr/sbin/xl", ...args].map(quote).join(" ")),
    xlWithin: (timeoutMs, ...args) => ssh(["sudo", "-n", "/usr/sbin/xl", ...args].map(quote).join(" "), timeoutMs),
    pause: async () => {
      await monitorCommand(monitor, "stop")
    },
    resume: async () => {
      await monitorCommand(monitor, "cont")
    },
    stop
  }
}
