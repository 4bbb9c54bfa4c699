import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * A `pons … --json` child process whose stdout events (one JSON object a line) are
 * collected as they arrive: how one pons process runs and watches another (the episode
 * runner, the tests). Lines that are not JSON are ignored; stderr is kept for errors.
 */

export interface JsonEvent {
  event: string;
  [key: string]: unknown;
}

export class Process {
  readonly events: JsonEvent[] = [];
  stderr = '';
  private listeners: ((e: JsonEvent) => void)[] = [];
  readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      let event: JsonEvent;
      try {
        event = JSON.parse(line) as JsonEvent;
      } catch {
        return;
      }
      event.at = performance.now();
      this.events.push(event);
      for (const l of this.listeners) l(event);
    });
    child.stderr?.on('data', (d: Buffer) => {
      // Keep the tail only: a long run's warnings must not grow without bound.
      this.stderr = (this.stderr + d.toString()).slice(-64 * 1024);
    });
    this.exited = new Promise((res) => child.on('exit', (code) => res(code)));
  }

  /** Starts `node <cli> ...args`; stdin is a pipe (see `send`). */
  static start(cli: string, args: string[]): Process {
    return new Process(
      spawn(process.execPath, [cli, ...args], { stdio: ['pipe', 'pipe', 'pipe'] }),
    );
  }

  /** Writes one line to the child's stdin. */
  send(line: string): void {
    this.child.stdin?.write(`${line}\n`);
  }

  /** Resolves with the first event (already seen or future) that matches. */
  waitFor(match: (e: JsonEvent) => boolean, timeoutMs = 10_000, since = 0): Promise<JsonEvent> {
    const seen = this.events.find((e) => (e.at as number) >= since && match(e));
    if (seen) return Promise.resolve(seen);
    return new Promise((res, rej) => {
      const timer = setTimeout(() => {
        this.listeners = this.listeners.filter((l) => l !== listener);
        rej(new Error(`timed out waiting for an event; stderr:\n${this.stderr}`));
      }, timeoutMs);
      const listener = (e: JsonEvent) => {
        if ((e.at as number) >= since && match(e)) {
          clearTimeout(timer);
          this.listeners = this.listeners.filter((l) => l !== listener);
          res(e);
        }
      };
      this.listeners.push(listener);
    });
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<number | null> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(signal);
    return this.exited;
  }
}
