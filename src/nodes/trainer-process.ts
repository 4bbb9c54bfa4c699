import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * A PyTorch trainer in models/training, run as a child process with Debian's interpreter
 * (`PONS_PYTHON` overrides it): its stderr progress lines are handed on as they come, and the
 * last JSON line of its stdout is its result.
 */
export const TRAINING_DIR = fileURLToPath(new URL('../../models/training/', import.meta.url));

export function runTrainer(
  script: string,
  args: string[],
  progress: (line: string) => void,
): Promise<Record<string, unknown>> {
  const python = process.env.PONS_PYTHON ?? '/usr/bin/python3';
  const child = spawn(python, [`${TRAINING_DIR}${script}`, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let partial = '';
  let tail = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    const lines = (partial + s).split('\n');
    partial = lines.pop() ?? '';
    for (const line of lines) {
      progress(line);
      tail = `${tail}\n${line}`.slice(-2000);
    }
  });
  return new Promise((resolve, reject) => {
    child.on('error', (err) =>
      reject(new Error(`${python}: ${err.message} (install python3-torch, or set PONS_PYTHON)`)),
    );
    child.on('close', (code) => {
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code}:${tail}`));
        return;
      }
      const last = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve(JSON.parse(last) as Record<string, unknown>);
      } catch {
        reject(new Error(`${script} printed no result (last line: ${last.slice(0, 200)})`));
      }
    });
  });
}
