/** Starts a real server (in-process, free port, temporary data directory) and an SDK client for it. */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { EC2Client } from "@aws-sdk/client-ec2"
import { Effect, Exit, Logger, LogLevel, Option, Scope } from "effect"
import * as Serve from "../../src/app/App.js"

export interface TestServer {
  readonly url: string
  readonly region: string
  readonly dataDir: string
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string }
  readonly client: (credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string }) => EC2Client
  /** Stops the server (keeps the data directory unless `remove`). */
  readonly stop: (remove?: boolean) => Promise<void>
}

/** A config for tests: small fast boots, two zones, MANAGED networking. */
export const fastConfig = (over: Record<string, unknown> = {}) => ({
  cloud: {
    zones: [
      { name: "euca-1a", nodes: [{ prefix: "node-a", count: 2, cores: 4, memoryMiB: 4096, diskGiB: 100 }] },
      { name: "euca-1b", nodes: [{ prefix: "node-b", count: 2, cores: 4, memoryMiB: 4096, diskGiB: 100 }] }
    ]
  },
  network: { mode: "MANAGED", subnet: "172.31.0.0/16", addressesPerNetwork: 32, publicIps: ["198.51.100.10-198.51.100.29"], metadata: "127.0.0.1:8773" },
  backend: { kind: "sim", bootDelay: { kind: "constant", ms: 150 }, stopDelay: { kind: "constant", ms: 100 }, seed: 7 },
  tickSeconds: 1,
  ...over
})

export const start = async (options: { readonly config?: Record<string, unknown>; readonly dataDir?: string } = {}): Promise<TestServer> => {
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "euca-api-"))
  const configPath = join(dataDir, "..", `${dataDir.split("/").pop()}.json`)
  writeFileSync(configPath, JSON.stringify(options.config ?? fastConfig()))
  const scope = Effect.runSync(Scope.make())
  const running = await Effect.runPromise(
    Serve.start({ host: "127.0.0.1", port: 0, dataDir, configPath, banner: false }).pipe(
      Scope.extend(scope),
      Logger.withMinimumLogLevel(LogLevel.Warning)
    )
  )
  let credentials = Option.getOrUndefined(running.firstStart)
  if (credentials === undefined) {
    const { Database } = await import("./db.js")
    credentials = await Database.adminKey(dataDir)
  }
  const creds = credentials
  return {
    url: running.url,
    region: running.region,
    dataDir,
    credentials: creds,
    client: (c = creds) =>
      new EC2Client({ endpoint: running.url, region: running.region, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey }, maxAttempts: 1 }),
    stop: async (remove = true) => {
      await Effect.runPromise(Scope.close(scope, Exit.void))
      if (remove) {
        rmSync(dataDir, { recursive: true, force: true })
        rmSync(configPath, { force: true })
      }
    }
  }
}
