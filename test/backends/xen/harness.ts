/** Nodes-file entries and SSH targets for a throwaway sshd (test/support/sshd.ts). */
import * as Path from "node:path"
import { Schema } from "effect"
import * as NodesFile from "../../../src/backends/xen/NodesFile.js"
import type { Sshd } from "../../support/sshd.js"

/** A node whose paths live under the sshd's remote directory (writable by its login user). */
export const nodeOf = (sshd: Sshd, name = "node-1", over: Record<string, unknown> = {}): NodesFile.Node =>
  Schema.decodeUnknownSync(NodesFile.Node)({
    name,
    zone: "zone-1",
    host: sshd.host,
    port: sshd.port,
    user: sshd.user,
    privateKeyPath: sshd.privateKeyPath,
    hostKey: sshd.knownHostsLine,
    reserve: { memoryMiB: 4096, cores: 1 },
    xl: ["xl"],
    paths: {
      configDir: Path.join(sshd.remoteDir, name, "etc-xen"),
      instancesDir: Path.join(sshd.remoteDir, name, "instances"),
      imageCacheDir: Path.join(sshd.remoteDir, name, "cache"),
      imageCacheMiB: 64,
      consoleLogDir: Path.join(sshd.stateDir, "console")
    },
    timeouts: { connectMs: 5000, commandMs: 10000, createMs: 20000, uploadMs: 20000 },
    ...over
  })

export const targetOf = (sshd: Sshd, name = "node-1", timeouts: Partial<NodesFile.Timeouts> = {}): NodesFile.SshTarget => ({
  ...NodesFile.nodeTarget(nodeOf(sshd, name)),
  timeouts: { ...NodesFile.nodeTarget(nodeOf(sshd, name)).timeouts, ...timeouts }
})
