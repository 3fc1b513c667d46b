/**
 * Attaching and detaching a volume on a real backend: the storage host's NBD export and the node's
 * hot-plug, in the order that leaves nothing half-done. An attach exports, then plugs; if the plug
 * fails (the node unplugs what it may have plugged) the export is stopped again and the reason
 * given. A detach unplugs, then stops the export; if the guest keeps the disk, the export stays
 * (the data is still in use) unless the detach is forced.
 */
import { Effect } from "effect"
import type * as StorageAgent from "./StorageAgent.js"

export interface Attachment {
  readonly volumeId: string
  readonly device: string
  readonly address: string
  readonly port: number
}

export type Plug = (instanceId: string, volume: Attachment) => Effect.Effect<void, { readonly message: string }>

export interface Request {
  readonly volumeId: string
  readonly instanceId: string
  readonly device: string
}

/** Exports the volume and plugs it into the instance; on failure, the reason (and nothing left behind). */
export const attach = (sa: StorageAgent.StorageAgentShape, plug: Plug, r: Request): Effect.Effect<Attachment, { readonly message: string }> =>
  Effect.gen(function*() {
    const x = yield* sa.exportVolume(r.volumeId)
    const attachment = { volumeId: r.volumeId, device: r.device, address: x.address, port: x.port }
    const plugged = yield* Effect.either(plug(r.instanceId, attachment))
    if (plugged._tag === "Left") {
      const u = yield* Effect.either(sa.unexport(r.volumeId))
      if (u._tag === "Left") yield* Effect.logWarning(`stopping the export of ${r.volumeId} after the failed attach failed too: ${u.left.message}`)
      return yield* Effect.fail(plugged.left)
    }
    return attachment
  })

export type Outcome =
  | { readonly _tag: "Detached" }
  /** The guest still holds the disk (not forced): the export stays. */
  | { readonly _tag: "Held"; readonly reason: string }

/** Unplugs the volume (if the node can) and stops its export. */
export const detach = (sa: StorageAgent.StorageAgentShape, unplug: Plug | undefined, r: Request & { readonly force: boolean }): Effect.Effect<Outcome> =>
  Effect.gen(function*() {
    if (unplug !== undefined) {
      const port = yield* Effect.either(sa.exportOf(r.volumeId))
      const known = port._tag === "Right" ? port.right : undefined
      // libvirt finds the disk to unplug by its target; the source only has to be well formed.
      const u = yield* Effect.either(unplug(r.instanceId, {
        volumeId: r.volumeId, device: r.device, address: sa.storage.export.address, port: known ?? sa.storage.export.ports.first
      }))
      if (u._tag === "Left") {
        if (!r.force) return { _tag: "Held", reason: u.left.message } as const
        yield* Effect.logWarning(`forced detach of ${r.volumeId} from ${r.instanceId}: the node's detach failed (${u.left.message}); its export is stopped anyway`)
      }
    }
    const s = yield* Effect.either(sa.unexport(r.volumeId))
    if (s._tag === "Left") yield* Effect.logWarning(`stopping the export of ${r.volumeId} failed: ${s.left.message}`)
    return { _tag: "Detached" } as const
  })
