/**
 * One SSH host: a single ssh2 connection, opened on first use and reopened with exponential backoff
 * after it drops; every command is an exec channel on it (≈3.5× faster than a connection per
 * command, measured), every file an SFTP write on it. The host key is verified against the pinned
 * known_hosts line — a different key is refused with both fingerprints, never accepted.
 *
 * A command that exits non-zero is a result, not an error: the caller (the node agent) reads xl's
 * exit code and stderr. Errors are what SSH itself could not do.
 */
import * as Crypto from "node:crypto"
import * as Fs from "node:fs/promises"
import { Client } from "ssh2"
import type { ClientChannel, ConnectConfig, SFTPWrapper } from "ssh2"
import { Context, Duration, Effect, Either, Layer, Schedule, Schema, type Scope } from "effect"
import * as HostKey from "./HostKey.js"
import type * as NodesFile from "./NodesFile.js"
import * as Shell from "./Shell.js"

// ── errors ──────────────────────────────────────────────────────────────────────────────────────

/** The host presented a key other than the pinned one: refused (a changed host key is an incident, not a prompt). */
export class HostKeyMismatch extends Schema.TaggedError<HostKeyMismatch>()("HostKeyMismatch", {
  host: Schema.String,
  expected: Schema.String,
  presented: Schema.String,
  message: Schema.String
}) {}

export class SshAuthFailed extends Schema.TaggedError<SshAuthFailed>()("SshAuthFailed", {
  host: Schema.String,
  user: Schema.String,
  message: Schema.String
}) {}

/** Could not connect (refused, unreachable, handshake timeout) after every retry. */
export class SshConnectFailed extends Schema.TaggedError<SshConnectFailed>()("SshConnectFailed", {
  host: Schema.String,
  attempts: Schema.Number,
  message: Schema.String
}) {}

/** The pinned key or the private key cannot be used (configuration, not the network). */
export class SshConfigError extends Schema.TaggedError<SshConfigError>()("SshConfigError", {
  host: Schema.String,
  message: Schema.String
}) {}

/** The command did not finish in time; its channel was killed. Whether it had an effect is unknown. */
export class SshCommandTimeout extends Schema.TaggedError<SshCommandTimeout>()("SshCommandTimeout", {
  host: Schema.String,
  command: Schema.String,
  timeoutMs: Schema.Number,
  message: Schema.String
}) {}

/** The connection or channel was lost mid-command. Whether the command had an effect is unknown. */
export class SshDisconnected extends Schema.TaggedError<SshDisconnected>()("SshDisconnected", {
  host: Schema.String,
  command: Schema.String,
  message: Schema.String
}) {}

export class SftpFailed extends Schema.TaggedError<SftpFailed>()("SftpFailed", {
  host: Schema.String,
  path: Schema.String,
  message: Schema.String
}) {}

export type SshError = HostKeyMismatch | SshAuthFailed | SshConnectFailed | SshConfigError | SshCommandTimeout | SshDisconnected | SftpFailed

// ── the service ─────────────────────────────────────────────────────────────────────────────────

export interface ExecResult {
  /** null when the command was ended by a signal. */
  readonly exitCode: number | null
  readonly signal: string | undefined
  readonly stdout: string
  readonly stderr: string
}

export interface ExecOptions {
  /** Default: the target's `timeouts.commandMs`. */
  readonly timeoutMs?: number | undefined
  /** Sent to the command's stdin, then EOF. */
  readonly stdin?: string | Uint8Array | undefined
}

export interface TransferOptions {
  readonly mode?: number | undefined
  /** Default: the target's `timeouts.uploadMs`. */
  readonly timeoutMs?: number | undefined
}

export interface SshHostShape {
  readonly target: NodesFile.SshTarget
  /** Run one shell command line (already quoted: see Shell). */
  readonly exec: (command: string, options?: ExecOptions) => Effect.Effect<ExecResult, SshError>
  /** Run an argv: every word is quoted. */
  readonly run: (argv: ReadonlyArray<string>, options?: ExecOptions) => Effect.Effect<ExecResult, SshError>
  /** Write a remote file over SFTP. */
  readonly writeFile: (remotePath: string, data: string | Uint8Array, options?: TransferOptions) => Effect.Effect<void, SshError>
  /** Copy a local file to the host over SFTP. */
  readonly upload: (localPath: string, remotePath: string, options?: TransferOptions) => Effect.Effect<void, SshError>
  /** Is a connection open right now (no I/O)? */
  readonly isConnected: Effect.Effect<boolean>
  /** Close the connection (the next command reconnects). */
  readonly disconnect: Effect.Effect<void>
}

export class SshHost extends Context.Tag("eucalyptus/xen/SshHost")<SshHost, SshHostShape>() {}

