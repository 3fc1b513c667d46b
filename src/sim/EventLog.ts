/**
 * events.log: one line per recorded event, `<time ms> <what> <details>`, space-separated, nothing
 * that depends on the machine or the wall clock — so two runs of the same experiment and seed give
 * byte-identical files, and two engines can be compared with a diff.
 *
 *   0 reject r3 InsufficientCapacity zone-1     a request turned down, with the reason's tag
 *   0 launch r1 zone-1 2                        a request accepted, its instances follow
 *   0 vlan+ 10                                  a security group's network took VLAN 10 (vlan- gives it back)
 *   0 wake n07                                  an asleep node is woken for this launch
 *   0 place r1 i-1a2b3c4d n01 172.31.0.2 198.51.100.10 10   instance, node, private IP, public IP, VLAN (- for none)
 *   0 start i-1a2b3c4d                          its VM is started on the node
 *   31250 boot i-1a2b3c4d 31250                 running, after waiting this many ms since the request
 *   3631250 stop i-1a2b3c4d                     its lifetime is over, shutting down
 *   3633250 end i-1a2b3c4d                      gone, capacity released (fail: its start failed)
 *   60000 up n07 / 900001 sleep n07             a woken node came up / an idle node was powered down
 *   3633250 finish 12                           end of the run, events processed
 */
import * as Ids from "../model/Ids.js"
import * as Ipv4 from "../model/Ipv4.js"
import type * as Recorder from "./Recorder.js"
import * as Text from "./Text.js"

const ip = (n: number): string => (n < 0 ? "-" : Ipv4.format(n))

export class EventLog implements Recorder.Recorder {
  private readonly out: Text.Buffered

  constructor(
    private readonly nodeIds: ReadonlyArray<string>,
    private readonly zoneNames: ReadonlyArray<string>,
    sink: (chunk: string) => void
  ) {
    this.out = new Text.Buffered(sink)
  }

  rejected(t: number, req: number, tag: string, zone: string | undefined): void {
    this.out.line(zone === undefined ? `${t} reject r${req} ${tag}` : `${t} reject r${req} ${tag} ${zone}`)
  }
  launched(t: number, req: number, zone: number, count: number): void {
    this.out.line(`${t} launch r${req} ${this.zoneNames[zone]} ${count}`)
  }
  vlan(t: number, vlan: number, acquired: boolean): void {
    this.out.line(`${t} ${acquired ? "vlan+" : "vlan-"} ${vlan}`)
  }
  woken(t: number, node: number): void {
    this.out.line(`${t} wake ${this.nodeIds[node]}`)
  }
  placed(t: number, req: number, seq: number, node: number, _c: number, _m: number, _d: number, privateIp: number, publicIp: number, vlan: number): void {
    this.out.line(`${t} place r${req} ${Ids.instanceId(seq)} ${this.nodeIds[node]} ${ip(privateIp)} ${ip(publicIp)} ${vlan < 0 ? "-" : vlan}`)
  }
  started(t: number, seq: number, _node: number): void {
    this.out.line(`${t} start ${Ids.instanceId(seq)}`)
  }
  booted(t: number, seq: number, _node: number, waitMs: number): void {
    this.out.line(`${t} boot ${Ids.instanceId(seq)} ${waitMs}`)
  }
  terminating(t: number, seq: number, _node: number): void {
    this.out.line(`${t} stop ${Ids.instanceId(seq)}`)
  }
  terminated(t: number, seq: number, _node: number, _c: number, _m: number, _d: number, _pub: number, failed: boolean): void {
    this.out.line(`${t} ${failed ? "fail" : "end"} ${Ids.instanceId(seq)}`)
  }
  nodeUp(t: number, node: number): void {
    this.out.line(`${t} up ${this.nodeIds[node]}`)
  }
  poweredDown(t: number, node: number): void {
    this.out.line(`${t} sleep ${this.nodeIds[node]}`)
  }
  /** Not a line of the log: the log stays as it was for runs without volumes (the summary carries storage). */
  storage(_t: number, _zone: number, _deltaGiB: number): void {}
  finish(t: number, events: number): void {
    this.out.line(`${t} finish ${events}`)
    this.out.flush()
  }
}
