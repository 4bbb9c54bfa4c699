import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BrainRuntime } from '../brain/index.js';
import { InputError, readJsonFile } from '../contract/index.js';

/**
 * A fine-tuned package against its trainer: the held-out decisions of its `parity.json`
 * (greedy autoregressive tokens and action-range logits from the plain PyTorch model) run
 * through the TypeScript brain runtime on the same pixels (`parity/*.png`, already resized
 * and cropped to the model's image size, so the runtime only rescales and normalizes them).
 * The tokens must be identical and the logits within the file's tolerance.
 */

interface ParityCase {
  image: string;
  instruction: string;
  /** Joint positions, for a package whose prompt holds them. */
  state?: number[] | null;
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

export async function checkParity(pkgDir: string): Promise<ParityReport> {
  const parityPath = join(pkgDir, 'parity.json');
  const parity = readJsonFile(parityPath) as { tolerance?: unknown; cases?: unknown };
  if (!Array.isArray(parity.cases) || parity.cases.length === 0) {
    throw new InputError(parityPath, 'cases', 'must be a non-empty list');
  }
  if (typeof parity.tolerance !== 'number' || !(parity.tolerance > 0)) {
    throw new InputError(parityPath, 'tolerance', 'must be a positive number');
  }
  const cases = parity.cases as ParityCase[];
  const runtime = await BrainRuntime.open(pkgDir, {
    providers: ['cpu'],
    intraOpThreads: 1,
    framesAtModelSize: true,
  });
  let mismatches = 0;
  let worst = 0;
  try {
    for (const [i, c] of cases.entries()) {
      const image = join(pkgDir, String(c.image));
      if (!existsSync(image)) {
        throw new InputError(parityPath, `cases[${i}].image`, `${image} does not exist`);
      }
      const decision = await runtime.decide(
        { kind: 'compressed', format: 'png', data: readFileSync(image) },
        c.instruction,
        {
          source: `${parityPath} cases[${i}]`,
          keepLogits: c.tokens.length,
          ...(c.state ? { state: c.state } : {}),
        },
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
