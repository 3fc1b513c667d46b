/**
 * The KVM benchmark: how long a real instance takes, on the whole cloud of test/net/support/KvmCloud
 * (euca serve --backend kvm, a real libvirtd, the busybox guest image, the AWS CLI v2 as the client).
 * Per launch (one at a time, each terminated before the next):
 *   - RunInstances → running (the API says `running`: the domain is defined and started);
 *   - RunInstances → SSH-able (`ssh -i key.pem root@<public address> true` from the outside succeeds:
 *     the guest booted, fetched its key from the metadata service and started dropbear).
 * The domain type (kvm or qemu/TCG) is the node's probe result, read from the server's log.
 *
 *   npm run bench:kvm [-- --json] [-- --runs 3]
 *
 * Needs root and what the journey test needs (libvirt, QEMU, the AWS CLI v2, the guest image build).
 */
import * as Fs from "node:fs"
import * as Path from "node:path"
import { cannotRun, KvmCloud, must, type Namespaces, run } from "../test/net/support/KvmCloud.js"

/** Network namespaces under a prefix of this process (the tests use Lab, which needs vitest). */
class BenchNamespaces implements Namespaces {
  private readonly made: Array<string> = []
  async addNamespace(name: string): Promise<string> {
    const ns = `eb-${process.pid}-${name}`
    await must(["ip", "netns", "add", ns])
    this.made.push(ns)
    await must(["ip", "-n", ns, "link", "set", "lo", "up"])
    return ns
  }
  async removeNamespace(ns: string): Promise<void> {
    const pids = await run(["ip", "netns", "pids", ns])
    for (const p of pids.stdout.split(/\s+/).filter((x) => x !== "")) {
      try {
        process.kill(Number(p), "SIGKILL")
      } catch {
        // gone
      }
    }
    await run(["ip", "netns", "del", ns])
    const i = this.made.indexOf(ns)
    if (i >= 0) this.made.splice(i, 1)
  }
  x(ns: string, argv: ReadonlyArray<string>): Promise<string> {
    return must(["ip", "netns", "exec", ns, ...argv])
  }
  async destroy(): Promise<void> {
    for (const ns of [...this.made].reverse()) await this.removeNamespace(ns)
  }
}

interface Launch {
  readonly toRunningMs: number
  readonly toSshMs: number
}

const args = process.argv.slice(2)
const json = args.includes("--json")
const runsAt = args.indexOf("--runs")
const runs = runsAt >= 0 ? Number(args[runsAt + 1]) : 2
if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs: a whole number above 0, got ${args[runsAt + 1]}`)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const median = (xs: ReadonlyArray<number>) => {
  const s = [...xs].sort((a, b) => a - b)
  return s.length % 2 === 1 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2
}

const main = async () => {
  const why = cannotRun()
  if (why !== undefined) throw new Error(`bench:kvm cannot run here: ${why}`)
  const lab = new BenchNamespaces()
  let cloud: KvmCloud | undefined
  try {
    cloud = await KvmCloud.start(lab)
    const c = cloud
    const key = c.awsJson<{ KeyMaterial: string }>(["ec2", "create-key-pair", "--key-name", "bench"])
    const keyPath = Path.join(c.work, "bench.pem")
    Fs.writeFileSync(keyPath, key.KeyMaterial.endsWith("\n") ? key.KeyMaterial : `${key.KeyMaterial}\n`, { mode: 0o600 })
    c.awsJson(["ec2", "create-security-group", "--group-name", "ssh", "--description", "ssh in"])
    c.awsJson(["ec2", "authorize-security-group-ingress", "--group-name", "ssh", "--protocol", "tcp", "--port", "22", "--cidr", "0.0.0.0/0"])
    const launches: Array<Launch> = []
    for (let i = 0; i < runs; i++) {
      const t0 = Date.now()
      const r = c.awsJson<{ Instances: Array<{ InstanceId: string }> }>([
        "ec2", "run-instances", "--image-id", c.imageId, "--instance-type", "c1.medium", "--count", "1", "--key-name", "bench", "--security-groups", "ssh"
      ])
      const id = r.Instances[0]!.InstanceId
      let toRunningMs = -1
      let address = ""
      const deadline = t0 + 600_000
      while (Date.now() < deadline) {
        const d = c.describe(id)
        if (d.State.Name === "terminated") throw new Error(`${id} failed: ${d.StateReason?.Message}`)
        if (d.State.Name === "running") {
          toRunningMs = Date.now() - t0
          address = d.PublicIpAddress ?? ""
          break
        }
        await sleep(200)
      }
      if (toRunningMs < 0) throw new Error(`${id} did not reach running in 600 s`)
      let toSshMs = -1
      while (Date.now() < deadline) {
        if ((await c.ssh(keyPath, address, "true", 3)).code === 0) {
          toSshMs = Date.now() - t0
          break
        }
        await sleep(500)
      }
      if (toSshMs < 0) throw new Error(`${id} was not SSH-able in 600 s`)
      launches.push({ toRunningMs, toSshMs })
      if (!json) console.log(`launch ${i + 1}/${runs}: running after ${(toRunningMs / 1000).toFixed(1)} s, SSH-able after ${(toSshMs / 1000).toFixed(1)} s`)
      c.awsJson(["ec2", "terminate-instances", "--instance-ids", id])
      c.aws(["ec2", "wait", "instance-terminated", "--instance-ids", id])
    }
    const m = /guests run with domain type (kvm|qemu): ([^"\n]*)/.exec(c.serve.log())
    const figures = {
      domainType: m?.[1] ?? "unknown",
      domainTypeWhy: m?.[2]?.slice(0, 300) ?? "",
      runs,
      runInstancesToRunningMsMedian: median(launches.map((l) => l.toRunningMs)),
      runInstancesToSshMsMedian: median(launches.map((l) => l.toSshMs)),
      launches
    }
    if (json) console.log(JSON.stringify(figures, null, 2))
    else {
      console.log(`domain type: ${figures.domainType}${figures.domainType === "qemu" ? " (TCG; KVM failed its probe on this node)" : ""}`)
      console.log(`RunInstances → running:   median ${(figures.runInstancesToRunningMsMedian / 1000).toFixed(1)} s over ${runs}`)
      console.log(`RunInstances → SSH-able:  median ${(figures.runInstancesToSshMsMedian / 1000).toFixed(1)} s over ${runs}`)
    }
  } finally {
    if (cloud) await cloud.stop().catch((e) => console.error(`cleanup: ${(e as Error).message}`))
    await lab.destroy()
  }
}

main().then(
  () => process.exit(0),
  (e) => {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  }
)
