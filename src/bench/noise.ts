/**
 * Seeded noise bytes (xorshift32): camera frames that zstd cannot compress, the worst case for
 * a recorder, the same on every run.
 */
export function noiseBytes(length: number, seed = 2463534242): Uint8Array {
  let x = seed;
  return new Uint8Array(length).map(() => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x & 0xff;
  });
}
