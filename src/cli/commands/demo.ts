import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { loadActionSpec, shortId, specId } from '../../contract/index.js';
import { CLI_ENTRY, DEFAULT_SPEC } from '../package-info.js';

/**
 * `pons demo`, until the simulator lands: a test-pattern brain and a listening
 * cerebellum as two processes joined by the real ZeroMQ link, then a summary table.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the brain → link → cerebellum chain on this machine and print a summary')
    .option('--seconds <s>', 'how long to run', '5')
    .action(async (flags: { seconds: string }) => {
      const seconds = Number(flags.seconds);
      const dir = mkdtempSync(join(tmpdir(), 'pons-demo-'));
      const link = ['--tokens', `ipc://${dir}/tokens`, '--state', `ipc://${dir}/state`];
      const spec = loadActionSpec(DEFAULT_SPEC);
      console.log(
        `pons demo: spec '${spec.name}' ${shortId(specId(spec))}, link over ipc, ${seconds} s`,
      );
      const listener = spawn(
        process.execPath,
        [CLI_ENTRY, 'link', 'listen', ...link, '--json', '--duration', String(seconds + 0.5)],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      const brain = spawn(
        process.execPath,
        [
          CLI_ENTRY,
          'link',
          'serve',
          ...link,
          '--json',
          '--rate',
          '10',
          '--duration',
          String(seconds),
        ],
        { stdio: ['ignore', 'pipe', 'inherit'] },
      );
      let summary: Record<string, unknown> | undefined;
      let states = 0;
      createInterface({ input: listener.stdout }).on('line', (line) => {
        const event = JSON.parse(line) as {
          event: string;
          seq?: number;
          latency_us?: number;
          first_step?: number[];
        };
        if (event.event === 'tokens' && (event.seq ?? 0) % 10 === 0) {
          const step = (event.first_step ?? []).map((q) => q.toFixed(3)).join(', ');
          console.log(
            `  tokens seq ${String(event.seq).padStart(3)}  ${String(event.latency_us).padStart(7)} µs  step 0: [${step}] rad`,
          );
        }
        if (event.event === 'summary') summary = event;
      });
      createInterface({ input: brain.stdout }).on('line', (line) => {
        if ((JSON.parse(line) as { event: string }).event === 'state') states++;
      });
      await Promise.all([exited(listener), exited(brain)]);
      rmSync(dir, { recursive: true, force: true });
      if (!summary) throw new Error('the listener ended without a summary');
      const counters = summary.counters as Record<string, number>;
      const latency = summary.latency_us as { p50: number; p99: number };
      console.log(
        '\n| packets received | tokens decoded | dropped | latency p50 | latency p99 | state packets back |',
      );
      console.log('|---|---|---|---|---|---|');
      const dropped = Object.entries(counters)
        .filter(([k]) => k.startsWith('dropped_'))
        .reduce((sum, [, n]) => sum + n, 0);
      console.log(
        `| ${counters.received ?? 0} | ${summary.decoded} | ${dropped} | ${latency.p50} µs | ${latency.p99} µs | ${states} |`,
      );
    });
}

function exited(child: ReturnType<typeof spawn>): Promise<void> {
  return new Promise((resolve, reject) => {
    child.on('exit', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${child.spawnargs.slice(2, 4).join(' ')} exited with ${code}`)),
    );
  });
}
