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
import * as Fs from "node:fs"
import * as Path from "node:path"
import { Either } from "effect"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import * as XlParse from "../../../src/backends/xen/XlParse.js"
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
  const r = await host!.xl(...args)
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

/** A tiny PV domain, created paused (it never runs): the dom0 kernel as its kernel, a raw disk, a vif. */
const PROBE = "euca-probe"
const PROBE_MAC = "00:16:3e:5a:01:02"
const probeCfg = (name: string, memory = 64) => [
  `name = "${name}"`,
  `type = "pv"`,
  `kernel = "/var/lib/eucalyptus/probe/kernel"`,
  `cmdline = "console=hvc0"`,
  `memory = ${memory}`,
  `vcpus = 1`,
  `disk = [ "format=raw, vdev=xvda1, access=rw, target=/var/lib/eucalyptus/probe/disk" ]`,
  `vif = [ "mac=${PROBE_MAC}, bridge=xenbr0" ]`,
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
    expect(list.stdout.split("\n")[1]).toMatch(/^Domain-0 {32} {5}0 {2}1024 {4}2 {5}[r-][b-]---- {2}[ \d]{6}\d\.\d$/)

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
    // Domain-0's config cannot be retrieved (xl made no config for it): it is left out.
    expect(ok(XlParse.parseListLong(long.stdout))).toEqual([])
  }, 180_000)

  it("xl's failures: messages, exit codes and how the node agent classifies them", async () => {
    const cases: Array<[string, Array<string>, XlParse.XlFailureKind]> = [
      ["list-unknown-name", ["list", "i-nosuch"], "InvalidDomain"],
      ["list-unknown-id", ["list", "99"], "DomainNotFound"],
      ["domid-unknown-name", ["domid", "i-nosuch"], "InvalidDomain"],
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
    expect(created.status, created.stderr).toBe(0)
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
      expect(row).toMatchObject({ domid: id, memoryMiB: 64, vcpus: 1, state: { paused: true, running: false, dying: false } })
      const one = await xl("list", PROBE)
      expect(ok(XlParse.parseList(one.stdout)).map((d) => d.name)).toEqual([PROBE])

      const long = await xl("list", "-l")
      capture("xl-list-l.json", long.stdout)
      const detail = ok(XlParse.parseListLong(long.stdout)).find((d) => d.name === PROBE)
      expect(detail).toMatchObject({ domid: id, type: "pv", maxMemoryMiB: 64, targetMemoryMiB: 64, maxVcpus: 1 })
      expect(detail!.nics).toEqual([{ mac: PROBE_MAC, bridge: "xenbr0", ifname: undefined }])
      expect(detail!.disks).toEqual([{ pdevPath: "/var/lib/eucalyptus/probe/disk", vdev: "xvda1" }])
      const longOne = await xl("list", "-l", PROBE)
      expect(ok(XlParse.parseListLong(longOne.stdout)).map((d) => d.domid)).toEqual([id])

      const nets = await xl("network-list", PROBE)
      capture("xl-network-list.txt", nets.stdout)
      expect(nets.status, nets.stderr).toBe(0)
      expect(nets.stdout.split("\n")[0]).toBe(fixture("xl-network-list.txt").split("\n")[0])
      expect(nets.stdout.split("\n")[1]).toMatch(new RegExp(`^0\\s+0\\s+${PROBE_MAC}\\s+0\\s+\\d+\\s+\\d+\\s+\\d+/\\d+\\s+/local/domain/0/backend/vif/${id}/0`))
      // The backend interface is vif<domid>.0, on xenbr0.
      const vif = await h.ssh(`cat /sys/class/net/vif${id}.0/master/uevent`)
      expect(vif.stdout).toContain("INTERFACE=xenbr0")

      const vcpus = await xl("vcpu-list", PROBE)
      capture("xl-vcpu-list.txt", vcpus.stdout)
      expect(vcpus.stdout.split("\n")[1]).toMatch(new RegExp(`^${PROBE} +${id} +0 +\\S+ +[r-][b-]p +\\d+\\.\\d +\\S+ / \\S+$`))

      const again = await xl("create", "-p", "/var/lib/eucalyptus/probe/probe.cfg")
      capture("xl-create-name-in-use.txt", `exit ${again.status}\n--- stdout\n${again.stdout}--- stderr\n${again.stderr}`)
      expect(again.kind, again.stderr).toBe("NameInUse")

      await h.ssh(`cat > /var/lib/eucalyptus/probe/big.cfg <<'EOF'\n${probeCfg("euca-big", 8192).replace(/^vif.*$/m, "").replace(/^disk.*$/m, "")}EOF`)
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
  }, 300_000)
})
