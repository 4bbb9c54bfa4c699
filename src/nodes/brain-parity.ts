import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { BrainRuntime } from '../brain/index.js';
import { InputError, readJsonFile } from '../contract/index.js';

/**
 * A fine-tuned package against its trainer: the held-out decisions of its `parity.json`
 * (greedy autoregressive tokens and action-range logits from the plain PyTorch model) run
 * through the TypeScript brain runtime on the same pixels. The tokens must be identical and
 * the logits within the file's tolerance.
 */

interface ParityCase {
  row: number;
  instruction: string;
  tokens: number[];
  logits: number[][];
}

export interface ParityReport {
  cases: number;
  tokens_equal: boolean;
  /** Tokens that differed, over all cases. */
  token_mismatches: number;
  max_abs_logit_diff: number;
  tolerance: number;
  accepted: boolean;
}

/** `validationSet`: the training-set directory whose rows parity.json names. */
export async function checkParity(pkgDir: string, validationSet: string): Promise<ParityReport> {
  const parityPath = join(pkgDir, 'parity.json');
  const parity = readJsonFile(parityPath) as { tolerance?: unknown; cases?: unknown };
  if (!Array.isArray(parity.cases) || parity.cases.length === 0) {
    throw new InputError(parityPath, 'cases', 'must be a non-empty list');
  }
  if (typeof parity.tolerance !== 'number' || !(parity.tolerance > 0)) {
    throw new InputError(parityPath, 'tolerance', 'must be a positive number');
  }
  const cases = parity.cases as ParityCase[];
  const meta = readJsonFile(join(validationSet, 'meta.json')) as {
    count: number;
    image: { height: number; width: number };
  };
  const { height, width } = meta.image;
  const runtime = await BrainRuntime.open(pkgDir, { providers: ['cpu'], intraOpThreads: 1 });
  const pixels = openSync(join(validationSet, 'pixels.u8'), 'r');
  let mismatches = 0;
  let worst = 0;
  try {
    for (const [i, c] of cases.entries()) {
      if (!Number.isInteger(c.row) || c.row < 0 || c.row >= meta.count) {
        throw new InputError(parityPath, `cases[${i}].row`, `is not a row of ${validationSet}`);
      }
      const data = new Uint8Array(height * width * 3);
      readSync(pixels, data, 0, data.length, c.row * data.length);
      // The row's bytes are already resized: the runtime's resize and crop are the identity.
      const decision = await runtime.decide(
        { kind: 'raw', encoding: 'rgb8', width, height, step: 3 * width, data },
        c.instruction,
        { source: `${parityPath} cases[${i}]`, keepLogits: c.tokens.length },
      );
      c.tokens.forEach((t, k) => {
        if (decision.tokens[k] !== t) mismatches++;
      });
      c.logits.forEach((row, k) => {
        const got = decision.logits?.[k];
        if (got === undefined) return;
        for (let j = 0; j < row.length; j++) {
          worst = Math.max(worst, Math.abs((got[j] as number) - (row[j] as number)));
        }
      });
    }
  } finally {
    closeSync(pixels);
    await runtime.close();
  }
  return {
    cases: cases.length,
    tokens_equal: mismatches === 0,
    token_mismatches: mismatches,
    max_abs_logit_diff: worst,
    tolerance: parity.tolerance,
    accepted: mismatches === 0 && worst <= parity.tolerance,
  };
}
