import type { WireErrorCode } from '../wire/index.js';

/** Why a received packet was not handed on. */
export type DropReason =
  | WireErrorCode
  | 'frames'
  | 'unexpected_kind'
  | 'spec_mismatch'
  | 'stale'
  | 'out_of_order'
  | 'duplicate'
  | 'superseded';

/** Everything a link end counts; a snapshot goes into diagnostics and benchmarks. */
export class LinkCounters {
  sent = 0;
  sendSuperseded = 0;
  received = 0;
  delivered = 0;
  /** Token packets missing between consecutive sequence numbers. */
  seqGaps = 0;
  /** Sequence numbers that went backwards without a disconnect in between. */
  seqResets = 0;
  /** Times the peer went away (process ended, connection lost, heartbeats missed). */
  disconnects = 0;
  /** Packets stamped in the future beyond the tolerance (clock skew between hosts). */
  futureStamps = 0;
  readonly dropped = new Map<DropReason, number>();

  drop(reason: DropReason): void {
    this.dropped.set(reason, (this.dropped.get(reason) ?? 0) + 1);
  }

  droppedTotal(): number {
    let total = 0;
    for (const n of this.dropped.values()) total += n;
    return total;
  }

  snapshot(): Record<string, number> {
    const out: Record<string, number> = {
      sent: this.sent,
      send_superseded: this.sendSuperseded,
      received: this.received,
      delivered: this.delivered,
      seq_gaps: this.seqGaps,
      seq_resets: this.seqResets,
      disconnects: this.disconnects,
      future_stamps: this.futureStamps,
    };
    for (const [reason, n] of this.dropped) out[`dropped_${reason}`] = n;
    return out;
  }
}
