import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '../..');

/** A robot profile for the bundled arm in `dir`, with ipc endpoints there and the given output. */
export function armProfile(dir: string, cerebellum: Record<string, unknown> = {}): string {
  const path = join(dir, 'robot.yaml');
  writeFileSync(
    path,
    JSON.stringify({
      name: 'test-arm',
      spec: join(root, 'calibration/planar-arm/action_spec.yaml'),
      robot: {
        urdf: join(root, 'sim/planar_arm.urdf'),
        tip_link: 'tool0',
        joint_limits: join(root, 'calibration/planar-arm/joint_limits.yaml'),
      },
      link: { tokens: `ipc://${dir}/tokens`, state: `ipc://${dir}/state` },
      cerebellum: { rate_hz: 500, stopping_time_s: 0.3, ...cerebellum },
    }),
  );
  return path;
}

/** A robot profile for the brain node in `dir`: the bundled arm, tiny-vla on one CPU thread. */
export function brainProfile(
  dir: string,
  link: { tokens: string; state: string },
  brain: Record<string, unknown>,
): string {
  const path = join(dir, 'robot.yaml');
  writeFileSync(
    path,
    JSON.stringify({
      name: 'test-arm',
      spec: join(root, 'calibration/planar-arm/action_spec.yaml'),
      robot: { urdf: join(root, 'sim/planar_arm.urdf'), tip_link: 'tool0' },
      link,
      brain: { model: join(root, 'models/tiny-vla'), providers: ['cpu'], threads: 1, ...brain },
    }),
  );
  return path;
}
