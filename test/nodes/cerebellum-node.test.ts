import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlCommand } from '../../src/cerebellum/control-protocol.js';
import { LinkServer } from '../../src/link/index.js';
import type { CerebellumNode as Node } from '../../src/nodes/cerebellum-node.js';
import { loadProfile } from '../../src/nodes/profile.js';
import { tokenizerFor } from '../../src/tokenizer/index.js';
import { epochNowNs } from '../../src/wire/index.js';
import { eventually, memoryLog, planarArmIdentity, sleep } from '../helpers/link-fixtures.js';
import { armProfile } from '../helpers/profiles.js';

// The control thread runs the compiled worker, so the node comes from dist/ (npm test builds it).
const compiled = '../../dist/nodes/cerebellum-node.js';
const { CerebellumNode } = (await import(compiled)) as { CerebellumNode: typeof Node };

const root = join(import.meta.dirname, '../..');

describe('cerebellum node', () => {
  let dir: string;
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it('latches HOLD, brakes to rest, refuses chunks until an explicit release', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pons-estop-'));
    const profile = loadProfile(armProfile(dir));
    const id = planarArmIdentity('brain');
    const server = await LinkServer.open({
      ...id,
      endpoints: { tokens: profile.link.tokens, state: profile.link.state },
      log: memoryLog(),
    });
    cleanup.push(() => server.close());
    const commands: ControlCommand[] = [];
    const log = memoryLog();
    const node = await CerebellumNode.start({
      profile,
      log,
      link: { modelId: 'arm', software: 'test', log },
      onCommand: (c) => commands.push(c),
    });
    cleanup.push(() => node.stop());
    // A chunk ramping the shoulder gently (0.5 rad/s) from 0, re-sent every 50 ms, encoded
    // through the spec's own tokenizer as a brain would.
    const tokenizer = tokenizerFor(node.spec);
    const chunk = new Float64Array(24);
    for (let k = 0; k < 8; k++) chunk[k * 3] = 0.05 * k;
    const publish = () =>
      server.publishTokens({
        episode_id: 'e',
        obs_stamp_ns: epochNowNs(),
        tokens: tokenizer.encode(chunk),
        timings_ms: {},
      });
    const timer = setInterval(publish, 50);
    cleanup.push(() => clearInterval(timer));

    expect(await eventually(() => commands.at(-1)?.mode === 'run', 5000)).toBe(true);
    server.publishEstop(true, 'test: red button');
    expect(await eventually(() => commands.at(-1)?.mode === 'estop', 2000)).toBe(true);
    // Chunks keep arriving, but nothing runs: it brakes to rest and stays there.
    await sleep(600);
    const stopped = commands.at(-1) as ControlCommand;
    expect(stopped.mode).toBe('estop');
    expect(Array.from(stopped.velocity)).toEqual([0, 0, 0]);
    expect(node.snapshot().estop_reason).toBe('test: red button');
    expect(log.lines.some((l) => l.includes('E-STOP latched (test: red button)'))).toBe(true);

    server.publishEstop(false, 'test: operator reset');
    expect(await eventually(() => commands.at(-1)?.mode === 'run', 2000)).toBe(true);
  });
});

describe('cerebellum node with a learned stage', () => {
  let dir: string;
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  async function runWith(stage: string) {
    dir = mkdtempSync(join(tmpdir(), 'pons-learned-'));
    const profile = loadProfile(armProfile(dir, { learned_stage: stage }));
    const server = await LinkServer.open({
      ...planarArmIdentity('brain'),
      endpoints: { tokens: profile.link.tokens, state: profile.link.state },
      log: memoryLog(),
    });
    cleanup.push(() => server.close());
    const commands: ControlCommand[] = [];
    const log = memoryLog();
    const node = await CerebellumNode.start({
      profile,
      log,
      link: { modelId: 'arm', software: 'test', log },
      onCommand: (c) => commands.push(c),
    });
    cleanup.push(() => node.stop());
    const tokenizer = tokenizerFor(node.spec);
    const chunk = new Float64Array(24).fill(0.1);
    const timer = setInterval(
      () =>
        server.publishTokens({
          episode_id: 'e',
          obs_stamp_ns: epochNowNs(),
          tokens: tokenizer.encode(chunk),
          timings_ms: {},
        }),
      50,
    );
    cleanup.push(() => clearInterval(timer));
    expect(
      await eventually(
        () => (node.snapshot().chunks_in ?? 0) >= 5 && commands.at(-1)?.mode === 'run',
        5000,
      ),
    ).toBe(true);
    return { node, log };
  }

  it('corrects chunks with the bundled ONNX stage on the CPU', async () => {
    const { node } = await runWith(join(root, 'models/learned-cerebellum'));
    const learned = node.snapshot().learned;
    expect(learned?.provider).toBe('cpu');
    expect(learned?.corrected).toBeGreaterThan(0);
    expect(learned?.fallbacks).toBe(0);
  });

  it('falls back to the analytic path, and says so, when the stage fails', async () => {
    const { node, log } = await runWith(join(root, 'test/fixtures/learned-stage/nan-output'));
    const learned = node.snapshot().learned;
    expect(learned?.corrected).toBe(0);
    expect(learned?.fallbacks).toBeGreaterThan(0);
    expect(log.lines.some((l) => l.includes('runs uncorrected'))).toBe(true);
  });
});
