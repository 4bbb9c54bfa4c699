import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { InputError } from '../contract/index.js';
import type { ControlSetup } from './control-protocol.js';

/**
 * A control setup as JSON, so a recording carries everything a replay of its control thread
 * needs (`pons replay --verify`): Float64Arrays as arrays, unbounded limits as "Infinity"
 * (JSON has no infinities), and the URDF of a workspace check embedded as text, so the
 * replay does not depend on the file still being where (or what) it was.
 */

const bound = z
  .union([z.number(), z.literal('Infinity'), z.literal('-Infinity')])
  .transform((v) => (typeof v === 'number' ? v : Number(v)));
const bounds = z.array(bound);
const vec3 = z.tuple([z.number(), z.number(), z.number()]);

const schema = z.object({
  rateHz: z.number().positive(),
  initial: z.array(z.number()).optional(),
  controller: z.object({
    horizon: z.number().int().positive(),
    joints: z.number().int().positive(),
    dt: z.number().positive(),
    interpolation: z.enum(['linear', 'cubic']),
    blending: z.discriminatedUnion('policy', [
      z.object({ policy: z.literal('latest') }),
      z.object({ policy: z.literal('crossfade'), windowS: z.number() }),
      z.object({ policy: z.literal('ensemble'), decay: z.number() }),
    ]),
    stoppingTimeS: z.number().positive(),
    maxAcceleration: bounds,
    rejectViolatingChunks: z.boolean(),
    smoothingDegree: z.number().int().optional(),
    trackingBandwidthHz: z.number().optional(),
    restAtZero: z.boolean().optional(),
  }),
  safety: z.object({
    limits: z.object({
      names: z.array(z.string()),
      lower: bounds,
      upper: bounds,
      maxVelocity: bounds,
      maxAcceleration: bounds,
    }),
    positionMargin: z.number(),
    maxStepFromMeasured: bound,
    workspace: z.object({ min: vec3, max: vec3 }).optional(),
    kinematics: z
      .object({ urdf: z.string(), xml: z.string(), base: z.string().optional(), tip: z.string() })
      .optional(),
    onViolation: z.enum(['clamp', 'reject']),
  }),
});

const encode = (_key: string, value: unknown) => {
  if (value instanceof Float64Array) return Array.from(value);
  if (typeof value === 'number' && !Number.isFinite(value) && !Number.isNaN(value))
    return String(value);
  return value;
};

export function controlSetupToJson(setup: ControlSetup): string {
  const { kinematics } = setup.safety;
  const withXml = kinematics
    ? {
        ...setup,
        safety: {
          ...setup.safety,
          kinematics: {
            ...kinematics,
            xml: kinematics.xml ?? readFileSync(kinematics.urdf, 'utf8'),
          },
        },
      }
    : setup;
  return JSON.stringify(
    {
      rateHz: withXml.rateHz,
      initial: withXml.initial,
      controller: withXml.controller,
      safety: withXml.safety,
    },
    encode,
  );
}

export function controlSetupFromJson(text: string, source: string): ControlSetup {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new InputError(source, 'control setup', `is not JSON: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InputError(
      source,
      issue?.path.join('.') || 'control setup',
      issue?.message ?? 'invalid',
    );
  }
  const { controller, safety, rateHz, initial } = parsed.data;
  const { limits } = safety;
  return {
    rateHz,
    ...(initial ? { initial } : {}),
    controller,
    safety: {
      ...safety,
      limits: {
        names: limits.names,
        lower: Float64Array.from(limits.lower),
        upper: Float64Array.from(limits.upper),
        maxVelocity: Float64Array.from(limits.maxVelocity),
        maxAcceleration: Float64Array.from(limits.maxAcceleration),
      },
    },
  };
}
