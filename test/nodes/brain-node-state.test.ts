import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Subject } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { BrainRuntime, type CompressedFrame } from '../../src/brain/index.js';
import type { LinkServer } from '../../src/link/index.js';
import { type BrainEvent, BrainNode, JOINTS_TOPIC } from '../../src/nodes/brain-node.js';
import { loadProfile } from '../../src/nodes/profile.js';
import type { TokensPacket } from '../../src/wire/index.js';
import {
  brainPackageCopy,
  removeBrainPackageCopies,
  repo,
  TINY_VLA,
} from '../helpers/brain-packages.js';

// The brain node with a package whose prompt holds the joint state: it must decide on the
// joint state synchronised with the frame, and refuse a profile that does not synchronise any.

const profile = loadProfile(repo('calibration/planar-arm/robot.yaml'));
const golden = JSON.parse(readFileSync(join(TINY_VLA, 'golden.json'), 'utf8'));
const image = golden.cases[0].image as string;
const frame: CompressedFrame = {
  kind: 'compressed',
  format: 'png',
  data: readFileSync(join(TINY_VLA, image)),
};
const instruction = 'reach the red block';
const quiet = { info: () => {}, warn: () => {}, error: () => {} };

/** A fake of the link server: it keeps what the node publishes, and reports no cerebellum. */
function fakeLink(published: TokensPacket[]): LinkServer {
  return {
    onState: () => {},
    publishTokens: (t: TokensPacket) => {
      published.push(t);
      return t;
    },
  } as unknown as LinkServer;
}

let brain: BrainRuntime;
beforeAll(async () => {
  const dir = brainPackageCopy({
    manifest: (m) => {
      (m.prompt as Record<string, unknown>).user =
        '<image>\nThe arm is at {state}. What action should the robot take to {instruction}?';
    },
  });
  brain = await BrainRuntime.open(dir, { providers: ['cpu'], intraOpThreads: 1 });
});
afterAll(async () => {
  await brain.close();
  removeBrainPackageCopies();
});

function node(useJointStates: boolean, published: TokensPacket[], sensors: Subject<BrainEvent>) {
  const { max_rate_hz: _rate, ...brainProfile } = profile.brain;
  return new BrainNode({
    profile: { ...profile, brain: { ...brainProfile, use_joint_states: useJointStates } },
    brain,
    link: fakeLink(published),
    sensors,
    instructions: new Subject<string>(),
    instruction,
    episodeId: 'test',
    now: () => 1_000_000_000n,
    log: quiet,
  });
}

describe('a brain node whose package decides from the joint state', () => {
  it('refuses a profile that does not synchronise joint states', () => {
    expect(() => node(false, [], new Subject())).toThrow(
      /robot\.yaml: brain\.use_joint_states: must be true: .* decides from the joint state/,
    );
  });

  it('decides on the joint state that came with the frame, in the spec’s joint order', async () => {
    const published: TokensPacket[] = [];
    const sensors = new Subject<BrainEvent>();
    const n = node(true, published, sensors);
    try {
      // Named out of the spec's order, with an extra joint: the node must reorder and ignore.
      const state = [-1.2, 2.4, 1.2];
      sensors.next({
        topic: JOINTS_TOPIC,
        stampNs: 1_000_000_000n,
        receivedNs: process.hrtime.bigint(),
        payload: {
          kind: 'joints',
          name: ['wrist_joint', 'gripper', 'shoulder_joint', 'elbow_joint'],
          position: Float64Array.of(1.2, 0.5, -1.2, 2.4),
        },
      });
      sensors.next({
        topic: 'overhead',
        stampNs: 1_000_000_000n,
        receivedNs: process.hrtime.bigint(),
        payload: { kind: 'frame', frame },
      });
      await vi.waitFor(() => expect(published).toHaveLength(1), { timeout: 10_000 });
      await n.idle();
      const direct = await brain.decide(frame, instruction, { state });
      const other = await brain.decide(frame, instruction, { state: [1.2, -2.4, 0] });
      expect(Array.from(published[0]?.tokens ?? [])).toEqual(Array.from(direct.tokens));
      // The state mattered: another state is another decision.
      expect(Array.from(other.tokens)).not.toEqual(Array.from(direct.tokens));
    } finally {
      n.close();
    }
  });
});
