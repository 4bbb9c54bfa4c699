import { basename } from 'node:path';
import type { Command } from 'commander';
import { loadModelPackage, type ModelPackage } from '../../brain/index.js';
import { InputError, loadActionSpec } from '../../contract/index.js';
import { DATASET_FORMATS, type DatasetFormat, exportDataset } from '../../finetune/export.js';
import { modelVocabulary } from '../../nodes/dataset-export.js';
import { DEFAULT_BRAIN } from '../package-info.js';

export function registerDataset(program: Command): void {
  const dataset = program.command('dataset').description('training datasets from recordings');
  dataset
    .command('export')
    .description('recorded episodes (pons sim collect) → an Align-Anything or LeRobot v3 dataset')
    .requiredOption('--from <files...>', 'rosbag2 MCAP recordings with episode markers')
    .requiredOption('--to <dir>', 'output directory')
    .requiredOption('--format <format>', DATASET_FORMATS.join(' | '))
    .option(
      '--model <dir>',
      'the model package to fine-tune (prompt, vocabulary, spec)',
      DEFAULT_BRAIN,
    )
    .option('--spec <action_spec.yaml>', "the ActionSpec (default: the model package's)")
    .option('--val-fraction <x>', 'episodes held out as validation (align-anything)', '0')
    .option('--seed <n>', 'seed of the train/validation split', '0')
    .option('--stats-key <key>', 'dataset key in dataset_statistics.json', 'planar_arm_sim')
    .option('--camera <topic>', 'the camera topic, where a recording has several')
    .option(
      '--images <how>',
      'lerobot: video (ffmpeg, AV1) | columns (PNG in the parquet)',
      'video',
    )
    .option('--all', 'keep failed episodes too (default: successful ones only)')
    .option('--json', 'print the summary as JSON')
    .action(
      async (flags: {
        from: string[];
        to: string;
        format: string;
        model: string;
        spec?: string;
        valFraction: string;
        seed: string;
        statsKey: string;
        camera?: string;
        images: string;
        all?: boolean;
        json?: boolean;
      }) => {
        if (!(DATASET_FORMATS as readonly string[]).includes(flags.format)) {
          throw new InputError('--format', '', `must be ${DATASET_FORMATS.join(' or ')}`);
        }
        if (flags.images !== 'video' && flags.images !== 'columns') {
          throw new InputError('--images', '', 'must be video or columns');
        }
        const format = flags.format as DatasetFormat;
        // The package gives the prompt and vocabulary, and the spec unless --spec names one.
        const pkg =
          format === 'align-anything' || flags.spec === undefined
            ? loadModelPackage(flags.model)
            : undefined;
        const spec =
          flags.spec === undefined ? (pkg as ModelPackage).spec : loadActionSpec(flags.spec);
        const tty = process.stderr.isTTY === true;
        let lastFile = -1;
        const summary = await exportDataset({
          from: flags.from,
          to: flags.to,
          format,
          spec,
          ...(pkg ? { vocabulary: modelVocabulary(pkg) } : {}),
          valFraction: Number(flags.valFraction),
          seed: Number(flags.seed),
          statsKey: flags.statsKey,
          ...(flags.camera === undefined ? {} : { camera: flags.camera }),
          includeFailed: flags.all === true,
          images: flags.images,
          progress: (p) => {
            const line = `[pons dataset] file ${p.fileIndex + 1}/${p.files} ${basename(p.file)}: ${p.episodes} episodes, ${p.rows} decisions`;
            if (tty) process.stderr.write(`\r${line}`);
            else if (p.fileIndex !== lastFile || p.episodes % 25 === 0)
              process.stderr.write(`${line}\n`);
            lastFile = p.fileIndex;
          },
          warn: (m) => process.stderr.write(`${tty ? '\n' : ''}[pons dataset] warning: ${m}\n`),
        });
        if (tty) process.stderr.write('\n');
        if (flags.json) {
          console.log(JSON.stringify(summary));
        } else {
          const rows = Object.entries(summary.rows)
            .map(([k, v]) => `${v} ${k}`)
            .join(', ');
          console.log(
            `${summary.format}: ${summary.episodes} episodes (${summary.failedLeftOut} failed left out), ${rows}`,
          );
          for (const f of [...summary.files, summary.statistics]) console.log(`  ${f}`);
        }
      },
    );
}
