/**
 * A backend for controller tests: records every effect, and (optionally) answers a start with a boot
 * and a stop with a stop, at once. Anything else it is asked dies loudly.
 */
import { Effect, Layer, Ref } from "effect"
import * as Backend from "../../src/controller/Backend.js"
import type * as Effects from "../../src/model/Effects.js"

export interface Recorder {
  readonly effects: Ref.Ref<ReadonlyArray<Effects.Effect>>
}

export const make = (options: { readonly autoBoot: boolean }) =>
  Effect.gen(function* () {
    const effects = yield* Ref.make<ReadonlyArray<Effects.Effect>>([])
    const ctxRef = yield* Ref.make<Backend.BackendContext | undefined>(undefined)
    const shape: Backend.BackendShape = {
      start: (ctx) => Ref.set(ctxRef, ctx),
      execute: (e) =>
        Effect.gen(function* () {
          yield* Ref.update(effects, (xs) => [...xs, e])
          const ctx = yield* Ref.get(ctxRef)
          if (!options.autoBoot || !ctx) return
          if (e._tag === "StartInstance") yield* ctx.report({ _tag: "InstanceBooted", at: 0 as never, instanceId: e.instance.id })
          if (e._tag === "StopInstance") yield* ctx.report({ _tag: "InstanceStopped", at: 0 as never, instanceId: e.instanceId })
        }),
      consoleOutput: (i) => Effect.succeed(`console of ${i.id}`)
    }
    return { shape, recorder: { effects } satisfies Recorder }
  })

export const layer = (options: { readonly autoBoot: boolean }) =>
  Layer.effect(Backend.Backend, Effect.map(make(options), (x) => x.shape))
