/**
 * Instances created through the real SSH path get a network namespace from the stand-in xl (run as
 * root through sshd), with vif<domid>.0 on the instance's bridge: what the network tests probe.
 */
import * as ChildProcess from "node:child_process"
import * as Crypto from "node:crypto"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect, Exit, Scope } from "effect"
import * as ImageCache from "../../../src/backends/xen/ImageCache.js"
import * as ImageStore from "../../../src/backends/xen/ImageStore.js"
import * as NodeAgent from "../../../src/backends/xen/NodeAgent.js"
import * as SshHost from "../../../src/backends/xen/SshHost.js"
import * as Ids from "../../../src/model/Ids.js"
import * as Resources from "../../../src/model/Resources.js"
import { rootOrSkip, type Sshd, startSshd } from "../../support/sshd.js"
import { nodeOf } from "./harness.js"

const enabled = rootOrSkip("NodeAgent network-namespace tests") && ChildProcess.spawnSync("ip", ["-V"]).status === 0
const run = <A, E>(e: Effect.Effect<A, E>) => Effect.runPromise(e)
const ip = (...a: Array<string>) => ChildProcess.spawnSync("ip", a, { encoding: "utf8" })

describe.skipIf(!enabled)("NodeAgent with the stand-in xl's network namespaces", () => {
  const tag = `na${process.pid % 100000}`
  const dom0 = `${tag}-dom0`
  let sshd: Sshd
  let scope: Scope.CloseableScope
  let local: string

  beforeAll(async () => {
    sshd = await startSshd({ user: "root" })
    local = Fs.mkdtempSync(Path.join(Os.tmpdir(), "agent-netns-"))
    expect(ip("netns", "add", dom0).status).toBe(0)
    expect(ip("-n", dom0, "link", "add", "eucabr10", "type", "bridge").status).toBe(0)
    ip("-n", dom0, "link", "set", "eucabr10", "up")
    for (const [f, v] of [["netns", ""], ["host/dom0_netns", dom0], ["host/netns_prefix", `${tag}-xl-`]] as const) {
      Fs.mkdirSync(Path.dirname(Path.join(sshd.stateDir, f)), { recursive: true })
      Fs.writeFileSync(Path.join(sshd.stateDir, f), `${v}\n`)
    }
    scope = await run(Scope.make())
  })
  afterAll(async () => {
    if (scope) await run(Scope.close(scope, Exit.void))
    if (sshd) await sshd.stop()
    for (const line of ip("netns", "list").stdout.split("\n")) {
      const name = line.split(" ")[0]
      if (name && name.startsWith(`${tag}-`)) ip("netns", "del", name)
    }
    if (local) Fs.rmSync(local, { recursive: true, force: true })
  })

  it("creates xl-<domid> with the instance's MAC and address on its bridge, and removes it on destroy", async () => {
    const store = await run(ImageStore.make(Path.join(local, "store")))
    const reg = (name: string, kind: ImageStore.ImageKind) => {
      Fs.writeFileSync(Path.join(local, name), Crypto.randomBytes(4096))
      return run(store.register(Path.join(local, name), kind))
    }
    const [m, k] = [await reg("root", "machine"), await reg("kernel", "kernel")]
    const node = nodeOf(sshd, "node-net")
    const host = await run(SshHost.make({ ...node, name: node.name }).pipe(Scope.extend(scope)))
    const cache = await run(ImageCache.make(host, { node: node.name, dir: node.paths.imageCacheDir, boundMiB: 16 }))
    const agent = NodeAgent.make(node, { host, cache, images: store, extraKeys: () => ({ xltest_prefix: 28, xltest_gateway: "172.31.1.1" }) })
    const ids = [Ids.instanceId(1), Ids.instanceId(2)]
    const started = await run(Effect.forEach(ids, (id, i) =>
      agent.start({ id, size: Resources.make(1, 128, 1), imageId: m.id, kernelId: k.id, mac: Ids.macOf(id), bridge: "eucabr10", privateIp: `172.31.1.${2 + i}`, vlan: 10 })))
    for (const [i, s] of started.entries()) {
      const ns = `${tag}-xl-${s.domid}`
      expect(ip("-n", ns, "link", "show", "eth0").stdout).toContain(`link/ether ${Ids.macOf(ids[i]!)}`)
      expect(ip("-n", ns, "-4", "addr", "show", "eth0").stdout).toContain(`inet 172.31.1.${2 + i}/28`)
      expect(ip("-n", dom0, "link", "show", `vif${s.domid}.0`).stdout).toContain("master eucabr10")
    }
    // The two guests share the bridge: one reaches the other's address (a TCP connect gets a refusal, not silence).
    const probe = ChildProcess.spawnSync("ip", ["netns", "exec", `${tag}-xl-${started[0]!.domid}`, "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/172.31.1.3/9"], { encoding: "utf8" })
    expect(probe.stderr).toContain("Connection refused")
    for (const id of ids) await run(agent.destroy(id))
    expect(ip("netns", "list").stdout).not.toContain(`${tag}-xl-`)
  })
})
