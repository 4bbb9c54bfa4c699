import { z } from 'zod';
import { InputError } from './errors.js';

/**
 * Per-dimension action statistics in the shape of OpenVLA's `dataset_statistics.json`
 * (`{<dataset>: {action: {mean, std, max, min, q01, q99, mask}}}`), which LeRobot's
 * `meta/stats.json` also follows under its `action` key. `mask[i] = false` leaves
 * dimension i unnormalized (OpenVLA does this for the gripper).
 */
export interface NormalizationStats {
  mean: number[];
  std: number[];
  min: number[];
  max: number[];
  q01: number[];
  q99: number[];
  mask: boolean[];
}

const numbers = z.array(z.number());

export const statsSchema = z
  .object({
    mean: numbers,
    std: numbers,
    min: numbers,
    max: numbers,
    q01: numbers,
    q99: numbers,
    mask: z.array(z.boolean()).optional(),
  })
  // Files written by other tools carry more (count, q10, q50, ...); only these are ours.
  .loose();

export type StatsInput = z.infer<typeof statsSchema>;

const STAT_KEYS = ['mean', 'std', 'min', 'max', 'q01', 'q99'] as const;

/**
 * Checks lengths and orderings against the action dimension count and fills the
 * default mask (all normalized), as OpenVLA does when `mask` is absent.
 */
export function completeStats(
  input: StatsInput,
  dims: number,
  source: string,
  field: string,
): NormalizationStats {
  for (const key of STAT_KEYS) {
    if (input[key].length !== dims) {
      throw new InputError(
        source,
        `${field}.${key}`,
        `has ${input[key].length} values, the action has ${dims} dimensions`,
      );
    }
  }
  const mask = input.mask ?? new Array<boolean>(dims).fill(true);
  if (mask.length !== dims) {
    throw new InputError(
      source,
      `${field}.mask`,
      `has ${mask.length} values, the action has ${dims} dimensions`,
    );
  }
  for (let i = 0; i < dims; i++) {
    const q01 = input.q01[i] as number;
    const q99 = input.q99[i] as number;
    if (q01 > q99) throw new InputError(source, `${field}.q01[${i}]`, `${q01} exceeds q99 ${q99}`);
    const min = input.min[i] as number;
    const max = input.max[i] as number;
    if (min > max) throw new InputError(source, `${field}.min[${i}]`, `${min} exceeds max ${max}`);
    if ((input.std[i] as number) < 0) {
      throw new InputError(source, `${field}.std[${i}]`, 'is negative');
    }
  }
  const pick = (key: (typeof STAT_KEYS)[number]) => [...input[key]];
  return {
    mean: pick('mean'),
    std: pick('std'),
    min: pick('min'),
    max: pick('max'),
    q01: pick('q01'),
    q99: pick('q99'),
    mask: [...mask],
  };
}

/**
 * Finds the action statistics inside a statistics file's parsed JSON:
 * OpenVLA's `{<key>: {action: …}}` (key required when there are several datasets),
 * LeRobot's `{action: …}`, or a bare statistics object.
 */
export function selectActionStats(
  doc: unknown,
  key: string | undefined,
  source: string,
): { value: unknown; field: string } {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new InputError(source, '', 'is not a JSON object');
  }
  const root = doc as Record<string, unknown>;
  if ('q01' in root) return { value: root, field: '' };
  if ('action' in root && key === undefined) return { value: root.action, field: 'action' };
  const datasets = Object.keys(root);
  const chosen = key ?? (datasets.length === 1 ? datasets[0] : undefined);
  if (chosen === undefined) {
    throw new InputError(
      source,
      '',
      `holds several datasets (${datasets.join(', ')}); name one with statistics.key`,
    );
  }
  const entry = root[chosen];
  if (typeof entry !== 'object' || entry === null || !('action' in entry)) {
    throw new InputError(source, chosen, 'has no action statistics');
  }
  return { value: (entry as { action: unknown }).action, field: `${chosen}.action` };
}
