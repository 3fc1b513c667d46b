/**
 * What the engines report, as they go: one call per thing that happened, with plain numbers (no
 * object per event). Both engines make the same calls in the same order for the same experiment —
 * the event log, the metrics and the placements file are all recorders, so comparing two runs'
 * logs compares everything the results are made of.
 *
 * Numbers: `t` is integer ms; `node` is the node's index in the cloud (zones in order, nodes in
 * configuration order); `seq` is the instance's launch sequence number (its id is Ids.instanceId(seq));
 * `req` is the 1-based request number in arrival order; addresses are IPv4 as unsigned 32-bit
 * integers, −1 for none; `vlan` −1 for none.
 */

export interface Recorder {
  /** A request was turned down as a whole; `zone` is the zone the rejection names, else the one requested. */
  rejected(t: number, req: number, tag: string, zone: string | undefined): void
  /** A request was accepted in zone `zone` (index): `count` placed calls follow. */
  launched(t: number, req: number, zone: number, count: number): void
  /** A security group's network took a VLAN (acquired) or gave it back. */
  vlan(t: number, vlan: number, acquired: boolean): void
  /** An asleep node was chosen and is being woken. */
  woken(t: number, node: number): void
  placed(
    t: number,
    req: number,
    seq: number,
    node: number,
    cores: number,
    memoryMiB: number,
    diskGiB: number,
    privateIp: number,
    publicIp: number,
    vlan: number
  ): void
  /** The instance's VM was started on its node (at once, or when its waking node came up). */
  started(t: number, seq: number, node: number): void
  booted(t: number, seq: number, node: number, waitMs: number): void
  /** Its lifetime is over: it is shutting down. */
  terminating(t: number, seq: number, node: number): void
  /** It is gone and its capacity (and addresses) released; `failed`: its start failed. */
  terminated(
    t: number,
    seq: number,
    node: number,
    cores: number,
    memoryMiB: number,
    diskGiB: number,
    publicIp: number,
    failed: boolean
  ): void
  /** A woken node came up. */
  nodeUp(t: number, node: number): void
  /** An idle node was powered down (POWERSAVE). */
  poweredDown(t: number, node: number): void
  /** The GiB a zone's storage controller holds changed by `deltaGiB` (volumes made with a launch, or freed with an instance). */
  storage(t: number, zone: number, deltaGiB: number): void
  /** The run ended at `t` after processing `events` events. */
  finish(t: number, events: number): void
}

/** A recorder that ignores everything (a base for recorders that care about a few calls). */
export class Nothing implements Recorder {
  rejected(_t: number, _req: number, _tag: string, _zone: string | undefined): void {}
  launched(_t: number, _req: number, _zone: number, _count: number): void {}
  vlan(_t: number, _vlan: number, _acquired: boolean): void {}
  woken(_t: number, _node: number): void {}
  placed(
    _t: number,
    _req: number,
    _seq: number,
    _node: number,
    _cores: number,
    _memoryMiB: number,
    _diskGiB: number,
    _privateIp: number,
    _publicIp: number,
    _vlan: number
  ): void {}
  started(_t: number, _seq: number, _node: number): void {}
  booted(_t: number, _seq: number, _node: number, _waitMs: number): void {}
  terminating(_t: number, _seq: number, _node: number): void {}
  terminated(
    _t: number,
    _seq: number,
    _node: number,
    _cores: number,
    _memoryMiB: number,
    _diskGiB: number,
    _publicIp: number,
    _failed: boolean
  ): void {}
  nodeUp(_t: number, _node: number): void {}
  poweredDown(_t: number, _node: number): void {}
  storage(_t: number, _zone: number, _deltaGiB: number): void {}
  finish(_t: number, _events: number): void {}
}

/** Several recorders, called in order. */
export class Tee implements Recorder {
  constructor(private readonly all: ReadonlyArray<Recorder>) {}
  rejected(t: number, req: number, tag: string, zone: string | undefined): void {
    for (const r of this.all) r.rejected(t, req, tag, zone)
  }
  launched(t: number, req: number, zone: number, count: number): void {
    for (const r of this.all) r.launched(t, req, zone, count)
  }
  vlan(t: number, vlan: number, acquired: boolean): void {
    for (const r of this.all) r.vlan(t, vlan, acquired)
  }
  woken(t: number, node: number): void {
    for (const r of this.all) r.woken(t, node)
  }
  placed(t: number, req: number, seq: number, node: number, c: number, m: number, d: number, ip: number, pub: number, vlan: number): void {
    for (const r of this.all) r.placed(t, req, seq, node, c, m, d, ip, pub, vlan)
  }
  started(t: number, seq: number, node: number): void {
    for (const r of this.all) r.started(t, seq, node)
  }
  booted(t: number, seq: number, node: number, waitMs: number): void {
    for (const r of this.all) r.booted(t, seq, node, waitMs)
  }
  terminating(t: number, seq: number, node: number): void {
    for (const r of this.all) r.terminating(t, seq, node)
  }
  terminated(t: number, seq: number, node: number, c: number, m: number, d: number, pub: number, failed: boolean): void {
    for (const r of this.all) r.terminated(t, seq, node, c, m, d, pub, failed)
  }
  nodeUp(t: number, node: number): void {
    for (const r of this.all) r.nodeUp(t, node)
  }
  poweredDown(t: number, node: number): void {
    for (const r of this.all) r.poweredDown(t, node)
  }
  storage(t: number, zone: number, deltaGiB: number): void {
    for (const r of this.all) r.storage(t, zone, deltaGiB)
  }
  finish(t: number, events: number): void {
    for (const r of this.all) r.finish(t, events)
  }
}

export const tee = (...all: ReadonlyArray<Recorder | undefined>): Recorder => {
  const xs = all.filter((r): r is Recorder => r !== undefined)
  return xs.length === 1 ? xs[0]! : new Tee(xs)
}
