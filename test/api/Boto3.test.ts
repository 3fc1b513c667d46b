/** boto3 (the python3 on the PATH has it) against the server: a short journey with boto3's own waiters. */
import { execFile } from "node:child_process"
import { join } from "node:path"
import { promisify } from "node:util"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as TestServer from "../support/server.js"

let server: TestServer.TestServer

beforeAll(async () => {
  server = await TestServer.start({ config: TestServer.fastConfig({ backend: { kind: "sim", bootDelay: { kind: "constant", ms: 1500 }, stopDelay: { kind: "constant", ms: 1500 }, seed: 11 } }) })
})
afterAll(async () => {
  await server?.stop()
})

describe("boto3", () => {
  it("runs a journey: zones, key pair, run, wait running, describe, terminate, wait terminated", async () => {
    // Asynchronously: the server runs in this process and must answer while python waits.
    const { stdout } = await promisify(execFile)("python3", [join(import.meta.dirname, "boto3_journey.py"), server.url, server.region], {
      encoding: "utf8",
      timeout: 90_000,
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? "/tmp",
        AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
        AWS_CONFIG_FILE: "/dev/null",
        AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
        AWS_EC2_METADATA_DISABLED: "true"
      }
    })
    const seen = JSON.parse(stdout)
    expect(seen.zones).toEqual(["euca-1a", "euca-1b"])
    expect(seen.keyMaterialStart).toBe("-----BEGIN RSA PRIVATE KEY-----")
    expect(seen.ran).toHaveLength(2)
    expect(seen.ranStates).toEqual(["pending", "pending"])
    expect(seen.described).toEqual([...seen.ran].sort())
    expect(seen.states).toEqual(["running"])
    expect(seen.keyNames).toEqual(["boto3-key"])
    expect(seen.launchTimeType).toBe("datetime")
    expect(seen.resourceState).toBe("running")
    expect(seen.notFound).toEqual(["InvalidInstanceID.NotFound", 400])
    expect(seen.terminating).toEqual(["shutting-down", "shutting-down"])
    expect(seen.final).toEqual(["terminated"])
  }, 120_000)
})
