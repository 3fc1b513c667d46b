/**
 * Probes with real packets from inside a namespace, as Cluster's (test/net/support/Cluster.ts) but
 * for namespaces the test did not make through a Cluster (e.g. the stand-in xl's domains): a TCP
 * connection that reads the first line the other side says, and a plain HTTP/1.0 GET that gives
 * the status and the body (the metadata service's answers).
 */
import type { Lab } from "./Lab.js"

/** How long a probe waits before calling a flow dropped (Cluster's T_DENY). */
export const DENY_SECONDS = 1
export const ALLOW_SECONDS = 5

/** First line a TCP connection from `ns` to ip:port answers, or undefined if none within the time. */
export const tcp = async (lab: Lab, ns: string, ip: string, port: number, seconds = ALLOW_SECONDS): Promise<string | undefined> => {
  const r = await lab.try(ns, ["timeout", String(seconds), "bash", "-c", `exec 3<>/dev/tcp/${ip}/${port} && head -1 <&3`])
  const out = r.stdout.trim()
  return r.code === 0 && out !== "" ? out : undefined
}

export interface HttpAnswer {
  readonly status: number
  readonly body: string
}

/**
 * GET http://ip:port/path from `ns` over bash's /dev/tcp (no client that could add anything of its
 * own), or undefined when nothing answered within the time.
 */
export const get = async (lab: Lab, ns: string, ip: string, port: number, path: string, seconds = ALLOW_SECONDS): Promise<HttpAnswer | undefined> => {
  if (!/^\/[A-Za-z0-9/_.-]*$/.test(path)) throw new Error(`probe path ${JSON.stringify(path)}: letters, digits and / _ . - only`)
  const r = await lab.try(ns, [
    "timeout",
    String(seconds),
    "bash",
    "-c",
    `exec 3<>/dev/tcp/${ip}/${port} && printf 'GET ${path} HTTP/1.0\\r\\nHost: ${ip}\\r\\n\\r\\n' >&3 && cat <&3`
  ])
  const m = /^HTTP\/1\.[01] (\d{3})[^\r\n]*\r\n([\s\S]*?)\r\n\r\n([\s\S]*)$/.exec(r.stdout)
  return m ? { status: Number(m[1]), body: m[3]! } : undefined
}

/** The instance metadata service as an instance sees it: 169.254.169.254:80. */
export const metadata = (lab: Lab, ns: string, path: string, seconds = ALLOW_SECONDS): Promise<HttpAnswer | undefined> =>
  get(lab, ns, "169.254.169.254", 80, path, seconds)

/** A TCP listener in `ns` that answers one line, `answer` (no ':' — socat splits on it). */
export const listen = (lab: Lab, ns: string, port: number, answer: string): void => {
  if (!/^[A-Za-z0-9_.$-]+$/.test(answer)) throw new Error(`listener answer ${JSON.stringify(answer)}: letters, digits, _ . - $ only`)
  lab.spawn(ns, ["socat", "-T2", `TCP-LISTEN:${port},reuseaddr,fork`, `SYSTEM:echo ${answer}`])
}

/** True once something listens on tcp/port in `ns`. */
export const listening = async (lab: Lab, ns: string, port: number): Promise<boolean> =>
  (await lab.try(ns, ["ss", "-Hltn"])).stdout.split("\n").some((l) => l.includes(`:${port} `))
