import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { InputError, parseWith, readYamlFile } from '../contract/index.js';

/**
 * The scene file (`sim/tabletop.yaml`): arm, table, blocks, goal zones, camera. Its comments
 * say what each field means; this schema says what values are allowed.
 */

/** The bundled scene, found from src/sim and dist/sim alike. */
export const BUNDLED_SCENE = fileURLToPath(new URL('../../sim/tabletop.yaml', import.meta.url));

export const ZONE_SIDES = ['left', 'right'] as const;
export type ZoneSide = (typeof ZONE_SIDES)[number];

/** The block colours, by the names instructions use. */
export const BLOCK_COLOURS = ['red', 'green', 'blue', 'yellow', 'purple', 'orange'] as const;
export type BlockColour = (typeof BLOCK_COLOURS)[number];

export type Vec2 = [number, number];

/** An axis-aligned rectangle in the table plane. */
export interface Rect {
  min: Vec2;
  max: Vec2;
}

export interface Scene {
  /** Where it came from, for error messages. */
  source: string;
  arm: {
    /** Absolute path. */
    urdf: string;
    base_link: string;
    tip_link: string;
    home: number[];
    motor: { bandwidth_hz: number; damping_ratio: number };
  };
  physics: { rate_hz: number };
  table: { size: number };
  blocks: {
    size: number;
    mass: number;
    friction: number;
    linear_damping: number;
    angular_damping: number;
    spawn: Rect;
    spacing: number;
    distractors: Vec2;
  };
  zones: Record<ZoneSide, Rect>;
  tasks: { reach_tolerance: number };
  camera: { centre: Vec2; view: number; width: number; height: number };
}

const positive = z.number().positive();
const vec2 = z.tuple([z.number(), z.number()]);
const rect = z
  .object({ min: vec2, max: vec2 })
  .strict()
  .refine((r) => r.min[0] < r.max[0] && r.min[1] < r.max[1], 'min must be below max');

/** Camera resolutions the renderer accepts, per side. */
export const CAMERA_SIDE = { min: 16, max: 4096 } as const;

const sceneSchema = z
  .object({
    arm: z
      .object({
        urdf: z.string().min(1),
        base_link: z.string().min(1),
        tip_link: z.string().min(1),
        home: z.array(z.number()).min(1),
        motor: z.object({ bandwidth_hz: positive, damping_ratio: positive }).strict(),
      })
      .strict(),
    physics: z.object({ rate_hz: z.number().min(50).max(10_000) }).strict(),
    table: z.object({ size: positive }).strict(),
    blocks: z
      .object({
        size: positive,
        mass: positive,
        friction: z.number().nonnegative(),
        linear_damping: z.number().nonnegative(),
        angular_damping: z.number().nonnegative(),
        spawn: rect,
        spacing: positive,
        distractors: z
          .tuple([z.int().min(0), z.int().min(0)])
          .refine(([lo, hi]) => lo <= hi, 'least must not exceed most'),
      })
      .strict(),
    zones: z.object({ left: rect, right: rect }).strict(),
    tasks: z.object({ reach_tolerance: positive }).strict(),
    camera: z
      .object({
        centre: vec2,
        view: positive,
        width: z.int().min(CAMERA_SIDE.min).max(CAMERA_SIDE.max),
        height: z.int().min(CAMERA_SIDE.min).max(CAMERA_SIDE.max),
      })
      .strict(),
  })
  .strict();

export function loadScene(path: string = BUNDLED_SCENE): Scene {
  const raw = parseWith(sceneSchema, readYamlFile(path), path);
  const scene: Scene = {
    ...raw,
    source: path,
    arm: { ...raw.arm, urdf: resolve(dirname(path), raw.arm.urdf) },
  };
  // Blocks at reset must not already sit in a goal zone, or push would start out solved.
  for (const side of ZONE_SIDES) {
    if (overlaps(scene.blocks.spawn, scene.zones[side])) {
      throw new InputError(path, 'blocks.spawn', `overlaps the ${side} zone`);
    }
  }
  return scene;
}

export function contains(r: Rect, x: number, y: number): boolean {
  return x >= r.min[0] && x <= r.max[0] && y >= r.min[1] && y <= r.max[1];
}

function overlaps(a: Rect, b: Rect): boolean {
  return a.min[0] < b.max[0] && b.min[0] < a.max[0] && a.min[1] < b.max[1] && b.min[1] < a.max[1];
}
