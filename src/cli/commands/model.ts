import { extname } from 'node:path';
import type { Command } from 'commander';
import {
  type BrainOptions,
  BrainRuntime,
  type CompressedFrame,
  type DecodingMode,
} from '../../brain/index.js';
import { InputError, readFileBytes, shortId } from '../../contract/index.js';
import { tokenizerFor } from '../../tokenizer/index.js';
import { DEFAULT_BRAIN } from '../package-info.js';

/** Options every command that opens a brain model package shares. */
export interface ModelFlags {
  providers: string;
  variant?: string;
  threads: string;
}

export function addModelOptions(command: Command): Command {
  return command
    .option('--providers <list>', 'execution providers in order of preference', 'cuda,cpu')
    .option('--variant <suffix>', 'model file variant: fp16, quantized, …')
    .option('--threads <n>', 'onnxruntime threads per run (0: onnxruntime chooses)', '0');
}

export function brainOptions(flags: ModelFlags): BrainOptions {
  return {
    providers: flags.providers.split(',').map((p) => p.trim()),
    intraOpThreads: Number(flags.threads),
    ...(flags.variant === undefined ? {} : { variant: flags.variant }),
  };
}

export function registerModel(program: Command): void {
  const model = program.command('model').description('brain model packages (models/<name>/)');

  addModelOptions(
    model
      .command('check [dir]')
      .description('load a package, check its graphs against its config, and print what it is'),
  ).action(async (dir: string | undefined, flags: ModelFlags) => {
    const brain = await BrainRuntime.open(dir ?? DEFAULT_BRAIN, brainOptions(flags));
    try {
      const { pkg } = brain;
      const d = pkg.dims;
      console.log(`package    ${pkg.dir} (${pkg.manifest.name})`);
      console.log(
        `spec       ${pkg.spec.name} ${shortId(pkg.specId)}…, ${brain.tokensPerDecision} tokens`,
      );
      console.log(
        `model      image ${d.imageSize}² → ${d.imageTokens} tokens; decoder ${d.layers} layers, ` +
          `hidden ${d.hidden}, ${d.kvHeads} kv heads × ${d.headDim}, vocabulary ${d.vocab}`,
      );
      console.log(
        `decoding   ${brain.modes.join(', ')} (default ${pkg.manifest.decoding.default})`,
      );
      console.log(`provider   ${brain.provider}`);
      for (const f of brain.fallbacks)
        console.log(`fallback   ${f.graph}: ${f.provider}: ${f.reason}`);
    } finally {
      await brain.close();
    }
  });

  addModelOptions(
    model
      .command('run [dir]')
      .description('one decision: an image file and an instruction → action tokens and the chunk')
      .requiredOption('--image <file>', 'a PNG or JPEG image')
      .requiredOption('--instruction <text>', 'what the robot should do')
      .option('--mode <mode>', 'autoregressive or parallel (default: the package default)')
      .option('--json', 'print the decision as JSON'),
  ).action(
    async (
      dir: string | undefined,
      flags: ModelFlags & {
        image: string;
        instruction: string;
        mode?: DecodingMode;
        json?: boolean;
      },
    ) => {
      const frame = imageFile(flags.image);
      const brain = await BrainRuntime.open(dir ?? DEFAULT_BRAIN, brainOptions(flags));
      try {
        const decision = await brain.decide(frame, flags.instruction, {
          source: flags.image,
          ...(flags.mode === undefined ? {} : { mode: flags.mode }),
        });
        const spec = brain.pkg.spec;
        const chunk = tokenizerFor(spec).decode(decision.tokens, 'decision');
        const dims = spec.dimensions.length;
        const steps = Array.from({ length: spec.horizon }, (_, s) =>
          Array.from(chunk.subarray(s * dims, (s + 1) * dims)),
        );
        if (flags.json) {
          console.log(
            JSON.stringify({
              provider: brain.provider,
              mode: decision.mode,
              tokens: Array.from(decision.tokens),
              chunk: steps,
              prompt_tokens: decision.promptTokens,
              timings: decision.timings,
            }),
          );
          return;
        }
        console.log(
          `provider ${brain.provider}, ${decision.mode}, ${decision.promptTokens} prompt tokens`,
        );
        console.log(`tokens   ${Array.from(decision.tokens).join(' ')}`);
        const names = spec.dimensions.map((d) => d.name);
        console.log(`step  ${names.map((n) => n.padStart(16)).join('')}`);
        steps.forEach((row, s) => {
          console.log(
            `${String(s).padStart(4)}  ${row.map((v) => v.toFixed(4).padStart(16)).join('')}`,
          );
        });
        const t = decision.timings;
        console.log(
          `ms       preprocess ${t.preprocess_ms.toFixed(2)}, vision ${t.vision_ms.toFixed(2)}, ` +
            `prefill ${t.prefill_ms.toFixed(2)}, tokens ${t.tokens_ms.reduce((a, b) => a + b, 0).toFixed(2)}, ` +
            `total ${t.total_ms.toFixed(2)}`,
        );
      } finally {
        await brain.close();
      }
    },
  );
}

/** An image file as a compressed frame; the codec is checked against the bytes. */
function imageFile(path: string): CompressedFrame {
  const ext = extname(path).toLowerCase();
  const format = { '.png': 'png', '.jpg': 'jpeg', '.jpeg': 'jpeg' }[ext];
  if (format === undefined) throw new InputError(path, '', 'is not a .png, .jpg or .jpeg file');
  return { kind: 'compressed', format, data: readFileBytes(path) };
}
