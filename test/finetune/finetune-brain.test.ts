import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelPackage } from '../../src/brain/index.js';
import { checkParity } from '../../src/nodes/brain-parity.js';
import { CLI } from '../helpers/processes.js';

// The fine-tuning pipeline's short version, through the real commands: a few recorded expert
// episodes, exported to Align-Anything, a few training steps of tiny-vla with Debian's PyTorch
// (/usr/bin/python3), the export, and the TypeScript runtime's parity check against PyTorch.
// The new package decides from the joint state too, and sees the middle of the frame
// magnified (--resize), is the weights' moving average (--ema) and trains beside the grounding
// objective (--grounding), so those paths are covered end to end.

const PROMPT =
  '<image>\nThe arm is at {state}. What action should the robot take to {instruction}?';

const REPO = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'pons-finetune-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pons(...args: string[]): SpawnSyncReturns<string> {
  return spawnSync(process.execPath, [CLI, ...args], {
    cwd: REPO,
    encoding: 'utf8',
    timeout: 100_000,
  });
}

const data = join(dir, 'dataset');
const pkg = join(dir, 'planar-vla');
let result: {
  parity: { accepted: boolean; tokens_equal: boolean; max_abs_logit_diff: number; cases: number };
  rows: { train: number; validation: number };
};

beforeAll(() => {
  const collect = pons(
    ...['sim', 'collect', '--episodes', '2', '--seed', '0', '--record', join(dir, 'rec')],
  );
  expect(collect.status, collect.stderr).toBe(0);
  const exported = pons(
    ...['dataset', 'export', '--from', join(dir, 'rec', 'collect-reach-push-0.mcap')],
    ...['--to', data, '--format', 'align-anything', '--val-fraction', '0.5'],
  );
  expect(exported.status, exported.stderr).toBe(0);
  const tuned = pons(
    ...[
      'finetune',
      'brain',
      '--data',
      data,
      '--out',
      pkg,
      '--image-size',
      '224',
      '--resize',
      '336',
      '--ema',
      '0.9',
      '--grounding',
      '0.5',
    ],
    ...['--steps', '30', '--batch-size', '4', '--lr', '3e-3', '--prompt', PROMPT, '--json'],
  );
  expect(tuned.status, tuned.stderr).toBe(0);
  result = JSON.parse(tuned.stdout);
}, 200_000);

