import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CerebellumNode, type CerebellumNodeOptions } from '../nodes/cerebellum-node.js';
import type { RobotProfile } from '../nodes/profile.js';
import { percentile, round } from './percentiles.js';

/**
 * `pons bench cerebellum`: the control thread's period jitter at several rates, with the
 * controller doing its real work every tick (scheduling, interpolation, safety filter,
 * posting the command) while a test-pattern brain in another process sends token packets
 * at 10 Hz over the real link. Jitter is how late each tick started against its
 * drift-free deadline, measured in steady state: from one second after the first chunk
 * arrived (while both processes start up, the two cores are busy loading code).
 */
export interface CerebellumBenchResult {
  rate_hz: number;
  jitter_p50_us: number;
  jitter_p99_us: number;
  jitter_max_us: number;
  /** Ticks measured (steady state). */
  ticks: number;
  /** Of those, ticks that started more than 2 ms late. */
  late_over_2ms: number;
  /** Deadlines skipped over the whole run, start-up included. */
  skipped: number;
  chunks: number;
  commands: number;
}

export interface CerebellumBenchOptions {
  profile: RobotProfile;
  cli: string;
  rates: number[];
  seconds: number;
  progress?: (message: string) => void;
}

export async function runCerebellumBench(
  options: CerebellumBenchOptions,
): Promise<CerebellumBenchResult[]> {
  const results: CerebellumBenchResult[] = [];
  for (const rate of options.rates) {
    options.progress?.(`${rate} Hz: ${options.seconds} s with token packets at 10 Hz`);
    results.push(await benchRate(options, rate));
  }
  return results;
}

/** Work run beside the cerebellum while it is measured (the recorder bench's load). */
export interface BenchLoad {
  nodeOptions?: Pick<
    CerebellumNodeOptions,
    'onChunk' | 'onPublished' | 'onApplied' | 'onSkipped' | 'onControlStarted'
  >;
  /** Starts the load once the cerebellum runs; returns what stops it. */
  start?: () => () => Promise<void>;
}

export async function benchRate(
  options: CerebellumBenchOptions,
  rate: number,
  load: BenchLoad = {},
): Promise<CerebellumBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pons-bench-cerebellum-'));
  const endpoints = { tokens: `ipc://${dir}/tokens`, state: `ipc://${dir}/state` };
  let brain: ChildProcess | undefined;
  try {
    brain = spawn(
      process.execPath,
      [
        options.cli,
        'link',
        'serve',
        '--rate',
        '10',
        '--tokens',
        endpoints.tokens,
        '--state',
        endpoints.state,
      ],
      { stdio: 'ignore' },
    );
    const profile: RobotProfile = {
      ...options.profile,
      link: { ...options.profile.link, ...endpoints },
      cerebellum: { ...options.profile.cerebellum, rate_hz: rate, output: { kind: 'none' } },
    };
    let commands = 0;
    const quiet = { info: () => {}, warn: () => {} };
    const node = await CerebellumNode.start({
      profile,
      log: quiet,
      link: { modelId: 'bench', software: 'bench', log: quiet },
      ...load.nodeOptions,
      onCommand: () => {
        commands++;
      },
    });
    while (node.snapshot().chunks_in === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    const stopLoad = load.start?.();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const steadyFrom = commands;
    await new Promise((resolve) => setTimeout(resolve, options.seconds * 1000));
    const chunks = node.snapshot().chunks_in;
    const steadyTo = commands;
    await stopLoad?.();
    const stats = await node.stop('bench done');
    const lateUs = Array.from(stats.lateNs.subarray(steadyFrom, steadyTo), (ns) => ns / 1e3);
    return {
      rate_hz: rate,
      jitter_p50_us: round(percentile(lateUs, 50)),
      jitter_p99_us: round(percentile(lateUs, 99)),
      jitter_max_us: round(Math.max(...lateUs)),
      ticks: lateUs.length,
      late_over_2ms: lateUs.filter((us) => us > 2000).length,
      skipped: stats.skipped,
      chunks,
      commands,
    };
  } finally {
    brain?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}
