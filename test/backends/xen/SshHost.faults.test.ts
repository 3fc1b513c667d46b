/**
 * SshHost against ssh2's server mode in-process, to inject what a real sshd will not do on demand:
 * refused authentication, a different host key, a connection dropped mid-command, slow and hanging
 * commands, a host that is down and one that comes up late.
 */
import * as Net from "node:net"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import Ssh2 from "ssh2"
import type * as NodesFile from "../../../src/backends/xen/NodesFile.js"
import * as SshHost from "../../../src/backends/xen/SshHost.js"

type Behaviour = "echo" | "drop" | "slow" | "hang" | "fail"

interface TestServer {
  readonly port: number
  readonly hostPublic: string
  connections: number
  closedHangs: number
  readonly commands: Array<string>
  readonly close: () => Promise<void>
}

const keys = { host: Ssh2.utils.generateKeyPairSync("ed25519"), client: Ssh2.utils.generateKeyPairSync("ed25519") }
let dir: string
let clientKeyPath: string
beforeAll(() => {
  dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "ssh2-faults-"))
  clientKeyPath = Path.join(dir, "client")
  Fs.writeFileSync(clientKeyPath, keys.client.private, { mode: 0o600 })
})
afterAll(() => {
  Fs.rmSync(dir, { recursive: true, force: true })
})

const servers: Array<TestServer> = []
afterAll(async () => {
  for (const s of servers) await s.close()
})

/** An SSH server whose exec behaviour is picked by the command's first word. */
const startServer = (opts: { acceptAuth?: boolean; port?: number; hostKey?: typeof keys.host } = {}): Promise<TestServer> => {
  const hostKey = opts.hostKey ?? keys.host
  const allowed = Ssh2.utils.parseKey(keys.client.public)
  if (allowed instanceof Error) throw allowed
  const clients = new Set<Ssh2.Connection>()
  const state = { connections: 0, closedHangs: 0, commands: [] as Array<string> }
  const server = new Ssh2.Server({ hostKeys: [hostKey.private] }, (client) => {
    state.connections++
    clients.add(client)
    client.on("close", () => clients.delete(client))
    client.on("authentication", (ctx) => {
      if (opts.acceptAuth === false || ctx.method !== "publickey") return ctx.reject(["publickey"])
      if (ctx.key.algo !== allowed.type || !ctx.key.data.equals(allowed.getPublicSSH())) return ctx.reject()
      if (ctx.signature === undefined) return ctx.accept()
      if (allowed.verify(ctx.blob!, ctx.signature, ctx.hashAlgo) === true) return ctx.accept()
      ctx.reject()
    })
    client.on("ready", () => {
      client.on("session", (accept) => {
        const session = accept()
        session.on("exec", (acceptExec, _reject, info) => {
          const stream = acceptExec()
          state.commands.push(info.command)
          const behaviour = info.command.split(" ")[0] as Behaviour
          switch (behaviour) {
            case "echo":
              stream.write(`${info.command.slice(5)}\n`)
              stream.exit(0)
              return stream.end()
            case "fail":
              stream.stderr.write("no\n")
              stream.exit(4)
              return stream.end()
            case "slow":
              return void setTimeout(() => {
                stream.write("late\n")
                stream.exit(0)
                stream.end()
              }, 200)
            case "drop":
              stream.write("partial")
              return void setTimeout(() => client.end(), 50)
            case "hang":
              // Never answers; the channel is torn down only by the client (ssh2 ends its writable side then).
              return void stream.on("finish", () => state.closedHangs++)
          }
        })
      })
    })
    client.on("error", () => undefined)
  })
  return new Promise((resolve) => {
    server.listen(opts.port ?? 0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      const ts: TestServer = {
        port,
        hostPublic: hostKey.public.split(" ").slice(0, 2).join(" "),
        get connections() { return state.connections },
        get closedHangs() { return state.closedHangs },
        commands: state.commands,
        close: () => new Promise<void>((r) => {
          for (const c of clients) c.end()
          server.close(() => r())
        })
      } as TestServer
      servers.push(ts)
      resolve(ts)
    })
  })
}

const target = (port: number, hostPublic: string, over: Partial<NodesFile.Timeouts> = {}): NodesFile.SshTarget => ({
  name: "fake-node",
  host: "127.0.0.1",
  port,
  user: "euca",
  privateKeyPath: clientKeyPath,
  hostKey: `[127.0.0.1]:${port} ${hostPublic}`,
  timeouts: { connectMs: 2000, commandMs: 2000, createMs: 2000, uploadMs: 2000, ...over }
})

const options: SshHost.Options = { remoteTimeout: false, connectAttempts: 3, backoffBaseMs: 10, backoffMaxMs: 50 }

const withHost = <A, E>(t: NodesFile.SshTarget, f: (h: SshHost.SshHostShape) => Effect.Effect<A, E>, o: SshHost.Options = options) =>
  Effect.runPromise(Effect.scoped(SshHost.make(t, o).pipe(Effect.flatMap(f))))

