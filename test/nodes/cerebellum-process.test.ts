import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadJointLimits } from '../../src/cerebellum/joint-limits.js';
import { verifyReplay } from '../../src/nodes/replay-verify.js';
import { newReport, readRos2Mcap } from '../../src/record/mcap-read.js';
import { PonsProcess } from '../helpers/processes.js';
import { armProfile } from '../helpers/profiles.js';

const root = join(import.meta.dirname, '../..');
const limits = loadJointLimits({
  urdf: join(root, 'sim/planar_arm.urdf'),
  jointLimitsYaml: join(root, 'calibration/planar-arm/joint_limits.yaml'),
  joints: ['shoulder_joint', 'elbow_joint', 'wrist_joint'],
});

interface Recorded {
  stamp_ns: string;
  mode: string;
  position: number[];
  velocity: number[];
}

describe('pons cerebellum, a real process on the real link', () => {
  let dir: string;
  const started: PonsProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs chunks from a live brain, holds when the brain dies, and exits cleanly on SIGINT', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pons-cerebellum-'));
    const profile = armProfile(dir);
    const record = join(dir, 'commands.jsonl');
    const cerebellum = PonsProcess.start([
      'cerebellum',
      '--config',
      profile,
      '--json',
      '--record',
      record,
    ]);
    const brain = PonsProcess.start([
      'link',
      'serve',
      '--rate',
      '10',
      '--json',
      '--tokens',
      `ipc://${dir}/tokens`,
      '--state',
      `ipc://${dir}/state`,
    ]);
    started.push(cerebellum, brain);
    await cerebellum.waitFor(
      (e) => e.event === 'diagnostics' && e.mode === 'run' && (e.chunks_in as number) > 3,
      15_000,
    );
    // The brain hears the cerebellum's state packets, mode run.
    await brain.waitFor((e) => e.event === 'state' && e.mode === 'run', 5000);

    await brain.kill('SIGKILL');
    const dead = performance.now();
    const hold = await cerebellum.waitFor(
      (e) => e.event === 'diagnostics' && e.mode === 'hold',
      5000,
      dead,
    );
    // The newest chunk covered at most 0.7 s of the future; the watchdog holds right after.
    expect((hold.at as number) - dead).toBeLessThan(2500);

    cerebellum.child.kill('SIGINT');
    expect(await cerebellum.exited).toBe(0);
    const summary = cerebellum.events.find((e) => e.event === 'summary');
    expect(summary).toMatchObject({ why: 'SIGINT', mode: 'estop' });
    expect(summary?.ticks as number).toBeGreaterThan(500);

    const commands = readFileSync(record, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Recorded);
    expect(commands.length).toBeGreaterThan(500);
    const modes = new Set(commands.map((c) => c.mode));
    expect([...modes].sort()).toEqual(['estop', 'hold', 'run']);
    for (let i = 0; i < commands.length; i++) {
      const c = commands[i] as Recorded;
      for (let j = 0; j < 3; j++) {
        expect(c.position[j]).toBeGreaterThanOrEqual((limits.lower[j] as number) + 0.02 - 1e-9);
        expect(c.position[j]).toBeLessThanOrEqual((limits.upper[j] as number) - 0.02 + 1e-9);
        expect(Math.abs(c.velocity[j] as number)).toBeLessThanOrEqual(
          (limits.maxVelocity[j] as number) + 1e-9,
        );
      }
      if (i > 0) {
        const dt =
          Number(BigInt(c.stamp_ns) - BigInt((commands[i - 1] as Recorded).stamp_ns)) / 1e9;
        expect(dt).toBeGreaterThan(0);
      }
    }
    // Held (and then e-stopped) at rest: the last commands do not move.
    expect(commands.at(-1)?.velocity).toEqual([0, 0, 0]);
  });

  it('records to the MCAP file its profile names, and the recording replays exactly', async () => {
    dir = mkdtempSync(join(tmpdir(), 'pons-cerebellum-'));
    const profile = armProfile(dir, { record: join(dir, 'runs/cerebellum-{stamp}.mcap') });
    const cerebellum = PonsProcess.start(['cerebellum', '--config', profile, '--json']);
    const brain = PonsProcess.start([
      'link',
      'serve',
      '--rate',
      '10',
      '--tokens',
      `ipc://${dir}/tokens`,
      '--state',
      `ipc://${dir}/state`,
    ]);
    started.push(cerebellum, brain);
    await cerebellum.waitFor(
      (e) => e.event === 'diagnostics' && e.mode === 'run' && (e.chunks_in as number) > 10,
      15_000,
    );
    cerebellum.child.kill('SIGINT');
    expect(await cerebellum.exited).toBe(0);
    const [name] = readdirSync(join(dir, 'runs'));
    expect(name).toMatch(/^cerebellum-\d{8}T\d{6}Z\.mcap$/);
    const bytes = readFileSync(join(dir, 'runs', name as string));
    const report = newReport();
    const kinds = new Set<string>();
    for (const m of readRos2Mcap(bytes, 'cerebellum.mcap', report)) {
      if (m.topic === '/pons/control/inputs') kinds.add((m.message as { kind: string }).kind);
    }
    expect(report.stopped).toBeUndefined();
    expect(report.byTopic['/diagnostics']).toBeGreaterThanOrEqual(1);
    // Open loop (no robot): chunks, then the e-stop of the shutdown.
    expect(kinds.has('chunk') && kinds.has('estop')).toBe(true);
    const verified = verifyReplay({ bytes, file: name as string });
    expect(verified.exact).toBe(true);
    expect(verified.commands).toBeGreaterThan(500);
  });
});
