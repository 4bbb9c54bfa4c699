import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { canonicalJson, sha256Hex } from './canonical-json.js';
import { InputError } from './errors.js';
import { readJsonFile, readYamlFile } from './files.js';
import { parseWith } from './schema-error.js';
import {
  completeStats,
  type NormalizationStats,
  selectActionStats,
  statsSchema,
} from './statistics.js';

/**
 * ActionSpec: the single source of truth for what an action token means. The brain's
 * model package declares the spec it was trained with, the cerebellum's robot
 * configuration the spec it executes; the link refuses packets whose spec id differs.
 */

export const ACTION_KINDS = [
  'joint_position',
  'joint_velocity',
  'ee_delta_position',
  'ee_delta_rotation',
  'gripper',
  'base_twist',
] as const;
export type ActionKind = (typeof ACTION_KINDS)[number];

/** A `base_twist` dimension is named for the component of geometry_msgs/Twist it drives. */
export const BASE_TWIST_COMPONENTS = [
  'linear_x',
  'linear_y',
  'linear_z',
  'angular_x',
  'angular_y',
  'angular_z',
] as const;

export interface ActionDimension {
  name: string;
  unit: string;
  kind: ActionKind;
  /** Physical limits in `unit`. */
  lower: number;
  upper: number;
}

/** OpenVLA's uniform binning: token id = vocab_size − id_offset − bin, bin in 1..bins. */
export interface UniformTokenizerConfig {
  type: 'uniform';
  bins: number;
  vocab_size: number;
  id_offset: number;
  min_action: number;
  max_action: number;
}

export type TokenizerConfig = UniformTokenizerConfig;

export interface ActionSpec {
  name: string;
  dimensions: ActionDimension[];
  /** Chunk horizon H: action steps per decision. */
  horizon: number;
  /** Step period in seconds between consecutive steps of a chunk. */
  dt: number;
  tokenizer: TokenizerConfig;
  statistics: NormalizationStats;
}

const name = z.string().regex(/^[A-Za-z_][A-Za-z0-9_./-]*$/, 'must be an identifier');

const dimensionSchema = z
  .object({
    name,
    unit: z.string().min(1),
    kind: z.enum(ACTION_KINDS),
    lower: z.number(),
    upper: z.number(),
  })
  .strict()
  .refine((d) => d.lower < d.upper, { message: 'lower must be below upper', path: ['upper'] })
  .refine(
    (d) => d.kind !== 'base_twist' || (BASE_TWIST_COMPONENTS as readonly string[]).includes(d.name),
    {
      message: `a base_twist dimension must be named ${BASE_TWIST_COMPONENTS.join(', ')}`,
      path: ['name'],
    },
  );

const uniformSchema = z
  .object({
    type: z.literal('uniform'),
    bins: z.int().min(2).max(65_536).default(256),
    vocab_size: z.int().positive(),
    id_offset: z.int().min(0).default(0),
    min_action: z.number().default(-1),
    max_action: z.number().default(1),
  })
  .strict()
  .refine((t) => t.min_action < t.max_action, {
    message: 'min_action must be below max_action',
    path: ['max_action'],
  })
  .refine((t) => t.vocab_size - t.id_offset - t.bins >= 0, {
    message: 'vocab_size − id_offset leaves no room for the bins',
    path: ['vocab_size'],
  });

const statsRefSchema = z
  .object({ file: z.string().min(1), key: z.string().min(1).optional() })
  .strict();

const specFileSchema = z
  .object({
    name,
    dimensions: z.array(dimensionSchema).min(1),
    horizon: z.int().min(1).max(1024),
    dt: z.number().positive().max(10),
    tokenizer: uniformSchema,
    // A `{file, key?}` reference or the statistics inline; told apart below.
    statistics: z.record(z.string(), z.unknown()),
  })
  .strict()
  .refine((s) => new Set(s.dimensions.map((d) => d.name)).size === s.dimensions.length, {
    message: 'dimension names must be unique',
    path: ['dimensions'],
  });

/**
 * Validates a parsed spec document. `baseDir` resolves a `statistics.file` reference;
 * without it (a spec carried in a packet or a model package) statistics must be inline.
 */
export function parseActionSpec(doc: unknown, source: string, baseDir?: string): ActionSpec {
  const raw = parseWith(specFileSchema, doc, source);
  const dims = raw.dimensions.length;
  let statistics: NormalizationStats;
  if ('file' in raw.statistics) {
    const ref = parseWith(statsRefSchema, raw.statistics, source, 'statistics');
    if (baseDir === undefined) {
      throw new InputError(source, 'statistics.file', 'must be inline here, not a file reference');
    }
    const statsPath = resolve(baseDir, ref.file);
    const { value, field } = selectActionStats(readJsonFile(statsPath), ref.key, statsPath);
    statistics = completeStats(
      parseWith(statsSchema, value, statsPath, field),
      dims,
      statsPath,
      field,
    );
  } else {
    const inline = parseWith(statsSchema, raw.statistics, source, 'statistics');
    statistics = completeStats(inline, dims, source, 'statistics');
  }
  return {
    name: raw.name,
    dimensions: raw.dimensions,
    horizon: raw.horizon,
    dt: raw.dt,
    tokenizer: raw.tokenizer,
    statistics,
  };
}

/** Loads a spec from a YAML or JSON file (YAML is a superset of JSON). */
export function loadActionSpec(path: string): ActionSpec {
  return parseActionSpec(readYamlFile(path), path, dirname(path));
}

/** The spec's canonical JSON, statistics inline: what `hello` packets and model packages carry. */
export function specJson(spec: ActionSpec): string {
  return canonicalJson(spec);
}

/** SHA-256 of the canonical JSON, in hex: equal specs have equal ids whatever their key order. */
export function specId(spec: ActionSpec): string {
  return sha256Hex(specJson(spec));
}

/** The first 12 hex digits of a spec id, for log lines. */
export function shortId(id: string): string {
  return id.slice(0, 12);
}

/** Action tokens the model emits per decision: one per dimension per step for uniform bins. */
export function tokensPerDecision(spec: ActionSpec): number {
  return spec.horizon * spec.dimensions.length;
}

/** Step period as integer nanoseconds, the unit of every stamp at a boundary. */
export function stepPeriodNs(spec: ActionSpec): bigint {
  return BigInt(Math.round(spec.dt * 1e9));
}
