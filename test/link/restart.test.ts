import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PonsProcess } from '../helpers/processes.js';

// Real processes, real ZeroMQ sockets: a peer killed with SIGKILL and restarted must be
// talking again within one second of the new process being up.
describe('link reconnect across processes', () => {
  let dir: string;
  let link: string[];
  const started: PonsProcess[] = [];
  const start = (args: string[]) => {
    const p = PonsProcess.start([...args, ...link, '--json']);
    started.push(p);
    return p;
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'pons-restart-'));
    link = ['--tokens', `ipc://${dir}/tokens`, '--state', `ipc://${dir}/state`];
  });
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a killed and restarted brain is heard again within 1 s', async () => {
    const listener = start(['link', 'listen']);
    const brain = start(['link', 'serve', '--rate', '50']);
    await listener.waitFor((e) => e.event === 'tokens');
    await brain.kill('SIGKILL');
    const killedAt = performance.now();
    // Nothing arrives while the brain is dead.
    await new Promise((r) => setTimeout(r, 300));
    expect(
      listener.events.filter((e) => e.event === 'tokens' && (e.at as number) > killedAt + 50),
    ).toHaveLength(0);

    const restarted = start(['link', 'serve', '--rate', '50']);
    const ready = await restarted.waitFor((e) => e.event === 'ready');
    const first = await listener.waitFor((e) => e.event === 'tokens', 5000, ready.at as number);
    expect((first.at as number) - (ready.at as number)).toBeLessThan(1000);
    // The listener noticed the brain going away, and took the new one as a new sender.
    const counters = await listener.waitFor(
      (e) => e.event === 'counters' && (e.disconnects as number) >= 1,
      3000,
    );
    expect(counters.disconnects).toBe(1);
    expect(counters.seq_resets).toBe(0);
    expect(listener.stderr).toContain('brain disconnected');
  });

  it('a killed and restarted cerebellum is heard again within 1 s', async () => {
    const brain = start(['link', 'serve', '--rate', '50']);
    const listener = start(['link', 'listen']);
    await brain.waitFor((e) => e.event === 'state');
    await listener.kill('SIGKILL');
    const restarted = start(['link', 'listen']);
    const ready = await restarted.waitFor((e) => e.event === 'ready');
    const state = await brain.waitFor((e) => e.event === 'state', 5000, ready.at as number);
    expect((state.at as number) - (ready.at as number)).toBeLessThan(1000);
    // And the restarted cerebellum hears the brain that never went away.
    await restarted.waitFor((e) => e.event === 'tokens', 1000, ready.at as number);
  });
});
