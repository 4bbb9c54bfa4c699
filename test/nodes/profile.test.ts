import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/contract/index.js';
import { loadProfile, recordPath } from '../../src/nodes/profile.js';

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

  it('names recordings per node, with the start time where the path says {stamp}', () => {
    const p = loadProfile(
      write({
        ...base,
        cerebellum: { record: 'runs/c-{stamp}.mcap' },
        brain: { record: 'b.mcap' },
      }),
    );
    expect(p.cerebellum.record).toBe('runs/c-{stamp}.mcap');
    expect(p.brain.record).toBe('b.mcap');
    expect(recordPath('runs/c-{stamp}.mcap', new Date('2026-12-02T00:45:12.345Z'))).toBe(
      'runs/c-20261202T004512Z.mcap',
    );
    expect(() => loadProfile(write({ ...base, cerebellum: { record: 'c.bag' } }))).toThrow(
      /cerebellum\.record: must name a \.mcap file/,
    );
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

describe('brain section', () => {
  it('the shipped profiles (embedded sim, Gazebo, real robot) load and say where observations come from', () => {
    const sim = loadProfile(join(root, 'calibration/planar-arm/robot.yaml'));
    expect(sim.brain).toMatchObject({ source: 'bus', model: join(root, 'models/tiny-vla') });
    expect(sim.brain.cameras[0]?.calibration).toBe(
      join(root, 'calibration/planar-arm/overhead_camera.yaml'),
    );
    const gazebo = loadProfile(join(root, 'calibration/planar-arm/robot-gazebo.yaml'));
    expect(gazebo.brain).toMatchObject({ source: 'ros', use_joint_states: true });
    expect(gazebo.cerebellum.output.kind).toBe('ros');
    const robot = loadProfile(join(root, 'calibration/planar-arm/robot-ros.yaml'));
    expect(robot.brain.cameras[0]).toMatchObject({ compressed: true });
    expect(robot.link.curve_secret).toBe(join(root, 'keys/brain.key_secret'));
  });

  it('fills the brain defaults, documented in the schema', () => {
    const p = loadProfile(write(base));
    expect(p.brain).toMatchObject({
      providers: ['cuda', 'cpu'],
      source: 'bus',
      bus: 'tcp://127.0.0.1:5557',
      cameras: [
        { name: 'overhead', topic: '/camera/image_raw', compressed: false, timeout_ms: 500 },
      ],
      sync: { queue_size: 10, age_penalty: 0.1 },
      max_observation_age_ms: 500,
      run_during_estop: false,
    });
  });

  it('refuses duplicate camera names, a bad source and a broken camera calibration, naming the field', () => {
    const twice = { ...base, brain: { cameras: [{ name: 'a' }, { name: 'a' }] } };
    expect(() => loadProfile(write(twice))).toThrow(/brain: camera names must be unique/);
    expect(() => loadProfile(write({ ...base, brain: { source: 'usb' } }))).toThrow(
      /brain\.source: /,
    );
    const calibration = join(dir, 'broken_camera.yaml');
    writeFileSync(calibration, JSON.stringify({ image_width: 10 }));
    const broken = { ...base, brain: { cameras: [{ name: 'a', calibration }] } };
    expect(() => loadProfile(write(broken))).toThrow(new RegExp(`${calibration}: image_height: `));
  });
});
