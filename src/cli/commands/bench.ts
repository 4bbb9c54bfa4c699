import { mkdirSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import { version as zmqVersion } from 'zeromq';
import { runBrainBench } from '../../bench/brain-bench.js';
import { runBrainPipelineBench } from '../../bench/brain-pipeline-bench.js';
import { runCerebellumBench } from '../../bench/cerebellum-bench.js';
import { runCollectBench } from '../../bench/collect-bench.js';
import { runLearnedStageBench } from '../../bench/learned-stage-bench.js';
import { runLinkBench } from '../../bench/link-bench.js';
import { runRecorderBench } from '../../bench/recorder-bench.js';
import { runSimBench } from '../../bench/sim-bench.js';
import { runWireBench } from '../../bench/wire-bench.js';
import type { DecodingMode } from '../../brain/index.js';
import { loadActionSpec } from '../../contract/index.js';
import { loadProfile } from '../../nodes/profile.js';
import {
  CLI_ENTRY,
  DEFAULT_BRAIN,
  DEFAULT_LEARNED_STAGE,
  DEFAULT_PROFILE,
} from '../package-info.js';
import { addModelOptions, brainOptions, type ModelFlags } from './model.js';

/** A benchmark's result: JSON beside the machine with `--json`, else one line per field. */
function printResult(result: object, json: boolean | undefined): void {
  if (json) {
    console.log(JSON.stringify({ machine: machine(), result }, null, 2));
    return;
  }
  const width = Math.max(...Object.keys(result).map((k) => k.length)) + 2;
  for (const [k, v] of Object.entries(result)) {
    console.log(`${k.padEnd(width)} ${typeof v === 'object' ? JSON.stringify(v) : v}`);
  }
}

/** The machine a benchmark ran on, printed beside its numbers. */
export function machine(): Record<string, string | number> {
  return {
    cpu: cpus()[0]?.model ?? 'unknown',
    cores: cpus().length,
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    libzmq: zmqVersion,
  };
}

export function registerBench(program: Command): void {
  const bench = program
    .command('bench')
    .description('benchmarks that print numbers (--json for machines)');
  bench
    .command('link')
    .description(
      'ZeroMQ link: one-way latency at 200 packets/s and the highest loss-free rate, two processes',
    )
    .option('--json', 'print {"results": [...]} as JSON')
    .option('--packets <n>', 'packets in the latency run (at 200/s)', '4000')
    .option('--quick', 'a short run (500 latency packets, half-second bursts)')
    .action(async (flags: { json?: boolean; packets: string; quick?: boolean }) => {
      const progress = (m: string) => process.stderr.write(`[bench link] ${m}\n`);
      const report = await runLinkBench({
        latencyPackets: flags.quick ? 500 : Number(flags.packets),
        rates: [10_000, 20_000, 30_000, 50_000, 75_000, 100_000, 150_000, 200_000],
        rateSeconds: flags.quick ? 0.5 : 1,
        progress,
      });
      if (flags.json) {
        console.log(JSON.stringify({ machine: machine(), ...report }, null, 2));
        return;
      }
      console.log('stack            transport  curve  p50 µs  p99 µs  p99.9 µs  max packets/s');
      const rows = [
        ...report.results.map((r) => ['pons', r] as const),
        ...report.baseline.map((r) => ['bare zeromq.js', r] as const),
      ];
      for (const [stack, r] of rows) {
        console.log(
          `${stack.padEnd(15)}  ${r.transport.padEnd(9)}  ${String(r.curve).padEnd(5)}  ${String(r.p50_us).padStart(6)}  ${String(r.p99_us).padStart(6)}  ${String(r.p999_us).padStart(8)}  ${String(r.max_pps).padStart(13)}`,
        );
      }
    });

  bench
    .command('wire')
    .description(
      'encode/decode cost of a tokens packet, hot and when packets arrive at an idle process',
    )
    .option('--json', 'print the result as JSON')
    .action(async (flags: { json?: boolean }) => {
      const result = await runWireBench();
      printResult(result, flags.json);
    });

  bench
    .command('cerebellum')
    .description(
      'control-thread period jitter at 200, 500 and 1000 Hz while token packets arrive at 10 Hz',
    )
    .option('--json', 'print {"results": [...]} as JSON')
    .option('--config <robot.yaml>', 'robot profile', DEFAULT_PROFILE)
    .option('--seconds <s>', 'seconds per rate', '10')
    .action(async (flags: { json?: boolean; config: string; seconds: string }) => {
      const results = await runCerebellumBench({
        profile: loadProfile(flags.config),
        cli: CLI_ENTRY,
        rates: [200, 500, 1000],
        seconds: Number(flags.seconds),
        progress: (m) => process.stderr.write(`[bench cerebellum] ${m}\n`),
      });
      if (flags.json) {
        console.log(JSON.stringify({ machine: machine(), results }, null, 2));
        return;
      }
      console.log('rate Hz  jitter p50 µs  p99 µs  max µs   ticks  >2 ms  skipped');
      for (const r of results) {
        console.log(
          `${String(r.rate_hz).padStart(7)}  ${String(r.jitter_p50_us).padStart(13)}  ${String(r.jitter_p99_us).padStart(6)}  ${String(r.jitter_max_us).padStart(6)}  ${String(r.ticks).padStart(6)}  ${String(r.late_over_2ms).padStart(5)}  ${String(r.skipped).padStart(7)}`,
        );
      }
    });

  bench
    .command('learned-stage')
    .description(
      "the learned cerebellum stage's inference time per correction (it must fit the control period)",
    )
    .option('--json', 'print the result as JSON')
    .option('--model <dir>', 'learned stage package', DEFAULT_LEARNED_STAGE)
    .option('--config <robot.yaml>', 'robot profile (for its ActionSpec)', DEFAULT_PROFILE)
    .action(async (flags: { json?: boolean; model: string; config: string }) => {
      const spec = loadActionSpec(loadProfile(flags.config).spec);
      const result = await runLearnedStageBench(flags.model, spec, 5000);
      printResult(result, flags.json);
    });

  addModelOptions(
    bench
      .command('brain')
      .description('whole brain decisions on a 640×480 frame: stage latencies, tokens/s, memory')
      .option('--json', 'print the result as JSON')
      .option('--model <dir>', 'brain model package', DEFAULT_BRAIN)
      .option('--decisions <n>', 'decisions to time (10000 for the leak check)', '1000')
      .option('--mode <mode>', 'autoregressive or parallel (default: the package default)'),
  ).action(
    async (
      flags: ModelFlags & { json?: boolean; model: string; decisions: string; mode?: DecodingMode },
    ) => {
      const result = await runBrainBench(flags.model, {
        ...brainOptions(flags),
        decisions: Number(flags.decisions),
        ...(flags.mode === undefined ? {} : { mode: flags.mode }),
        progress: (m) => process.stderr.write(`[bench brain] ${m}\n`),
      });
      printResult(result, flags.json);
    },
  );
  registerBrainPipelineBench(bench);

  bench
    .command('recorder')
    .description(
      'the MCAP recorder under two 640×480 cameras and 500 Hz joints, beside a 500 Hz cerebellum',
    )
    .option('--json', 'print the result as JSON')
    .option('--config <robot.yaml>', 'robot profile', DEFAULT_PROFILE)
    .option('--seconds <s>', 'measured seconds', '10')
    .option('--file <file.mcap>', 'where the recording goes', 'out/recorder-bench.mcap')
    .option('--viewers <n>', 'also serve it live to n Foxglove clients in another process', '0')
    .option('--stalled <n>', 'of the viewers, how many stop reading after their first message', '0')
    .action(
      async (flags: {
        json?: boolean;
        config: string;
        seconds: string;
        file: string;
        viewers: string;
        stalled: string;
      }) => {
        mkdirSync(dirname(flags.file), { recursive: true });
        const result = await runRecorderBench({
          profile: loadProfile(flags.config),
          cli: CLI_ENTRY,
          file: flags.file,
          seconds: Number(flags.seconds),
          viewers: { clients: Number(flags.viewers), stalled: Number(flags.stalled) },
          progress: (m) => process.stderr.write(`[bench recorder] ${m}\n`),
        });
        printResult(result, flags.json);
      },
    );

  bench
    .command('sim')
    .description(
      'embedded simulator: physics step and camera render cost, sim time per wall second',
    )
    .option('--json', 'print the result as JSON')
    .option('--seconds <s>', 'sim seconds of stepping', '60')
    .option('--frames <n>', 'frames rendered per resolution', '500')
    .action(async (flags: { json?: boolean; seconds: string; frames: string }) => {
      const result = await runSimBench(Number(flags.seconds), Number(flags.frames));
      printResult(result, flags.json);
    });
  bench
    .command('collect')
    .description(
      'recorded expert demonstrations per minute (pons sim collect) and dataset export speed',
    )
    .option('--json', 'print the result as JSON')
    .option('--episodes <n>', 'episodes per task', '25')
    .option('--config <robot.yaml>', 'robot profile (brain topics)', DEFAULT_PROFILE)
    .option('--model <dir>', 'model package (prompt, vocabulary, spec)', DEFAULT_BRAIN)
    .action(async (flags: { json?: boolean; episodes: string; config: string; model: string }) => {
      const result = await runCollectBench(
        loadProfile(flags.config),
        flags.model,
        Number(flags.episodes),
      );
      printResult(result, flags.json);
    });
}

/** The brain node's pipeline latency: `pons bench brain-pipeline`. */
function registerBrainPipelineBench(bench: Command): void {
  addModelOptions(
    bench
      .command('brain-pipeline')
      .description('latency the brain node adds around the model: bus frame in → token packet out')
      .option('--json', 'print the result as JSON')
      .option('--config <robot.yaml>', 'robot profile (its brain section)', DEFAULT_PROFILE)
      .option('--rate <hz>', 'camera frames per second', '30')
      .option('--seconds <s>', 'measuring time after a 2 s warm-up', '20'),
  ).action(
    async (
      flags: ModelFlags & { json?: boolean; config: string; rate: string; seconds: string },
    ) => {
      const profile = loadProfile(flags.config);
      const result = await runBrainPipelineBench({
        ...brainOptions(flags),
        profile,
        cli: CLI_ENTRY,
        image: `${DEFAULT_BRAIN}/golden/reach-red.png`,
        instruction: 'reach the red block',
        rateHz: Number(flags.rate),
        seconds: Number(flags.seconds),
        progress: (m) => process.stderr.write(`[bench brain-pipeline] ${m}\n`),
      });
      printResult(result, flags.json);
    },
  );
}
