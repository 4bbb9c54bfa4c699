import { createHash } from 'node:crypto';
import { InputError } from '../contract/index.js';

/**
 * A seeded train/validation split by episode (a validation episode never lends a frame to
 * training): episodes ranked by a hash of the seed and their id, the first
 * round(fraction · n) to validation. Depends only on the ids, not on the order of the input.
 */
export function validationEpisodes(
  ids: readonly string[],
  fraction: number,
  seed: number,
): Set<string> {
  if (!(fraction >= 0 && fraction < 1)) {
    throw new InputError('--val-fraction', '', `must be from 0 to below 1, got ${fraction}`);
  }
  if (fraction === 0) return new Set();
  const count = Math.round(fraction * ids.length);
  if (count === 0 || count === ids.length) {
    throw new InputError(
      '--val-fraction',
      '',
      `${fraction} of ${ids.length} episodes leaves ${count === 0 ? 'validation' : 'training'} empty`,
    );
  }
  const rank = (id: string) => createHash('sha256').update(`${seed}\n${id}`).digest('hex');
  const ranked = [...new Set(ids)].map((id) => ({ id, key: rank(id) }));
  ranked.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return new Set(ranked.slice(0, count).map((r) => r.id));
}
