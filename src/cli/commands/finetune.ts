import type { Command } from 'commander';
import { finetuneCerebellum } from '../../nodes/finetune-cerebellum.js';
import { loadProfile } from '../../nodes/profile.js';
import { DEFAULT_PROFILE } from '../package-info.js';
import { emitJson } from '../run-until.js';

export function registerFinetune(program: Command): void {
  const finetune = program
    .command('finetune')
    .description('fine-tune the brain or the cerebellum from recorded episodes');

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
