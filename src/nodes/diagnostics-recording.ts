import type { MessageSink } from '../record/message-sink.js';
import { type DiagnosticStatusInput, diagnosticArrayMsg, ROS_TYPES } from '../ros/index.js';
import { epochNowNs } from '../wire/index.js';

/** Where every node records its diagnostics, as a ROS node would publish them. */
export const DIAGNOSTICS_TOPIC = '/diagnostics';

/** A node's state now, as one diagnostic_msgs/DiagnosticArray into its recording / live view. */
export function recordDiagnostics(sink: MessageSink, status: DiagnosticStatusInput): void {
  const now = epochNowNs();
  sink.record(
    DIAGNOSTICS_TOPIC,
    ROS_TYPES.diagnosticArray,
    now,
    diagnosticArrayMsg({ stampNs: now, status: [status] }),
    'reliable',
  );
}