const freePort = (): Promise<number> => new Promise((resolve) => {
  const s = Net.createServer().listen(0, "127.0.0.1", () => {
    const p = (s.address() as Net.AddressInfo).port
    s.close(() => resolve(p))
  })
})

describe("SshHost faults (ssh2 server in-process)", () => {
  it("runs commands on one connection: output, stderr and exit codes come through", async () => {
    const srv = await startServer()
    const rs = await withHost(target(srv.port, srv.hostPublic), (h) => Effect.all([h.exec("echo one"), h.exec("fail now"), h.exec("slow")], { concurrency: "unbounded" }))
    expect(rs).toEqual([
      { exitCode: 0, signal: undefined, stdout: "one\n", stderr: "" },
      { exitCode: 4, signal: undefined, stdout: "", stderr: "no\n" },
      { exitCode: 0, signal: undefined, stdout: "late\n", stderr: "" }
    ])
    expect(srv.connections).toBe(1)
  })

  it("refused authentication is an SshAuthFailed, not retried", async () => {
    const srv = await startServer({ acceptAuth: false })
    const e = await withHost(target(srv.port, srv.hostPublic), (h) => Effect.flip(h.exec("echo x")))
    expect(e).toMatchObject({ _tag: "SshAuthFailed", user: "euca" })
    expect(srv.connections).toBe(1)
  })

  it("a host with another key is refused with both fingerprints, and never runs anything", async () => {
    const srv = await startServer({ hostKey: Ssh2.utils.generateKeyPairSync("ed25519") })
    const e = await withHost(target(srv.port, keys.host.public.split(" ").slice(0, 2).join(" ")), (h) => Effect.flip(h.exec("echo x")))
    expect(e._tag).toBe("HostKeyMismatch")
    if (e._tag !== "HostKeyMismatch") return
    expect(e.message).toMatch(/pinned ssh-ed25519 SHA256:\S+, the host presented SHA256:\S+; refusing/)
    expect(e.expected).not.toBe(e.presented)
    expect(srv.commands).toEqual([])
    expect(srv.connections).toBe(1)
  })

  it("a connection dropped mid-command fails that command; the next one reconnects", async () => {
    const srv = await startServer()
    const [e, after] = await withHost(target(srv.port, srv.hostPublic), (h) =>
      Effect.all([Effect.flip(h.exec("drop it")), h.exec("echo back")]))
    expect(e).toMatchObject({ _tag: "SshDisconnected", command: "drop it" })
    expect(after).toMatchObject({ exitCode: 0, stdout: "back\n" })
    expect(srv.connections).toBe(2)
  })

  it("a hanging command times out, its channel is closed, and the connection stays usable", async () => {
    const srv = await startServer()
    const [e, next] = await withHost(target(srv.port, srv.hostPublic), (h) =>
      Effect.all([Effect.flip(h.exec("hang forever", { timeoutMs: 200 })), h.exec("echo alive")]))
    expect(e).toMatchObject({ _tag: "SshCommandTimeout", timeoutMs: 200, command: "hang forever" })
    expect(next.stdout).toBe("alive\n")
    expect(srv.connections).toBe(1)
    expect(srv.closedHangs).toBe(1)
  })

  it("a host that is down fails after the configured attempts", async () => {
    const port = await freePort()
    const e = await withHost(target(port, keys.host.public.split(" ").slice(0, 2).join(" ")), (h) => Effect.flip(h.exec("echo x")))
    expect(e).toMatchObject({ _tag: "SshConnectFailed", attempts: 3 })
    expect(e.message).toContain("ECONNREFUSED")
  })

  it("a host that never finishes the handshake fails on the connect timeout", async () => {
    const mute = Net.createServer(() => undefined)
    const port = await new Promise<number>((r) => mute.listen(0, "127.0.0.1", () => r((mute.address() as Net.AddressInfo).port)))
    try {
      const e = await withHost(target(port, keys.host.public.split(" ").slice(0, 2).join(" "), { connectMs: 150 }), (h) => Effect.flip(h.exec("echo x")), { ...options, connectAttempts: 2 })
      expect(e).toMatchObject({ _tag: "SshConnectFailed", attempts: 2 })
    } finally {
      mute.close()
    }
  })

  it("backs off and connects once the host comes up", async () => {
    const port = await freePort()
    setTimeout(() => void startServer({ port }), 150)
    const r = await withHost(target(port, keys.host.public.split(" ").slice(0, 2).join(" ")), (h) => h.exec("echo up"), { ...options, connectAttempts: 10, backoffBaseMs: 40, backoffMaxMs: 200 })
    expect(r.stdout).toBe("up\n")
  })

  it("closing the scope closes the connection", async () => {
    const srv = await startServer()
    let host: SshHost.SshHostShape | undefined
    await withHost(target(srv.port, srv.hostPublic), (h) => {
      host = h
      return h.exec("echo x")
    })
    expect(await Effect.runPromise(host!.isConnected)).toBe(false)
    const e = await Effect.runPromise(Effect.flip(host!.exec("echo y")))
    expect(e._tag).toBe("SshConfigError")
  })
})
