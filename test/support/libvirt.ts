/**
 * A throwaway libvirtd (+ virtlogd) for tests, as a KVM node runs it, without touching the machine's
 * own libvirt: it runs in a private mount namespace (`unshare -m`) with fresh tmpfs over libvirt's
 * state directories and its own qemu.conf (QEMU as root, no security driver), optionally inside a
 * network namespace (so guests' taps and bridges live there). Its socket directory is bind-mounted
 * from a host directory, so `virsh -c qemu:///system?socket=…` reaches it from anywhere.
 *
 * Needs root. `stop()` destroys every domain it still runs, then kills the daemons by process group.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"

export interface Libvirtd {
  readonly dir: string
  /** The socket of the daemon (for `-c qemu:///system?socket=…`). */
  readonly socket: string
  readonly uri: string
  /** `virsh -c <uri>` argv prefix. */
  readonly virsh: ReadonlyArray<string>
  /** Run virsh against the daemon (synchronously; for the test's own checks and faults). */
  readonly run: (...args: ReadonlyArray<string>) => { readonly status: number | null; readonly stdout: string; readonly stderr: string }
  readonly logPath: string
  readonly stop: () => Promise<void>
}

const QEMU_CONF = `# written by test/support/libvirt.ts
user = "root"
group = "root"
dynamic_ownership = 0
security_driver = "none"
`

export const canRun = (): string | undefined => {
  const problems: Array<string> = []
  if (process.getuid?.() !== 0) problems.push("needs root (mount namespaces, QEMU as root)")
  for (const b of ["/usr/sbin/libvirtd", "/usr/sbin/virtlogd", "/usr/bin/virsh", "/usr/bin/qemu-system-x86_64", "/usr/bin/qemu-img", "/usr/bin/unshare"]) {
    if (!Fs.existsSync(b)) problems.push(`${b} is missing (apt-get install libvirt-daemon-system libvirt-clients qemu-system-x86 qemu-utils)`)
  }
  return problems.length === 0 ? undefined : problems.join("; ")
}

export const startLibvirtd = async (options: { readonly netns?: string | undefined } = {}): Promise<Libvirtd> => {
  const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-libvirtd-"))
  Fs.chmodSync(dir, 0o755)
  const runDir = Path.join(dir, "run")
  Fs.mkdirSync(runDir)
  const conf = Path.join(dir, "qemu.conf")
  Fs.writeFileSync(conf, QEMU_CONF)
  const logPath = Path.join(dir, "libvirtd.log")
  const script = [
    "set -e",
    `mount --bind ${runDir} /run/libvirt`,
    "for d in /var/lib/libvirt /var/cache/libvirt /etc/libvirt/qemu /var/log/libvirt; do mount -t tmpfs tmpfs $d; done",
    `mount --bind ${conf} /etc/libvirt/qemu.conf`,
    "mkdir -p /var/lib/libvirt/qemu /var/log/libvirt/qemu /var/cache/libvirt/qemu /etc/libvirt/qemu/networks",
    "virtlogd &",
    "exec libvirtd"
  ].join("\n")
  Fs.mkdirSync("/run/libvirt", { recursive: true })
  const argv = [...(options.netns !== undefined ? ["ip", "netns", "exec", options.netns] : []), "unshare", "-m", "--propagation", "private", "sh", "-c", script]
  const out = Fs.openSync(logPath, "a")
  const child = ChildProcess.spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", out, out], detached: true })
  Fs.closeSync(out)
  const socket = Path.join(runDir, "libvirt-sock")
  const uri = `qemu:///system?socket=${socket}`
  const virsh = ["virsh", "-c", uri]
  const run = (...args: ReadonlyArray<string>) => {
    const r = ChildProcess.spawnSync("virsh", ["-c", uri, ...args], { encoding: "utf8", timeout: 60_000 })
    return { status: r.status, stdout: r.stdout, stderr: r.stderr }
  }
  const stop = async () => {
    const names = run("list", "--name").stdout.split("\n").map((s) => s.trim()).filter((s) => s !== "")
    for (const n of names) run("destroy", n)
    if (child.pid !== undefined && child.exitCode === null) {
      try {
        process.kill(-child.pid, "SIGTERM")
      } catch {
        // gone
      }
      const exited = await Promise.race([new Promise((r) => child.once("exit", () => r(true))), new Promise((r) => setTimeout(() => r(false), 5000))])
      if (!exited) {
        try {
          process.kill(-child.pid, "SIGKILL")
        } catch {
          // gone
        }
      }
    }
    Fs.rmSync(dir, { recursive: true, force: true })
  }
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break
    if (Fs.existsSync(socket) && run("version").status === 0) return { dir, socket, uri, virsh, run, logPath, stop }
    await new Promise((r) => setTimeout(r, 100))
  }
  const log = Fs.existsSync(logPath) ? Fs.readFileSync(logPath, "utf8") : ""
  await stop()
  throw new Error(`libvirtd did not come up: ${log.slice(-2000)}`)
}
