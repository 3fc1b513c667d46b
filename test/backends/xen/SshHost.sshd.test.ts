/** SshHost against a real OpenSSH server (Debian's sshd, started by the test as a non-root user with /bin/sh). */
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import Ssh2 from "ssh2"
import * as SshHost from "../../../src/backends/xen/SshHost.js"
import * as SshPool from "../../../src/backends/xen/SshPool.js"
import * as XlParse from "../../../src/backends/xen/XlParse.js"
import { rootOrSkip, type Sshd, startSshd } from "../../support/sshd.js"
import { targetOf } from "./harness.js"

const enabled = rootOrSkip("SshHost real-sshd tests")

describe.skipIf(!enabled)("SshHost over a real sshd", () => {
  let sshd: Sshd
  let scope: Scope.CloseableScope
  let host: SshHost.SshHostShape
  const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)

  beforeAll(async () => {
    sshd = await startSshd()
    scope = await run(Scope.make())
    host = await run(SshHost.make(targetOf(sshd)).pipe(Scope.extend(scope)))
  })
  afterAll(async () => {
    if (scope) await run(Scope.close(scope, Exit.void))
    if (sshd) await sshd.stop()
  })

  it("returns exit code, stdout and stderr; a non-zero exit is a result", async () => {
    const r = await run(host.exec("echo out; echo err >&2; exit 3"))
    expect(r).toEqual({ exitCode: 3, signal: undefined, stdout: "out\n", stderr: "err\n" })
  })

  it("gives the remote program exactly the argv, however hostile", async () => {
    const args = ["", "a b", "'", "\"", "\\", "$(id)", "`id`", "$HOME", "a\nb", "-n", "--", "*", "~", "a;b", "日本語", "🙂", "it's", "%s"]
    const r = await run(host.run(["printf", "%s\\0", "MARK", ...args]))
    const out = r.stdout.split("\0")
    out.pop()
    expect(out).toEqual(["MARK", ...args])
  })

  it("runs the stand-in xl from the PATH sshd sets, with its state dir", async () => {
    const r = await run(host.run(["xl", "info"]))
    const info = XlParse.parseInfo(r.stdout)
    expect(info).toMatchObject({ right: { host: "xenhost1", nrCpus: 8 } })
  })

  it("runs many commands at once as channels of one connection", async () => {
    const rs = await run(Effect.all(Array.from({ length: 24 }, (_, i) => host.run(["echo", String(i)])), { concurrency: "unbounded" }))
    expect(rs.map((r) => r.stdout)).toEqual(Array.from({ length: 24 }, (_, i) => `${i}\n`))
    expect(await run(host.isConnected)).toBe(true)
  })

  it("writes files and uploads over SFTP", async () => {
    const remote = Path.join(sshd.remoteDir, "sftp")
    await run(host.run(["mkdir", "-p", remote]))
    await run(host.writeFile(`${remote}/a.txt`, "hello\n", { mode: 0o600 }))
    const local = Path.join(Fs.mkdtempSync(Path.join(Os.tmpdir(), "up-")), "blob")
    Fs.writeFileSync(local, Buffer.alloc(300_000, 7))
    try {
      await run(host.upload(local, `${remote}/blob`))
      const r = await run(host.exec(`cat ${remote}/a.txt; stat -c '%a %s' ${remote}/a.txt ${remote}/blob`))
      expect(r.stdout).toBe("hello\n600 6\n644 300000\n")
    } finally {
      Fs.rmSync(Path.dirname(local), { recursive: true, force: true })
    }
    const e = await run(Effect.flip(host.writeFile("/nonexistent-dir/x", "x")))
    expect(e).toMatchObject({ _tag: "SftpFailed", path: "/nonexistent-dir/x" })
  })

  it("times out a hanging command, and the remote process is ended too", async () => {
    const marker = Path.join(sshd.remoteDir, "hang-marker")
    const e = await run(Effect.flip(host.exec(`sleep 2.5; touch ${marker}`, { timeoutMs: 300 })))
    expect(e).toMatchObject({ _tag: "SshCommandTimeout", timeoutMs: 300 })
    // `timeout` on the host ends it at 2 s (our deadline rounded up, plus one): the touch never happens.
    await new Promise((r) => setTimeout(r, 2_800))
    expect(Fs.existsSync(marker)).toBe(false)
    expect((await run(host.exec("echo still"))).stdout).toBe("still\n")
  })

  it("reconnects after the connection is closed", async () => {
    await run(host.disconnect)
    expect(await run(host.isConnected)).toBe(false)
    expect((await run(host.exec("echo again"))).stdout).toBe("again\n")
    expect(await run(host.isConnected)).toBe(true)
  })

  it("refuses a host presenting another key than the pinned one, naming both fingerprints", async () => {
    const other = Ssh2.utils.generateKeyPairSync("ed25519").public.split(" ").slice(0, 2).join(" ")
    const target = { ...targetOf(sshd, "node-x"), hostKey: `[127.0.0.1]:${sshd.port} ${other}` }
    const e = await run(Effect.scoped(SshHost.make(target).pipe(Effect.flatMap((h) => Effect.flip(h.exec("true"))))))
    expect(e._tag).toBe("HostKeyMismatch")
    if (e._tag === "HostKeyMismatch") {
      expect(e.expected).toMatch(/^SHA256:/)
      expect(e.presented).toMatch(/^SHA256:/)
      expect(e.expected).not.toBe(e.presented)
      expect(e.message).toContain("node-x")
      expect(e.message).toContain(e.presented)
    }
  })

  it("reports refused authentication (a key sshd does not know)", async () => {
    const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "key-"))
    try {
      const key = Path.join(dir, "id")
      Fs.writeFileSync(key, Ssh2.utils.generateKeyPairSync("ed25519").private, { mode: 0o600 })
      const target = { ...targetOf(sshd), privateKeyPath: key }
      const e = await run(Effect.scoped(SshHost.make(target).pipe(Effect.flatMap((h) => Effect.flip(h.exec("true"))))))
      expect(e).toMatchObject({ _tag: "SshAuthFailed", user: sshd.user })
    } finally {
      Fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it("pools hosts by name and refuses unknown names", async () => {
    await run(Effect.scoped(Effect.gen(function*() {
      const pool = yield* SshPool.make([targetOf(sshd, "a"), targetOf(sshd, "b")])
      expect(pool.names).toEqual(["a", "b"])
      const a = yield* pool.host("a")
      expect((yield* a.exec("echo a")).stdout).toBe("a\n")
      const e = yield* Effect.flip(pool.host("c"))
      expect(e).toMatchObject({ _tag: "UnknownHost", name: "c" })
    })))
  })
})
