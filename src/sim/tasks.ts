import { InputError } from '../contract/index.js';
import { ARM_JOINTS, type ArmModel, clamp, solveIk } from './arm.js';
import { Random } from './random.js';
import {
  BLOCK_COLOURS,
  type BlockColour,
  contains,
  type Scene,
  type Vec2,
  ZONE_SIDES,
  type ZoneSide,
} from './scene.js';
import type { BlockPose, WorldState } from './world.js';

/**
 * Tasks: what the instruction says, how an episode is drawn from a seed, and when it is
 * done. `reach the <colour> block`: the tool tip comes within the scene's tolerance of the
 * block. `push the <colour> block to the <left|right> zone`: the block's centre lies in
 * the zone.
 */

export const TASK_KINDS = ['reach', 'push'] as const;
export type TaskKind = (typeof TASK_KINDS)[number];

export type Task =
  | { kind: 'reach'; colour: BlockColour }
  | { kind: 'push'; colour: BlockColour; zone: ZoneSide };

/** An episode's starting state: the task, the arm's joint positions, the blocks. */
export interface EpisodeLayout {
  task: Task;
  arm: number[];
  blocks: BlockPose[];
}

export function instructionFor(task: Task): string {
  return task.kind === 'reach'
    ? `reach the ${task.colour} block`
    : `push the ${task.colour} block to the ${task.zone} zone`;
}

const REACH = /^reach the (\S+) block$/;
const PUSH = /^push the (\S+) block to the (\S+) zone$/;

/** The task an instruction names; case and runs of spaces do not matter. */
export function parseInstruction(text: string, source = 'instruction'): Task {
  const said = text.trim().replace(/\s+/g, ' ').toLowerCase();
  const reach = REACH.exec(said);
  if (reach) return { kind: 'reach', colour: colour(reach[1], source, 'colour') };
  const push = PUSH.exec(said);
  if (push) {
    return {
      kind: 'push',
      colour: colour(push[1], source, 'colour'),
      zone: zone(push[2], source, 'zone'),
    };
  }
  throw new InputError(
    source,
    'instruction',
    `'${text}' is not a task; say 'reach the <colour> block' or 'push the <colour> block to the <left|right> zone'`,
  );
}

/**
 * A task request as callers write it: a kind (the seed then picks the colour and zone), an
 * instruction, or a Task object (checked, since it may come from outside).
 */
export function checkTask(request: unknown, source: string): TaskKind | Task {
  if (typeof request === 'string') {
    return (TASK_KINDS as readonly string[]).includes(request)
      ? (request as TaskKind)
      : parseInstruction(request, source);
  }
  if (typeof request !== 'object' || request === null) {
    throw new InputError(source, 'task', 'must be a task kind, an instruction or a task object');
  }
  const { kind, colour: c, zone: z } = request as Record<string, unknown>;
  if (kind === 'reach') return { kind, colour: colour(c, source, 'task.colour') };
  if (kind === 'push') {
    return { kind, colour: colour(c, source, 'task.colour'), zone: zone(z, source, 'task.zone') };
  }
  throw new InputError(
    source,
    'task.kind',
    `${JSON.stringify(kind)} is not one of ${TASK_KINDS.join(', ')}`,
  );
}

export function checkSeed(seed: unknown, source: string): number {
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0 || seed > 0xffff_ffff) {
    throw new InputError(source, 'seed', `must be an integer from 0 to 2³²−1, got ${String(seed)}`);
  }
  return seed;
}

function colour(value: unknown, source: string, field: string): BlockColour {
  if (typeof value === 'string' && (BLOCK_COLOURS as readonly string[]).includes(value)) {
    return value as BlockColour;
  }
  throw new InputError(
    source,
    field,
    `${JSON.stringify(value)} is not a block colour (${BLOCK_COLOURS.join(', ')})`,
  );
}

function zone(value: unknown, source: string, field: string): ZoneSide {
  if (typeof value === 'string' && (ZONE_SIDES as readonly string[]).includes(value)) {
    return value as ZoneSide;
  }
  throw new InputError(
    source,
    field,
    `${JSON.stringify(value)} is not a zone (${ZONE_SIDES.join(', ')})`,
  );
}

/**
 * Where a pushed block should end: the point of the zone nearest the block, one block size
 * inside its edges, so a block that stops a little short or wide is still in.
 */