export interface Options {
  /** Connection attempts per use before giving up (default 4). */
  readonly connectAttempts?: number | undefined
  /** First backoff delay (default 200 ms), doubled per attempt, capped by `backoffMaxMs` (default 5 s). */
  readonly backoffBaseMs?: number | undefined
  readonly backoffMaxMs?: number | undefined
  /** SSH keepalive interval (default 15 s; a dead peer is noticed after 3 missed). */
  readonly keepaliveMs?: number | undefined
  /**
   * Run every command under coreutils `timeout` on the host (default true), one second past the local
   * deadline: closing a channel does not stop the remote process (OpenSSH ignores the channel's
   * signal request and there is no pty to hang up), so without it a hung xl would outlive its timeout.
   */
  readonly remoteTimeout?: boolean | undefined
}

interface Conn {
  readonly id: number
  readonly client: Client
  dead: boolean
  sftp: Promise<SFTPWrapper> | undefined
  /** Called when the connection goes away, to fail the commands running on it. */
  readonly onDrop: Set<(reason: string) => void>
}

/** A connection attempt failed in a way worth retrying (network, handshake). */
class Retryable {
  readonly _tag = "Retryable"
  constructor(readonly message: string) {}
}

const describe = (argvOrLine: string): string => (argvOrLine.length > 200 ? `${argvOrLine.slice(0, 197)}...` : argvOrLine)

