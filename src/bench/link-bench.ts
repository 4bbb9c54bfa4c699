import { type ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freeLoopbackPort, generateCertificate } from '../link/index.js';
import type { PeerCommand, PeerConfig, ReceiverReport } from './link-peer.js';
import { percentile, round } from './percentiles.js';

/**
 * `pons bench link`: a token publisher and a subscriber in two separate processes, over
 * ipc:// and tcp://127.0.0.1, with and without CURVE. One-way latency at 200 packets/s,
 * then the highest rate at which every packet of a one-second burst arrives.
 */
export interface LinkBenchOptions {
  latencyPackets: number;
  rates: number[];
  rateSeconds: number;
  progress?: (message: string) => void;
}

export interface LinkBenchResult {
  transport: 'ipc' | 'tcp';
  curve: boolean;
  p50_us: number;
  p99_us: number;
  p999_us: number;
  max_pps: number;
  latency_packets: number;
  latency_lost: number;
}

const PEER_ENTRY = fileURLToPath(new URL('./link-peer-main.js', import.meta.url));

export interface LinkBenchReport {
  results: LinkBenchResult[];
  /** Bare zeromq.js sockets in the same harness: the floor pons stands on. */
  baseline: LinkBenchResult[];
}

export async function runLinkBench(options: LinkBenchOptions): Promise<LinkBenchReport> {
  const report: LinkBenchReport = { results: [], baseline: [] };
  for (const transport of ['ipc', 'tcp'] as const) {
    options.progress?.(`${transport} bare zeromq.js (baseline): starting peers`);
    report.baseline.push(await benchOne(transport, false, true, options));
    for (const curve of [false, true]) {
      options.progress?.(`${transport}${curve ? ' + CURVE' : ''}: starting peers`);
      report.results.push(await benchOne(transport, curve, false, options));
    }
  }
  return report;
}

async function benchOne(
  transport: 'ipc' | 'tcp',
  curve: boolean,
  raw: boolean,
  options: LinkBenchOptions,
): Promise<LinkBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pons-bench-'));
  const peers: Peer[] = [];
  try {
    const [tokens, state] =
      transport === 'ipc'
        ? [`ipc://${dir}/tokens`, `ipc://${dir}/state`]
        : [
            `tcp://127.0.0.1:${await freeLoopbackPort()}`,
            `tcp://127.0.0.1:${await freeLoopbackPort()}`,
          ];
    const base = { tokens, state, raw };
    let sendCfg: PeerConfig = { role: 'send', ...base };
    let recvCfg: PeerConfig = { role: 'receive', ...base };
    if (curve) {
      const clients = join(dir, 'clients');
      mkdirSync(clients);
      const server = generateCertificate(dir, 'brain');
      const client = generateCertificate(clients, 'cerebellum');
      sendCfg = { ...sendCfg, curve: { secretFile: server.secretFile, authorizedDir: clients } };
      recvCfg = {
        ...recvCfg,
        curve: { secretFile: client.secretFile, serverKeyFile: server.publicFile },
      };
    }
    const receiver = await Peer.start(recvCfg);
    peers.push(receiver);
    const sender = await Peer.start(sendCfg);
    peers.push(sender);
    const label = `${transport}${curve ? ' + CURVE' : ''}${raw ? ' bare zeromq.js' : ''}`;

    // Wait until packets flow (the subscription must reach the publisher first), then
    // warm up: a second of traffic lets V8 compile the encode and decode paths, whose
    // first few hundred runs are interpreted and would otherwise make the tail.
    let flowing = false;
    for (let attempt = 0; attempt < 50 && !flowing; attempt++) {
      await sender.request({ op: 'send', rate: 200, count: 20 }, 'sent');
      await sleep(50);
      flowing = (await receiver.report()).delivered > 0;
    }
    if (!flowing) throw new Error(`${label}: no packet arrived during warm-up`);
    await sender.request({ op: 'send', rate: 5000, count: 5000 }, 'sent');
    await sleep(100);

    options.progress?.(`${label}: latency, ${options.latencyPackets} packets at 200/s`);
    receiver.command({ op: 'reset' });
    await sender.request({ op: 'send', rate: 200, count: options.latencyPackets }, 'sent');
    await sleep(200);
    const lat = await receiver.report();
    const us = lat.latenciesNs.map((ns) => ns / 1e3);

    let maxPps = 0;
    for (const rate of options.rates) {
      const count = Math.round(rate * options.rateSeconds);
      receiver.command({ op: 'reset' });
      await sender.request({ op: 'send', rate, count }, 'sent');
      await sleep(300);
      const burst = await receiver.report();
      const lossless = burst.delivered === count && burst.dropped === 0;
      options.progress?.(
        `${label}: ${rate} packets/s → ${burst.delivered}/${count} delivered${lossless ? '' : ' (loss)'}`,
      );
      if (!lossless) break;
      maxPps = rate;
    }
    return {
      transport,
      curve,
      p50_us: round(percentile(us, 50)),
      p99_us: round(percentile(us, 99)),
      p999_us: round(percentile(us, 99.9)),
      max_pps: maxPps,
      latency_packets: options.latencyPackets,
      latency_lost: options.latencyPackets - lat.delivered,
    };
  } finally {
    for (const peer of peers) peer.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A benchmark peer process and its IPC channel. */
class Peer {
  private waiting: { op: string; resolve: (message: unknown) => void } | undefined;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (message: { op: string }) => {
      if (this.waiting?.op === message.op) {
        const { resolve } = this.waiting;
        this.waiting = undefined;
        resolve(message);
      }
    });
  }

  static async start(config: PeerConfig): Promise<Peer> {
    const child = fork(PEER_ENTRY, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const peer = new Peer(child);
    await peer.expect('ready', () => {});
    return peer;
  }

  command(cmd: PeerCommand): void {
    this.child.send(cmd);
  }

  request(cmd: PeerCommand, reply: string): Promise<unknown> {
    return this.expect(reply, () => this.command(cmd));
  }

  async report(): Promise<ReceiverReport> {
    return (await this.request({ op: 'report' }, 'report')) as ReceiverReport;
  }

  stop(): void {
    if (this.child.connected) this.command({ op: 'stop' });
    setTimeout(() => this.child.kill('SIGKILL'), 1000).unref();
  }

  private expect(op: string, trigger: () => void): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const onExit = (code: number | null) =>
        reject(new Error(`bench peer exited (${code}) waiting for '${op}'`));
      this.child.once('exit', onExit);
      this.waiting = {
        op,
        resolve: (message) => {
          this.child.off('exit', onExit);
          resolve(message);
        },
      };
      trigger();
    });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
