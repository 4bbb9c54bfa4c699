import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import {
  type ActionSpec,
  InputError,
  loadActionSpec,
  parseActionSpec,
  specId,
  specJson,
  stepPeriodNs,
  tokensPerDecision,
} from '../../src/contract/index.js';

const bundledPath = new URL('../../calibration/planar-arm/action_spec.yaml', import.meta.url)
  .pathname;

const dir = mkdtempSync(join(tmpdir(), 'pons-spec-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
/** Writes `text` to a fresh file in the temp dir (its own subfolder, so references resolve). */
function write(name: string, text: string, sub = `case${fileCount++}`): string {
  const folder = join(dir, sub);
  mkdirSync(folder, { recursive: true });
  const path = join(folder, name);
  writeFileSync(path, text);
  return path;
}

const stats = {
  mean: [0, 0, 0],
  std: [1.5, 1.5, 1.5],
  min: [-2.6, -2.6, -2.6],
  max: [2.6, 2.6, 2.6],
  q01: [-2.5, -2.4, -2.3],
  q99: [2.5, 2.4, 2.3],
};

/** A valid spec document with the statistics inline. */
function specDoc(): Record<string, unknown> {
  return {
    name: 'arm',
    horizon: 4,
    dt: 0.05,
    dimensions: ['a', 'b', 'c'].map((n) => ({
      name: n,
      unit: 'rad',
      kind: 'joint_position',
      lower: -2.6,
      upper: 2.6,
    })),
    tokenizer: {
      type: 'uniform',
      bins: 256,
      vocab_size: 4096,
      id_offset: 0,
      min_action: -1,
      max_action: 1,
    },
    statistics: structuredClone({ ...stats, mask: [true, true, true] }),
  };
}

/** The same value with every object's keys in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  }
  return value;
}

function loadError(path: string): InputError {
  try {
    loadActionSpec(path);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error(`${path} loaded but should not have`);
}

describe('the bundled planar-arm spec', () => {
  it('loads with its statistics from dataset_statistics.json', () => {
    const spec = loadActionSpec(bundledPath);
    expect(spec.name).toBe('planar-arm');
    expect(spec.dimensions.map((d) => d.name)).toEqual([
      'shoulder_joint',
      'elbow_joint',
      'wrist_joint',
    ]);
    expect(spec.tokenizer).toEqual({
      type: 'uniform',
      bins: 256,
      vocab_size: 4096,
      id_offset: 0,
      min_action: -1,
      max_action: 1,
    });
    expect(spec.statistics.q01).toEqual([-2.6, -2.6, -2.6]);
    expect(spec.statistics.q99).toEqual([2.6, 2.6, 2.6]);
    expect(spec.statistics.mask).toEqual([true, true, true]);
    expect(tokensPerDecision(spec)).toBe(24);
    expect(stepPeriodNs(spec)).toBe(100_000_000n);
    expect(specId(spec)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('has the id of the same spec written inline as JSON', () => {
    const bundled = loadActionSpec(bundledPath);
    const inline = write('spec.json', JSON.stringify(reverseKeys(JSON.parse(specJson(bundled)))));
    expect(specId(loadActionSpec(inline))).toBe(specId(bundled));
  });
});

describe('spec id', () => {
  const base = parseActionSpec(specDoc(), 'base');
  const baseId = specId(base);

  it('is the same whatever the key order, format and statistics location', () => {
    const doc = specDoc();
    const yaml = write('spec.yaml', toYaml(doc));
    const json = write('spec.json', JSON.stringify(reverseKeys(doc), null, 2));
    // Statistics in a file of their own, tokenizer defaults left out.
    const sub = `ref${fileCount++}`;
    write('stats.json', JSON.stringify({ ds: { action: reverseKeys(stats) } }), sub);
    const { statistics: _, ...rest } = doc;
    const ref = write(
      'spec.yaml',
      toYaml({
        ...rest,
        tokenizer: { vocab_size: 4096, type: 'uniform' },
        statistics: { key: 'ds', file: 'stats.json' },
      }),
      sub,
    );
    for (const path of [yaml, json, ref]) expect(specId(loadActionSpec(path))).toBe(baseId);
  });

  it('changes when any number, flag or name in the spec changes', () => {
    const seen = new Set([baseId]);
    let leaves = 0;
    const visit = (node: Record<string, unknown> | unknown[], path: string) => {
      for (const [k, v] of Object.entries(node)) {
        const here = `${path}.${k}`;
        if (typeof v === 'object' && v !== null) {
          visit(v as Record<string, unknown>, here);
          continue;
        }
        const old = v;
        const changed =
          typeof v === 'number' ? v + 0.001 : typeof v === 'boolean' ? !v : `${String(v)}x`;
        (node as Record<string, unknown>)[k] = changed;
        const id = specId(base);
        (node as Record<string, unknown>)[k] = old;
        expect(seen.has(id), `changing ${here} kept an earlier id`).toBe(false);
        seen.add(id);
        leaves++;
      }
    };
    visit(base as unknown as Record<string, unknown>, 'spec');
    expect(specId(base)).toBe(baseId);
    // 3 dimensions × 5 fields + name, horizon, dt + 6 tokenizer fields + 7 × 3 statistics.
    expect(leaves).toBe(15 + 3 + 6 + 21);
  });

  it('tells a number from its neighbouring double', () => {
    const doc = specDoc();
    const q = (doc.statistics as { q01: number[] }).q01;
    q[0] = -2.5000000000000004; // the next double below -2.5
    expect(specId(parseActionSpec(doc, 'x'))).not.toBe(baseId);
  });
});

describe('invalid spec files', () => {
  // biome-ignore lint/suspicious/noExplicitAny: each edit reaches into the document its own way
  type Edit = (doc: Record<string, any>) => void;
  const cases: [string, string, RegExp, Edit][] = [
    ['missing field', 'dt', /expected number/, (d) => delete d.dt],
    [
      'missing dimension field',
      'dimensions[1].unit',
      /expected string/,
      (d) => delete d.dimensions[1].unit,
    ],
    ['extra field', 'colour', /Unrecognized key: "colour"/, (d) => (d.colour = 'red')],
    [
      'extra tokenizer field',
      'tokenizer.vocab',
      /Unrecognized key/,
      (d) => (d.tokenizer.vocab = 1),
    ],
    [
      'extra dimension field',
      'dimensions[2].limit',
      /Unrecognized key/,
      (d) => (d.dimensions[2].limit = 1),
    ],
    [
      'lower above upper',
      'dimensions[1].upper',
      /lower must be below upper/,
      (d) => (d.dimensions[1].lower = 3),
    ],
    [
      'lower equal to upper',
      'dimensions[0].upper',
      /lower must be below upper/,
      (d) => (d.dimensions[0].lower = 2.6),
    ],
    [
      'stats length mismatch',
      'statistics.q01',
      /has 2 values, the action has 3 dimensions/,
      (d) => d.statistics.q01.pop(),
    ],
    [
      'mask length mismatch',
      'statistics.mask',
      /has 4 values/,
      (d) => d.statistics.mask.push(true),
    ],
    ['q01 above q99', 'statistics.q01[1]', /3 exceeds q99 2.4/, (d) => (d.statistics.q01[1] = 3)],
    [
      'unknown kind',
      'dimensions[0].kind',
      /expected one of "joint_position"/,
      (d) => (d.dimensions[0].kind = 'torque'),
    ],
    [
      'duplicate dimension names',
      'dimensions',
      /names must be unique/,
      (d) => (d.dimensions[2].name = 'a'),
    ],
    [
      'vocabulary too small',
      'tokenizer.vocab_size',
      /no room for the bins/,
      (d) => (d.tokenizer.id_offset = 3900),
    ],
    ['fractional bins', 'tokenizer.bins', /expected int/, (d) => (d.tokenizer.bins = 25.5)],
    ['zero horizon', 'horizon', />=1/, (d) => (d.horizon = 0)],
  ];

  it.each(cases)('%s: names the file, %s and the reason', (_, field, reason, edit) => {
    const doc = specDoc();
    edit(doc);
    for (const path of [write('spec.yaml', toYaml(doc)), write('spec.json', JSON.stringify(doc))]) {
      const err = loadError(path);
      expect(err.source).toBe(path);
      expect(err.field).toBe(field);
      expect(err.reason).toMatch(reason);
      expect(err.message).toContain(path);
    }
  });

  it('refuses a file that cannot be read', () => {
    const missing = join(dir, 'nope', 'spec.yaml');
    expect(loadError(missing)).toMatchObject({
      source: missing,
      reason: 'cannot be read (ENOENT)',
    });
    expect(loadError(dir).reason).toBe('cannot be read (EISDIR)');
  });

  it('refuses malformed YAML', () => {
    const path = write('spec.yaml', 'name: arm\ndimensions: [ {name: a\nhorizon: 2\n');
    const err = loadError(path);
    expect(err).toMatchObject({ source: path, field: '' });
    expect(err.reason).toMatch(/^is not valid YAML/);
  });

  it('refuses a document that is not a mapping', () => {
    const err = loadError(write('spec.yaml', '- 1\n- 2\n'));
    expect(err.field).toBe('');
    expect(err.reason).toMatch(/expected object/);
  });

  describe('with statistics in a file', () => {
    /** A spec referencing `stats.json` (written with `statsText`) under `key`. */
    function withStats(statsText: string, key?: string): { spec: string; stats: string } {
      const sub = `stats${fileCount++}`;
      const statsPath = write('stats.json', statsText, sub);
      const doc = specDoc();
      doc.statistics = key === undefined ? { file: 'stats.json' } : { file: 'stats.json', key };
      return { spec: write('spec.yaml', toYaml(doc), sub), stats: statsPath };
    }

    it('refuses several datasets without a key, naming them', () => {
      const { spec, stats: path } = withStats(
        JSON.stringify({ bridge: { action: stats }, fractal: { action: stats } }),
      );
      const err = loadError(spec);
      expect(err.source).toBe(path);
      expect(err.reason).toMatch(/several datasets \(bridge, fractal\).*statistics\.key/);
    });

    it('refuses a key naming no dataset', () => {
      const { spec, stats: path } = withStats(JSON.stringify({ bridge: { action: stats } }), 'x');
      expect(loadError(spec)).toMatchObject({ source: path, field: 'x' });
    });

    it('names the statistics file and the field inside it', () => {
      const bad = { ...stats, q99: [1, 2] };
      const { spec, stats: path } = withStats(JSON.stringify({ ds: { action: bad } }), 'ds');
      expect(loadError(spec)).toMatchObject({
        source: path,
        field: 'ds.action.q99',
        reason: 'has 2 values, the action has 3 dimensions',
      });
      const lerobot = withStats(JSON.stringify({ action: { ...stats, std: 'x' } }));
      expect(loadError(lerobot.spec)).toMatchObject({
        source: lerobot.stats,
        field: 'action.std',
      });
    });

    it('refuses malformed JSON statistics', () => {
      const { spec, stats: path } = withStats('{"ds": {');
      const err = loadError(spec);
      expect(err.source).toBe(path);
      expect(err.reason).toMatch(/^is not valid JSON/);
    });

    it('refuses a missing statistics file', () => {
      const doc = specDoc();
      doc.statistics = { file: 'absent.json' };
      const err = loadError(write('spec.yaml', toYaml(doc)));
      expect(err.source).toMatch(/absent\.json$/);
      expect(err.reason).toBe('cannot be read (ENOENT)');
    });

    it('reads OpenVLA, LeRobot and bare statistics files alike', () => {
      const expected = specId(parseActionSpec(specDoc(), 'inline'));
      // LeRobot's meta/stats.json: other features beside `action`, more statistics per feature.
      const lerobot = {
        'observation.state': stats,
        action: { ...stats, count: [1000], q10: [0, 0, 0], q50: [0, 0, 0] },
      };
      const openvla = {
        bridge: { action: { ...stats, mask: [true, true, true] }, num_transitions: 10 },
        other: { action: { ...stats, q01: [0, 0, 0] } },
      };
      const loaded = [
        withStats(JSON.stringify(lerobot)),
        withStats(JSON.stringify(openvla), 'bridge'),
        withStats(JSON.stringify({ only: { action: stats } })),
        withStats(JSON.stringify(stats)),
      ].map(({ spec }) => loadActionSpec(spec));
      for (const spec of loaded) expect(specId(spec)).toBe(expected);
    });
  });

  it('wants inline statistics where there is no folder to resolve a file in', () => {
    const doc = specDoc();
    doc.statistics = { file: 'stats.json' };
    expect(() => parseActionSpec(doc, 'hello packet')).toThrow(
      expect.objectContaining({ source: 'hello packet', field: 'statistics.file' }),
    );
  });
});

describe('statistics defaults', () => {
  it('leaves every dimension normalized when the mask is absent', () => {
    const doc = specDoc();
    doc.statistics = { ...stats };
    const spec: ActionSpec = parseActionSpec(doc, 'x');
    expect(spec.statistics.mask).toEqual([true, true, true]);
  });

  it('keeps an explicit mask', () => {
    const doc = specDoc();
    doc.statistics = { ...stats, mask: [true, true, false] };
    expect(parseActionSpec(doc, 'x').statistics.mask).toEqual([true, true, false]);
  });
});