/** An SSH host within a scope: the connection (if any) is closed when the scope ends. */
export const make = (target: NodesFile.SshTarget, options: Options = {}): Effect.Effect<SshHostShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const where = `${target.name} (${target.user}@${HostKey.hostEntry(target.host, target.port)})`
    const pin = HostKey.parse(target.hostKey)
    const attempts = Math.max(1, options.connectAttempts ?? 4)
    const backoff = Schedule.exponential(Duration.millis(options.backoffBaseMs ?? 200)).pipe(
      Schedule.union(Schedule.spaced(Duration.millis(options.backoffMaxMs ?? 5_000))),
      Schedule.jittered,
      Schedule.intersect(Schedule.recurs(attempts - 1))
    )
    let conn: Conn | undefined
    let nextId = 1
    let closed = false
    const connecting = yield* Effect.makeSemaphore(1)

    const drop = (c: Conn, reason: string) => {
      if (c.dead) return
      c.dead = true
      if (conn === c) conn = undefined
      for (const f of c.onDrop) f(reason)
      c.onDrop.clear()
      c.client.end()
    }

    yield* Effect.addFinalizer(() =>
      Effect.sync(() => {
        closed = true
        if (conn !== undefined) drop(conn, "the SSH host was closed")
      })
    )

    const connectOnce = (privateKey: Buffer, key: HostKey.PinnedKey) =>
      Effect.async<Conn, HostKeyMismatch | SshAuthFailed | Retryable>((resume) => {
        const client = new Client()
        let presented: string | undefined
        let settled = false
        const settle = (e: Effect.Effect<Conn, HostKeyMismatch | SshAuthFailed | Retryable>) => {
          if (settled) return
          settled = true
          resume(e)
        }
        client.on("ready", () => {
          const c: Conn = { id: nextId++, client, dead: false, sftp: undefined, onDrop: new Set() }
          client.on("close", () => drop(c, "connection closed"))
          client.on("error", (err: Error) => drop(c, `connection error: ${err.message}`))
          settle(Effect.succeed(c))
        })
        client.on("error", (err: Error & { level?: string }) => {
          if (presented !== undefined) {
            settle(Effect.fail(new HostKeyMismatch({
              host: where,
              expected: key.fingerprint,
              presented,
              message: `host key mismatch for ${where}: pinned ${key.type} ${key.fingerprint}, the host presented ${presented}; refusing to connect`
            })))
          } else if (err.level === "client-authentication") {
            settle(Effect.fail(new SshAuthFailed({ host: where, user: target.user, message: `authentication refused by ${where} for user ${target.user}: ${err.message}` })))
          } else settle(Effect.fail(new Retryable(err.message)))
        })
        client.on("close", () => settle(Effect.fail(new Retryable("connection closed during the handshake"))))
        const config: ConnectConfig = {
          host: target.host,
          port: target.port,
          username: target.user,
          privateKey,
          readyTimeout: target.timeouts.connectMs,
          keepaliveInterval: options.keepaliveMs ?? 15_000,
          keepaliveCountMax: 3,
          algorithms: { serverHostKey: HostKey.algorithms(key.type) as NonNullable<NonNullable<ConnectConfig["algorithms"]>["serverHostKey"]> },
          hostVerifier: (presentedKey: Buffer): boolean => {
            if (HostKey.matches(key, presentedKey)) return true
            presented = HostKey.fingerprint(presentedKey)
            return false
          }
        }
        try {
          client.connect(config)
          // Commands are small request/response exchanges: Nagle + delayed ACK would add ~40 ms to each.
          client.setNoDelay(true)
        } catch (e) {
          settle(Effect.fail(new Retryable((e as Error).message)))
        }
        return Effect.sync(() => {
          settled = true
          client.end()
        })
      })

    const connect: Effect.Effect<Conn, HostKeyMismatch | SshAuthFailed | SshConnectFailed | SshConfigError> = Effect.gen(function*() {
      if (closed) return yield* new SshConfigError({ host: where, message: `${where}: the SSH host was closed` })
      const key = yield* Either.match(pin, {
        onLeft: (m) => Effect.fail(new SshConfigError({ host: where, message: `${where}: bad pinned host key: ${m}` })),
        onRight: Effect.succeed
      })
      const privateKey = yield* Effect.tryPromise({
        try: () => Fs.readFile(target.privateKeyPath),
        catch: (e) => new SshConfigError({ host: where, message: `${where}: cannot read the private key ${target.privateKeyPath}: ${(e as Error).message}` })
      })
      let tries = 0
      const c = yield* Effect.suspend(() => {
        tries++
        return connectOnce(privateKey, key)
      }).pipe(
        Effect.tapError((e) => e._tag === "Retryable" ? Effect.logWarning(`ssh ${where}: connect attempt ${tries} failed: ${e.message}`) : Effect.void),
        Effect.retry({ schedule: backoff, while: (e) => e._tag === "Retryable" }),
        Effect.catchTag("Retryable", (e) =>
          Effect.fail(new SshConnectFailed({ host: where, attempts: tries, message: `cannot connect to ${where} after ${tries} attempt(s): ${e.message}` }))
        ),
        Effect.tapError((e) => e._tag === "HostKeyMismatch" ? Effect.logError(e.message) : Effect.void)
      )
      yield* Effect.logDebug(`ssh ${where}: connected (connection ${c.id})`)
      return c
    })

    const current = connecting.withPermits(1)(
      Effect.suspend(() => {
        if (conn !== undefined && !conn.dead) return Effect.succeed(conn)
        return connect.pipe(Effect.tap((c) => {
          if (closed) drop(c, "the SSH host was closed")
          else conn = c
        }))
      })
    )

    /** A channel could not be opened on an established connection: nothing ran, so it is safe to retry once. */
    class ChannelRefused {
      readonly _tag = "ChannelRefused"
      constructor(readonly message: string) {}
    }

    const execOn = (c: Conn, command: string, stdin: string | Uint8Array | undefined, label: string) =>
      Effect.async<ExecResult, SshDisconnected | ChannelRefused>((resume) => {
        let stream: ClientChannel | undefined
        let done = false
        const finish = (e: Effect.Effect<ExecResult, SshDisconnected | ChannelRefused>) => {
          if (done) return
          done = true
          c.onDrop.delete(onDrop)
          resume(e)
        }
        const onDrop = (reason: string) => finish(Effect.fail(new SshDisconnected({ host: where, command: describe(label), message: `${where}: ${reason} while running ${describe(label)}` })))
        c.onDrop.add(onDrop)
        try {
          c.client.exec(command, (err, s) => {
            if (err) return finish(Effect.fail(new ChannelRefused(err.message)))
            if (done) return void s.close()
            stream = s
            const out: Array<Buffer> = []
            const errOut: Array<Buffer> = []
            let exitCode: number | null = null
            let signal: string | undefined
            let exited = false
            s.on("data", (d: Buffer) => out.push(d))
            s.stderr.on("data", (d: Buffer) => errOut.push(d))
            s.on("exit", (code: number | null, sig?: string) => {
              exited = true
              exitCode = typeof code === "number" ? code : null
              signal = sig
            })
            s.on("close", () => {
              if (!exited) return onDrop("the channel closed without an exit status")
              finish(Effect.succeed({ exitCode, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(errOut).toString("utf8") }))
            })
            if (stdin !== undefined) s.end(stdin)
            else s.end()
          })
        } catch (e) {
          finish(Effect.fail(new ChannelRefused((e as Error).message)))
        }
        return Effect.sync(() => {
          done = true
          c.onDrop.delete(onDrop)
          if (stream !== undefined) {
            // Ask sshd to kill the process, then close our side; the channel is gone either way.
            try {
              stream.signal("KILL")
            } catch {
              // the channel may already be closed
            }
            stream.close()
          }
        })
      })

    const exec = (command: string, opts: ExecOptions = {}): Effect.Effect<ExecResult, SshError> => {
      const timeoutMs = opts.timeoutMs ?? target.timeouts.commandMs
      const line = options.remoteTimeout === false
        ? command
        : `timeout -k 2 ${Math.ceil(timeoutMs / 1000) + 1} sh -c ${Shell.quote(command)}`
      const once = current.pipe(Effect.flatMap((c) =>
        execOn(c, line, opts.stdin, command).pipe(
          // A dead socket shows up here before its close event; a refused channel (MaxSessions) does not kill the connection.
          Effect.tapError((e) => Effect.sync(() => {
            if (e._tag === "ChannelRefused" && /not connected|no response/i.test(e.message)) drop(c, `connection unusable: ${e.message}`)
          }))
        )
      ))
      // Connecting has its own timeout (connectMs, with retries); the command's runs once connected,
      // so a slow handshake does not eat a short command's budget (nor abandon the connection).
      return Effect.zipRight(current, once.pipe(
        Effect.catchIf((e): e is ChannelRefused => e instanceof ChannelRefused, () => Effect.zipRight(Effect.sleep(Duration.millis(50)), once)),
        Effect.catchIf((e): e is ChannelRefused => e instanceof ChannelRefused, (e) =>
          Effect.fail(new SshDisconnected({ host: where, command: describe(command), message: `${where}: cannot open a channel: ${e.message}` }))),
        Effect.timeoutFail({
          duration: Duration.millis(timeoutMs),
          onTimeout: () => new SshCommandTimeout({ host: where, command: describe(command), timeoutMs, message: `${where}: ${describe(command)} did not finish within ${timeoutMs} ms (killed)` })
        })
      ))
    }

    const sftpOf = (c: Conn, path: string) =>
      Effect.tryPromise({
        try: () => {
          c.sftp ??= new Promise<SFTPWrapper>((res, rej) => {
            c.client.sftp((err, s) => (err ? rej(err) : res(s)))
          })
          return c.sftp
        },
        catch: (e) => {
          c.sftp = undefined
          return new SftpFailed({ host: where, path, message: `${where}: cannot open SFTP: ${(e as Error).message}` })
        }
      })

    const transfer = (path: string, timeoutMs: number, f: (s: SFTPWrapper, cb: (err: Error | null | undefined) => void) => void) =>
      current.pipe(
        Effect.flatMap((c) =>
          sftpOf(c, path).pipe(Effect.flatMap((s) =>
            Effect.async<void, SftpFailed>((resume) => {
              let done = false
              const onDrop = (reason: string) => {
                if (done) return
                done = true
                resume(Effect.fail(new SftpFailed({ host: where, path, message: `${where}: ${reason} while writing ${path}` })))
              }
              c.onDrop.add(onDrop)
              f(s, (err) => {
                c.onDrop.delete(onDrop)
                if (done) return
                done = true
                resume(err ? Effect.fail(new SftpFailed({ host: where, path, message: `${where}: writing ${path}: ${err.message}` })) : Effect.void)
              })
              return Effect.sync(() => {
                done = true
                c.onDrop.delete(onDrop)
                // An SFTP request cannot be cancelled: end the session, the next transfer opens a new one.
                if (c.sftp !== undefined) {
                  c.sftp.then((x) => x.end(), () => undefined)
                  c.sftp = undefined
                }
              })
            })
          ))
        ),
        Effect.timeoutFail({
          duration: Duration.millis(timeoutMs),
          onTimeout: () => new SftpFailed({ host: where, path, message: `${where}: writing ${path} did not finish within ${timeoutMs} ms` })
        })
      )

    const writeFile = (remotePath: string, data: string | Uint8Array, opts: TransferOptions = {}) =>
      transfer(remotePath, opts.timeoutMs ?? target.timeouts.commandMs, (s, cb) =>
        s.writeFile(remotePath, typeof data === "string" ? data : Buffer.from(data), { mode: opts.mode ?? 0o644 }, (err) => cb(err)))

    const upload = (localPath: string, remotePath: string, opts: TransferOptions = {}) =>
      transfer(remotePath, opts.timeoutMs ?? target.timeouts.uploadMs, (s, cb) =>
        s.fastPut(localPath, remotePath, { mode: opts.mode ?? 0o644, concurrency: 16, chunkSize: 32 * 1024 }, (err) => cb(err)))

    return {
      target,
      exec,
      run: (argv, opts) => exec(Shell.commandLine(argv), opts),
      writeFile,
      upload,
      isConnected: Effect.sync(() => conn !== undefined && !conn.dead),
      disconnect: Effect.sync(() => {
        if (conn !== undefined) drop(conn, "disconnected on request")
      })
    } satisfies SshHostShape
  })

export const layer = (target: NodesFile.SshTarget, options?: Options): Layer.Layer<SshHost> => Layer.scoped(SshHost, make(target, options))

/** A random suffix for temporary remote file names. */
export const nonce = (): string => Crypto.randomBytes(6).toString("hex")
