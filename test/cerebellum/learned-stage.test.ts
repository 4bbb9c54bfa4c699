import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLearnedStageBench } from '../../src/bench/learned-stage-bench.js';
import {
  LearnedStage,
  LearnedStageError,
  type LearnedStageErrorCode,
} from '../../src/cerebellum/learned-stage.js';
import { type ActionSpec, InputError, loadActionSpec } from '../../src/contract/index.js';

// Real onnxruntime sessions on the committed ONNX files written by
// models/training/make_learned_stage.py (PyTorch is needed only to regenerate them).

const repo = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));
const PACKAGE = repo('models/learned-cerebellum');
const FIXTURES = repo('test/fixtures/learned-stage');
const JOINTS = ['shoulder_joint', 'elbow_joint', 'wrist_joint'];

interface GoldenCase {
  name: string;
  position: number[];
  velocity: number[];
  targets: number[];
  correction: number[];
}
const golden = JSON.parse(readFileSync(join(PACKAGE, 'golden.json'), 'utf8')) as {
  tolerance: number;
  cases: GoldenCase[];
};
const manifest = JSON.parse(readFileSync(join(PACKAGE, 'pons.json'), 'utf8')) as Record<
  string,
  unknown
>;

let spec: ActionSpec;
let scratch: string;
let copies = 0;

