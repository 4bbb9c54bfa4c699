/** Small helpers for judging decoded values and naming them in error reasons. */

/** A MessagePack map as msgpackr decodes it (`mapsAsObjects`): a plain object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** A short description of a decoded value's type, for error reasons. */
export function describe(value: unknown): string {
  if (value === null) return 'nil';
  if (value === undefined) return 'absent';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Uint8Array) return 'bin';
  switch (typeof value) {
    case 'string':
      return 'a str';
    case 'number':
      return Number.isInteger(value) ? 'an integer' : 'a float';
    case 'bigint':
      return 'an int64';
    case 'boolean':
      return 'a bool';
    case 'object':
      return isPlainObject(value) ? 'a map' : `a ${value.constructor?.name ?? 'object'}`;
    default:
      return `a ${typeof value}`;
  }
}

/** A decoded value for an error reason, kept short. */
export function show(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'number':
      return String(value);
    case 'bigint':
      return String(value);
    case 'boolean':
      return String(value);
    default:
      return describe(value);
  }
}
