/**
 * Real Xen 4.17 in the loop: the dom0 image of scripts/xen-host/build.sh booted under QEMU (one
 * boot for the whole file; about 1–3 minutes under TCG), reached over SSH with its pinned host key.
 *
 * 1. Every format the backend parses, re-checked against the real `xl` (outputs captured into
 *    fixtures/real-4.17/ by EUCA_XEN_CAPTURE=<dir>): `xl list`, `xl list -l`, `xl info`,
 *    `xl info free_memory`, `xl vcpu-list`, `xl network-list`, `xl domid`, and the error messages
 *    and exit codes the node agent classifies — on dom0 alone and with a real (paused) PV domain.
 * 2. The journey through `euca serve --backend xen` (RealXen journey below), when a PV guest image
 *    is available.
 *
 * Needs root, mmdebstrap, QEMU (see XenHost.canBuild); under CI=true a skip is a failure.
 */
import * as ChildProcess from "node:child_process"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as XlParse from "../../../src/backends/xen/XlParse.js"
import * as GuestImages from "../../support/GuestImages.js"
import * as ServeProcess from "../../support/ServeProcess.js"
import * as XenHost from "../../support/XenHost.js"
import { fixture } from "./fixtures.js"

const enabled = XenHost.xenOrSkip("the real-Xen tests")
let host: XenHost.XenHost | undefined
const figures: Record<string, number | string> = {}
const XL = ["sudo", "-n", "/usr/sbin/xl"]

const capture = (name: string, text: string) => {
  const dir = process.env["EUCA_XEN_CAPTURE"]
  if (dir === undefined || dir === "") return
  Fs.mkdirSync(dir, { recursive: true })
  Fs.writeFileSync(Path.join(dir, name), text)
}

const ok = <A>(e: Either.Either<A, XlParse.ParseFailure>): A => {
  if (Either.isLeft(e)) throw new Error(XlParse.formatFailure(e.left))
  return e.right
}

const xl = async (...args: Array<string>) => {
  // xl create under TCG took 40 s to over 2 minutes (the hotplug scripts run in dom0).
  const r = await (args[0] === "create" ? host!.xlWithin(420_000, ...args) : host!.xl(...args))
  return { ...r, kind: XlParse.classify(r.status, r.stderr) }
}

beforeAll(async () => {
  if (!enabled) return
  const t0 = Date.now()
  const image = await XenHost.build()
  figures["image build (s, cached: ~1)"] = (Date.now() - t0) / 1000
  host = await XenHost.boot(image)
  figures["dom0 boot to sshd + xl (s)"] = host.bootSeconds
  figures["accel"] = host.accel
}, 900_000)

afterAll(async () => {
  await host?.stop()
  if (Object.keys(figures).length > 0) console.log(`real Xen figures: ${JSON.stringify(figures)}`)
}, 60_000)

/**
 * A tiny PV domain, created paused (it never runs): the dom0 kernel as its kernel, no disk and no
 * vif. With a disk (a raw file: libxl runs /etc/xen/scripts/block, losetup) `xl create` failed here
 * because libxl killed the hotplug script on its 40 s timeout (fixtures/real-4.17/
 * xl-create-hotplug-timeout.txt). Traced on 2026-12-03: the script's claim_lock looped for ever on a
 * missing /dev/stdin (devtmpfs without udev; init.sh now makes it); with it, the lock is taken but a
 * fork+exec in dom0 cost about 1.2 s under TCG on the loaded 2-core machine and `block add` still
 * needed more than 40 s.
 */
const PROBE = "euca-probe"
const probeCfg = (name: string, memory = 128) => [
  `name = "${name}"`,
  `type = "pv"`,
  `kernel = "/var/lib/eucalyptus/probe/kernel"`,
  `cmdline = "console=hvc0"`,
  `memory = ${memory}`,
  `vcpus = 1`,
  `on_poweroff = "destroy"`,
  `on_reboot = "restart"`,
  `on_crash = "destroy"`,
  ""
].join("\n")

