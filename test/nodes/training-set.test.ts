import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  atInputSize,
  ImagePreprocessor,
  loadModelPackage,
  PromptEncoder,
  type RawFrame,
} from '../../src/brain/index.js';
import { TrainingSetWriter } from '../../src/nodes/training-set.js';
import { createSimulator, type Simulator } from '../../src/sim/index.js';
import { TINY_VLA } from '../helpers/brain-packages.js';

const pkg = loadModelPackage(TINY_VLA);
const dir = mkdtempSync(join(tmpdir(), 'pons-training-set-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let sim: Simulator;
const frames: RawFrame[] = [];
beforeAll(async () => {
  sim = await createSimulator();
  for (const [seed, task] of [
    [1, 'reach'],
    [2, 'push'],
  ] as const) {
    sim.reset(seed, task);
    const f = sim.render();
    frames.push({ ...f, kind: 'raw', data: Uint8Array.from(f.data) });
  }
});
afterAll(() => sim.dispose());

/** A little-endian int32 file (a small Buffer may sit inside a shared pool: copy it out). */
function int32s(path: string): Int32Array {
  const buf = readFileSync(path);
  return new Int32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

const actions = (first: number) => Array.from({ length: 24 }, (_, i) => first + i);

describe('the training set the PyTorch trainer reads', () => {
  it("holds the runtime's own prompt ids and, through its tables, its exact pixel values", async () => {
    for (const [name, target] of [
      ['336', pkg],
      ['224', atInputSize(pkg, 224, 224, 'test')],
      ['224 of 336', atInputSize(pkg, 224, 336, 'test')],
    ] as const) {
      const out = join(dir, name);
      const writer = new TrainingSetWriter(target, out);
      const instructions = ['reach the red block', 'push the blue block to the left zone'];
      for (const [i, image] of frames.entries()) {
        await writer.add({
          image,
          instruction: instructions[i] as string,
          state: Float64Array.of(0.1 * i, -0.2, 0.3),
          actions: actions(3840 + 10 * i),
          episode: `e${i}`,
          task: 'reach',
          seed: i,
          step: 0,
          source: `row ${i}`,
        });
      }
      writer.close();
      const meta = JSON.parse(readFileSync(join(out, 'meta.json'), 'utf8'));
      const side = target.dims.imageSize;
      expect(meta).toMatchObject({
        format: 'pons-training-set/1',
        count: 2,
        image: { height: side, width: side, channels: 3 },
        image_tokens: target.dims.imageTokens,
        action_dimensions: 3,
      });
      const pixels = readFileSync(join(out, 'pixels.u8'));
      const prompts = int32s(join(out, 'prompts.i32'));
      const stored = int32s(join(out, 'actions.i32'));
      const preprocessor = new ImagePreprocessor(target.preprocessor);
      const encoder = new PromptEncoder(target);
      for (const [i, frame] of frames.entries()) {
        const expected = await preprocessor.run(frame, 'test');
        const plane = side * side;
        const rgb = pixels.subarray(i * 3 * plane, (i + 1) * 3 * plane);
        let worst = 0;
        for (let p = 0; p < plane; p++) {
          for (let c = 0; c < 3; c++) {
            const v = meta.pixel_tables[c][rgb[3 * p + c] as number] as number;
            worst = Math.max(worst, Math.abs(v - (expected[c * plane + p] as number)));
          }
        }
        expect(worst).toBe(0);
        const row = meta.rows[i];
        // The state travels to the trainer's parity cases as it came.
        expect(row.state).toEqual([0.1 * i, -0.2, 0.3]);
        const ids = encoder.encode(row.instruction);
        expect(row.prompt_length).toBe(ids.ids.length);
        expect(row.image_start).toBe(ids.imageStart);
        expect(
          Array.from(prompts.subarray(row.prompt_offset, row.prompt_offset + row.prompt_length)),
        ).toEqual(Array.from(ids.ids, Number));
        expect(Array.from(stored.subarray(24 * i, 24 * (i + 1)))).toEqual(actions(3840 + 10 * i));
      }
    }
  });

  it('refuses tokens outside the action range, naming the row', async () => {
    const writer = new TrainingSetWriter(pkg, join(dir, 'bad'));
    const row = {
      image: frames[0] as RawFrame,
      instruction: 'reach the red block',
      state: new Float64Array(3),
      episode: 'e',
      task: 'reach',
      seed: 0,
      step: 0,
      source: 'train.parquet row 7',
    };
    await expect(writer.add({ ...row, actions: actions(100) })).rejects.toThrow(
      /train\.parquet row 7.*response\[0\].*outside the action ids 3840\.\.4095/,
    );
    await expect(writer.add({ ...row, actions: [3840] })).rejects.toThrow(/has 1 action tokens/);
    writer.close();
  });

  it('moves a package to another image size only in whole patches, cropped from a resize at least as large', () => {
    const moved = atInputSize(pkg, 224, 224, '--image-size');
    expect(moved.dims).toMatchObject({ imageSize: 224, imageTokens: 64 });
    expect(moved.preprocessor.size).toEqual({ shortest_edge: 224 });
    const cropped = atInputSize(pkg, 224, 336, '--resize');
    expect(cropped.preprocessor).toMatchObject({
      size: { shortest_edge: 336 },
      crop_size: { height: 224, width: 224 },
    });
    expect(() => atInputSize(pkg, 230, 230, '--image-size')).toThrow(
      /--image-size.*230 is not a multiple of the patch size 28/,
    );
    expect(() => atInputSize(pkg, 224, 200, '--resize')).toThrow(
      /--resize.*200 must be a whole number of px, at least 224/,
    );
  });
});
