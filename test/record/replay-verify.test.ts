import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { verifyReplay } from '../../src/nodes/replay-verify.js';
import type { Recorder as RecorderType } from '../../src/record/recorder.js';
import { ROS_TYPES, stringMsg } from '../../src/ros/index.js';
import { CLI } from '../helpers/processes.js';

// `pons replay --verify` on the committed episode (test/fixtures/episodes/README.md): the
// regression test for controller changes.

// The recorder writes from a worker thread, so it comes from dist/ (npm test builds it).
const compiled = '../../dist/record/recorder.js';
const { Recorder } = (await import(compiled)) as { Recorder: typeof RecorderType };

const EPISODE = resolve(import.meta.dirname, '../fixtures/episodes/reach-expert-cerebellum.mcap');
const PROFILE = resolve(import.meta.dirname, '../../calibration/planar-arm/robot.yaml');
const dir = mkdtempSync(join(tmpdir(), 'pons-verify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function verify(args: string[]) {
  const run = spawnSync(process.execPath, [CLI, 'replay', EPISODE, '--verify', '--json', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  return { status: run.status, stderr: run.stderr, result: line ? JSON.parse(line) : undefined };
}

describe('pons replay --verify', () => {
  it('reproduces every command of the committed episode exactly', () => {
    const { status, result, stderr } = verify([]);
    expect(status, stderr).toBe(0);
    expect(result).toMatchObject({ exact: true, passed: true, setup: 'recorded', unmatched: 0 });
    expect(result.commands).toBeGreaterThan(1000);
    expect(result.identical).toBe(result.commands);
    expect(result.missing_inputs).toBe(0);
    for (const d of Object.values(result.max_deviation)) expect(d).toBe(0);
    // The episode's control clock ran late at times: the replay must skip what it skipped.
    expect(result.skipped_ticks).toBeGreaterThan(0);
  });

  it('reports the deviation per joint when the controller is configured differently', () => {
    // The bundled profile with a slower tracker; its relative paths made absolute.
    const profile = parse(readFileSync(PROFILE, 'utf8'));
    const at = (p: string) => resolve(PROFILE, '..', p);
    profile.spec = at(profile.spec);
    profile.robot.urdf = at(profile.robot.urdf);
    profile.robot.joint_limits = at(profile.robot.joint_limits);
    delete profile.brain;
    profile.cerebellum.tracking_bandwidth_hz = 3;
    const changed = join(dir, 'robot.yaml');
    writeFileSync(changed, stringify(profile));
    const { status, result, stderr } = verify(['--against', changed]);
    expect(status, stderr).toBe(1);
    expect(result).toMatchObject({ exact: false, passed: false, setup: 'given' });
    expect(Object.keys(result.max_deviation)).toEqual([
      'shoulder_joint',
      'elbow_joint',
      'wrist_joint',
    ]);
    expect(Math.max(...(Object.values(result.max_deviation) as number[]))).toBeGreaterThan(1e-3);
    // A tolerance above the deviation accepts it.
    const loose = verify(['--against', changed, '--tolerance', '1']);
    expect(loose.status, loose.stderr).toBe(0);
    expect(loose.result).toMatchObject({ exact: false, passed: true });
  });

  it('the same profile as recorded reproduces it exactly', () => {
    const { status, result } = verify(['--against', PROFILE]);
    expect(status).toBe(0);
    expect(result.exact).toBe(true);
  });

  it('verifies what a cut-short recording still holds, and says where it stopped', () => {
    const bytes = readFileSync(EPISODE);
    const result = verifyReplay({
      bytes: bytes.subarray(0, Math.floor(bytes.length * 0.7)),
      file: 'cut.mcap',
    });
    expect(result.read.stopped).toMatch(/cut\.mcap: (truncated|corrupt)/);
    expect(result.exact).toBe(true);
    expect(result.commands).toBeGreaterThan(100);
  });

  it('refuses a recording without the control setup, or with a damaged one, by file and topic', async () => {
    const write = async (name: string, messages: [string, string][]) => {
      const path = join(dir, name);
      const recorder = await Recorder.open(path);
      for (const [topic, data] of messages)
        recorder.record(topic, ROS_TYPES.string, 1n, stringMsg(data), 'reliable');
      await recorder.close();
      return readFileSync(path);
    };
    const none = await write('none.mcap', [['/instruction', 'reach the red block']]);
    expect(() => verifyReplay({ bytes: none, file: 'none.mcap' })).toThrow(
      /none\.mcap: \/pons\/control\/setup: is missing/,
    );
    const bad = await write('bad.mcap', [['/pons/control/setup', '{"epoch_start_ns": 12']]);
    expect(() => verifyReplay({ bytes: bad, file: 'bad.mcap' })).toThrow(
      /bad\.mcap \/pons\/control\/setup: data: is not JSON/,
    );
    const wrong = await write('wrong.mcap', [
      ['/pons/control/setup', '{"epoch_start_ns": "12", "setup": {"rateHz": -5}}'],
    ]);
    expect(() => verifyReplay({ bytes: wrong, file: 'wrong.mcap' })).toThrow(
      /wrong\.mcap \/pons\/control\/setup: rateHz: /,
    );
  });
});
