import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ControlCommand } from '../../src/cerebellum/control-protocol.js';
import { loadActionSpec, specId, specJson } from '../../src/contract/index.js';
import { BusPublisher, BusSubscriber, LinkServer } from '../../src/link/index.js';
import type { CerebellumNode as Node } from '../../src/nodes/cerebellum-node.js';
import { loadProfile, type RobotProfile } from '../../src/nodes/profile.js';
import { tokenizerFor } from '../../src/tokenizer/index.js';
import { type CommandPacket, epochNowNs } from '../../src/wire/index.js';
import { eventually, memoryLog, sleep } from '../helpers/link-fixtures.js';
import { armProfile } from '../helpers/profiles.js';

// The control thread runs the compiled worker, so the node comes from dist/ (npm test builds it).
const compiled = '../../dist/nodes/cerebellum-node.js';
const { CerebellumNode } = (await import(compiled)) as { CerebellumNode: typeof Node };

const root = join(import.meta.dirname, '../..');

/**
 * A cerebellum node on `profile`, and a brain (a LinkServer here, speaking the profile's
 * spec) re-sending one chunk every 50 ms, encoded through the spec's own tokenizer as a
 * brain would. Resolves once the node is running the chunk.
 */
async function nodeWithBrain(
  profile: RobotProfile,
  chunk: Float64Array,
  cleanup: (() => unknown)[],
) {
  const spec = loadActionSpec(profile.spec);
  const server = await LinkServer.open({
    spec: specJson(spec),
    specId: specId(spec),
    modelId: 'brain',
    software: 'test',
    endpoints: { tokens: profile.link.tokens, state: profile.link.state },
    log: memoryLog(),
  });
  cleanup.push(() => server.close());
  const commands: ControlCommand[] = [];
  const log = memoryLog();
  const node = await CerebellumNode.start({
    profile,
    log,
    link: { modelId: profile.name, software: 'test', log },
    onCommand: (c) => commands.push(c),
  });
  cleanup.push(() => node.stop());
  const tokens = tokenizerFor(spec).encode(chunk);
  const timer = setInterval(
    () =>
      server.publishTokens({ episode_id: 'e', obs_stamp_ns: epochNowNs(), tokens, timings_ms: {} }),
    50,
  );
  const stopBrain = () => clearInterval(timer);
  cleanup.push(stopBrain);
  const running = () => node.snapshot().chunks_in >= 3 && commands.at(-1)?.mode === 'run';
  expect(await eventually(running, 5000)).toBe(true);
  return { server, node, commands, log, stopBrain };
}

