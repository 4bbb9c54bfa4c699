import type { Command } from 'commander';
import { finetuneBrain } from '../../nodes/finetune-brain.js';
import { finetuneCerebellum } from '../../nodes/finetune-cerebellum.js';
import { loadProfile } from '../../nodes/profile.js';
import { DEFAULT_BRAIN, DEFAULT_PROFILE } from '../package-info.js';
import { emitJson } from '../run-until.js';
export function registerFinetune(program: Command): void {
  const finetune = program
    .command('finetune')
    .description('fine-tune the brain or the cerebellum from recorded episodes');

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
      "loss weight of the chunk's first step (where the arm is now)",
      '1',
    )
    .option(
      '--action-embeddings <how>',
      "keep | smooth: start the action ids' embeddings as a smooth code of their bin (for an untrained base)",
      'keep',
    )
    .option(
      '--grounding <weight>',
      "weight of an auxiliary loss tying the instruction's colour word to the patches showing that block (embedded-simulator episodes only; 0: off)",
      '0',
    )
    .option(
      '--ema <decay>',
      'export a moving average of the weights with this decay per step (0: the last weights)',
      '0',
    )
    .option('--image-size <px>', "the new package's image size (default the base's)")
    .option(
      '--resize <px>',
      "the shortest edge frames are resized to before the center crop to the image size (default the base's at its image size, else no crop); larger: the middle of the frame magnified",
    )
    .option(
      '--prompt <template>',
      "the new package's user prompt (default the base's); {state} in it: decide from the joint state too",
    )
    .option('--seed <n>', 'seed of initialization and batch order', '0')
    .option('--device <device>', 'auto | cpu | cuda', 'auto')
    .option('--threads <n>', 'CPU threads for torch', '2')
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
        actionEmbeddings: string;
        ema: string;
        grounding: string;
        imageSize?: string;
        resize?: string;
        prompt?: string;
        seed: string;
        device: string;
        threads: string;
        json?: boolean;
      }) => {
        const result = await finetuneBrain({
          data: flags.data,
          base: flags.base,
          out: flags.out,
          ...(flags.imageSize === undefined ? {} : { imageSize: Number(flags.imageSize) }),
          ...(flags.resize === undefined ? {} : { resize: Number(flags.resize) }),
          ...(flags.prompt === undefined ? {} : { prompt: flags.prompt }),
          grounding: Number(flags.grounding),
          trainerArgs: [
            ['--steps', flags.steps],
            ['--batch-size', flags.batchSize],
            ['--lr', flags.lr],
            ['--label-sigma', flags.labelSigma],
            ['--first-step-weight', flags.firstStepWeight],
            ['--action-embeddings', flags.actionEmbeddings],
            ['--ema', flags.ema],
            ['--seed', flags.seed],
            ['--device', flags.device],
            ['--threads', flags.threads],
          ].flat(),
          progress: (m) => process.stderr.write(`[pons finetune] ${m}\n`),
        });
        const { parity } = result;
        if (flags.json) emitJson('finetuned', result as unknown as Record<string, unknown>);
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

  finetune
    .command('cerebellum')
    .description(
      'train the learned cerebellum stage from cerebellum recordings, export it, check parity',
    )
    .requiredOption('--data <paths...>', 'cerebellum recordings (.mcap) or folders of them')
    .requiredOption('--out <dir>', 'the package to write (models/<name>)')
    .option('--config <robot.yaml>', 'robot profile (spec and joints)', DEFAULT_PROFILE)
    .option('--lookahead <k>', 'chunk steps the stage sees ahead', '4')
    .option('--max-correction <rad>', 'bound on each correction', '0.02')
    .option('--steps <n>', 'optimizer steps', '3000')
    .option('--seed <n>', 'seed', '0')
    .option('--device <device>', 'auto | cpu | cuda', 'auto')
    .option('--held-out <fraction>', 'last part of each recording kept for evaluation', '0.2')
    .option('--json', 'print the result as JSON')
    .action(
      async (flags: {
        data: string[];
        out: string;
        config: string;
        lookahead: string;
        maxCorrection: string;
        steps: string;
        seed: string;
        device: string;
        heldOut: string;
        json?: boolean;
      }) => {
        const result = await finetuneCerebellum({
          data: flags.data,
          out: flags.out,
          profile: loadProfile(flags.config),
          lookahead: Number(flags.lookahead),
          maxCorrection: Number(flags.maxCorrection),
          steps: Number(flags.steps),
          seed: Number(flags.seed),
          device: flags.device,
          heldOut: Number(flags.heldOut),
          progress: (line) => process.stderr.write(`[pons finetune] ${line}\n`),
        });
        if (flags.json) emitJson('finetuned', result as unknown as Record<string, unknown>);
        const { parity } = result;
        process.stderr.write(
          parity.passed
            ? `[pons finetune] ${result.out}: accepted (runtime matches PyTorch within ${parity.tolerance}: max |diff| ${parity.max_abs_diff.toExponential(2)} over ${parity.cases} held-out cases)\n`
            : `[pons finetune] ${result.out}: REFUSED: the runtime differs from PyTorch by ${parity.max_abs_diff} (tolerance ${parity.tolerance})\n`,
        );
        if (!parity.passed) process.exitCode = 1;
      },
    );
}
