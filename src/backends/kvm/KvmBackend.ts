/**
 * The KVM backend behind the controller's Backend port: the Xen backend's machinery (SSH pool with
 * pinned host keys, image lookup, network plan applies on the cluster heads, the reconcile loop, node
 * loss, compensation on failure) with KVM node agents (virsh + qemu-img over the same SSH
 * connections). Lost instances' persistent domains are undefined and their overlays removed.
 */
import type { SqlClient } from "@effect/sql"
import { Effect, Layer, Schema, type Scope } from "effect"
import * as Backend from "../../controller/Backend.js"
import type * as NodesFile from "../xen/NodesFile.js"
import * as XenBackend from "../xen/XenBackend.js"
import * as KvmAgent from "./KvmAgent.js"

/** The `backend` section of a server config that runs KVM nodes through libvirt. */
export const Config = Schema.Struct({
  kind: Schema.Literal("kvm"),
  /** The nodes file (as for Xen, with each node's `kvm` section); relative to the config file. */
  nodesFile: Schema.String
})
export type Config = typeof Config.Type

export interface Options {
  readonly nodes: NodesFile.NodesFile
  readonly reconcileEvery?: XenBackend.Options["reconcileEvery"]
  readonly lostAfter?: number
  readonly ssh?: XenBackend.Options["ssh"]
  /** Seconds a KVM probe guest must survive (default 3). */
  readonly probeSeconds?: number
}

export const make = (options: Options): Effect.Effect<Backend.BackendShape, unknown, Scope.Scope | SqlClient.SqlClient> =>
  XenBackend.make({
    nodes: options.nodes,
    ...(options.reconcileEvery !== undefined ? { reconcileEvery: options.reconcileEvery } : {}),
    ...(options.lostAfter !== undefined ? { lostAfter: options.lostAfter } : {}),
    ...(options.ssh !== undefined ? { ssh: options.ssh } : {}),
    name: "kvm",
    cleanUpLost: true,
    agents: (file, pool, images) =>
      KvmAgent.all(file, pool, images, {
        defaultKernelId: file.images?.defaultKernelId,
        defaultRamdiskId: file.images?.defaultRamdiskId,
        probeSeconds: options.probeSeconds
      })
  })

export const layer = (options: Options): Layer.Layer<Backend.Backend, unknown, SqlClient.SqlClient> => Layer.scoped(Backend.Backend, make(options))
