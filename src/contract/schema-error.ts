import type { z } from 'zod';
import { fieldPath, InputError } from './errors.js';

/** Parses with a zod schema, turning the first failure into an InputError that names the field. */
export function parseWith<T extends z.ZodType>(
  schema: T,
  value: unknown,
  source: string,
  prefix = '',
): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const [first, ...rest] = result.error.issues;
  // An extra key is reported on its parent object; name the key itself as the field.
  const extra = first?.code === 'unrecognized_keys' ? first.keys.slice(0, 1) : [];
  const path = fieldPath([...(prefix ? [prefix] : []), ...(first?.path ?? []), ...extra]);
  const more =
    rest.length > 0 ? ` (and ${rest.length} more problem${rest.length > 1 ? 's' : ''})` : '';
  throw new InputError(source, path, `${first?.message ?? 'is invalid'}${more}`);
}
