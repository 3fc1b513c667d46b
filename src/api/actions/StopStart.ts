/** StopInstances and StartInstances: EBS-backed instances only (instance-store ones answer UnsupportedOperation). */
import { Effect } from "effect"
import * as State from "../../model/State.js"
import * as H from "../Handler.js"
import * as Views from "../Views.js"
import * as Ec2Error from "../protocol/Ec2Error.js"

const unique = (ids: ReadonlyArray<string>) => [...new Set(ids)]

const dryRunOwned = (ids: ReadonlyArray<string>, rc: H.RequestContext, dry: boolean | undefined) =>
  Effect.gen(function* () {
    if (dry !== true) return
    const s = yield* H.state
    if (ids.every((id) => State.instance(s, id)?.account === rc.account.id)) return yield* Ec2Error.dryRunOperation()
    return yield* Ec2Error.unauthorizedOperation()
  })

export const StopInstances: H.Handler<"StopInstances"> = (input, rc) =>
  Effect.gen(function* () {
    if ((input.InstanceIds ?? []).length === 0) return yield* Ec2Error.missingParameter("InstanceId")
    yield* H.checkInstanceIds(input.InstanceIds)
    if (input.Hibernate === true) return yield* Ec2Error.make("UnsupportedOperation", "Hibernation is not supported by this cloud")
    yield* dryRunOwned(input.InstanceIds, rc, input.DryRun)
    const done = yield* H.submit({ _tag: "StopInstances", account: rc.account.id as State.Ids.AccountId, instanceIds: input.InstanceIds, force: input.Force })
    return {
      StoppingInstances: unique(input.InstanceIds).map((id) => ({
        InstanceId: id,
        PreviousState: Views.instanceState(State.instance(done.before, id)!.state),
        CurrentState: Views.instanceState(State.instance(done.after, id)!.state)
      }))
    }
  })

export const StartInstances: H.Handler<"StartInstances"> = (input, rc) =>
  Effect.gen(function* () {
    if ((input.InstanceIds ?? []).length === 0) return yield* Ec2Error.missingParameter("InstanceId")
    yield* H.checkInstanceIds(input.InstanceIds)
    yield* dryRunOwned(input.InstanceIds, rc, input.DryRun)
    const done = yield* H.submit({ _tag: "StartInstances", account: rc.account.id as State.Ids.AccountId, instanceIds: input.InstanceIds })
    return {
      StartingInstances: unique(input.InstanceIds).map((id) => ({
        InstanceId: id,
        PreviousState: Views.instanceState(State.instance(done.before, id)!.state),
        CurrentState: Views.instanceState(State.instance(done.after, id)!.state)
      }))
    }
  })
