import { Publisher, Subscriber } from 'zeromq';
import { specId, specJson } from '../contract/index.js';
import {
  LinkClient,
  LinkServer,
  readAuthorizedKeys,
  readCertificate,
  readSecretCertificate,
} from '../link/index.js';
import { tokenizerFor } from '../tokenizer/index.js';
import { encodePacket } from '../wire/index.js';
import { benchSpec } from './bench-spec.js';

/**
 * One side of the link benchmark, in its own process, steered by its parent over the
 * Node IPC channel. Both sides stamp with the monotonic clock, which Linux shares
 * between processes, so one-way latency is measured without clock-sync error.
 *
 * `raw` peers are the baseline: bare zeromq.js PUB/SUB sockets carrying bytes of the same
 * size, with no encoding, validation or link logic, to show what the transport itself
 * costs on the machine.
 */
export interface PeerConfig {
  role: 'send' | 'receive';
  raw?: boolean;
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

interface Sender {
  /** Publishes one packet stamped now and resolves once it is on the socket. */
  publish(): Promise<void>;
  close(): void;
}

interface Receiver {
  /** Called with each delivered packet's emit stamp. */
  onPacket(handler: (emitNs: bigint) => void): void;
  counts(): { delivered: number; dropped: number };
  close(): void;
}

const monotonic = () => process.hrtime.bigint();
const quiet = { info: () => {}, warn: (m: string) => process.stderr.write(`[bench peer] ${m}\n`) };

export async function runLinkPeer(config: PeerConfig): Promise<void> {
  const send = (message: unknown) => process.send?.(message);
  if (config.role === 'receive') {
    const receiver = config.raw ? await rawReceiver(config) : await linkReceiver(config);
    let latencies: number[] = [];
    let base = { delivered: 0, dropped: 0 };
    receiver.onPacket((emitNs) => latencies.push(Number(monotonic() - emitNs)));
    process.on('message', (cmd: PeerCommand) => {
      const now = receiver.counts();
      if (cmd.op === 'reset') {
        latencies = [];
        base = now;
      } else if (cmd.op === 'report') {
        const report: ReceiverReport = {
          op: 'report',
          delivered: now.delivered - base.delivered,
          dropped: now.dropped - base.dropped,
          latenciesNs: latencies,
        };
        send(report);
      } else if (cmd.op === 'stop') {
        receiver.close();
        process.exit(0);
      }
    });
  } else {
    const sender = config.raw ? await rawSender(config) : await linkSender(config);
    process.on('message', async (cmd: PeerCommand) => {
      if (cmd.op === 'send') {
        await sendPaced(sender, cmd.rate, cmd.count);
        send({ op: 'sent', count: cmd.count });
      } else if (cmd.op === 'stop') {
        sender.close();
        process.exit(0);
      }
    });
  }
  send({ op: 'ready' });
}

function identity() {
  const spec = benchSpec();
  return { spec: specJson(spec), specId: specId(spec), modelId: 'bench', software: 'bench' };
}

async function linkReceiver(config: PeerConfig): Promise<Receiver> {
  const curve = config.curve?.serverKeyFile
    ? {
        curve: {
          ...readSecretCertificate(config.curve.secretFile),
          serverKey: readCertificate(config.curve.serverKeyFile).publicKey,
        },
      }
    : {};
  // `every`: the benchmark counts every packet; at 200/s no packet waits behind another,
  // so latency is that of the default newest-wins path too.
  const client = await LinkClient.open({
    ...identity(),
    endpoints: { tokens: config.tokens, state: config.state },
    log: quiet,
    now: monotonic,
    deliver: 'every',
    ...curve,
  });
  return {
    onPacket: (handler) => client.onTokens((packet) => handler(packet.emit_stamp_ns)),
    counts: () => ({
      delivered: client.counters.delivered,
      dropped: client.counters.droppedTotal(),
    }),
    close: () => client.close(),
  };
}

async function linkSender(config: PeerConfig): Promise<Sender> {
  const curve = config.curve?.authorizedDir
    ? {
        curve: {
          ...readSecretCertificate(config.curve.secretFile),
          authorizedKeys: readAuthorizedKeys(config.curve.authorizedDir),
        },
      }
    : {};
  const server = await LinkServer.open({
    ...identity(),
    endpoints: { tokens: config.tokens, state: config.state },
    log: quiet,
    now: monotonic,
    helloIntervalMs: 60_000,
    ...curve,
  });
  const spec = benchSpec();
  const tokens = tokenizerFor(spec).encode(new Float64Array(spec.horizon * spec.dimensions.length));
  return {
    publish: () => {
      server.publishTokens({
        episode_id: 'bench',
        obs_stamp_ns: monotonic(),
        tokens,
        timings_ms: {},
      });
      return server.drained();
    },
    close: () => server.close(),
  };
}

/** Bytes of a real token packet's size; the stamp rides in the first eight. */
function rawPayload(): Buffer {
  const spec = benchSpec();
  const size = encodePacket({
    v: 1,
    kind: 'tokens',
    spec_id: identity().specId,
    model_id: 'bench',
    episode_id: 'bench',
    seq: 0,
    obs_stamp_ns: 0n,
    emit_stamp_ns: 0n,
    tokens: new Uint32Array(spec.horizon * spec.dimensions.length),
    timings_ms: {},
  }).byteLength;
  return Buffer.alloc(size);
}

async function rawSender(config: PeerConfig): Promise<Sender> {
  const pub = new Publisher({ linger: 0, sendHighWaterMark: 1000 });
  await pub.bind(config.tokens);
  const payload = rawPayload();
  return {
    publish: () => {
      payload.writeBigUInt64LE(monotonic(), 0);
      return pub.send(payload);
    },
    close: () => pub.close(),
  };
}

async function rawReceiver(config: PeerConfig): Promise<Receiver> {
  const sub = new Subscriber({ linger: 0, receiveHighWaterMark: 1000 });
  sub.connect(config.tokens);
  sub.subscribe();
  let delivered = 0;
  let handler: (emitNs: bigint) => void = () => {};
  void (async () => {
    for await (const [message] of sub) {
      delivered++;
      handler((message as Buffer).readBigUInt64LE(0));
    }
  })();
  return {
    onPacket: (h) => {
      handler = h;
    },
    counts: () => ({ delivered, dropped: 0 }),
    close: () => sub.close(),
  };
}

/**
 * Sends `count` packets at `rate` per second. Each packet is sent when due: the sender
 * sleeps until a millisecond before, then spins, as a brain that has just finished a
 * decision is awake when it publishes. Fast rates never sleep and yield now and then so
 * the IPC channel still flows.
 */
async function sendPaced(sender: Sender, rate: number, count: number): Promise<void> {
  const periodNs = 1e9 / rate;
  const start = monotonic();
  for (let i = 0; i < count; i++) {
    const due = start + BigInt(Math.round(i * periodNs));
    const aheadMs = Number(due - monotonic()) / 1e6;
    if (aheadMs > 1.5) await new Promise((r) => setTimeout(r, Math.floor(aheadMs - 1)));
    else if (i % 64 === 0) await new Promise((r) => setImmediate(r));
    while (monotonic() < due) {}
    await sender.publish();
  }
}
