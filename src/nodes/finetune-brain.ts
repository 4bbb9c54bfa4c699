import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { atInputSize, loadModelPackage, type ModelPackage } from '../brain/index.js';
import { INSTRUCTION_SLOT, InputError, readJsonFile } from '../contract/index.js';
import { type DatasetVocabulary, promptText } from '../finetune/align-anything.js';
import { readAlignAnything } from '../finetune/align-anything-read.js';
import { BLOCK_RGB } from '../sim/index.js';
import { checkParity, type ParityReport } from './brain-parity.js';
import { modelVocabulary } from './dataset-export.js';
import { runTrainer } from './trainer-process.js';
import { TrainingSetWriter } from './training-set.js';

/**
 * `pons finetune brain`: an Align-Anything dataset (`pons dataset export`) → a fine-tuned
 * brain package. The rows become training sets through the runtime's own prompt encoder and
 * preprocessor; models/training/finetune_tiny_vla.py trains and exports (run by the shared
 * trainer process helper, its progress lines handed on as they come); then the new package is loaded by the brain runtime and must reproduce
 * PyTorch's held-out decisions. The verdict is written into its pons.json
 * (`training.accepted`, `training.parity`); the runtime refuses a package not accepted.
 */

export interface FinetuneOptions {
  data: string;
  base: string;
  out: string;
  /** The new package's image size (default the base's). */
  imageSize?: number;
  /**
   * The shortest edge frames are resized to before the center crop to the image size
   * (default: the base's, at the base's image size; else the image size, no crop); above
   * the image size, the package sees the middle of the frame magnified.
   */
  resize?: number;
  /**
   * The new package's user prompt (default the base's): `{state}` in it makes the package
   * decide from the joint state too (the rows' `state` column).
   */
  prompt?: string;
  /**
   * Weight of the trainer's auxiliary grounding objective (models/training/grounding.py),
   * which finds the named block by the embedded simulator's block colours: for its episodes
   * only. 0 or absent: off.
   */
  grounding?: number;
  /** Trainer arguments passed through (`--steps`, `--lr`, …). */
  trainerArgs: string[];
  progress: (message: string) => void;
}

export interface FinetuneResult {
  out: string;
  rows: { train: number; validation: number };
  parity: ParityReport;
  training: Record<string, unknown>;
}

export async function finetuneBrain(options: FinetuneOptions): Promise<FinetuneResult> {
  if (options.grounding !== undefined && !(options.grounding >= 0)) {
    throw new InputError('--grounding', '', 'must be a number ≥ 0');
  }
  const base = loadModelPackage(options.base);
  const size = options.imageSize ?? base.dims.imageSize;
  // At the base's image size the base's crop stays; at another size, no crop unless asked.
  const baseResize =
    'shortest_edge' in base.preprocessor.size ? base.preprocessor.size.shortest_edge : size;
  const resize = options.resize ?? (size === base.dims.imageSize ? baseResize : size);
  const resized =
    options.imageSize === undefined && options.resize === undefined
      ? base
      : atInputSize(base, size, resize, '--image-size/--resize');
  const target = options.prompt === undefined ? resized : withPrompt(resized, options.prompt);
  // The rows must be the base's prompts (exported for it); the training set has the target's.
  const exported = modelVocabulary(base);
  const work = mkdtempSync(join(tmpdir(), 'pons-finetune-'));
  try {
    const rows = { train: 0, validation: 0 };
    for (const split of ['train', 'validation'] as const) {
      const file = join(options.data, `${split}.parquet`);
      if (!existsSync(file)) {
        throw new InputError(
          options.data,
          `${split}.parquet`,
          split === 'validation'
            ? 'is missing: held-out rows check the trained package (export with --val-fraction)'
            : 'is missing: export the dataset with pons dataset export --format align-anything',
        );
      }
      rows[split] = await writeTrainingSet(exported, target, file, join(work, split));
      options.progress(`${file}: ${rows[split]} rows`);
    }
    const out = resolve(options.out);
    const grounding: string[] = [];
    if (options.grounding) {
      const palette = join(work, 'palette.json');
      writeFileSync(palette, JSON.stringify(BLOCK_RGB));
      grounding.push('--grounding', palette, '--grounding-weight', String(options.grounding));
    }
    await runTrainer(
      'finetune_tiny_vla.py',
      [
        '--train',
        join(work, 'train'),
        '--validation',
        join(work, 'validation'),
        '--base',
        resolve(options.base),
        '--out',
        out,
        '--data-name',
        resolve(options.data),
        ...(options.imageSize === undefined ? [] : ['--image-size', String(options.imageSize)]),
        '--resize',
        String(resize),
        ...grounding,
        ...options.trainerArgs,
      ],
      options.progress,
    );
    const manifestPath = join(out, 'pons.json');
    const manifest = readJsonFile(manifestPath) as {
      prompt: { user: string };
      training: Record<string, unknown>;
    };
    const write = () => writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    if (options.prompt !== undefined) {
      // The trainer copies the base's manifest; the package decides with the new prompt.
      manifest.prompt.user = options.prompt;
      write();
    }
    options.progress(`checking ${out} against PyTorch on held-out rows`);
    const parity = await checkParity(out);
    manifest.training = { ...manifest.training, accepted: parity.accepted, parity };
    write();
    return { out, rows, parity, training: manifest.training };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** The package with another user prompt, which must hold the instruction. */
function withPrompt(pkg: ModelPackage, user: string): ModelPackage {
  if (!user.includes(INSTRUCTION_SLOT)) {
    throw new InputError('--prompt', '', `must hold ${INSTRUCTION_SLOT}`);
  }
  return { ...pkg, manifest: { ...pkg.manifest, prompt: { ...pkg.manifest.prompt, user } } };
}

/**
 * One split's rows, checked against the vocabulary they were exported with (the base's), into
 * a training set for `pkg`; returns the count.
 */
async function writeTrainingSet(
  exported: DatasetVocabulary,
  pkg: ModelPackage,
  file: string,
  dir: string,
): Promise<number> {
  const tokenizer = new Tokenizer(pkg.tokenizerJson, pkg.tokenizerConfig);
  const writer = new TrainingSetWriter(pkg, dir);
  for (const row of await readAlignAnything(file)) {
    if (row.spec_id !== pkg.specId) {
      throw new InputError(
        row.source,
        'spec_id',
        `${row.spec_id.slice(0, 12)}… is not ${pkg.dir}'s ActionSpec (${pkg.specId.slice(0, 12)}…)`,
      );
    }
    if (row.prompt !== promptText(exported, row.instruction, row.state, row.source)) {
      throw new InputError(
        row.source,
        'prompt',
        `is not ${pkg.dir}'s user prompt for the row's instruction and state`,
      );
    }
    const actions = tokenizer.encode(row.response, { add_special_tokens: false }).ids;
    await writer.add({
      image: { kind: 'compressed', format: '', data: row.image.bytes },
      instruction: row.instruction,
      state: row.state,
      actions,
      episode: row.episode_id,
      task: row.task,
      seed: row.seed,
      step: row.step,
      source: row.source,
    });
  }
  writer.close({ source: file });
  return writer.count;
}