export function pushGoal(scene: Scene, side: ZoneSide, x: number, y: number): Vec2 {
  const { min, max } = scene.zones[side];
  const m = scene.blocks.size;
  return [clamp(x, min[0] + m, max[0] - m), clamp(y, min[1] + m, max[1] - m)];
}

/** Distance from a point to a block's square (0 inside it). */
export function distanceToBlock(block: BlockPose, size: number, x: number, y: number): number {
  const c = Math.cos(block.angle);
  const s = Math.sin(block.angle);
  const dx = x - block.x;
  const dy = y - block.y;
  const h = size / 2;
  const u = Math.max(Math.abs(c * dx + s * dy) - h, 0);
  const v = Math.max(Math.abs(-s * dx + c * dy) - h, 0);
  return Math.hypot(u, v);
}

export function taskBlock(task: Task, blocks: readonly BlockPose[]): BlockPose {
  const block = blocks.find((b) => b.colour === task.colour);
  if (!block) throw new Error(`no ${task.colour} block in the scene`);
  return block;
}

export function taskSucceeded(task: Task, state: WorldState, scene: Scene): boolean {
  const block = taskBlock(task, state.blocks);
  if (task.kind === 'reach') {
    return (
      distanceToBlock(block, scene.blocks.size, state.tip.x, state.tip.y) <=
      scene.tasks.reach_tolerance
    );
  }
  return contains(scene.zones[task.zone], block.x, block.y);
}

/**
 * An episode from a seed: the task's open choices, then 1 + distractors blocks of distinct
 * colours at distinct places in the spawn area, each at least `spacing` from the others. The
 * task's block is placed only where the hand has room to do the task (see `solvable`).
 */
export function sampleEpisode(
  seed: number,
  request: TaskKind | Task,
  scene: Scene,
  arm: ArmModel,
): EpisodeLayout {
  const rng = new Random(seed);
  const given = typeof request === 'string' ? undefined : request;
  const kind = given?.kind ?? (request as TaskKind);
  const target = given?.colour ?? rng.pick(BLOCK_COLOURS);
  const task: Task =
    kind === 'reach'
      ? { kind, colour: target }
      : { kind, colour: target, zone: given?.kind === 'push' ? given.zone : rng.pick(ZONE_SIDES) };
  const [least, most] = scene.blocks.distractors;
  const others = rng.shuffle(BLOCK_COLOURS.filter((c) => c !== target));
  const colours = [target, ...others.slice(0, Math.min(rng.int(least, most), others.length))];

  const { spawn, spacing } = scene.blocks;
  const blocks: BlockPose[] = [];
  for (let attempt = 0; blocks.length < colours.length; attempt++) {
    if (attempt > 10_000) {
      throw new InputError(
        scene.source,
        'blocks.spawn',
        `cannot place ${colours.length} blocks ${spacing} m apart`,
      );
    }
    const x = rng.uniform(spawn.min[0], spawn.max[0]);
    const y = rng.uniform(spawn.min[1], spawn.max[1]);
    const angle = rng.uniform(0, Math.PI / 2);
    if (blocks.some((b) => Math.hypot(b.x - x, b.y - y) < spacing)) continue;
    if (blocks.length === 0 && !solvable(task, x, y, scene, arm)) continue;
    blocks.push({ colour: colours[blocks.length] as BlockColour, x, y, angle });
  }
  return { task, arm: [...arm.home], blocks };
}

/**
 * The hand has room to work: for reach the tip can touch the block's face nearest the base
 * heading at it; for push the tip can stand two block sizes behind the block heading at
 * its goal, and at the goal.
 */
function solvable(task: Task, x: number, y: number, scene: Scene, arm: ArmModel): boolean {
  const q = new Float64Array(ARM_JOINTS);
  const reaches = (px: number, py: number, angle: number) =>
    solveIk(arm, { x: px, y: py, angle }, arm.home, arm.lower, arm.upper, q);
  const size = scene.blocks.size;
  if (task.kind === 'reach') {
    const angle = Math.atan2(y, x);
    return reaches(x - size * Math.cos(angle), y - size * Math.sin(angle), angle);
  }
  const [gx, gy] = pushGoal(scene, task.zone, x, y);
  const angle = Math.atan2(gy - y, gx - x);
  return (
    reaches(x - 2 * size * Math.cos(angle), y - 2 * size * Math.sin(angle), angle) &&
    reaches(gx, gy, angle)
  );
}