describe.runIf(enabled)("real xl 4.17 formats (dom0 under QEMU)", () => {
  it("xl list, xl info, xl info free_memory and xl vcpu-list of a host with only dom0", async () => {
    const list = await xl("list")
    expect(list.status, list.stderr).toBe(0)
    expect(list.stderr).toBe("")
    capture("xl-list-empty-host.txt", list.stdout)
    // The header, tabs included, is the fixture's byte for byte.
    expect(list.stdout.split("\n")[0]).toBe(fixture("xl-list-empty-host.txt").split("\n")[0])
    const ds = ok(XlParse.parseList(list.stdout))
    expect(ds.map((d) => [d.name, d.domid, d.memoryMiB, d.vcpus])).toEqual([["Domain-0", 0, 1024, 2]])
    expect(ds[0]!.state.running || ds[0]!.state.blocked).toBe(true)
    // Rows: "%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f"
    expect(list.stdout.split("\n")[1]).toMatch(/^Domain-0 {32} {5}0 {2}1024 {5}2 {5}[r-][b-]---- {2}[ \d]{5}\d\.\d$/)

    const listV = await xl("list", "-v")
    capture("xl-list-v-empty-host.txt", listV.stdout)
    expect(ok(XlParse.parseList(listV.stdout))[0]).toMatchObject({ name: "Domain-0", uuid: "00000000-0000-0000-0000-000000000000" })
    expect(listV.stdout.split("\n")[0]).toBe(fixture("xl-list-v.txt").split("\n")[0])

    const info = await xl("info")
    expect(info.status, info.stderr).toBe(0)
    capture("xl-info.txt", info.stdout)
    const parsed = ok(XlParse.parseInfo(info.stdout))
    expect(parsed).toMatchObject({ host: "xen-dom0", nrCpus: 2 })
    expect(parsed.xenVersion).toMatch(/^4\.17\./)
    expect(parsed.totalMemoryMiB).toBeGreaterThan(1900)
    expect(parsed.totalMemoryMiB).toBeLessThanOrEqual(2048)
    expect(parsed.freeMemoryMiB).toBeLessThan(parsed.totalMemoryMiB - 1000)
    // The same fields in the same order as the fixture (print_info's order).
    const keys = (t: string) => t.split("\n").filter((l) => l.trim() !== "").map((l) => l.split(":")[0]!.trim())
    expect(keys(info.stdout)).toEqual(keys(fixture("xl-info.txt")))
    for (const line of info.stdout.split("\n").filter((l) => l !== "")) expect(line).toMatch(/^[a-z_]{1,23} *: ?/)

    const free = await xl("info", "free_memory")
    capture("xl-info-free_memory.txt", free.stdout)
    expect(ok(XlParse.parseFreeMemory(free.stdout))).toBe(parsed.freeMemoryMiB)

    const vcpus = await xl("vcpu-list")
    capture("xl-vcpu-list-dom0.txt", vcpus.stdout)
    expect(vcpus.status, vcpus.stderr).toBe(0)
    expect(vcpus.stdout.split("\n")[0]).toBe(fixture("xl-vcpu-list.txt").split("\n")[0])
    const dom0Rows = vcpus.stdout.split("\n").filter((l) => l.startsWith("Domain-0"))
    expect(dom0Rows).toHaveLength(2)

    const long = await xl("list", "-l")
    capture("xl-list-l-empty-host.json", long.stdout)
    expect(long.status, long.stderr).toBe(0)
    // Domain-0 is listed too (not skipped, as the shared reference expected), and the JSON ends with an empty line.
    expect(ok(XlParse.parseListLong(long.stdout))).toMatchObject([{ domid: 0, name: "Domain-0", type: "pv", maxMemoryMiB: 1024 }])
    expect(long.stdout.endsWith("]\n\n")).toBe(true)
  }, 180_000)

  it("xl's failures: messages, exit codes and how the node agent classifies them", async () => {
    const cases: Array<[string, Array<string>, XlParse.XlFailureKind]> = [
      ["list-unknown-name", ["list", "i-nosuch"], "InvalidDomain"],
      ["list-unknown-id", ["list", "99"], "DomainNotFound"],
      ["domid-unknown-name", ["domid", "i-nosuch"], "DomainNotFound"],
      ["destroy-unknown-name", ["destroy", "i-nosuch"], "InvalidDomain"],
      ["destroy-unknown-id", ["destroy", "99"], "DomainNotFound"],
      ["destroy-dom0", ["destroy", "0"], "Dom0Refused"],
      ["reboot-unknown-name", ["reboot", "i-nosuch"], "InvalidDomain"],
      ["network-list-unknown-name", ["network-list", "i-nosuch"], "InvalidDomain"],
      ["create-missing-file", ["create", "/var/lib/eucalyptus/nosuch.cfg"], "ConfigUnreadable"]
    ]
    const out: Array<string> = []
    for (const [label, args, kind] of cases) {
      const r = await xl(...args)
      out.push(`$ xl ${args.join(" ")}\nexit ${r.status}\n${r.stdout}${r.stderr}`)
      expect.soft(r.kind, `xl ${args.join(" ")} → exit ${r.status}: ${r.stderr}`).toBe(kind)
      expect.soft(r.status, label).not.toBe(0)
    }
    // A config xl cannot parse.
    await host!.ssh("printf 'name = \"x\"\\nmemory = = 3\\n' > /var/lib/eucalyptus/bad.cfg")
    const bad = await xl("create", "/var/lib/eucalyptus/bad.cfg")
    out.push(`$ xl create /var/lib/eucalyptus/bad.cfg   (memory = = 3)\nexit ${bad.status}\n${bad.stdout}${bad.stderr}`)
    expect.soft(bad.kind, bad.stderr).toBe("ConfigInvalid")
    // Without sudo, as the login user: no access to the privileged interface.
    const nosudo = await host!.ssh("/usr/sbin/xl list")
    out.push(`$ xl list   (as the login user, without sudo)\nexit ${nosudo.status}\n${nosudo.stdout}${nosudo.stderr}`)
    expect.soft(nosudo.status).not.toBe(0)
    expect.soft(["NotUsable", "PermissionDenied"]).toContain(XlParse.classify(nosudo.status, nosudo.stderr))
    capture("xl-errors-dom0.txt", `${out.join("\n")}\n`)
  }, 180_000)

  it("a real PV domain (created paused): list, list -l, domid, network-list, vcpu-list, name in use, destroy", async () => {
    const h = host!
    expect((await h.ssh("mkdir -p /var/lib/eucalyptus/probe && truncate -s 16M /var/lib/eucalyptus/probe/disk")).status).toBe(0)
    await h.upload(h.image.kernel, "/var/lib/eucalyptus/probe/kernel")
    await h.ssh(`cat > /var/lib/eucalyptus/probe/probe.cfg <<'EOF'\n${probeCfg(PROBE)}EOF`)
    const t0 = Date.now()
    const created = await xl("create", "-p", "/var/lib/eucalyptus/probe/probe.cfg")
    figures["xl create -p of a PV domain (s)"] = (Date.now() - t0) / 1000
    capture("xl-create-ok.txt", `exit ${created.status}\n--- stdout\n${created.stdout}--- stderr\n${created.stderr}`)
    if (created.status !== 0) {
      const logs = await h.ssh("sudo -n sh -c 'tail -n 30 /var/log/xen/*.log'")
      throw new Error(`xl create failed (exit ${created.status}): ${created.stderr}\n${logs.stdout}`)
    }
    expect(created.stdout).toBe("")
    expect(created.stderr).toBe("Parsing config from /var/lib/eucalyptus/probe/probe.cfg\n")
    try {
      const domid = await xl("domid", PROBE)
      capture("xl-domid.txt", domid.stdout)
      const id = ok(XlParse.parseDomid(domid.stdout))
      expect(id).toBeGreaterThan(0)

      const list = await xl("list")
      capture("xl-list.txt", list.stdout)
      const row = ok(XlParse.parseList(list.stdout)).find((d) => d.name === PROBE)
      expect(row).toMatchObject({ domid: id, vcpus: 1, state: { paused: true, running: false, dying: false } })
      expect(row!.memoryMiB).toBe(128)
      const one = await xl("list", PROBE)
      expect(ok(XlParse.parseList(one.stdout)).map((d) => d.name)).toEqual([PROBE])

      const long = await xl("list", "-l")
      capture("xl-list-l.json", long.stdout)
      const detail = ok(XlParse.parseListLong(long.stdout)).find((d) => d.name === PROBE)
      expect(detail).toMatchObject({ domid: id, type: "pv", maxMemoryMiB: 128, targetMemoryMiB: 128, maxVcpus: 1 })
      expect(detail!.nics).toEqual([])
      expect(detail!.disks).toEqual([])
      const longOne = await xl("list", "-l", PROBE)
      expect(ok(XlParse.parseListLong(longOne.stdout)).map((d) => d.domid)).toEqual([id])

      const nets = await xl("network-list", PROBE)
      capture("xl-network-list.txt", nets.stdout)
      expect(nets.status, nets.stderr).toBe(0)
      expect(nets.stdout.split("\n")[0]).toBe(fixture("xl-network-list.txt").split("\n")[0])
      expect(nets.stdout.split("\n").filter((l) => l.trim() !== "")).toHaveLength(1)

      const vcpus = await xl("vcpu-list", PROBE)
      capture("xl-vcpu-list.txt", vcpus.stdout)
      // Xen 4.17.7 shows a domain created paused, whose vCPU never ran, as `---` (not `--p`).
      expect(vcpus.stdout.split("\n")[1]).toMatch(new RegExp(`^${PROBE} +${id} +0 +\\S+ +[r-][b-][p-] +\\d+\\.\\d +\\S+ / \\S+$`))

      const again = await xl("create", "-p", "/var/lib/eucalyptus/probe/probe.cfg")
      capture("xl-create-name-in-use.txt", `exit ${again.status}\n--- stdout\n${again.stdout}--- stderr\n${again.stderr}`)
      expect(again.kind, again.stderr).toBe("NameInUse")

      await h.ssh(`cat > /var/lib/eucalyptus/probe/big.cfg <<'EOF'\n${probeCfg("euca-big", 8192)}EOF`)
      const big = await xl("create", "-p", "/var/lib/eucalyptus/probe/big.cfg")
      capture("xl-create-out-of-memory.txt", `exit ${big.status}\n--- stdout\n${big.stdout}--- stderr\n${big.stderr}`)
      expect(big.kind, big.stderr).toBe("OutOfMemory")

      const shut = await xl("shutdown", PROBE)
      capture("xl-shutdown-no-pv.txt", `exit ${shut.status}\n--- stdout\n${shut.stdout}--- stderr\n${shut.stderr}`)
      expect(shut.kind, shut.stderr).toBe("NoPvControl")
    } finally {
      const d = await xl("destroy", PROBE)
      capture("xl-destroy.txt", `exit ${d.status}\n--- stdout\n${d.stdout}--- stderr\n${d.stderr}`)
      expect(d.status, d.stderr).toBe(0)
    }
    const gone = await xl("list", PROBE)
    expect(XlParse.isNoSuchDomain(gone.kind)).toBe(true)
  }, 1_200_000)
})