beforeAll(() => {
  spec = loadActionSpec(repo('calibration/planar-arm/action_spec.yaml'));
  scratch = mkdtempSync(join(tmpdir(), 'pons-learned-stage-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A copy of the bundled package with pons.json edited (or a file left out / replaced). */
function packageCopy(
  edit: (m: Record<string, unknown>) => void = () => {},
  model: Uint8Array | 'copy' | 'none' = 'copy',
): string {
  const dir = join(scratch, `pkg-${copies++}`);
  mkdirSync(dir);
  const m = structuredClone(manifest);
  edit(m);
  writeFileSync(join(dir, 'pons.json'), JSON.stringify(m));
  if (model === 'copy') copyFileSync(join(PACKAGE, 'model.onnx'), join(dir, 'model.onnx'));
  else if (model !== 'none') writeFileSync(join(dir, 'model.onnx'), model);
  return dir;
}

async function inputError(promise: Promise<unknown>): Promise<InputError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

async function stageError(promise: Promise<unknown>, code: LearnedStageErrorCode) {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(LearnedStageError);
  expect((err as LearnedStageError).code).toBe(code);
  return err as LearnedStageError;
}

const f64 = (values: number[]) => Float64Array.from(values);

describe('learned cerebellum stage: the bundled package', () => {
  it('matches the PyTorch golden vectors within 1e-5 rad', async () => {
    const stage = await LearnedStage.load(PACKAGE, spec, JOINTS);
    try {
      expect(stage.provider).toBe('cpu');
      expect(stage.fallbacks).toEqual([]);
      expect(stage.joints).toBe(3);
      expect(stage.lookahead).toBe(4);
      expect(golden.tolerance).toBeLessThanOrEqual(1e-5);
      expect(golden.cases.length).toBeGreaterThanOrEqual(5);
      const out = new Float64Array(3);
      // Twice over, so the reused input buffers carry nothing from one call to the next.
      for (let round = 0; round < 2; round++) {
        for (const c of golden.cases) {
          await stage.correct(f64(c.position), f64(c.velocity), f64(c.targets), out);
          for (let i = 0; i < 3; i++) {
            const diff = Math.abs((out[i] as number) - (c.correction[i] as number));
            expect(diff, `${c.name}[${i}]: ${out[i]} vs ${c.correction[i]}`).toBeLessThanOrEqual(
              1e-5,
            );
          }
        }
      }
      expect(stage.counters).toEqual({ runs: 2 * golden.cases.length, clamped: 0, failures: 0 });
    } finally {
      await stage.close();
    }
  });

  it('produces small corrections (untrained: about 1e-3 rad), inside max_correction', () => {
    for (const c of golden.cases) {
      for (const v of c.correction) {
        expect(Math.abs(v)).toBeGreaterThan(0);
        expect(Math.abs(v)).toBeLessThan(0.005);
      }
    }
    expect(manifest.max_correction).toBe(0.02);
  });

  it('clamps each correction to ±max_correction (one bound, or one per joint)', async () => {
    const bound = 3e-4;
    const stage = await LearnedStage.load(
      packageCopy((m) => {
        m.max_correction = [bound, 1, bound];
      }),
      spec,
      JOINTS,
    );
    try {
      const out = new Float64Array(3);
      let expectedClamps = 0;
      for (const c of golden.cases) {
        await stage.correct(f64(c.position), f64(c.velocity), f64(c.targets), out);
        for (const i of [0, 2]) {
          const want = Math.max(-bound, Math.min(bound, c.correction[i] as number));
          if (Math.abs(c.correction[i] as number) > bound) expectedClamps++;
          expect(Math.abs((out[i] as number) - want)).toBeLessThanOrEqual(1e-5);
          expect(Math.abs(out[i] as number)).toBeLessThanOrEqual(bound);
        }
        expect(Math.abs((out[1] as number) - (c.correction[1] as number))).toBeLessThanOrEqual(
          1e-5,
        );
      }
      expect(expectedClamps).toBeGreaterThan(0);
      expect(stage.counters.clamped).toBe(expectedClamps);
    } finally {
      await stage.close();
    }

    const single = await LearnedStage.load(
      packageCopy((m) => {
        m.max_correction = 1e-5;
      }),
      spec,
      JOINTS,
    );
    try {
      const c = golden.cases[1] as GoldenCase;
      const out = new Float64Array(3);
      await single.correct(f64(c.position), f64(c.velocity), f64(c.targets), out);
      expect([...out]).toEqual(c.correction.map((v) => Math.sign(v) * 1e-5));
    } finally {
      await single.close();
    }
  });

  it('falls back to cpu when a preferred provider throws, and says why', async () => {
    const stage = await LearnedStage.load(PACKAGE, spec, JOINTS, { providers: ['coreml'] });
    try {
      expect(stage.provider).toBe('cpu');
      expect(stage.fallbacks).toHaveLength(1);
      expect(stage.fallbacks[0]?.provider).toBe('coreml');
      expect(stage.fallbacks[0]?.reason).toMatch(/coreml/i);
    } finally {
      await stage.close();
    }
  });
});

describe('learned cerebellum stage: run-time errors are LearnedStageErrors', () => {
  it('rejects a NaN output, leaves `out` untouched, and keeps working', async () => {
    const stage = await LearnedStage.load(join(FIXTURES, 'nan-output'), spec, JOINTS);
    try {
      const out = f64([7, 8, 9]);
      const err = await stageError(
        stage.correct(new Float64Array(3), new Float64Array(3), new Float64Array(12), out),
        'non_finite',
      );
      expect(err.message).toMatch(/correction\[0\] \(shoulder_joint\) is NaN/);
      expect(err.source).toBe(join(FIXTURES, 'nan-output', 'model.onnx'));
      expect([...out]).toEqual([7, 8, 9]);
      await stageError(
        stage.correct(new Float64Array(3), new Float64Array(3), new Float64Array(12), out),
        'non_finite',
      );
      expect(stage.counters).toEqual({ runs: 0, clamped: 0, failures: 2 });
    } finally {
      await stage.close();
    }
  });

  it('rejects wrong lengths, non-finite inputs, overlapping calls and use after close', async () => {
    const stage = await LearnedStage.load(PACKAGE, spec, JOINTS);
    const p = new Float64Array(3);
    const v = new Float64Array(3);
    const t = new Float64Array(12);
    const out = new Float64Array(3);
    await stageError(stage.correct(new Float64Array(2), v, t, out), 'input');
    await stageError(stage.correct(p, v, new Float64Array(9), out), 'input');
    await stageError(stage.correct(p, v, t, new Float64Array(4)), 'input');
    const nan = await stageError(stage.correct(p, f64([0, Number.NaN, 0]), t, out), 'input');
    expect(nan.message).toMatch(/velocity\[1\]/);
    const inf = f64(new Array(12).fill(0));
    inf[5] = Number.POSITIVE_INFINITY;
    await stageError(stage.correct(p, v, inf, out), 'input');

    const first = stage.correct(p, v, t, out);
    await stageError(stage.correct(p, v, t, out), 'busy');
    await first;
    await stage.correct(p, v, t, out); // free again once the first has finished
    expect(stage.counters.runs).toBe(2);
    expect(stage.counters.failures).toBe(6);

    await stage.close();
    await stageError(stage.correct(p, v, t, out), 'closed');
  });
});

describe('learned cerebellum stage: packages that do not fit are InputErrors', () => {
  it('refuses a package trained for another ActionSpec', async () => {
    const other: ActionSpec = { ...spec, dt: 0.05 };
    const err = await inputError(LearnedStage.load(PACKAGE, other, JOINTS));
    expect(err.source).toBe(join(PACKAGE, 'pons.json'));
    expect(err.field).toBe('spec_id');
    expect(err.reason).toMatch(/executes ActionSpec "planar-arm"/);
  });

  it('refuses joints that differ in name, order or count', async () => {
    const reordered = await inputError(
      LearnedStage.load(PACKAGE, spec, ['elbow_joint', 'shoulder_joint', 'wrist_joint']),
    );
    expect(reordered.source).toBe(join(PACKAGE, 'pons.json'));
    expect(reordered.field).toBe('joints[0]');
    expect(reordered.reason).toMatch(/"shoulder_joint".*"elbow_joint"/);
    const fewer = await inputError(LearnedStage.load(PACKAGE, spec, JOINTS.slice(0, 2)));
    expect(fewer.field).toBe('joints');
  });

  it('refuses a wrong kind, a lookahead below 1 and inconsistent shapes in pons.json', async () => {
    const cases: [(m: Record<string, unknown>) => void, string, RegExp][] = [
      [(m) => (m.kind = 'brain'), 'kind', /cerebellum-correction/],
      [(m) => (m.lookahead = 0), 'lookahead', /at least 1/],
      [(m) => (m.spec_id = 'abc'), 'spec_id', /spec id/],
      [(m) => (m.max_correction = -1), 'max_correction', /./],
      [(m) => (m.max_correction = [0.1, 0.1]), 'max_correction', /2 values for 3 joints/],
      [(m) => (m.extra = 1), 'extra', /./],
      [
        (m) => ((m.inputs as { targets: { shape: number[] } }).targets.shape = [1, 9]),
        'inputs.targets.shape',
        /need \[1, 12\]/,
      ],
      [
        (m) => ((m.normalization as { targets: { std: number[] } }).targets.std = [1, 1, 1]),
        'normalization.targets.std',
        /has 3 values/,
      ],
    ];
    for (const [edit, field, reason] of cases) {
      const dir = packageCopy(edit);
      const err = await inputError(LearnedStage.load(dir, spec, JOINTS));
      expect(err.source).toBe(join(dir, 'pons.json'));
      expect(err.field).toBe(field);
      expect(err.reason).toMatch(reason);
    }
  });

  it('refuses a model whose input names differ from pons.json', async () => {
    const dir = join(FIXTURES, 'wrong-input-name');
    const err = await inputError(LearnedStage.load(dir, spec, JOINTS));
    expect(err.source).toBe(join(dir, 'model.onnx'));
    expect(err.field).toBe('inputs.joint_state.name');
    expect(err.reason).toMatch(/no input "joint_state" \(its inputs: state, targets\)/);
  });

  it("refuses a model whose declared shapes differ from pons.json's", async () => {
    // Consistent in itself (lookahead 5: targets [1, 15]), but the model takes [1, 12].
    const dir = packageCopy((m) => {
      m.lookahead = 5;
      (m.inputs as { targets: { shape: number[] } }).targets.shape = [1, 15];
      delete m.normalization;
    });
    const err = await inputError(LearnedStage.load(dir, spec, JOINTS));
    expect(err.source).toBe(join(dir, 'model.onnx'));
    expect(err.field).toBe('inputs.targets.shape');
    expect(err.reason).toMatch(/"targets" is \[1, 12\], expected \[1, 15\]/);
  });

  it('refuses an output name the model does not have', async () => {
    const dir = packageCopy((m) => {
      (m.outputs as { correction: { name: string } }).correction.name = 'delta';
    });
    const err = await inputError(LearnedStage.load(dir, spec, JOINTS));
    expect(err.field).toBe('outputs.correction.name');
    expect(err.reason).toMatch(/no output "delta" \(its outputs: correction\)/);
  });

  it('names the model file when it is corrupt', async () => {
    const good = readFileSync(join(PACKAGE, 'model.onnx'));
    const garbage = Uint8Array.from(good);
    for (let i = 0; i < garbage.length; i += 3) garbage[i] = (i * 131 + 17) & 0xff;
    for (const bytes of [garbage, new TextEncoder().encode('not an onnx model')]) {
      const dir = packageCopy(undefined, bytes);
      const err = await inputError(LearnedStage.load(dir, spec, JOINTS));
      expect(err.source).toBe(join(dir, 'model.onnx'));
      expect(err.reason).toMatch(/cannot be loaded by onnxruntime/);
    }
  });

  it('names the missing file', async () => {
    const noModel = packageCopy(undefined, 'none');
    const err = await inputError(LearnedStage.load(noModel, spec, JOINTS));
    expect(err.source).toBe(join(noModel, 'model.onnx'));
    expect(err.reason).toMatch(/cannot be read \(ENOENT\)/);

    const missingDir = join(scratch, 'no-such-package');
    const none = await inputError(LearnedStage.load(missingDir, spec, JOINTS));
    expect(none.source).toBe(join(missingDir, 'pons.json'));
    expect(none.reason).toMatch(/ENOENT/);

    const notJson = packageCopy();
    writeFileSync(join(notJson, 'pons.json'), '{"kind": ');
    const bad = await inputError(LearnedStage.load(notJson, spec, JOINTS));
    expect(bad.source).toBe(join(notJson, 'pons.json'));
    expect(bad.reason).toMatch(/not valid JSON/);
  });
});

describe('learned cerebellum stage benchmark', () => {
  it('reports percentiles and the provider (a short run; timing is not asserted)', async () => {
    const result = await runLearnedStageBench(PACKAGE, spec, 50, { warmup: 5 });
    expect(result.provider).toBe('cpu');
    expect(result.iterations).toBe(50);
    expect(result.p50_us).toBeGreaterThan(0);
    expect(result.p99_us).toBeGreaterThanOrEqual(result.p50_us);
    expect(result.max_us).toBeGreaterThanOrEqual(result.p99_us);
  });
});
