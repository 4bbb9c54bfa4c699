import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BrainRuntime,
  type CompressedFrame,
  PromptEncoder,
  type RawFrame,
} from '../../src/brain/index.js';
import { InputError } from '../../src/contract/index.js';
import { tokenizerFor } from '../../src/tokenizer/index.js';
import { brainPackageCopy, removeBrainPackageCopies, TINY_VLA } from '../helpers/brain-packages.js';

// Real onnxruntime sessions on the committed tiny-vla graphs, against the golden vectors that
// models/training/make_tiny_vla.py computed with the plain PyTorch model (no KV cache).

interface Golden {
  tolerance: number;
  cases: {
    name: string;
    image: string;
    rgb_sha256: string;
    instruction: string;
    prompt_text: string;
    input_ids: number[];
    image_token_count: number;
    autoregressive: { tokens: number[]; logits: number[][] };
    parallel: { tokens: number[]; logits: number[][] };
  }[];
}
const golden = JSON.parse(readFileSync(join(TINY_VLA, 'golden.json'), 'utf8')) as Golden;
const png = (name: string): CompressedFrame => ({
  kind: 'compressed',
  format: 'png',
  data: readFileSync(join(TINY_VLA, name)),
});

let brain: BrainRuntime;
beforeAll(async () => {
  brain = await BrainRuntime.open(TINY_VLA, { providers: ['cpu'], intraOpThreads: 1 });
});
afterAll(async () => {
  await brain?.close();
  removeBrainPackageCopies();
});

function maxDifference(actual: Float32Array[] | undefined, expected: number[][]): number {
  expect(actual).toHaveLength(expected.length);
  let worst = 0;
  expected.forEach((row, k) => {
    const got = actual?.[k] as Float32Array;
    expect(got).toHaveLength(row.length);
    row.forEach((v, i) => {
      worst = Math.max(worst, Math.abs((got[i] as number) - v));
    });
  });
  return worst;
}

describe('tiny-vla golden vectors (PyTorch → onnxruntime-node)', () => {
  it('has three cases whose images are the ones the vectors were made from', async () => {
    expect(golden.cases.length).toBe(3);
    for (const c of golden.cases) {
      const rgb = await sharp(readFileSync(join(TINY_VLA, c.image)))
        .removeAlpha()
        .raw()
        .toBuffer();
      expect(createHash('sha256').update(rgb).digest('hex'), c.name).toBe(c.rgb_sha256);
    }
  });

  for (const c of golden.cases) {
    for (const mode of ['autoregressive', 'parallel'] as const) {
      it(`${c.name}, ${mode}: identical tokens, logits within the tolerance`, async () => {
        const keep = c[mode].logits.length;
        const d = await brain.decide(png(c.image), c.instruction, { mode, keepLogits: keep });
        expect(Array.from(d.tokens)).toEqual(c[mode].tokens);
        expect(maxDifference(d.logits, c[mode].logits)).toBeLessThanOrEqual(golden.tolerance);
        const promptLength = c.input_ids.length - 1 + c.image_token_count;
        expect(d.promptTokens).toBe(
          mode === 'parallel' ? promptLength + brain.tokensPerDecision : promptLength,
        );
      });
    }
  }

  it('gives the same tokens for the same image as raw bgr8 as for the PNG', async () => {
    const c = golden.cases[0] as Golden['cases'][number];
    const { data, info } = await sharp(readFileSync(join(TINY_VLA, c.image)))
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const bgr = new Uint8Array(data.length);
    for (let i = 0; i < data.length; i += 3) {
      bgr[i] = data[i + 2] as number;
      bgr[i + 1] = data[i + 1] as number;
      bgr[i + 2] = data[i] as number;
    }
    const frame: RawFrame = {
      kind: 'raw',
      encoding: 'bgr8',
      width: info.width,
      height: info.height,
      step: info.width * 3,
      data: bgr,
    };
    const d = await brain.decide(frame, c.instruction);
    expect(Array.from(d.tokens)).toEqual(c.autoregressive.tokens);
  });

  it('reports a timing for every stage and one per KV-cache step', async () => {
    const c = golden.cases[1] as Golden['cases'][number];
    const d = await brain.decide(png(c.image), c.instruction);
    const t = d.timings;
    expect(t.tokens_ms).toHaveLength(brain.tokensPerDecision - 1);
    for (const v of [t.preprocess_ms, t.vision_ms, t.prefill_ms, ...t.tokens_ms]) {
      expect(v).toBeGreaterThan(0);
    }
    const parts =
      t.preprocess_ms + t.vision_ms + t.prefill_ms + t.tokens_ms.reduce((a, b) => a + b);
    expect(parts).toBeCloseTo(t.total_ms, 6);
    const p = await brain.decide(png(c.image), c.instruction, { mode: 'parallel' });
    expect(p.timings.tokens_ms).toEqual([]);
  });
});

