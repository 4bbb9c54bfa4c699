import { type Canvas, createCanvas, type SKRSContext2D } from '@napi-rs/canvas';
import { InputError } from '../contract/index.js';
import type { ArmModel, Pose2 } from './arm.js';
import { type BlockColour, CAMERA_SIDE, type Rect, type Scene, ZONE_SIDES } from './scene.js';
import type { BlockPose } from './world.js';

/**
 * The top-down camera: draws the scene with @napi-rs/canvas (Skia) in world metres through
 * one transform, then reads the pixels back as rgb8 (row-major, 3 bytes a pixel, no
 * padding), as sensor_msgs/Image carries them.
 *
 * The arm is drawn in greys, not the URDF's orange and blue: instructions name blocks by
 * colour, and an orange upper arm beside an orange block would make them ambiguous.
 */

export type Rgb = readonly [number, number, number];

export const BLOCK_RGB: Record<BlockColour, Rgb> = {
  red: [220, 40, 40],
  green: [40, 170, 60],
  blue: [40, 90, 220],
  yellow: [240, 210, 40],
  purple: [140, 60, 180],
  orange: [245, 140, 30],
};

export const SCENE_RGB = {
  floor: [60, 60, 66],
  table: [150, 140, 125],
  zone: [185, 180, 168],
  zoneEdge: [235, 235, 230],
  pedestal: [90, 90, 95],
  link: [70, 70, 75],
  hand: [225, 225, 225],
  joint: [35, 35, 38],
} as const satisfies Record<string, Rgb>;

export interface Frame {
  width: number;
  height: number;
  encoding: 'rgb8';
  /** Bytes per row: 3·width. */
  step: number;
  data: Uint8Array;
  /** Sim time of the state drawn (ns). */
  stampNs: bigint;
}

const css = ([r, g, b]: Rgb) => `rgb(${r},${g},${b})`;

export class Renderer {
  readonly width: number;
  readonly height: number;
  /** Pixels per metre. */
  readonly scale: number;
  private readonly canvas: Canvas;
  private readonly ctx: SKRSContext2D;
  private readonly centre: readonly [number, number];

  constructor(
    private readonly scene: Scene,
    private readonly arm: ArmModel,
    width: number,
    height: number,
    source: string,
  ) {
    this.width = side(width, source, 'camera.width');
    this.height = side(height, source, 'camera.height');
    this.centre = scene.camera.centre;
    this.scale = Math.min(this.width, this.height) / scene.camera.view;
    this.canvas = createCanvas(this.width, this.height);
    this.ctx = this.canvas.getContext('2d', { alpha: false });
  }

  /**
   * The pixel coordinates (column, row; pixel centres at .5) where a world point appears:
   * image up is +x, image left is +y.
   */
  project(x: number, y: number): [number, number] {
    return [
      this.width / 2 - (y - (this.centre[1] as number)) * this.scale,
      this.height / 2 - (x - (this.centre[0] as number)) * this.scale,
    ];
  }

  /** Draws blocks and links (link frames at their joints, base to tip) into rgb8. */
  render(blocks: readonly BlockPose[], links: readonly Pose2[], out?: Uint8Array): Uint8Array {
    const size = this.width * this.height * 3;
    const rgb = out ?? new Uint8Array(size);
    if (rgb.length !== size) throw new RangeError(`out has ${rgb.length} bytes, not ${size}`);
    this.draw(blocks, links);
    // Opaque canvas: premultiplied RGBA equals straight RGBA; drop the alpha byte.
    const rgba = this.canvas.data();
    for (let p = 0, q = 0; q < size; p += 4, q += 3) {
      rgb[q] = rgba[p] as number;
      rgb[q + 1] = rgba[p + 1] as number;
      rgb[q + 2] = rgba[p + 2] as number;
    }
    return rgb;
  }

  private draw(blocks: readonly BlockPose[], links: readonly Pose2[]): void {
    const { ctx, scene, arm } = this;
    const s = this.scale;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.fillStyle = css(SCENE_RGB.floor);
    ctx.fillRect(0, 0, this.width, this.height);
    // World (x, y) → pixel (u, v) = (W/2 − s(y − cy), H/2 − s(x − cx)).
    ctx.setTransform(
      0,
      -s,
      -s,
      0,
      this.width / 2 + s * (this.centre[1] as number),
      this.height / 2 + s * (this.centre[0] as number),
    );
    const half = scene.table.size / 2;
    ctx.fillStyle = css(SCENE_RGB.table);
    ctx.fillRect(-half, -half, 2 * half, 2 * half);
    for (const sideName of ZONE_SIDES) this.zone(scene.zones[sideName]);

    if (arm.pedestalRadius > 0) {
      ctx.fillStyle = css(SCENE_RGB.pedestal);
      ctx.beginPath();
      ctx.arc(0, 0, arm.pedestalRadius, 0, 2 * Math.PI);
      ctx.fill();
    }
    const h = scene.blocks.size / 2;
    for (const block of blocks) {
      ctx.save();
      ctx.translate(block.x, block.y);
      ctx.rotate(block.angle);
      ctx.fillStyle = css(BLOCK_RGB[block.colour]);
      ctx.fillRect(-h, -h, 2 * h, 2 * h);
      ctx.restore();
    }
    for (const [i, pose] of links.entries()) {
      const link = arm.links[i];
      if (!link) break;
      const { centre, length, width } = link.box;
      ctx.save();
      ctx.translate(pose.x, pose.y);
      ctx.rotate(pose.angle);
      ctx.fillStyle = css(i === arm.links.length - 1 ? SCENE_RGB.hand : SCENE_RGB.link);
      ctx.fillRect(centre[0] - length / 2, centre[1] - width / 2, length, width);
      ctx.fillStyle = css(SCENE_RGB.joint);
      ctx.beginPath();
      ctx.arc(0, 0, width * 0.6, 0, 2 * Math.PI);
      ctx.fill();
      ctx.restore();
    }
  }

  private zone(r: Rect): void {
    const { ctx } = this;
    const w = r.max[0] - r.min[0];
    const h = r.max[1] - r.min[1];
    ctx.fillStyle = css(SCENE_RGB.zone);
    ctx.fillRect(r.min[0], r.min[1], w, h);
    ctx.strokeStyle = css(SCENE_RGB.zoneEdge);
    ctx.lineWidth = 0.006;
    ctx.strokeRect(r.min[0], r.min[1], w, h);
  }
}

function side(value: number, source: string, field: string): number {
  if (!Number.isInteger(value) || value < CAMERA_SIDE.min || value > CAMERA_SIDE.max) {
    throw new InputError(
      source,
      field,
      `must be a whole number of pixels from ${CAMERA_SIDE.min} to ${CAMERA_SIDE.max}, got ${value}`,
    );
  }
  return value;
}
