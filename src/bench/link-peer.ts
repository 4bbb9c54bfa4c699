import { specId, specJson } from '../contract/index.js';
import {
  type CurveClientSecurity,
  type CurveServerSecurity,
  LinkClient,
  LinkServer,
  readAuthorizedKeys,
  readCertificate,
  readSecretCertificate,
} from '../link/index.js';
import { tokenizerFor } from '../tokenizer/index.js';
import { benchSpec } from './bench-spec.js';

/**
 * One side of the link benchmark, in its own process, steered by its parent over the
 * Node IPC channel. Both sides stamp with the monotonic clock, which Linux shares
 * between processes, so one-way latency is measured without clock-sync error.
 */
export interface PeerConfig {
  role: 'send' | 'receive';
  tokens: string;
  state: string;
  curve?: { secretFile: string; authorizedDir?: string; serverKeyFile?: string };
}

export type PeerCommand =
  | { op: 'send'; rate: number; count: number }
  | { op: 'reset' }
  | { op: 'report' }
  | { op: 'stop' };

export interface ReceiverReport {
  op: 'report';
  delivered: number;
  dropped: number;
  latenciesNs: number[];
}

const monotonic = () => process.hrtime.bigint();

export async function runLinkPeer(config: PeerConfig): Promise<void> {
  const spec = benchSpec();
  const identity = {
    spec: specJson(spec),
    specId: specId(spec),
    modelId: 'bench',
    software: 'bench',
  };
  const endpoints = { tokens: config.tokens, state: config.state };
  const quiet = {
    info: () => {},
    warn: (m: string) => process.stderr.write(`[bench peer] ${m}\n`),
  };
  const send = (message: unknown) => process.send?.(message);

  if (config.role === 'receive') {
    let curve: CurveClientSecurity | undefined;
    if (config.curve?.serverKeyFile) {
      curve = {
        ...readSecretCertificate(config.curve.secretFile),
        serverKey: readCertificate(config.curve.serverKeyFile).publicKey,
      };
    }
    const client = await LinkClient.open({
      ...identity,
      endpoints,
      log: quiet,
      now: monotonic,
      deliver: 'every',
      ...(curve ? { curve } : {}),
    });
    let latencies: number[] = [];
    let base = { delivered: 0, dropped: 0 };
    client.onTokens((packet) => latencies.push(Number(monotonic() - packet.emit_stamp_ns)));
    process.on('message', (cmd: PeerCommand) => {
      const counters = client.counters;
      if (cmd.op === 'reset') {
        latencies = [];
        base = { delivered: counters.delivered, dropped: counters.droppedTotal() };
      } else if (cmd.op === 'report') {
        const report: ReceiverReport = {
          op: 'report',
          delivered: counters.delivered - base.delivered,
          dropped: counters.droppedTotal() - base.dropped,
          latenciesNs: latencies,
        };
        send(report);
      } else if (cmd.op === 'stop') {
        client.close();
        process.exit(0);
      }
    });
    send({ op: 'ready' });
    return;
  }

  let curve: CurveServerSecurity | undefined;
  if (config.curve?.authorizedDir) {
    curve = {
      ...readSecretCertificate(config.curve.secretFile),
      authorizedKeys: readAuthorizedKeys(config.curve.authorizedDir),
    };
  }
  const server = await LinkServer.open({
    ...identity,
    endpoints,
    log: quiet,
    now: monotonic,
    helloIntervalMs: 60_000,
    ...(curve ? { curve } : {}),
  });
  const tokens = tokenizerFor(spec).encode(new Float64Array(spec.horizon * spec.dimensions.length));
  process.on('message', async (cmd: PeerCommand) => {
    if (cmd.op === 'send') {
      await sendPaced(server, tokens, cmd.rate, cmd.count);
      send({ op: 'sent', count: cmd.count });
    } else if (cmd.op === 'stop') {
      server.close();
      process.exit(0);
    }
  });
  send({ op: 'ready' });
}

/**
 * Sends `count` packets at `rate` per second. Each packet is sent when due: the sender
 * sleeps until a millisecond before, then spins, as a brain that has just finished a
 * decision is awake when it publishes. Fast rates never sleep and yield now and then so
 * the IPC channel still flows.
 */
async function sendPaced(server: LinkServer, tokens: Uint32Array, rate: number, count: number) {
  const periodNs = 1e9 / rate;
  const start = monotonic();
  for (let i = 0; i < count; i++) {
    const due = start + BigInt(Math.round(i * periodNs));
    const aheadMs = Number(due - monotonic()) / 1e6;
    if (aheadMs > 1.5) await new Promise((r) => setTimeout(r, Math.floor(aheadMs - 1)));
    else if (i % 64 === 0) await new Promise((r) => setImmediate(r));
    while (monotonic() < due) {}
    server.publishTokens({
      episode_id: 'bench',
      obs_stamp_ns: monotonic(),
      tokens,
      timings_ms: {},
    });
    await server.drained();
  }
}
