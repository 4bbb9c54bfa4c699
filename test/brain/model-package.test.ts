import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BrainRuntime, loadModelPackage } from '../../src/brain/index.js';
import { InputError } from '../../src/contract/index.js';
import {
  brainPackageCopy,
  type PackageEdits,
  removeBrainPackageCopies,
  TINY_VLA,
} from '../helpers/brain-packages.js';

afterAll(removeBrainPackageCopies);

/** Opens a package copy with `edits` and returns the error it fails with. */
async function openError(edits: PackageEdits, variant?: string): Promise<InputError> {
  const dir = brainPackageCopy(edits);
  const err = await BrainRuntime.open(dir, {
    providers: ['cpu'],
    ...(variant === undefined ? {} : { variant }),
  }).then(
    async (b) => {
      await b.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(InputError);
  return err as InputError;
}

describe('loading the bundled package', () => {
  it('derives the sizes the graphs must have from config.json', () => {
    const pkg = loadModelPackage(TINY_VLA);
    expect(pkg.dims).toEqual({
      imageSize: 336,
      patchSize: 28,
      clsFeature: false,
      imageTokens: 144,
      hidden: 128,
      layers: 2,
      kvHeads: 2,
      headDim: 32,
      vocab: 4096,
      imageTokenId: 5,
    });
    expect(pkg.spec.name).toBe('planar-arm');
    expect(pkg.graphs.decoder_model_merged).toBe(join(TINY_VLA, 'onnx/decoder_model_merged.onnx'));
  });
});

describe('a package that does not agree with itself is refused, naming file and field', () => {
  it('a missing directory, pons.json or graph', async () => {
    expect(() => loadModelPackage('/nonexistent/brain')).toThrow(
      /\/nonexistent\/brain: \(root\): no such model package directory/,
    );
    const err = await openError({ remove: ['vision_encoder'] });
    expect(err.source).toMatch(/onnx\/vision_encoder\.onnx$/);
    expect(err.reason).toMatch(/is missing: a model package needs vision_encoder/);
  });

  it('a corrupt (truncated) graph', async () => {
    const err = await openError({ corrupt: 'decoder_model_merged' });
    expect(err.source).toMatch(/onnx\/decoder_model_merged\.onnx$/);
    expect(err.reason).toMatch(/cannot be loaded by onnxruntime/);
  });

  it('a spec id that is not the ActionSpec’s', async () => {
    const err = await openError({
      manifest: (m) => {
        m.spec_id = 'ab'.repeat(32);
      },
    });
    expect(err.source).toMatch(/pons\.json$/);
    expect(err.field).toBe('spec_id');
    expect(err.reason).toMatch(/built for another action contract/);
  });

  it('an action token count or id range that is not the ActionSpec’s', async () => {
    const count = await openError({
      manifest: (m) => {
        (m.action_tokens as Record<string, number>).count = 21;
      },
    });
    expect([count.field, count.reason]).toEqual([
      'action_tokens.count',
      'is 21, but ActionSpec "planar-arm" gives 24',
    ]);
    const first = await openError({
      manifest: (m) => {
        (m.action_tokens as Record<string, number>).first_id = 3000;
      },
    });
    expect(first.field).toBe('action_tokens.first_id');
  });

  it('a hidden size the graphs were not built with', async () => {
    const err = await openError({
      config: (c) => {
        (c.text_config as Record<string, number>).hidden_size = 64;
        (c.text_config as Record<string, number>).head_dim = 16;
      },
    });
    expect(err.source).toMatch(/onnx\/vision_encoder\.onnx$/);
    expect(err.field).toBe('outputs.image_features.shape');
    expect(err.reason).toMatch(/"image_features" is \[.*128\], expected \[\?, 144, 64\]/);
  });

  it('a layer count the decoder was not built with, either way', async () => {
    const fewer = await openError({
      config: (c) => {
        (c.text_config as Record<string, number>).num_hidden_layers = 1;
      },
    });
    expect(fewer.field).toBe('inputs');
    expect(fewer.reason).toMatch(/"past_key_values\.1\.key".*1-layer decoder/);
    const more = await openError({
      config: (c) => {
        (c.text_config as Record<string, number>).num_hidden_layers = 3;
      },
    });
    expect(more.field).toBe('inputs.past_key_values.2.key.name');
  });

  it('a vocabulary the logits do not have', async () => {
    const err = await openError({
      config: (c) => {
        (c.text_config as Record<string, number>).vocab_size = 8192;
      },
    });
    expect(err.source).toMatch(/decoder_model_merged\.onnx$/);
    expect(err.field).toBe('outputs.logits.shape');
  });

  it('a processor that produces another image size', async () => {
    const err = await openError({
      preprocessor: (p) => {
        p.crop_size = { height: 224, width: 224 };
      },
    });
    expect(err.source).toMatch(/preprocessor_config\.json$/);
    expect(err.field).toBe('crop_size');
    expect(err.reason).toMatch(/gives 224×224 images, the vision encoder takes 336×336/);
  });

  it('a missing chat template, a template that does not parse, or no image token in the prompt', async () => {
    const missing = await openError({
      tokenizerConfig: (t) => {
        delete t.chat_template;
      },
    });
    expect([missing.field, missing.reason]).toEqual([
      'chat_template',
      'is missing (a Jinja string)',
    ]);
    const broken = await openError({
      tokenizerConfig: (t) => {
        t.chat_template = '{% for m in messages %}{{ m.content }';
      },
    });
    expect(broken.field).toBe('chat_template');
    const dir = brainPackageCopy({
      manifest: (m) => {
        (m.prompt as Record<string, string>).user = 'Do this: {instruction}';
      },
    });
    const brain = await BrainRuntime.open(dir, { providers: ['cpu'] });
    try {
      expect(() => brain.encodeInstruction('reach the red block')).toThrow(
        /must hold the image token \(id 5\) exactly once/,
      );
    } finally {
      await brain.close();
    }
  });

  it('a malformed pons.json', async () => {
    const err = await openError({
      manifest: (m) => {
        m.decoding = { default: 'parallel', modes: ['parallel'] };
      },
    });
    expect([err.field, err.reason]).toEqual([
      'decoding.placeholder_id',
      'is required for parallel decoding',
    ]);
    const kind = await openError({
      manifest: (m) => {
        m.kind = 'learned-stage';
      },
    });
    expect(kind.field).toBe('kind');
  });
});

describe('file variants', () => {
  it('picks the variant file for every graph, or for one', async () => {
    // A corrupt plain decoder beside a good `_int8` copy: only the variant can load.
    const dir = brainPackageCopy({
      corrupt: 'decoder_model_merged',
      extra: {
        'onnx/decoder_model_merged_int8.onnx': 'decoder_model_merged',
        'onnx/vision_encoder_int8.onnx': 'vision_encoder',
        'onnx/embed_tokens_int8.onnx': 'embed_tokens',
      },
    });
    for (const variant of ['int8', { decoder_model_merged: 'int8' }] as const) {
      const brain = await BrainRuntime.open(dir, { providers: ['cpu'], variant });
      expect(brain.pkg.graphs.decoder_model_merged).toBe(
        join(dir, 'onnx/decoder_model_merged_int8.onnx'),
      );
      await brain.close();
    }
  });

  it('names the variant that is missing, and refuses a suffix that is not one', async () => {
    const err = await openError({}, 'fp16');
    expect(err.reason).toBe('is missing: a model package needs vision_encoder (variant "_fp16")');
    expect(() => loadModelPackage(TINY_VLA, '../x')).toThrow(/is not a file suffix/);
  });
});

describe('the documented pons.json', () => {
  it('is the bundled one, field for field', () => {
    const doc = readFileSync(join(TINY_VLA, '../../docs/model-package.md'), 'utf8');
    const block = doc.slice(
      doc.indexOf('```json') + 7,
      doc.indexOf('```', doc.indexOf('```json') + 7),
    );
    const documented = JSON.parse(block.replace('"<sha-256 of the spec\'s canonical JSON>"', '""'));
    const bundled = JSON.parse(readFileSync(join(TINY_VLA, 'pons.json'), 'utf8'));
    expect(Object.keys(documented)).toEqual(Object.keys(bundled));
    expect(documented.action_tokens).toEqual(bundled.action_tokens);
    expect(documented.decoding).toEqual(bundled.decoding);
    expect(documented.prompt).toEqual(bundled.prompt);
  });
});