describe('bad input to a decision', () => {
  const c = golden.cases[0] as Golden['cases'][number];

  it('refuses an empty instruction, a special token and a bad frame, and keeps working', async () => {
    const frame = png(c.image);
    await expect(brain.decide(frame, '   ', { source: 'cam0' })).rejects.toThrow(
      /cam0 instruction: text: is empty/,
    );
    await expect(brain.decide(frame, 'reach the <image> block')).rejects.toThrow(
      /contains the special token "<image>"/,
    );
    const truncated: CompressedFrame = { ...frame, data: frame.data.subarray(0, 300) };
    const err = await brain.decide(truncated, c.instruction, { source: 'cam0' }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(String(err.message)).toMatch(/^cam0: data: /);
    const short: RawFrame = {
      kind: 'raw',
      encoding: 'rgb8',
      width: 640,
      height: 480,
      step: 1920,
      data: new Uint8Array(100),
    };
    await expect(brain.decide(short, c.instruction, { source: 'cam1' })).rejects.toThrow(
      /^cam1: data: /,
    );
    const d = await brain.decide(frame, c.instruction);
    expect(Array.from(d.tokens)).toEqual(c.autoregressive.tokens);
  });

  it('refuses overlapping decisions instead of queueing them', async () => {
    const first = brain.decide(png(c.image), c.instruction);
    await expect(brain.decide(png(c.image), c.instruction)).rejects.toThrow(/while a decision/);
    await first;
  });

  it('refuses a decoding mode the package does not declare', async () => {
    const dir = brainPackageCopy({
      manifest: (m) => {
        m.decoding = { default: 'autoregressive', modes: ['autoregressive'] };
      },
    });
    const one = await BrainRuntime.open(dir, { providers: ['cpu'], intraOpThreads: 1 });
    try {
      await expect(one.decide(png(c.image), c.instruction, { mode: 'parallel' })).rejects.toThrow(
        /pons\.json: decoding\.modes: does not offer "parallel" decoding/,
      );
    } finally {
      await one.close();
    }
  });
});

describe('a package whose prompt holds the joint state', () => {
  const c = golden.cases[0] as Golden['cases'][number];
  const user =
    '<image>\nThe arm is at {state}. What action should the robot take to {instruction}?';

  it('spells the state as action tokens in the prompt, decides on it, and refuses a decision without it', async () => {
    const dir = brainPackageCopy({
      manifest: (m) => {
        (m.prompt as Record<string, unknown>).user = user;
      },
    });
    const one = await BrainRuntime.open(dir, { providers: ['cpu'], intraOpThreads: 1 });
    try {
      expect(one.needsState).toBe(true);
      expect(brain.needsState).toBe(false);
      // An instruction is still checked on its own, before any state has arrived.
      expect(() => one.encodeInstruction(c.instruction, 'x')).not.toThrow();
      expect(() => one.encodeInstruction('', 'x')).toThrow(/x: text: is empty/);
      const tokenizer = tokenizerFor(one.pkg.spec);
      const state = [-1.2, 2.4, 1.2];
      const d = await one.decide(png(c.image), c.instruction, { state });
      expect(d.tokens).toHaveLength(24);
      // The state's own ids sit in the prompt, right after "The arm is at".
      const { text } = new PromptEncoder(one.pkg).encode(c.instruction, 'x', state);
      const spelled = [...text.matchAll(/<act_(\d+)>/g)].map((m) => 3840 + Number(m[1]));
      expect(spelled).toEqual([...tokenizer.encodeStep(state)]);
      expect(text).toContain(`to ${c.instruction}?`);
      // Another state is another prompt, and another decision input.
      const other = await one.decide(png(c.image), c.instruction, { state: [1.2, -2.4, 0] });
      expect(other.tokens).toHaveLength(24);
      await expect(one.decide(png(c.image), c.instruction, { source: 'cam0' })).rejects.toThrow(
        /cam0 instruction: state: is needed/,
      );
      await expect(
        one.decide(png(c.image), c.instruction, { source: 'cam0', state: [0, Number.NaN, 0] }),
      ).rejects.toThrow(/cam0 instruction: state: must be 3 finite joint positions/);
    } finally {
      await one.close();
    }
  });
});

describe('execution providers', () => {
  it('falls back from cuda to cpu itself, per graph, and says why', async () => {
    // This machine has no CUDA provider files (ONNXRUNTIME_NODE_INSTALL=skip), so onnxruntime
    // throws on `cuda`; on a GPU host with them, the cuda session is used instead.
    const b = await BrainRuntime.open(TINY_VLA, { providers: ['cuda', 'cpu'], intraOpThreads: 1 });
    try {
      if (b.provider === 'cuda') return;
      expect(b.providers).toEqual({
        vision_encoder: 'cpu',
        embed_tokens: 'cpu',
        decoder_model_merged: 'cpu',
      });
      expect(b.fallbacks.map((f) => [f.graph, f.provider])).toEqual([
        ['vision_encoder', 'cuda'],
        ['embed_tokens', 'cuda'],
        ['decoder_model_merged', 'cuda'],
      ]);
      for (const f of b.fallbacks) expect(f.reason.length).toBeGreaterThan(10);
      const c = golden.cases[2] as Golden['cases'][number];
      const d = await b.decide(png(c.image), c.instruction);
      expect(Array.from(d.tokens)).toEqual(c.autoregressive.tokens);
    } finally {
      await b.close();
    }
  });

  it('names the model file when no provider at all can load a graph', async () => {
    const dir = brainPackageCopy({ corrupt: 'embed_tokens' });
    const err = await BrainRuntime.open(dir, { providers: ['cuda', 'cpu'] }).catch((e) => e);
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).toContain(join(dir, 'onnx/embed_tokens.onnx'));
    expect(err.message).toMatch(/cannot be loaded by onnxruntime/);
  });
});