describe('cerebellum node', () => {
  let dir: string;
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  async function armWithBrain(cerebellum: Record<string, unknown>, chunk: Float64Array) {
    dir = mkdtempSync(join(tmpdir(), 'pons-node-'));
    return nodeWithBrain(loadProfile(armProfile(dir, cerebellum)), chunk, cleanup);
  }

  it('latches HOLD on an e-stop packet, brakes to rest, refuses chunks until an explicit release', async () => {
    // The shoulder ramping gently (0.5 rad/s) from 0.
    const ramp = new Float64Array(24);
    for (let k = 0; k < 8; k++) ramp[k * 3] = 0.05 * k;
    const { server, node, commands, log } = await armWithBrain({}, ramp);
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

  it('corrects chunks with the bundled ONNX learned stage on the CPU', async () => {
    const { node } = await armWithBrain(
      { learned_stage: join(root, 'models/learned-cerebellum') },
      new Float64Array(24).fill(0.1),
    );
    const learned = node.snapshot().learned;
    expect(learned?.provider).toBe('cpu');
    expect(learned?.corrected).toBeGreaterThan(0);
    expect(learned?.fallbacks).toBe(0);
  });

  it('falls back to the analytic path, and says so, when the learned stage fails', async () => {
    const { node, log } = await armWithBrain(
      { learned_stage: join(root, 'test/fixtures/learned-stage/nan-output') },
      new Float64Array(24).fill(0.1),
    );
    const learned = node.snapshot().learned;
    expect(learned?.corrected).toBe(0);
    expect(learned?.fallbacks).toBeGreaterThan(0);
    expect(log.lines.some((l) => l.includes('runs uncorrected'))).toBe(true);
  });
});

describe('cerebellum node driving a mobile base', () => {
  let dir: string;
  const cleanup: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
    rmSync(dir, { recursive: true, force: true });
  });

  it('executes base_twist chunks as speeds and ramps them to exactly zero when the brain stops', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pons-base-'));
    const n = 2;
    writeFileSync(
      join(dir, 'base_spec.json'),
      JSON.stringify({
        name: 'diff-drive',
        horizon: 4,
        dt: 0.1,
        dimensions: [
          { name: 'linear_x', unit: 'm/s', kind: 'base_twist', lower: -1, upper: 1 },
          { name: 'angular_z', unit: 'rad/s', kind: 'base_twist', lower: -2, upper: 2 },
        ],
        tokenizer: { type: 'uniform', vocab_size: 4096 },
        statistics: {
          mean: [0, 0],
          std: [0.5, 1],
          min: [-1, -2],
          max: [1, 2],
          q01: [-1, -2],
          q99: [1, 2],
        },
      }),
    );
    const profileFile = join(dir, 'base.yaml');
    writeFileSync(
      profileFile,
      JSON.stringify({
        name: 'base',
        spec: 'base_spec.json',
        robot: { urdf: join(root, 'sim/planar_arm.urdf'), base: { max_acceleration: [1, 2] } },
        link: { tokens: `ipc://${dir}/tokens`, state: `ipc://${dir}/state` },
        cerebellum: { rate_hz: 500, safety: { position_margin: 0 } },
      }),
    );
    // Drive at 0.5 m/s turning at -1 rad/s.
    const { commands, stopBrain } = await nodeWithBrain(
      loadProfile(profileFile),
      Float64Array.from({ length: 4 * n }, (_, i) => (i % 2 === 0 ? 0.5 : -1)),
      cleanup,
    );
    expect(
      await eventually(() => Math.abs((commands.at(-1)?.position[0] ?? 0) - 0.5) < 0.01, 5000),
    ).toBe(true);
    expect(commands.at(-1)?.position[1]).toBeCloseTo(-1, 1);
    expect(
      commands.every(
        (c) => Math.abs(c.position[0] as number) <= 1 && Math.abs(c.position[1] as number) <= 2,
      ),
    ).toBe(true);

    stopBrain();
    const stopped = () => {
      const c = commands.at(-1);
      return c?.mode === 'hold' && c.position[0] === 0 && c.position[1] === 0;
    };
    expect(await eventually(stopped, 5000)).toBe(true);
  });

  it('drives a robot on the bus: starts from its measured joints, sends commands stamped with the chunk they execute', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pons-node-'));
    const observations = `ipc://${dir}/observations`;
    const commandsAt = `ipc://${dir}/commands`;
    const robotJoints = await BusPublisher.open({ endpoint: observations, bind: true });
    const robotCommands = await BusSubscriber.open({ endpoint: commandsAt, bind: true }, [
      'command',
    ]);
    cleanup.push(
      () => robotJoints.close(),
      () => robotCommands.close(),
    );
    const received: CommandPacket[] = [];
    robotCommands.onPacket((p) => received.push(p as CommandPacket));
    const measured = Float64Array.of(0.3, -0.2, 0.1);
    const joints = setInterval(
      () =>
        robotJoints.publish({
          kind: 'joints',
          stamp_ns: epochNowNs(),
          // Another order than the URDF's, and an extra joint: mapped by name.
          name: ['wrist_joint', 'gripper', 'shoulder_joint', 'elbow_joint'],
          position: Float64Array.of(0.1, 0, 0.3, -0.2),
          velocity: new Float64Array(0),
        }),
      10,
    );
    cleanup.push(() => clearInterval(joints));
    const chunk = new Float64Array(24);
    for (let k = 0; k < 8; k++) chunk.set(measured, k * 3);
    const profile = loadProfile(
      armProfile(dir, { output: { kind: 'bus', commands: commandsAt, observations } }),
    );
    const started = epochNowNs();
    await nodeWithBrain(profile, chunk, cleanup);
    expect(await eventually(() => received.some((c) => c.mode === 'run'), 5000)).toBe(true);
    // The first command is the measured state (no jump), not mid-range.
    const first = received[0] as CommandPacket;
    for (const [j, q] of first.position.entries()) expect(q).toBeCloseTo(measured[j] as number, 2);
    // Running commands carry the observation stamp of a chunk the brain sent during the test.
    const run = received.filter((c) => c.mode === 'run');
    expect(run.length).toBeGreaterThan(0);
    for (const c of run) {
      expect(c.obs_stamp_ns).toBeGreaterThan(started);
      expect(c.obs_stamp_ns).toBeLessThanOrEqual(c.stamp_ns);
    }
  });
});
