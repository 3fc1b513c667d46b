/** Running a real client (python3 with boto3/boto 2/Libcloud, the AWS CLI, ansible) against a test server. */
import { execFile } from "node:child_process"
import { promisify } from "node:util"
import type * as TestServer from "../support/server.js"

/** The environment a fresh user would have: the server's keys and region, no config files, no IMDS. */
export const clientEnv = (server: TestServer.TestServer, extra: Record<string, string> = {}): Record<string, string> => ({
  PATH: process.env.PATH ?? "/usr/bin:/bin",
  HOME: process.env.HOME ?? "/tmp",
  LANG: "C.UTF-8",
  AWS_ACCESS_KEY_ID: server.credentials.accessKeyId,
  AWS_SECRET_ACCESS_KEY: server.credentials.secretAccessKey,
  AWS_DEFAULT_REGION: server.region,
  AWS_REGION: server.region,
  AWS_CONFIG_FILE: "/dev/null",
  AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
  AWS_EC2_METADATA_DISABLED: "true",
  BOTO_CONFIG: "/dev/null",
  ...extra
})

/**
 * Runs a program asynchronously (the server is in this process and must answer while it waits);
 * on failure the error carries its stdout and stderr.
 */
export const run = async (file: string, args: ReadonlyArray<string>, env: Record<string, string>, timeoutMs = 120_000): Promise<string> => {
  try {
    const { stdout } = await promisify(execFile)(file, [...args], { encoding: "utf8", timeout: timeoutMs, env, maxBuffer: 16 * 1024 * 1024 })
    return stdout
  } catch (e) {
    const x = e as { stdout?: string; stderr?: string; message: string }
    throw new Error(`${file} ${args.join(" ").slice(0, 200)} failed: ${x.message}\n--- stdout\n${x.stdout ?? ""}\n--- stderr\n${x.stderr ?? ""}`)
  }
}

/** A python3 script given as text; its last stdout line is JSON. */
export const python = async (script: string, args: ReadonlyArray<string>, env: Record<string, string>, timeoutMs?: number): Promise<any> => {
  const out = await run("python3", ["-c", script, ...args], env, timeoutMs)
  const lines = out.trim().split("\n")
  return JSON.parse(lines[lines.length - 1]!)
}
