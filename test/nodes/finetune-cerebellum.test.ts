import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LearnedStage } from '../../src/cerebellum/learned-stage.js';
import { loadActionSpec } from '../../src/contract/index.js';
import { CLI } from '../helpers/processes.js';

// `pons finetune cerebellum` end to end on the committed episode: the real trainer (Debian's
// PyTorch), ONNX export, and the runtime's parity check.

const root = resolve(import.meta.dirname, '../..');
const EPISODES = join(root, 'test/fixtures/episodes');
const spec = loadActionSpec(join(root, 'calibration/planar-arm/action_spec.yaml'));
const joints = spec.dimensions.map((d) => d.name);
const dir = mkdtempSync(join(tmpdir(), 'pons-finetune-cerebellum-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function finetune(args: string[]) {
  const run = spawnSync(process.execPath, [CLI, 'finetune', 'cerebellum', '--json', ...args], {
    encoding: 'utf8',
    timeout: 170_000,
  });
  const line = run.stdout.trim().split('\n').at(-1) ?? '';
  return { status: run.status, stderr: run.stderr, result: line ? JSON.parse(line) : undefined };
}

describe('pons finetune cerebellum', () => {
  it('trains the learned stage from a recording, exports it, and accepts it on parity', async () => {
    const out = join(dir, 'stage');
    const { status, stderr, result } = finetune([
      '--data',
      EPISODES,
      '--out',
      out,
      '--steps',
      '300',
    ]);
    expect(status, stderr).toBe(0);
    expect(stderr).toMatch(/step 300\/300 loss/);
    expect(result.samples.train).toBeGreaterThan(20);
    expect(result.samples.held_out).toBeGreaterThan(3);
    expect(result.trained.final_loss).toBeLessThan(result.trained.first_loss);
    expect(result.parity).toMatchObject({ passed: true });
    expect(result.parity.max_abs_diff).toBeLessThan(1e-5);
    // A PNG loss curve, and a package the cerebellum loads and runs.
    expect(readFileSync(join(out, 'loss.png')).subarray(1, 4).toString()).toBe('PNG');
    const manifest = JSON.parse(readFileSync(join(out, 'pons.json'), 'utf8'));
    expect(manifest.training).toMatchObject({ trained: true, parity: { passed: true } });
    const stage = await LearnedStage.load(out, spec, joints);
    const correction = new Float64Array(3);
    await stage.correct(
      Float64Array.of(-1.2, 2.4, 1.2),
      Float64Array.of(0.3, -0.2, 0.1),
      new Float64Array(12).fill(0.5),
      correction,
    );
    for (const c of correction) expect(Math.abs(c)).toBeLessThanOrEqual(0.02);
    await stage.close();

    // A package that failed its parity check is refused, naming the field.
    manifest.training.parity.passed = false;
    writeFileSync(join(out, 'pons.json'), JSON.stringify(manifest));
    await expect(LearnedStage.load(out, spec, joints)).rejects.toThrow(
      /pons\.json: training\.parity: the package failed its parity check/,
    );
  }, 180_000);

  it('says so when the data holds no cerebellum recording', () => {
    const empty = mkdtempSync(join(dir, 'empty-'));
    writeFileSync(join(empty, 'notes.txt'), 'not a recording');
    const { status, stderr } = finetune(['--data', empty, '--out', join(dir, 'none')]);
    expect(status).not.toBe(0);
    expect(stderr).toMatch(/recordings: holds no cerebellum recordings/);
  });
});
