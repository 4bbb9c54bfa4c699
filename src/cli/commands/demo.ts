import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { loadActionSpec, shortId, specId } from '../../contract/index.js';
import { loadProfile } from '../../nodes/profile.js';
import { CLI_ENTRY, DEFAULT_PROFILE } from '../package-info.js';

interface Event {
  event: string;
  [key: string]: unknown;
}

/**
 * `pons demo`, until the simulator lands: a test-pattern brain and the real cerebellum as
 * two processes joined by the ZeroMQ link (ipc), the cerebellum executing the chunks at
 * 500 Hz through its safety filter and recording every command; then a summary.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description('run the brain → link → cerebellum chain on this machine and print a summary')
    .option('--seconds <s>', 'how long to run', '5')
    .action(async (flags: { seconds: string }) => {
      const seconds = Number(flags.seconds);
      const dir = mkdtempSync(join(tmpdir(), 'pons-demo-'));
      const base = loadProfile(DEFAULT_PROFILE);
      const profile = join(dir, 'robot.yaml');
      const record = join(dir, 'commands.jsonl');
      // The bundled profile, on ipc in a temporary folder.
      writeFileSync(
        profile,
        JSON.stringify({
          name: base.name,
          spec: base.spec,
          robot: base.robot,
          link: { tokens: `ipc://${dir}/tokens`, state: `ipc://${dir}/state` },
          cerebellum: {
            rate_hz: base.cerebellum.rate_hz,
            output: { kind: 'record', path: record },
          },
        }),
      );
      const link = ['--tokens', `ipc://${dir}/tokens`, '--state', `ipc://${dir}/state`];
      const spec = loadActionSpec(base.spec);
      console.log(
        `pons demo: spec '${spec.name}' ${shortId(specId(spec))}; a test-pattern brain → ipc link → cerebellum at ${base.cerebellum.rate_hz} Hz, ${seconds} s`,
      );
      const cerebellum = spawn(
        process.execPath,
        [
          CLI_ENTRY,
          'cerebellum',
          '--config',
          profile,
          '--json',
          '--duration',
          String(seconds + 0.5),
        ],
        { stdio: ['ignore', 'pipe', 'ignore'] },
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
        { stdio: ['ignore', 'pipe', 'ignore'] },
      );
      let summary: Event | undefined;
      createInterface({ input: cerebellum.stdout }).on('line', (line) => {
        const e = JSON.parse(line) as Event;
        if (e.event === 'diagnostics') {
          console.log(
            `  ${String(e.mode).padEnd(5)}  ${String(e.commands).padStart(5)} commands  ${String(e.chunks_in).padStart(3)} chunks  observation age ${Number(e.ingest_age_ms).toFixed(1)} ms`,
          );
        }
        if (e.event === 'summary') summary = e;
      });
      let states = 0;
      createInterface({ input: brain.stdout }).on('line', (line) => {
        if ((JSON.parse(line) as Event).event === 'state') states++;
      });
      await Promise.all([exited(cerebellum), exited(brain)]);
      if (!summary) throw new Error('the cerebellum ended without a summary');
      const commands = readFileSync(record, 'utf8').trim().split('\n').length;
      rmSync(dir, { recursive: true, force: true });
      const link_ = summary.link as Record<string, number>;
      console.log(
        '\n| chunks | commands | clamped > 1 mrad | largest correction | control ticks | late-skipped ticks | dropped packets | state packets to the brain |',
      );
      console.log('|---|---|---|---|---|---|---|---|');
      const dropped = Object.entries(link_)
        .filter(([k]) => k.startsWith('dropped_'))
        .reduce((sum, [, n]) => sum + n, 0);
      console.log(
        `| ${summary.chunks_in} | ${commands} | ${summary.clamped} | ${(Number(summary.max_correction) * 1000).toFixed(1)} mrad | ${summary.ticks} | ${summary.skipped} | ${dropped} | ${states} |`,
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
