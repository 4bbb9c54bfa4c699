import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ControlSetup } from '../../src/cerebellum/control-protocol.js';
import {
  controlSetupFromJson,
  controlSetupToJson,
} from '../../src/cerebellum/control-setup-json.js';

const URDF = resolve(import.meta.dirname, '../../sim/planar_arm.urdf');

const setup: ControlSetup = {
  rateHz: 500,
  controller: {
    horizon: 8,
    joints: 3,
    dt: 0.1,
    interpolation: 'cubic',
    blending: { policy: 'crossfade', windowS: 0.1 },
    stoppingTimeS: 0.5,
    maxAcceleration: [6, Number.POSITIVE_INFINITY, 6],
    rejectViolatingChunks: false,
    smoothingDegree: 2,
  },
  safety: {
    limits: {
      names: ['a', 'b', 'c'],
      lower: Float64Array.of(-1, -2, -3),
      upper: Float64Array.of(1, 2, 3),
      maxVelocity: Float64Array.of(1.5, Number.POSITIVE_INFINITY, 1.5),
      maxAcceleration: Float64Array.of(6, 6, 6),
    },
    positionMargin: 0.02,
    maxStepFromMeasured: Number.POSITIVE_INFINITY,
    workspace: { min: [-1, -1, -1], max: [1, 1, 1] },
    kinematics: { urdf: URDF, tip: 'tool0' },
    onViolation: 'clamp',
  },
};

describe('control setup JSON', () => {
  it('round-trips typed arrays and unbounded limits, and embeds the URDF', () => {
    const back = controlSetupFromJson(controlSetupToJson(setup), 'test');
    expect(back.safety.limits.maxVelocity).toEqual(setup.safety.limits.maxVelocity);
    expect(back.safety.limits.maxVelocity[1]).toBe(Number.POSITIVE_INFINITY);
    expect(back.safety.maxStepFromMeasured).toBe(Number.POSITIVE_INFINITY);
    expect(back.controller).toEqual(setup.controller);
    expect(back.safety.kinematics?.xml).toBe(readFileSync(URDF, 'utf8'));
    expect(back.initial).toBeUndefined();
  });

  it('refuses what is not a setup, naming the field', () => {
    expect(() => controlSetupFromJson('{', 'rec.mcap')).toThrow(
      /rec\.mcap: control setup: is not JSON/,
    );
    const json = JSON.parse(controlSetupToJson(setup));
    json.controller.interpolation = 'spline';
    expect(() => controlSetupFromJson(JSON.stringify(json), 'rec.mcap')).toThrow(
      /rec\.mcap: controller\.interpolation: /,
    );
  });
});
