import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/contract/index.js';
import { loadProfile } from '../../src/nodes/profile.js';

const root = join(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'pons-profile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(doc: object): string {
  const path = join(dir, `p${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(path, JSON.stringify(doc));
  return path;
}

const base = {
  name: 'arm',
  spec: join(root, 'calibration/planar-arm/action_spec.yaml'),
  robot: { urdf: join(root, 'sim/planar_arm.urdf'), tip_link: 'tool0' },
};

describe('robot profile', () => {
  it('the bundled profile loads with its paths resolved and the documented defaults', () => {
    const p = loadProfile(join(root, 'calibration/planar-arm/robot.yaml'));
    expect(p.spec).toBe(join(root, 'calibration/planar-arm/action_spec.yaml'));
    expect(p.robot.urdf).toBe(join(root, 'sim/planar_arm.urdf'));
    expect(p.cerebellum).toMatchObject({
      rate_hz: 500,
      smoothing_degree: 2,
      tracking_bandwidth_hz: 5,
    });
    expect(p.link.max_age_ms).toBe(1000);
  });

  it('fills every default from one minimal file', () => {
    const p = loadProfile(write(base));
    expect(p.link.tokens).toBe('tcp://127.0.0.1:5555');
    expect(p.cerebellum.safety.on_violation).toBe('clamp');
    expect(p.cerebellum.output).toEqual({ kind: 'none' });
  });

  it('takes per-topic ROS QoS and refuses a bad one, naming the field', () => {
    const ok = loadProfile(
      write({
        ...base,
        cerebellum: {
          output: { kind: 'ros', qos: { '/joint_states': { profile: 'sensor_data', depth: 1 } } },
        },
      }),
    );
    expect(ok.cerebellum.output).toMatchObject({
      kind: 'ros',
      qos: { '/joint_states': { depth: 1 } },
    });
    const bad = write({
      ...base,
      cerebellum: { output: { kind: 'ros', qos: { '/x': { reliability: 'sometimes' } } } },
    });
    expect(() => loadProfile(bad)).toThrow(InputError);
    expect(() => loadProfile(bad)).toThrow(/cerebellum\.output\.qos\./);
  });

  it('refuses wrong values with the file, the field and the reason', () => {
    const cases: [object, RegExp][] = [
      [{ ...base, link: { tokens: 'http://x' } }, /link\.tokens: must be a ZeroMQ endpoint/],
      [{ ...base, cerebellum: { rate_hz: 5000 } }, /cerebellum\.rate_hz/],
      [{ ...base, cerebellum: { blending: { policy: 'average' } } }, /cerebellum\.blending/],
      [{ ...base, extra: 1 }, /extra/],
      [{ name: 'x', spec: 'a.yaml' }, /robot/],
    ];
    for (const [doc, reason] of cases) {
      const path = write(doc);
      expect(() => loadProfile(path)).toThrow(reason);
      expect(() => loadProfile(path)).toThrow(path);
    }
  });
});
