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
