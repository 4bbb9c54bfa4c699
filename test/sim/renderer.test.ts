import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BLOCK_COLOURS,
  BLOCK_RGB,
  type BlockPose,
  createSimulator,
  type Frame,
  type Rgb,
  SCENE_RGB,
  type Simulator,
} from '../../src/sim/index.js';

function pixel(frame: Frame, u: number, v: number): Rgb {
  const i = Math.floor(v) * frame.step + Math.floor(u) * 3;
  return [frame.data[i] as number, frame.data[i + 1] as number, frame.data[i + 2] as number];
}

let sim: Simulator;
beforeAll(async () => {
  sim = await createSimulator();
});
afterAll(() => sim.dispose());

describe('camera frames', () => {
  it.each([
    [224, 224],
    [336, 336],
    [640, 480],
  ])('are rgb8, row-major, %i×%i with a 3·width step', async (width, height) => {
    const s = width === 224 ? sim : await createSimulator({ width, height });
    const frame = s.render();
    expect(frame).toMatchObject({ width, height, encoding: 'rgb8', step: 3 * width });
    expect(frame.data).toBeInstanceOf(Uint8Array);
    expect(frame.data.length).toBe(3 * width * height);
    expect(frame.stampNs).toBe(s.timeNs);
    // Not blank: table, zones, blocks and arm give many distinct colours.
    const colours = new Set<number>();
    for (let i = 0; i < frame.data.length; i += 3) {
      colours.add(
        ((frame.data[i] as number) << 16) |
          ((frame.data[i + 1] as number) << 8) |
          (frame.data[i + 2] as number),
      );
    }
    expect(colours.size).toBeGreaterThan(8);
    if (s !== sim) s.dispose();
  });

  it('shows each block in its colour where the camera projects it', () => {
    const blocks: BlockPose[] = BLOCK_COLOURS.map((colour, i) => ({
      colour,
      x: 0.3 + 0.1 * (i % 3),
      y: i < 3 ? 0.1 : -0.1,
      angle: 0.2 * i,
    }));
    sim.resetTo({ task: { kind: 'reach', colour: 'red' }, arm: [-1.2, 2.4, 1.2], blocks });
    const frame = sim.render();
    for (const b of blocks) {
      const [u, v] = sim.camera.project(b.x, b.y);
      expect(pixel(frame, u, v), b.colour).toEqual(BLOCK_RGB[b.colour]);
    }
    // Image left is the arm's left (+y): the first row of blocks is left of the second.
    expect(sim.camera.project(0.3, 0.1)[0]).toBeLessThan(sim.camera.project(0.3, -0.1)[0]);
    // Image up is forward (+x).
    expect(sim.camera.project(0.5, 0)[1]).toBeLessThan(sim.camera.project(0.3, 0)[1]);
  });

  it('draws the table, the goal zones and the arm over the blocks', () => {
    const { scene } = sim;
    sim.resetTo({
      task: { kind: 'reach', colour: 'blue' },
      arm: [0, 0, 0],
      blocks: [{ colour: 'blue', x: 0.6, y: 0, angle: 0 }],
    });
    const frame = sim.render();
    const at = (x: number, y: number) => pixel(frame, ...sim.camera.project(x, y));
    const left = scene.zones.left;
    expect(at((left.min[0] + left.max[0]) / 2, (left.min[1] + left.max[1]) / 2)).toEqual(
      SCENE_RGB.zone,
    );
    expect(at(0.1, -0.35)).toEqual(SCENE_RGB.table);
    // The stretched arm lies over the block: the hand's colour where the block is.
    expect(at(0.6, 0)).toEqual(SCENE_RGB.hand);
    expect(at(0.15, 0)).toEqual(SCENE_RGB.link);
  });

  it('writes into a caller’s buffer when given one', () => {
    const out = new Uint8Array(3 * 224 * 224);
    const frame = sim.render(out);
    expect(frame.data).toBe(out);
    expect(out.some((v) => v !== 0)).toBe(true);
  });
});
