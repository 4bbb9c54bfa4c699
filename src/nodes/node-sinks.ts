import { isLocalEndpoint, type LinkLog, RateLimitedLog } from '../link/index.js';
import { FoxgloveLive, type FoxgloveLiveCounters } from '../record/foxglove-live.js';
import { type CdrSink, type MessageSink, teeSink } from '../record/message-sink.js';
import { Recorder, type RecorderCounters } from '../record/recorder.js';

/**
 * Where a node's topics go: an MCAP file (`--record`), a live Foxglove view (`--foxglove`),
 * or both through one tee, so each message is serialized once.
 */
export interface NodeSinkOptions {
  /** The server name Foxglove shows (`pons brain`, …). */
  name: string;
  mcap?: string;
  foxglove?: { port: number; host: string; sendBufferBytes?: number };
  log: LinkLog;
}

/** What a node's sinks counted: `recorded` for the file, `foxglove` for the live view. */
export interface SinkCounters {
  recorded?: RecorderCounters;
  foxglove?: FoxgloveLiveCounters;
}

export class NodeSinks {
  readonly sink: MessageSink;

  private constructor(
    readonly recorder: Recorder | undefined,
    readonly live: FoxgloveLive | undefined,
  ) {
    const sinks: CdrSink[] = [recorder, live].filter((s) => s !== undefined);
    this.sink = sinks.length === 1 ? (sinks[0] as CdrSink) : teeSink(sinks);
  }

  /** Opens what the options ask for; undefined when they ask for nothing. */
  static async open(options: NodeSinkOptions): Promise<NodeSinks | undefined> {
    const { foxglove, log } = options;
    if (options.mcap === undefined && foxglove === undefined) return undefined;
    // Client errors are logged at most every 10 s: a misbehaving client cannot flood the log.
    const limited = new RateLimitedLog(log);
    const live =
      foxglove === undefined
        ? undefined
        : await FoxgloveLive.open({
            ...foxglove,
            name: options.name,
            log: { info: (m) => log.info(m), warn: (m) => limited.warn('foxglove', m) },
          });
    if (live) {
      log.info(`Foxglove live view on ${live.url}`);
      if (!isLocalEndpoint(live.url.replace(/^ws:/, 'tcp:'))) {
        log.warn(
          `${live.url}: the live view is reachable off this host, unencrypted and without authentication`,
        );
      }
    }
    const recorder = options.mcap === undefined ? undefined : await Recorder.open(options.mcap);
    return new NodeSinks(recorder, live);
  }

  /** What each sink has counted, for health lines, metrics and summaries. */
  counters(): SinkCounters {
    return {
      ...(this.recorder ? { recorded: this.recorder.counters } : {}),
      ...(this.live ? { foxglove: this.live.counters } : {}),
    };
  }

  /** Completes the file and disconnects live clients. */
  async close(): Promise<void> {
    await Promise.all([this.recorder?.close(), this.live?.close()]);
  }
}