describe('pons finetune brain', () => {
  it('trains with progress, lowers the loss and draws its curve', () => {
    const manifest = JSON.parse(readFileSync(join(pkg, 'pons.json'), 'utf8'));
    const t = manifest.training;
    expect(t.trained).toBe(true);
    expect(t.steps).toBe(30);
    expect(t.rows).toBe(result.rows.train);
    expect(t.final_validation_loss).toBeLessThan(t.initial_validation_loss - 1);
    expect(t.ema).toBe(0.9);
    expect(t.grounding_weight).toBe(0.5);
    // Scored on the held-out rows whose named block is in view: a share, not a placeholder.
    expect(t.validation_grounding_accuracy).toBeGreaterThanOrEqual(0);
    expect(t.validation_grounding_accuracy).toBeLessThanOrEqual(1);
    const curve = JSON.parse(readFileSync(join(pkg, 'training', 'loss.json'), 'utf8'));
    expect(curve.train.length).toBeGreaterThan(0);
    expect(
      readFileSync(join(pkg, 'training', 'loss.png'))
        .subarray(1, 4)
        .toString(),
    ).toBe('PNG');
  });

  it('exports a package the runtime loads, which reproduces PyTorch on held-out rows', () => {
    expect(result.parity.accepted).toBe(true);
    expect(result.parity.tokens_equal).toBe(true);
    expect(result.parity.cases).toBeGreaterThan(0);
    expect(result.parity.max_abs_logit_diff).toBeLessThan(1e-4);
    const loaded = loadModelPackage(pkg);
    expect(loaded.manifest.training?.accepted).toBe(true);
    // Its prompt holds the state, and every parity case was decided with the row's state.
    expect(loaded.manifest.prompt.user).toBe(PROMPT);
    const cases = JSON.parse(readFileSync(join(pkg, 'parity.json'), 'utf8')).cases;
    for (const c of cases) expect(c.state).toHaveLength(3);
    expect(loaded.dims.imageSize).toBe(224);
    expect(loaded.dims.imageTokens).toBe(64);
    // It sees the middle of the frame magnified: resized to 336 px, then cropped to 224.
    expect(loaded.preprocessor).toMatchObject({
      size: { shortest_edge: 336 },
      crop_size: { height: 224, width: 224 },
    });
    expect(loaded.manifest.training?.resize).toBe(336);
  });

  it('refuses a package whose held-out decisions differ from PyTorch’s', async () => {
    const bad = join(dir, 'tampered');
    cpSync(pkg, bad, { recursive: true });
    const parityPath = join(bad, 'parity.json');
    const parity = JSON.parse(readFileSync(parityPath, 'utf8'));
    parity.cases[0].tokens[5] = parity.cases[0].tokens[5] === 3840 ? 3841 : 3840;
    parity.cases[0].logits[0][0] += 0.5;
    writeFileSync(parityPath, JSON.stringify(parity));
    const report = await checkParity(bad);
    expect(report.accepted).toBe(false);
    expect(report.token_mismatches).toBeGreaterThanOrEqual(1);
    expect(report.max_abs_logit_diff).toBeGreaterThan(0.4);
    const manifest = JSON.parse(readFileSync(join(bad, 'pons.json'), 'utf8'));
    manifest.training.accepted = false;
    writeFileSync(join(bad, 'pons.json'), JSON.stringify(manifest));
    expect(() => loadModelPackage(bad)).toThrow(/training\.accepted.*did not reproduce/);
  });

  it('runs the learned brain in closed loop (pons sim eval)', () => {
    const run = pons(
      ...['sim', 'eval', '--brain', pkg, '--task', 'reach', '--episodes', '1'],
      '--json',
    );
    expect(run.status, run.stderr).toBe(0);
    const out = JSON.parse(run.stdout);
    expect(out.tasks[0]).toMatchObject({ task: 'reach', episodes: 1 });
    expect(out.episodes[0].seed).toBe(9000);
    expect(out.episodes[0].decisions).toBeGreaterThan(0);
  });

  it('collects DAgger episodes: the learned brain acts, the expert labels', () => {
    const run = pons(
      ...['sim', 'collect', '--episodes', '1', '--seed', '500', '--task', 'reach'],
      ...['--brain', pkg, '--record', join(dir, 'dagger'), '--json'],
    );
    expect(run.status, run.stderr).toBe(0);
    const summary = JSON.parse(run.stdout);
    expect(summary.runs[0]).toMatchObject({ id: 'reach-500', task: 'reach' });
    expect(summary.runs[0].decisions).toBeGreaterThan(0);
    const exported = pons(
      ...['dataset', 'export', '--from', summary.file, '--to', join(dir, 'dagger-data')],
      ...['--format', 'align-anything', '--all', '--json'],
    );
    expect(exported.status, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout).rows.train).toBe(summary.runs[0].decisions);
  });

  it('names the missing split', () => {
    const empty = join(dir, 'empty');
    cpSync(data, empty, { recursive: true });
    rmSync(join(empty, 'validation.parquet'));
    const run = pons('finetune', 'brain', '--data', empty, '--out', join(dir, 'never'));
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/validation\.parquet.*is missing.*--val-fraction/);
  });

  it.each([
    ['--grounding', 'x', /--grounding.*must be a number ≥ 0/],
    ['--ema', '1', /--ema 1\.0: the decay must be in \[0, 1\)/],
  ])('refuses %s %s, naming the flag', (flag, value, message) => {
    const run = pons(
      ...['finetune', 'brain', '--data', data, '--out', join(dir, 'never')],
      flag,
      value,
    );
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(message);
  });
});
