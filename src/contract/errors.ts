/**
 * The one error type for bad input from outside (files, packets, frames, messages).
 * It always names where the input came from, which field was wrong, and why, so a
 * log line alone is enough to find and fix the problem.
 */
export class InputError extends Error {
  constructor(
    readonly source: string,
    readonly field: string,
    readonly reason: string,
  ) {
    super(`${source}: ${field || '(root)'}: ${reason}`);
    this.name = 'InputError';
  }
}

/** Renders a property path as `a.b[2].c`. */
export function fieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}
