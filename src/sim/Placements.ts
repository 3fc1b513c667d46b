/**
 * placements.csv: `time_ms,request_id,instance_id,zone,node,outcome,reason` — one row per instance
 * placed (outcome `placed`, reason empty) and one per rejected request (outcome `rejected`, instance
 * and node empty, reason = the rejection's tag, zone = the zone it names or the one requested).
 * time_ms is when the request was decided (its arrival).
 */
import * as Ids from "../model/Ids.js"
import * as Recorder from "./Recorder.js"
import * as Text from "./Text.js"

export const header = "time_ms,request_id,instance_id,zone,node,outcome,reason"

/** A row as a value (for SQLite and for tests). */
export interface Row {
  readonly timeMs: number
  readonly requestId: number
  readonly instanceId: string | undefined
  readonly zone: string | undefined
  readonly node: string | undefined
  readonly outcome: "placed" | "rejected"
  readonly reason: string | undefined
}

const csvField = (s: string | undefined): string => (s === undefined ? "" : /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)

export const formatRow = (r: Row): string =>
  [r.timeMs, r.requestId, csvField(r.instanceId), csvField(r.zone), csvField(r.node), r.outcome, csvField(r.reason)].join(",")

/** Hands each row to `onRow` (e.g. to write CSV and fill SQLite). */
export class Placements extends Recorder.Nothing {
  constructor(
    private readonly nodeIds: ReadonlyArray<string>,
    private readonly nodeZones: ReadonlyArray<string>,
    private readonly onRow: (r: Row) => void
  ) {
    super()
  }
  override rejected(t: number, req: number, tag: string, zone: string | undefined): void {
    this.onRow({ timeMs: t, requestId: req, instanceId: undefined, zone, node: undefined, outcome: "rejected", reason: tag })
  }
  override placed(t: number, req: number, seq: number, node: number): void {
    this.onRow({
      timeMs: t,
      requestId: req,
      instanceId: Ids.instanceId(seq),
      zone: this.nodeZones[node],
      node: this.nodeIds[node],
      outcome: "placed",
      reason: undefined
    })
  }
}

/** Writes placements.csv through a buffered sink. */
export class Csv extends Placements {
  private readonly out: Text.Buffered

  constructor(nodeIds: ReadonlyArray<string>, nodeZones: ReadonlyArray<string>, sink: (chunk: string) => void) {
    const out = new Text.Buffered(sink)
    super(nodeIds, nodeZones, (r) => out.line(formatRow(r)))
    this.out = out
    out.line(header)
  }

  override finish(): void {
    this.out.flush()
  }
}
