import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseActionSpec } from '../../src/contract/index.js';
import { UniformActionTokenizer } from '../../src/tokenizer/index.js';

// Written by make_golden.py from an independent numpy implementation of OpenVLA's tokenizer.
// Floats must match bit for bit (Object.is: -0 and 0 differ), not within a tolerance.

interface GoldenCase {
  name: string;
  note: string;
  spec: unknown;
  physical: number[];
  normalized: number[];
  ids: number[];
  decoded: number[];
  every_id?: number[][];
}

const golden = JSON.parse(
  readFileSync(new URL('../fixtures/tokenizer/golden.json', import.meta.url), 'utf8'),
) as { cases: GoldenCase[] };

/** Indices where `actual` and `expected` are not the same float, with both values. */
function mismatches(actual: ArrayLike<number>, expected: readonly number[]): string[] {
  const out: string[] = [];
  if (actual.length !== expected.length) return [`length ${actual.length} != ${expected.length}`];
  for (let i = 0; i < expected.length; i++) {
    if (!Object.is(actual[i], expected[i])) out.push(`[${i}] ${actual[i]} != ${expected[i]}`);
  }
  return out;
}

describe('uniform tokenizer against numpy golden vectors', () => {
  it('covers the cases the fixture promises', () => {
    const names = golden.cases.map((c) => c.name);
    for (const name of ['openvla-llama2', 'llama3-offset', 'tiny-planar', 'bins64', 'edges']) {
      expect(names).toContain(name);
    }
    expect(golden.cases.length).toBeGreaterThanOrEqual(10);
  });

  for (const c of golden.cases) {
    describe(`${c.name} (${c.note})`, () => {
      const spec = parseActionSpec(c.spec, `golden:${c.name}`);
      const tok = new UniformActionTokenizer(spec);

      it('normalizes bit-identically', () => {
        expect(mismatches(tok.normalize(c.physical), c.normalized)).toEqual([]);
      });

      it('encodes to the same ids', () => {
        expect(Array.from(tok.encode(c.physical))).toEqual(c.ids);
      });

      it('decodes to bit-identical physical values', () => {
        expect(mismatches(tok.decode(Uint32Array.from(c.ids), 'golden'), c.decoded)).toEqual([]);
      });

      if (c.every_id !== undefined) {
        const rows = c.every_id;
        it('decodes every id in the action range bit-identically', () => {
          expect(rows.length).toBe(tok.maxId - tok.minId + 1);
          const ids = new Uint32Array(tok.tokensPerDecision);
          const out = new Float64Array(tok.tokensPerDecision);
          const bad: string[] = [];
          rows.forEach((row, k) => {
            tok.decodeInto(ids.fill(tok.minId + k), out, 'golden');
            const steps = Array.from({ length: tok.horizon }, () => row).flat();
            bad.push(...mismatches(out, steps).map((m) => `id ${tok.minId + k} ${m}`));
          });
          expect(bad).toEqual([]);
        });
      }
    });
  }
});