// ── the journey: euca serve --backend xen, the AWS CLI v2, a real PV guest ─────────────────────────

const AWS = "/usr/bin/aws"
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls `f` every `everyMs` until it returns a value other than undefined. */
const until = async <A>(what: string, f: () => Promise<A | undefined>, ms: number, everyMs = 3000): Promise<A> => {
  const end = Date.now() + ms
  for (;;) {
    const a = await f()
    if (a !== undefined) return a
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

const domains = async (): Promise<Array<XlParse.ListEntry>> => {
  const r = await host!.xl("list")
  if (r.status !== 0) throw new Error(`xl list failed: ${r.stderr}`)
  return ok(XlParse.parseList(r.stdout)).filter((d) => d.domid !== 0)
}

/**
 * The journey. Opt-in (EUCA_XEN_JOURNEY=1): on the development machines (2 shared cores, TCG) the
 * node agent's `xl create` of an instance fails — libxl kills the block hotplug script of the
 * instance's root disk on its 40 s timeout (see probeCfg above for what was traced) — so it does not
 * pass there yet; see the report of issue 12.
 */
const journey = enabled && process.env["EUCA_XEN_JOURNEY"] === "1"
describe.runIf(journey)("real Xen journey: euca serve --backend xen, the AWS CLI v2, a busybox PV guest", () => {
  let serve: ServeProcess.Serve | undefined
  let work = ""
  let emi = ""

  afterAll(async () => {
    await serve?.stop()
    if (work) Fs.rmSync(work, { recursive: true, force: true })
  }, 60_000)

  const aws = async (...args: Array<string>): Promise<any> => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      ChildProcess.execFile(AWS, ["ec2", ...args, "--endpoint-url", serve!.url, "--region", serve!.region, "--output", "json"], {
        encoding: "utf8",
        timeout: 120_000,
        env: {
          PATH: process.env["PATH"] ?? "/usr/bin:/bin",
          HOME: work,
          AWS_ACCESS_KEY_ID: serve!.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: serve!.credentials.secretAccessKey,
          AWS_CONFIG_FILE: Path.join(work, "aws-config"),
          AWS_SHARED_CREDENTIALS_FILE: Path.join(work, "aws-credentials"),
          AWS_PAGER: "",
          AWS_EC2_METADATA_DISABLED: "true"
        }
      }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, stdout, stderr }))
    })
    if (r.code !== 0) throw new Error(`aws ec2 ${args.join(" ")} failed: ${r.stderr}`)
    return r.stdout.trim() === "" ? "" : JSON.parse(r.stdout)
  }
  const instance = async (id: string): Promise<any> => (await aws("describe-instances", "--instance-ids", id)).Reservations[0].Instances[0]
  const nodeState = async (): Promise<string> => {
    const rows = await ServeProcess.eucaJson<Array<{ node: string; state: string }>>(["admin", "nodes", "--data", Path.join(work, "data")])
    return rows.find((r) => r.node === "xen-1")!.state
  }

  it("serves the real dom0 as a node; an instance boots, logs, reboots and terminates", async () => {
    const h = host!
    const why = GuestImages.canBuild("busybox")
    if (why !== undefined) throw new Error(`the busybox guest image cannot be built here: ${why}`)
    let t = Date.now()
    const guest = await GuestImages.build("busybox")
    figures["guest image build (s)"] = (Date.now() - t) / 1000
    work = Fs.mkdtempSync(Path.join(Os.tmpdir(), "euca-real-xen-"))
    const dataDir = Path.join(work, "data")
    const nodesFile = Path.join(work, "nodes.json")
    Fs.writeFileSync(nodesFile, JSON.stringify({
      nodes: [{
        name: "xen-1", zone: "euca-1a", host: h.host, port: h.port, user: h.user,
        privateKeyPath: h.privateKeyPath, hostKey: h.knownHostsLine,
        reserve: { memoryMiB: 1024, cores: 0 },
        xl: ["sudo", "-n", "/usr/sbin/xl"],
        paths: {
          configDir: "/var/lib/eucalyptus/xen", instancesDir: "/var/lib/eucalyptus/instances",
          imageCacheDir: "/var/lib/eucalyptus/cache", imageCacheMiB: 256, consoleLogDir: "/var/log/xen/console"
        },
        diskGiB: 8,
        guest: { type: "pv", cmdline: "console=hvc0 panic=-1", defaultBridge: "xenbr0" },
        // A dom0 under TCG is slow: a minute for a command, five for xl create and an upload.
        timeouts: { connectMs: 60_000, commandMs: 20_000, createMs: 300_000, uploadMs: 300_000 }
      }]
    }, null, 2))
    const configPath = Path.join(work, "cloud.json")
    Fs.writeFileSync(configPath, JSON.stringify({ network: { mode: "SYSTEM", subnet: "10.0.3.0/24" }, backend: { kind: "xen", nodesFile }, tickSeconds: 1 }))
    const port = await ServeProcess.freePort("127.0.0.1")
    t = Date.now()
    serve = await ServeProcess.startServe({ host: "127.0.0.1", port, dataDir, configPath, backend: "xen", readyMs: 180_000 })
    figures["euca serve up (first poll of dom0) (s)"] = (Date.now() - t) / 1000
    // Register the PV image as the operator does (in the running server's data directory).
    const reg = async (kind: string, name: string, file: string, extra: Array<string> = []) =>
      (await ServeProcess.eucaJson<{ imageId: string; digest: string }>(["admin", "images", "register", "--data", dataDir, "--kind", kind, "--name", name, "--file", file, ...extra]))
    const kernel = await reg("kernel", "busybox-vmlinuz", guest.kernel)
    const ramdisk = await reg("ramdisk", "busybox-initrd", guest.ramdisk)
    const rootFile = Path.join(work, "root.img")
    Fs.writeFileSync(rootFile, Buffer.alloc(1 << 20))
    const machine = await reg("machine", "busybox-pv", rootFile, ["--kernel", kernel.imageId, "--ramdisk", ramdisk.imageId])
    emi = machine.imageId

    const zones = await aws("describe-availability-zones")
    expect(zones.AvailabilityZones.map((z: any) => z.ZoneName)).toEqual(["euca-1a"])
    expect(await nodeState()).toBe("up")

    t = Date.now()
    const run = await aws("run-instances", "--image-id", emi, "--instance-type", "m1.small", "--count", "1")
    const id: string = run.Instances[0].InstanceId
    // `running` only once the domain exists in xl list.
    const state = await until("the instance running", async () => {
      const i = await instance(id)
      if (i.State.Name === "pending") {
        // While pending, whatever xl shows is not yet reported as running.
        return undefined
      }
      return i.State.Name as string
    }, 600_000, 3000)
    expect(state).toBe("running")
    figures["run-instances → running (SFTP staging + xl create) (s)"] = (Date.now() - t) / 1000
    const dom = (await domains()).find((d) => d.name === id)
    expect(dom, `xl list after running: ${JSON.stringify(await domains())}`).toBeDefined()

    // The image cache was staged over SFTP: files named by digest on dom0.
    const cache = await h.ssh("ls /var/lib/eucalyptus/cache")
    for (const digest of [kernel.digest, ramdisk.digest, machine.digest]) expect(cache.stdout).toContain(digest)

    // The vif is on the bridge with the config's MAC.
    const long = ok(XlParse.parseListLong((await h.xl("list", "-l", id)).stdout))[0]!
    const mac = long.nics[0]!.mac!
    expect(long.nics[0]!.bridge).toBe("xenbr0")
    const nets = await h.xl("network-list", id)
    expect(nets.stdout.split("\n")[1]).toContain(mac)
    const master = await h.ssh(`cat /sys/class/net/vif${dom!.domid}.0/master/uevent`)
    expect(master.stdout).toContain("INTERFACE=xenbr0")

    // The real console log, from xenconsoled, through get-console-output.
    t = Date.now()
    const console1 = await until("EUCA-GUEST lines in the console output", async () => {
      const out = await aws("get-console-output", "--instance-id", id)
      const text = typeof out.Output === "string" ? out.Output : ""
      return text.includes("EUCA-GUEST: net eth0") ? text : undefined
    }, 400_000, 5000)
    figures["running → guest network up in its console (s)"] = (Date.now() - t) / 1000
    expect(console1).toMatch(/EUCA-GUEST: net eth0 10\.0\.3\.\d+/)
    capture("guest-console.log", console1)

    // Reboot: Xen re-creates the domain (a new domid, the same name).
    await aws("reboot-instances", "--instance-ids", id)
    const newId = await until("a new domid after the reboot", async () => {
      const d = (await domains()).find((x) => x.name === id)
      return d !== undefined && d.domid !== dom!.domid ? d.domid : undefined
    }, 300_000, 3000)
    expect(newId).toBeGreaterThan(dom!.domid)
    expect((await instance(id)).State.Name).toBe("running")

    t = Date.now()
    await aws("terminate-instances", "--instance-ids", id)
    await until("terminated", async () => ((await instance(id)).State.Name === "terminated" ? true : undefined), 300_000)
    figures["terminate → terminated (s)"] = (Date.now() - t) / 1000
    expect((await domains()).find((d) => d.name === id)).toBeUndefined()
    const files = await h.ssh(`ls /var/lib/eucalyptus/instances /var/lib/eucalyptus/xen`)
    expect(files.stdout).not.toContain(id)
  }, 1_500_000)

  it("notices `xl destroy` behind its back, and a node that stops answering (QEMU paused) goes down and comes back", async () => {
    const run = await aws("run-instances", "--image-id", emi, "--instance-type", "m1.small", "--count", "1")
    const id: string = run.Instances[0].InstanceId
    await until("running", async () => ((await instance(id)).State.Name === "running" ? true : undefined), 600_000)
    const d = await host!.xl("destroy", id)
    expect(d.status, d.stderr).toBe(0)
    const after = await until("the reconcile loop to fail the instance", async () => {
      const i = await instance(id)
      return i.State.Name === "terminated" ? i : undefined
    }, 180_000)
    expect(after.StateReason?.Code).toBe("Server.InternalError")

    const t = Date.now()
    await host!.pause()
    try {
      await until("the node marked down", async () => ((await nodeState()) === "down" ? true : undefined), 300_000, 3000)
      figures["QEMU paused → node down (s)"] = (Date.now() - t) / 1000
    } finally {
      await host!.resume()
    }
    const t2 = Date.now()
    await until("the node back up", async () => ((await nodeState()) === "up" ? true : undefined), 300_000, 3000)
    figures["QEMU resumed → node up (s)"] = (Date.now() - t2) / 1000
  }, 1_500_000)
})
