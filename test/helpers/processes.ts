import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The built CLI (npm test builds it first): tests start real `pons` processes. */
export const CLI = resolve(import.meta.dirname, '../../dist/cli/main.js');

export interface JsonEvent {
  event: string;
  [key: string]: unknown;
}

/** A `pons … --json` child process whose stdout events are collected as they arrive. */
export class PonsProcess {
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
      this.stderr += d.toString();
    });
    this.exited = new Promise((res) => child.on('exit', (code) => res(code)));
  }

  static start(args: string[]): PonsProcess {
    return new PonsProcess(
      spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] }),
    );
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
    this.child.kill(signal);
    return this.exited;
  }
}
