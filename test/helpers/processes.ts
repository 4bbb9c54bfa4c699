import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { type JsonEvent, Process } from '../../src/nodes/process.js';

export type { JsonEvent };

/** The built CLI (npm test builds it first): tests start real `pons` processes. */
export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

/** A `pons … --json` child process of the built CLI. */
export type PonsProcess = Process;
export const PonsProcess = { start: (args: string[]): Process => Process.start(CLI, args) };

/** `pons link serve`: a test-pattern brain at `rate` Hz on the ipc link endpoints in `dir`. */
export function startPatternBrain(dir: string, rate = 10): Process {
  return PonsProcess.start([
    'link',
    'serve',
    '--rate',
    String(rate),
    '--json',
    '--tokens',
    `ipc://${dir}/tokens`,
    '--state',
    `ipc://${dir}/state`,
  ]);
}

/** `pons …` run to completion from the repository root (without PONS_DEBUG's stack traces). */
export function runPons(args: string[], timeoutMs = 20_000): SpawnSyncReturns<string> {
  const { PONS_DEBUG: _debug, ...env } = process.env;
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: resolve(import.meta.dirname, '../..'),
    encoding: 'utf8',
    env,
    timeout: timeoutMs,
  });
}
