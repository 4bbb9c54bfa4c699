import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ActionSpec, fillPrompt, JointOrder, promptNeedsState } from '../contract/index.js';
import { type RecordedEpisode, specJointPositions } from './episodes.js';
import { frameFile } from './frames.js';
import { type Column, type ImageCell, writeParquet } from './parquet.js';
import { validationEpisodes } from './split.js';

/**
 * Align-Anything's text-image-to-text SFT layout (the AA_TI2T template): one row per decision,
 * `prompt` (the model package's user prompt with the instruction, its image token removed:
 * the template puts the image in itself), `response` (the decision's action tokens as the
 * model's vocabulary spells them) and `image` (the frame the decision was made on, PNG, in the
 * Hugging Face Image feature's layout), plus `state` (the joint positions the decision was made
 * at, in the spec's dimensions; in the prompt too where the package's prompt holds `{state}`),
 * `instruction`, `episode_id`, `task`, `seed`, `step` and `spec_id`. `train.parquet`, and `validation.parquet` when a fraction of the
 * episodes is held out.
 */

/** What the exporter needs of the model package being fine-tuned. */
export interface DatasetVocabulary {
  /** `pons.json`'s `prompt.user`, with `{instruction}` (and `{state}`, if it decides from it). */
  userPrompt: string;
  /** The image token as the model spells it (`<image>`). */
  imageToken: string;
  /** Token id → its text in the model's vocabulary (3840 → `<act_0>` in tiny-vla). */
  tokenText: (id: number) => string;
  /** A joint state (the spec's dimensions) as the model's prompt spells it. */
  stateText: (position: ArrayLike<number>) => string;
}

export interface AlignAnythingOptions {
  dir: string;
  vocabulary: DatasetVocabulary;
  spec: ActionSpec;
  valFraction: number;
  seed: number;
}

interface Row {
  prompt: string;
  response: string;
  image: ImageCell;
  state: number[];
  instruction: string;
  episode_id: string;
  task: string;
  seed: bigint;
  step: bigint;
  spec_id: string;
}

export const ALIGN_ANYTHING_COLUMNS = [
  'prompt',
  'response',
  'image',
  'state',
  'instruction',
  'episode_id',
  'task',
  'seed',
  'step',
  'spec_id',
] as const;

/** The row's prompt: the package's user prompt filled in, its image token removed. */
export function promptText(
  vocabulary: DatasetVocabulary,
  instruction: string,
  state: ArrayLike<number>,
  source: string,
): string {
  const { userPrompt } = vocabulary;
  const spelled = promptNeedsState(userPrompt) ? vocabulary.stateText(state) : undefined;
  return fillPrompt(userPrompt, instruction, spelled, source)
    .replace(vocabulary.imageToken, '')
    .trim();
}

export function responseText(vocabulary: DatasetVocabulary, tokens: ArrayLike<number>): string {
  let text = '';
  for (let i = 0; i < tokens.length; i++) text += vocabulary.tokenText(tokens[i] as number);
  return text;
}

export class AlignAnythingWriter {
  private readonly rows = new Map<string, Row[]>();
  private readonly order: JointOrder;

  constructor(private readonly options: AlignAnythingOptions) {
    this.order = new JointOrder(options.spec.dimensions.map((d) => d.name));
  }

  async add(episode: RecordedEpisode): Promise<void> {
    const { vocabulary } = this.options;
    const source = `${episode.file} ${episode.id}`;
    // libvips encodes on its own threads: all of an episode's frames at once.
    const rows = await Promise.all(
      episode.decisions.map(async (d): Promise<Row> => {
        const state = Array.from(specJointPositions(this.order, d.joints, source));
        const { bytes, ext } = await frameFile(d.frame, source);
        return {
          prompt: promptText(vocabulary, episode.instruction, state, source),
          response: responseText(vocabulary, d.tokens),
          image: { bytes, path: `${episode.id}/${String(d.step).padStart(4, '0')}.${ext}` },
          state,
          instruction: episode.instruction,
          episode_id: episode.id,
          task: episode.task,
          seed: BigInt(episode.seed),
          step: BigInt(d.step),
          spec_id: episode.specId,
        };
      }),
    );
    this.rows.set(episode.id, [...(this.rows.get(episode.id) ?? []), ...rows]);
  }

  /** Writes the splits and the dataset card; returns the rows in each split. */
  finish(): { train: number; validation: number; files: string[] } {
    const { dir, valFraction, seed, spec } = this.options;
    mkdirSync(dir, { recursive: true });
    const held = validationEpisodes([...this.rows.keys()], valFraction, seed);
    const split = (validation: boolean) =>
      [...this.rows.entries()].filter(([id]) => held.has(id) === validation).flatMap(([, r]) => r);
    const files: string[] = [];
    const counts = { train: 0, validation: 0 };
    for (const name of ['train', 'validation'] as const) {
      const rows = split(name === 'validation');
      if (rows.length === 0) continue;
      const file = join(dir, `${name}.parquet`);
      writeParquet(file, columns(rows));
      files.push(file);
      counts[name] = rows.length;
    }
    writeFileSync(join(dir, 'README.md'), datasetCard(counts, spec, this.options.vocabulary));
    return { ...counts, files };
  }
}

function columns(rows: Row[]): Column[] {
  const kinds: Record<(typeof ALIGN_ANYTHING_COLUMNS)[number], Column['kind']> = {
    prompt: 'string',
    response: 'string',
    image: 'image',
    state: 'float64[]',
    instruction: 'string',
    episode_id: 'string',
    task: 'string',
    seed: 'int64',
    step: 'int64',
    spec_id: 'string',
  };
  return ALIGN_ANYTHING_COLUMNS.map((name) => ({
    name,
    kind: kinds[name],
    data: rows.map((r) => r[name]),
  }));
}

function datasetCard(
  counts: { train: number; validation: number },
  spec: ActionSpec,
  vocabulary: DatasetVocabulary,
): string {
  const splits = Object.entries(counts).filter(([, n]) => n > 0);
  return `---
configs:
  - config_name: default
    data_files:
${splits.map(([name]) => `      - split: ${name}\n        path: ${name}.parquet`).join('\n')}
---
# pons expert demonstrations (Align-Anything text-image-to-text SFT)

Written by \`pons dataset export --format align-anything\` from recorded episodes. One row per
decision: ${splits.map(([name, n]) => `${n} ${name}`).join(', ')}; the split is by episode.

| column | what |
|---|---|
| \`prompt\` | the model's user prompt with the instruction (and the joint state, where the prompt holds it), image token removed (AA_TI2T inserts the image) |
| \`response\` | the decision's ${spec.horizon * spec.dimensions.length} action tokens as the model spells them (\`${vocabulary.tokenText(spec.tokenizer.vocab_size - spec.tokenizer.id_offset - spec.tokenizer.bins)}\` … ) |
| \`image\` | the camera frame decided on: \`{bytes: PNG, path}\` (Hugging Face Image feature) |
| \`state\` | the joint positions decided at (${spec.dimensions.map((d) => d.name).join(', ')}; ${spec.dimensions[0]?.unit ?? ''}) |
| \`instruction\`, \`episode_id\`, \`task\`, \`seed\`, \`step\` | where the row comes from (\`step\`: decision index in its episode) |
| \`spec_id\` | the ActionSpec the tokens mean (\`${spec.name}\`, H = ${spec.horizon}, dt = ${spec.dt} s) |

Train with Align-Anything's \`align_anything.trainers.text_image_to_text.sft\`,
\`--train_template AA_TI2T --train_split train\` (see the pons README).
`;
}
