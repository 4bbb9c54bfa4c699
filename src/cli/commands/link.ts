import type { Command } from 'commander';
import { percentile, round } from '../../bench/percentiles.js';
import { PatternBrain } from '../../nodes/pattern-brain.js';
import { TokenListener } from '../../nodes/token-listener.js';
import {
  addLinkFlags,
  clientOptions,
  type LinkFlags,
  loadSpec,
  serverOptions,
} from '../link-options.js';
import { emitJson, runUntilStopped } from '../run-until.js';

interface ServeFlags extends LinkFlags {
  rate: string;
  duration?: string;
  json?: boolean;
}

interface ListenFlags extends LinkFlags {
  duration?: string;
  maxAge: string;
  json?: boolean;
}

export function registerLink(program: Command): void {
  const link = program
    .command('link')
    .description(
      'the ZeroMQ action-token link on its own: a test-pattern brain and a listening cerebellum',
    );

  addLinkFlags(
    link
      .command('serve')
      .description('publish test-pattern action chunks as a brain would (no model needed)')
      .option('--rate <hz>', 'decisions per second', '10')
      .option('--duration <s>', 'stop after this many seconds (default: until SIGINT)')
      .option('--json', 'print events as JSON lines'),
  ).action(async (flags: ServeFlags) => {
    const spec = loadSpec(flags);
    let states = 0;
    const brain = await PatternBrain.start({
      spec,
      link: serverOptions(flags, spec, 'test-pattern'),
      rateHz: Number(flags.rate),
      onState: (state) => {
        states++;
        if (flags.json) {
          emitJson('state', {
            seq: state.seq,
            mode: state.mode,
            last_token_seq: state.last_token_seq,
          });
        }
      },
    });
    if (flags.json) emitJson('ready', { pid: process.pid });
    const why = await runUntilStopped(
      flags.duration === undefined ? undefined : Number(flags.duration),
    );
    const summary = { why, states, counters: brain.link.counters.snapshot() };
    brain.stop();
    if (flags.json) emitJson('summary', summary);
    else console.log(`stopped (${why}): ${JSON.stringify(summary)}`);
  });

  addLinkFlags(
    link
      .command('listen')
      .description(
        'receive, check and decode token packets as a cerebellum would, and answer with state',
      )
      .option('--duration <s>', 'stop after this many seconds (default: until SIGINT)')
      .option('--max-age <ms>', 'drop token packets whose observation is older than this', '1000')
      .option('--json', 'print events as JSON lines'),
  ).action(async (flags: ListenFlags) => {
    const spec = loadSpec(flags);
    const options = clientOptions(flags, spec, 'listener');
    options.maxAgeMs = Number(flags.maxAge);
    const listener = await TokenListener.start({
      spec,
      link: options,
      onReport: (report) => {
        if (flags.json) {
          emitJson('tokens', {
            seq: report.seq,
            model_id: report.modelId,
            latency_us: round(report.latencyUs),
            first_step: report.firstStep,
          });
        }
      },
    });
    const counterTimer = setInterval(() => {
      if (flags.json) emitJson('counters', listener.link.counters.snapshot());
    }, 1000);
    if (flags.json) emitJson('ready', { pid: process.pid });
    const why = await runUntilStopped(
      flags.duration === undefined ? undefined : Number(flags.duration),
    );
    clearInterval(counterTimer);
    const lat = listener.latenciesUs;
    const summary = {
      why,
      decoded: lat.length,
      latency_us: { p50: round(percentile(lat, 50)), p99: round(percentile(lat, 99)) },
      counters: listener.link.counters.snapshot(),
    };
    listener.stop();
    if (flags.json) emitJson('summary', summary);
    else console.log(`stopped (${why}): ${JSON.stringify(summary)}`);
  });
}
