import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { frameFile, frameRgb } from '../../src/finetune/frames.js';

/** A 3×2 test card: each pixel's R, G, B differ, so a swapped channel shows. */
const RGB = Uint8Array.from({ length: 3 * 2 * 3 }, (_, i) => (i * 37 + 11) % 256);

function frame(encoding: string, data: Uint8Array, step: number) {
  return {
    stampNs: 0n,
    frameId: 'cam',
    image: { kind: 'raw' as const, encoding, width: 3, height: 2, step, data },
  };
}

describe('recorded frames to dataset images', () => {
  it('packs padded rows and reorders bgr8 into the same RGB, as PNG and as raw rows', async () => {
    const bgr = new Uint8Array(2 * 12);
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 3; x++) {
        for (let c = 0; c < 3; c++)
          bgr[y * 12 + x * 3 + c] = RGB[(y * 3 + x) * 3 + (2 - c)] as number;
      }
    }
    for (const f of [frame('rgb8', RGB, 9), frame('bgr8', bgr, 12)]) {
      const { bytes, ext } = await frameFile(f, 'test');
      expect(ext).toBe('png');
      expect([...(await sharp(bytes).raw().toBuffer())]).toEqual([...RGB]);
      expect([...(await frameRgb(f, 'test')).data]).toEqual([...RGB]);
    }
  });

  it('passes recorded PNG and JPEG files through, and refuses other encodings', async () => {
    const png = new Uint8Array(
      await sharp(RGB, { raw: { width: 3, height: 2, channels: 3 } })
        .png()
        .toBuffer(),
    );
    const compressed = {
      stampNs: 0n,
      frameId: 'cam',
      image: { kind: 'compressed' as const, format: 'png', data: png },
    };
    expect(await frameFile(compressed, 'test')).toEqual({ bytes: png, ext: 'png' });
    expect([...(await frameRgb(compressed, 'test')).data]).toEqual([...RGB]);
    await expect(frameFile(frame('16UC1', RGB, 6), 'cam topic')).rejects.toThrow(
      /cam topic: encoding: is "16UC1", not a colour encoding/,
    );
  });
});
