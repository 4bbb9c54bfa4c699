import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LearnedStage } from '../cerebellum/learned-stage.js';
import { InputError, loadActionSpec, readFileBytes, specId } from '../contract/index.js';
import { type CerebellumTrainset, cerebellumTrainset } from './cerebellum-trainset.js';
import { type ControlRecording, readControlRecording } from './control-recording.js';
import { describeRobot } from './control-setup.js';
import type { RobotProfile } from './profile.js';
import { runTrainer } from './trainer-process.js';

/**
 * `pons finetune cerebellum`: the learned stage trained from cerebellum recordings
 * (models/training/finetune_learned_stage.py), then accepted only if the TypeScript runtime,
 * running the exported ONNX package, reproduces PyTorch's corrections on held-out samples
 * (`golden.json`) within the tolerance. The result of that check is written into the
 * package's pons.json; a package that failed it is refused by LearnedStage.load.
 */

export interface FinetuneCerebellumOptions {
  /** Cerebellum recordings (.mcap), or folders searched for them. */
  data: readonly string[];
  out: string;
  profile: RobotProfile;
  lookahead: number;
  maxCorrection: number;
  steps: number;
  seed: number;
  device: string;
  heldOut: number;
  progress: (line: string) => void;
}

export interface FinetuneCerebellumResult {
  out: string;
  recordings: string[];
  /** Files that are not cerebellum recordings, and why. */
  skipped: Record<string, string>;
  samples: { train: number; held_out: number };
  tracking_rms_rad: number[];
  trained: Record<string, unknown>;
  parity: { cases: number; max_abs_diff: number; tolerance: number; passed: boolean };
}

function mcapFiles(paths: readonly string[]): string[] {
  return paths.flatMap((p) =>
    statSync(p).isDirectory()
      ? mcapFiles(readdirSync(p).map((name) => join(p, name)))
      : p.endsWith('.mcap')
        ? [p]
        : [],
  );
}

export async function finetuneCerebellum(
  options: FinetuneCerebellumOptions,
): Promise<FinetuneCerebellumResult> {
  const { profile, progress } = options;
  const spec = loadActionSpec(profile.spec);
  const joints = describeRobot(profile, spec).joints;
  const recordings: ControlRecording[] = [];
  const skipped: Record<string, string> = {};
  for (const file of mcapFiles(options.data)) {
    try {
      recordings.push(readControlRecording(readFileBytes(file), file, { joints }));
    } catch (err) {
      if (!(err instanceof InputError)) throw err;
      skipped[file] = err.message;
    }
  }
  if (recordings.length === 0) {
    throw new InputError(
      options.data.join(', '),
      'recordings',
      'holds no cerebellum recordings (record some with `pons sim run --record <dir>` or `pons cerebellum --record file.mcap`)',
    );
  }
  const set: CerebellumTrainset = cerebellumTrainset(recordings, {
    lookahead: options.lookahead,
    maxCorrection: options.maxCorrection,
    heldOut: options.heldOut,
  });
  const width = joints.length;
  progress(
    `${recordings.length} recording(s), ${set.source.chunks} chunks, ${set.source.steps} executed steps; tracking error RMS ${set.tracking_rms.map((r) => r.toExponential(2)).join(', ')} rad`,
  );
  const dir = mkdtempSync(join(tmpdir(), 'pons-finetune-cerebellum-'));
  try {
    const data = join(dir, 'trainset.json');
    writeFileSync(data, JSON.stringify(set));
    const trained = await runTrainer(
      'finetune_learned_stage.py',
      [
        '--data',
        data,
        '--out',
        options.out,
        '--spec-id',
        specId(spec),
        '--steps',
        String(options.steps),
        '--seed',
        String(options.seed),
        '--device',
        options.device,
      ],
      progress,
    );
    const parity = await checkParity(options.out, spec, joints);
    const manifestPath = join(options.out, 'pons.json');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.training.parity = parity;
    writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    return {
      out: options.out,
      recordings: recordings.map((r) => r.file),
      skipped,
      samples: {
        train: set.train.correction.length / width,
        held_out: set.held_out.correction.length / width,
      },
      tracking_rms_rad: set.tracking_rms,
      trained,
      parity,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

interface GoldenCase {
  position: number[];
  velocity: number[];
  targets: number[];
  correction: number[];
}

/** The runtime's corrections on the trainer's held-out cases against PyTorch's (clamped alike). */
async function checkParity(
  dir: string,
  spec: ReturnType<typeof loadActionSpec>,
  joints: string[],
): Promise<FinetuneCerebellumResult['parity']> {
  const golden = JSON.parse(readFileSync(join(dir, 'golden.json'), 'utf8')) as {
    tolerance: number;
    cases: GoldenCase[];
  };
  const stage = await LearnedStage.load(dir, spec, joints);
  const out = new Float64Array(joints.length);
  let worst = 0;
  try {
    for (const c of golden.cases) {
      await stage.correct(
        Float64Array.from(c.position),
        Float64Array.from(c.velocity),
        Float64Array.from(c.targets),
        out,
      );
      c.correction.forEach((y, i) => {
        const bound = stage.maxCorrection[i] as number;
        const expected = Math.max(-bound, Math.min(bound, y));
        worst = Math.max(worst, Math.abs((out[i] as number) - expected));
      });
    }
  } finally {
    await stage.close();
  }
  return {
    cases: golden.cases.length,
    max_abs_diff: worst,
    tolerance: golden.tolerance,
    passed: golden.cases.length > 0 && worst <= golden.tolerance,
  };
}
