/**
 * The SSH hosts of a cloud (nodes and cluster heads), one connection each, opened lazily and closed
 * with the pool's scope.
 */
import { Context, Effect, Layer, Schema, type Scope } from "effect"
import * as NodesFile from "./NodesFile.js"
import * as SshHost from "./SshHost.js"

export class UnknownHost extends Schema.TaggedError<UnknownHost>()("UnknownHost", {
  name: Schema.String,
  message: Schema.String
}) {}

export interface SshPoolShape {
  /** The names the pool knows: node names and `head:<zone>`. */
  readonly names: ReadonlyArray<string>
  readonly host: (name: string) => Effect.Effect<SshHost.SshHostShape, UnknownHost>
}

export class SshPool extends Context.Tag("eucalyptus/xen/SshPool")<SshPool, SshPoolShape>() {}

export const make = (targets: ReadonlyArray<NodesFile.SshTarget>, options?: SshHost.Options): Effect.Effect<SshPoolShape, never, Scope.Scope> =>
  Effect.gen(function*() {
    const hosts = new Map<string, SshHost.SshHostShape>()
    for (const t of targets) {
      if (hosts.has(t.name)) return yield* Effect.dieMessage(`SshPool: two targets named ${t.name}`)
      hosts.set(t.name, yield* SshHost.make(t, options))
    }
    return {
      names: [...hosts.keys()],
      host: (name) => {
        const h = hosts.get(name)
        return h === undefined
          ? Effect.fail(new UnknownHost({ name, message: `no SSH host named ${JSON.stringify(name)} (known: ${[...hosts.keys()].join(", ")})` }))
          : Effect.succeed(h)
      }
    }
  })

export const layer = (targets: ReadonlyArray<NodesFile.SshTarget>, options?: SshHost.Options): Layer.Layer<SshPool> =>
  Layer.scoped(SshPool, make(targets, options))
