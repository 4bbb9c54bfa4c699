import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_PYTHON, finetuneBrain } from '../../nodes/finetune-brain.js';
import { DEFAULT_BRAIN, PACKAGE_ROOT } from '../package-info.js';

const TRAINER = resolve(PACKAGE_ROOT, 'models/training/finetune_tiny_vla.py');

export function registerFinetune(program: Command): void {
  const finetune = program.command('finetune').description('fine-tune models on recorded data');

  finetune
    .command('brain')
    .description(
      'fine-tune a brain package on an Align-Anything dataset (pons dataset export), export it, check it against PyTorch',
    )
    .requiredOption('--data <dir>', 'the dataset: train.parquet and validation.parquet')
    .option('--base <dir>', 'the brain package to start from', DEFAULT_BRAIN)
    .requiredOption('--out <dir>', 'the new package')
    .option('--steps <n>', 'optimizer steps', '3000')
    .option('--batch-size <n>', 'rows per step', '16')
    .option('--lr <x>', 'peak learning rate (AdamW, warm-up then cosine)', '2e-3')
    .option(
      '--label-sigma <bins>',
      'Gaussian soft targets over neighbouring bins (0: one-hot)',
      '1.5',
    )
    .option(
      '--first-step-weight <w>',
      "loss weight of the chunk's first step (where the arm is: read from the image alone)",
      '1',
    )
    .option('--image-size <px>', "the new package's image size (default the base's)")
    .option('--seed <n>', 'seed of initialization and batch order', '0')
    .option('--device <device>', 'auto | cpu | cuda', 'auto')
    .option('--threads <n>', 'CPU threads for torch', '2')
    .option('--python <path>', 'the Python with torch and onnx', DEFAULT_PYTHON)
    .option('--json', 'print the result as JSON')
    .action(
      async (flags: {
        data: string;
        base: string;
        out: string;
        steps: string;
        batchSize: string;
        lr: string;
        labelSigma: string;
        firstStepWeight: string;
        imageSize?: string;
        seed: string;
        device: string;
        threads: string;
        python: string;
        json?: boolean;
      }) => {
        const result = await finetuneBrain({
          data: flags.data,
          base: flags.base,
          out: flags.out,
          ...(flags.imageSize === undefined ? {} : { imageSize: Number(flags.imageSize) }),
          trainerArgs: [
            ['--steps', flags.steps],
            ['--batch-size', flags.batchSize],
            ['--lr', flags.lr],
            ['--label-sigma', flags.labelSigma],
            ['--first-step-weight', flags.firstStepWeight],
            ['--seed', flags.seed],
            ['--device', flags.device],
            ['--threads', flags.threads],
          ].flat(),
          python: flags.python,
          script: TRAINER,
          progress: (m) => process.stderr.write(`[pons finetune] ${m}\n`),
        });
        const { parity } = result;
        if (flags.json) console.log(JSON.stringify(result));
        else {
          console.log(
            `${result.out}: ${parity.accepted ? 'accepted' : 'NOT accepted'}; parity on ${parity.cases} held-out decisions: ` +
              `tokens ${parity.tokens_equal ? 'identical' : `differ (${parity.token_mismatches})`}, ` +
              `max |logit diff| ${parity.max_abs_logit_diff.toExponential(2)} (tolerance ${parity.tolerance})`,
          );
        }
        if (!parity.accepted) process.exitCode = 1;
      },
    );
}
