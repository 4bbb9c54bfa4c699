import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { McapIndexedReader } from '@mcap/core';
import { decompress } from 'fzstd';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadModelPackage } from '../../src/brain/index.js';
import { type ActionSpec, loadActionSpec, specId } from '../../src/contract/index.js';
import { promptText } from '../../src/finetune/align-anything.js';
import { type Decision, type RecordedEpisode, readEpisodes } from '../../src/finetune/episodes.js';
import { exportDataset } from '../../src/finetune/export.js';
import { LEROBOT_PATHS } from '../../src/finetune/lerobot.js';
import { validationEpisodes } from '../../src/finetune/split.js';
import { modelVocabulary } from '../../src/nodes/dataset-export.js';
import { EPISODE_SECONDS } from '../../src/nodes/episode-runner.js';
import { loadProfile } from '../../src/nodes/profile.js';
import type { Collection } from '../../src/nodes/sim-collect.js';
import { episodeEventMsg, imageMsg, PONS_TYPES, ROS_TYPES } from '../../src/ros/index.js';
import { tokenizerFor } from '../../src/tokenizer/index.js';
import { repo, TINY_VLA } from '../helpers/brain-packages.js';
import { readParquet, reference } from './helpers.js';

// The recorder writes from a worker thread, so it and the collector come from dist/ (npm test
// builds it).
const dist = (path: string) => `../../dist/${path}`;
const { collectEpisodes, EPISODE_EVENTS_TOPIC } = (await import(
  dist('nodes/sim-collect.js')
)) as typeof import('../../src/nodes/sim-collect.js');
const { Recorder } = (await import(
  dist('record/recorder.js')
)) as typeof import('../../src/record/recorder.js');

const spec = loadActionSpec(repo('calibration/planar-arm/action_spec.yaml'));
const profile = loadProfile(repo('calibration/planar-arm/robot.yaml'));
const pkg = loadModelPackage(TINY_VLA);
const vocabulary = modelVocabulary(pkg);
const tokenizer = tokenizerFor(spec);
const H = spec.horizon;
const D = spec.dimensions.length;

let dir: string;
let good: Collection;
let failed: Collection;
/** The good recording as the reader gives it. */
let episodes: RecordedEpisode[];

/** A brain that decides to stay put: enough to be refused where the expert must act. */
const idleBrain = {
  spec,
  decide: async () => ({ chunk: new Float64Array(H * D), ms: 0 }),
  close: async () => {},
};

/** Every recorded label was planned from where the arm was: its first step is there, within a bin. */
function expectPlansFromWhereTheArmIs(episode: RecordedEpisode): void {
  for (const d of episode.decisions) {
    const step0 = tokenizer.decode(d.tokens, 'test').subarray(0, D);
    for (let j = 0; j < D; j++) {
      expect(Math.abs((step0[j] as number) - (d.joints.position[j] as number))).toBeLessThan(0.021);
    }
  }
}

function collect(name: string, options: Partial<Parameters<typeof collectEpisodes>[0]> = {}) {
  return collectEpisodes({
    spec,
    brain: profile.brain,
    tasks: ['reach', 'push'],
    episodes: 2,
    seed: 0,
    dir: join(dir, name),
    budgetSeconds: (task) => EPISODE_SECONDS[task] ?? 30,
    ...options,
  });
}

const exportTo = (name: string, options: Partial<Parameters<typeof exportDataset>[0]> = {}) =>
  exportDataset({
    from: [good.file],
    to: join(dir, name),
    format: 'align-anything',
    spec,
    vocabulary,
    statsKey: 'planar_arm_sim',
    ...options,
  });

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pons-dataset-'));
  good = await collect('good');
  failed = await collect('failed', { tasks: ['reach'], seed: 50, budgetSeconds: () => 0.5 });
  episodes = [...readEpisodes([good.file])];
}, 60_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The file read by @mcap/core's indexed reader: its summary must be whole and agree. */
async function indexed(file: string) {
  const bytes = readFileSync(file);
  const reader = await McapIndexedReader.Initialize({
    readable: {
      size: async () => BigInt(bytes.length),
      read: async (offset, length) => bytes.subarray(Number(offset), Number(offset + length)),
    },
    decompressHandlers: {
      zstd: (data, size) => decompress(data, new Uint8Array(Number(size))),
    },
  });
  const topics = new Map([...reader.channelsById.values()].map((c) => [c.id, c.topic]));
  const logTimes: Record<string, bigint[]> = {};
  for await (const m of reader.readMessages()) {
    const topic = topics.get(m.channelId) as string;
    logTimes[topic] = [...(logTimes[topic] ?? []), m.logTime];
  }
  const types = Object.fromEntries(
    [...reader.channelsById.values()].map((c) => [
      c.topic,
      reader.schemasById.get(c.schemaId)?.name,
    ]),
  );
  return { header: reader.header, types, logTimes };
}

describe('pons sim collect', () => {
  it('records every episode in the brain layout plus start and end events, read back by @mcap/core', async () => {
    expect(good.episodes.map((e) => e.id)).toEqual(['reach-0', 'reach-1', 'push-0', 'push-1']);
    expect(good.episodes.every((e) => e.success)).toBe(true);
    const { header, types, logTimes } = await indexed(good.file);
    expect(header.profile).toBe('ros2');
    const camera = profile.brain.cameras[0]?.topic as string;
    expect(types).toEqual({
      [EPISODE_EVENTS_TOPIC]: PONS_TYPES.episodeEvent,
      [profile.brain.instruction_topic]: ROS_TYPES.string,
      [camera]: ROS_TYPES.image,
      [profile.brain.joint_states_topic]: ROS_TYPES.jointState,
      '/pons/action_tokens': PONS_TYPES.actionTokens,
    });
    expect(logTimes[EPISODE_EVENTS_TOPIC]).toHaveLength(2 * good.episodes.length);
    const decisions = logTimes['/pons/action_tokens'] as bigint[];
    expect(decisions).toHaveLength(good.episodes.reduce((n, e) => n + e.decisions, 0));
    // Every decision has a frame of its own stamp, and frames come at 1/dt of sim time.
    const frames = new Set(logTimes[camera]);
    for (const t of decisions) expect(frames.has(t)).toBe(true);
    const [t0, t1] = logTimes[camera] as [bigint, bigint];
    expect(t1 - t0).toBe(BigInt(spec.dt * 1e9));
  });

  it('decides at 2 Hz of sim time, and the reader gives back what was collected', () => {
    expect(episodes.map((e) => [e.id, e.task, e.seed, e.success, e.decisions.length])).toEqual(
      good.episodes.map((e) => [e.id, e.task, e.seed, e.success, e.decisions]),
    );
    for (const e of episodes) {
      expect(e.instruction).toBe(good.episodes.find((g) => g.id === e.id)?.instruction);
      expect(e.specId).toBe(specId(spec));
      e.decisions.forEach((d, i) => {
        expect(d.stampNs - (e.decisions[0]?.stampNs as bigint)).toBe(BigInt(i) * 500_000_000n);
        expect(d.frame.stampNs).toBe(d.stampNs);
        expect(d.joints.stampNs).toBe(d.stampNs);
        expect(d.tokens).toHaveLength(H * D);
      });
    }
  });
});

describe('pons sim collect --every-block', () => {
  it("plays each seed's scene once per block: the same first frame, each block named, other actions", async () => {
    const run = await collect('every-block', { tasks: ['reach'], everyBlock: true });
    const played = [...readEpisodes([run.file])];
    for (const seed of [0, 1]) {
      const mine = played.filter((e) => e.seed === seed);
      const first = mine[0]?.decisions[0] as Decision;
      // Two to four blocks in a scene, each the target once.
      expect(mine.length).toBeGreaterThanOrEqual(2);
      const named = mine.map((e) => /^reach the (\S+) block$/.exec(e.instruction)?.[1]);
      expect(new Set(named).size).toBe(mine.length);
      expect(mine.map((e) => e.id)).toEqual(named.map((c) => `reach-${seed}-${c}`));
      for (const e of mine.slice(1)) {
        const d = e.decisions[0] as Decision;
        expect(d.frame.image).toEqual(first.frame.image);
        expect([...d.tokens]).not.toEqual([...first.tokens]);
      }
    }
  });
});

describe('pons sim collect --noise (DART)', () => {
  it('executes the expert perturbed but records its own plans, from where the arm then is', async () => {
    const options = { tasks: ['push'] as const, episodes: 1, seed: 7 };
    const noisy = await collect('noisy', { ...options, noise: 0.2 });
    const clean = await collect('clean', options);
    const [a, b] = [noisy, clean].map((c) => [...readEpisodes([c.file])][0] as RecordedEpisode);
    const [a0, a1] = (a as RecordedEpisode).decisions as [Decision, Decision];
    const [b0, b1] = (b as RecordedEpisode).decisions as [Decision, Decision];
    // The same start and first plan; then the perturbed chunk put the arm somewhere else.
    expect([...a0.tokens]).toEqual([...b0.tokens]);
    expect(Array.from(a1.joints.position)).not.toEqual(Array.from(b1.joints.position));
    // Every label is the clean expert's: its first step is where the arm is, within a bin.
    expectPlansFromWhereTheArmIs(a as RecordedEpisode);
  });

  it('refuses a noise out of range, and noise with a brain acting (DAgger)', async () => {
    await expect(collect('bad-noise', { noise: -0.1 })).rejects.toThrow(
      /sim collect: noise: must be 0 to 1 rad, got -0.1/,
    );
    await expect(collect('noisy-dagger', { noise: 0.1, actor: idleBrain })).rejects.toThrow(
      /sim collect: noise: changes how the expert acts/,
    );
  });
});

describe('pons sim collect --decoy', () => {
  it("heads for another block first, while each label is the expert's way to the named one", async () => {
    const options = { tasks: ['reach'] as const, episodes: 3, seed: 3 };
    const decoyed = await collect('decoy', { ...options, decoySeconds: 2 });
    const plain = await collect('plain', options);
    const [a, b] = [decoyed, plain].map((c) => [...readEpisodes([c.file])]);
    expect(decoyed.episodes.every((e) => e.success)).toBe(true);
    let wentElsewhere = 0;
    for (const [i, e] of (a as RecordedEpisode[]).entries()) {
      const p = (b as RecordedEpisode[])[i] as RecordedEpisode;
      const [e0, e1] = e.decisions as [Decision, Decision];
      const [p0, p1] = p.decisions as [Decision, Decision];
      // The same start, so the same first label: the plan for the named block...
      expect([...e0.tokens]).toEqual([...p0.tokens]);
      // ...yet the arm went where another block's plan took it.
      if (Array.from(e1.joints.position).join() !== Array.from(p1.joints.position).join()) {
        wentElsewhere++;
      }
      expectPlansFromWhereTheArmIs(e);
    }
    expect(wentElsewhere).toBeGreaterThan(0);
    // Heading elsewhere first takes longer than going straight.
    const seconds = (c: Collection) => c.episodes.reduce((s, e) => s + e.seconds, 0);
    expect(seconds(decoyed)).toBeGreaterThan(seconds(plain));
  });

  it('refuses a negative decoy time, and decoys with a brain acting (DAgger)', async () => {
    await expect(collect('bad-decoy', { decoySeconds: -1 })).rejects.toThrow(
      /sim collect: decoy: must be 0 or more seconds, got -1/,
    );
    await expect(collect('decoy-dagger', { decoySeconds: 1, actor: idleBrain })).rejects.toThrow(
      /sim collect: decoy: changes how the expert acts/,
    );
  });
});

describe('Align-Anything export', () => {
  it('one row per decision with the fixed columns; responses tokenize back to the recorded ids and decode to their actions', async () => {
    const summary = await exportTo('aa');
    const { rows, metadata } = await readParquet(join(dir, 'aa/train.parquet'));
    const decisions = episodes.flatMap((e) => e.decisions.map((d) => ({ e, d })));
    expect(rows).toHaveLength(decisions.length);
    expect(summary.rows).toEqual({ train: decisions.length, validation: 0 });
    expect(Object.keys(rows[0] as object)).toEqual([
      'prompt',
      'response',
      'image',
      'state',
      'instruction',
      'episode_id',
      'task',
      'seed',
      'step',
      'spec_id',
    ]);
    const features = JSON.parse(metadata.huggingface as string).info.features;
    expect(features.image).toEqual({ _type: 'Image' });
    expect(features.prompt).toEqual({ dtype: 'string', _type: 'Value' });
    const hf = new Tokenizer(pkg.tokenizerJson, pkg.tokenizerConfig);
    rows.forEach((row, i) => {
      const { e, d } = decisions[i] as (typeof decisions)[number];
      expect(row.prompt).toBe(`What action should the robot take to ${e.instruction}?`);
      expect(row.prompt).toBe(promptText(vocabulary, e.instruction, d.joints.position, 'test'));
      // The simulator's joint order is the spec's.
      expect(row.state).toEqual(Array.from(d.joints.position));
      expect([row.episode_id, row.task, row.seed, row.step, row.spec_id]).toEqual([
        e.id,
        e.task,
        BigInt(e.seed),
        BigInt(d.step),
        specId(spec),
      ]);
      const response = row.response as string;
      expect(response).toMatch(/^(<act_\d+>){24}$/);
      const ids = hf.encode(response, { add_special_tokens: false }).ids;
      expect(ids).toEqual([...d.tokens]);
      const bins = [...response.matchAll(/<act_(\d+)>/g)].map((m) => 3840 + Number(m[1]));
      expect(tokenizer.decode(Uint32Array.from(bins), 'test')).toEqual(
        tokenizer.decode(d.tokens, 'test'),
      );
    });
  });

  it('spells the joint state into a prompt that holds {state}, as the ids the model emits for it', () => {
    const withState = {
      ...vocabulary,
      userPrompt:
        '<image>\nThe arm is at {state}. What action should the robot take to {instruction}?',
    };
    const state = [-1.2, 2.4, 1.2];
    const text = promptText(withState, 'reach the red block', state, 'test');
    expect(text).toMatch(
      /^The arm is at (<act_\d+>){3}\. What action should the robot take to reach the red block\?$/,
    );
    const ids = [...text.matchAll(/<act_(\d+)>/g)].map((m) => 3840 + Number(m[1]));
    expect(ids).toEqual([...tokenizer.encodeStep(state)]);
    expect(promptText(withState, 'reach the red block', [1.2, -2.4, 0], 'test')).not.toBe(text);
  });

  it('images are PNG files of the exact recorded frames', async () => {
    const { rows } = await readParquet(join(dir, 'aa/train.parquet'));
    const decisions = episodes.flatMap((e) => e.decisions);
    for (const i of [0, 7, rows.length - 1]) {
      const image = rows[i]?.image as { bytes: Uint8Array; path: string };
      expect(image.path).toMatch(/^(reach|push)-\d\/\d{4}\.png$/);
      const { data, info } = await sharp(image.bytes).raw().toBuffer({ resolveWithObject: true });
      const frame = decisions[i]?.frame.image;
      expect(frame?.kind).toBe('raw');
      expect([info.width, info.height, info.channels]).toEqual([224, 224, 3]);
      expect(Buffer.compare(data, Buffer.from((frame as { data: Uint8Array }).data))).toBe(0);
    }
  });

  it('holds out whole episodes, seeded', async () => {
    const a = await exportTo('split-a', { valFraction: 0.5, seed: 1 });
    const ids = async (name: string, split: string) =>
      new Set(
        (await readParquet(join(dir, name, `${split}.parquet`))).rows.map((r) => r.episode_id),
      );
    const train = await ids('split-a', 'train');
    const validation = await ids('split-a', 'validation');
    expect(validation.size).toBe(2);
    expect([...train].filter((id) => validation.has(id))).toEqual([]);
    expect(new Set([...train, ...validation])).toEqual(new Set(episodes.map((e) => e.id)));
    const perEpisode = new Map(episodes.map((e) => [e.id, e.decisions.length]));
    expect(a.rows.validation).toBe(
      [...validation].reduce((n: number, id) => n + (perEpisode.get(id as string) ?? 0), 0),
    );
    await exportTo('split-b', { valFraction: 0.5, seed: 1 });
    expect(await ids('split-b', 'validation')).toEqual(validation);
    // Other seeds hold out other episodes; the input's order does not matter.
    const ids20 = Array.from({ length: 20 }, (_, i) => `reach-${i}`);
    const held = (seed: number, list = ids20) =>
      [...validationEpisodes(list, 0.25, seed)].sort().join();
    expect(new Set([1, 2, 3, 4].map((seed) => held(seed))).size).toBeGreaterThan(1);
    expect(held(7, [...ids20].reverse())).toBe(held(7));
    expect(validationEpisodes(ids20, 0.25, 7).size).toBe(5);
    expect(() => validationEpisodes(['a', 'b'], 0.1, 0)).toThrow(/leaves validation empty/);
  });
});

describe('normalization statistics', () => {
  it('match an independent computation over every decoded action, in the format an ActionSpec loads', async () => {
    const summary = await exportTo('stats', { statsKey: 'collected' });
    const file = JSON.parse(readFileSync(summary.statistics, 'utf8'));
    const actions = episodes.flatMap((e) =>
      e.decisions.map((d) => tokenizer.decode(d.tokens, 'test')),
    );
    for (let dim = 0; dim < D; dim++) {
      const values = actions.flatMap((chunk) =>
        Array.from({ length: H }, (_, k) => chunk[k * D + dim] as number),
      );
      const expected = reference(values);
      for (const [key, value] of Object.entries(expected)) {
        expect(file.collected.action[key][dim]).toBeCloseTo(value, 12);
      }
    }
    expect(file.collected.action.count).toBe(actions.length * H);
    expect(file.collected.num_trajectories).toBe(episodes.length);
    expect(file.collected.action.mask).toEqual([true, true, true]);
    // An ActionSpec whose statistics are this file loads them (and gets a new spec id).
    const yaml = readFileSync(repo('calibration/planar-arm/action_spec.yaml'), 'utf8')
      .replace('file: dataset_statistics.json', `file: ${summary.statistics}`)
      .replace('key: planar_arm_sim', 'key: collected');
    writeFileSync(join(dir, 'spec.yaml'), yaml);
    const fitted: ActionSpec = loadActionSpec(join(dir, 'spec.yaml'));
    expect(fitted.statistics.q99).toEqual(file.collected.action.q99);
    expect(specId(fitted)).not.toBe(specId(spec));
  });
});

describe('LeRobot v3 export', () => {
  const frames = () => episodes.reduce((n, e) => n + e.frames.length, 0);

  it('writes the v3.0 layout with image columns: data, info, stats, tasks, episodes', async () => {
    const out = join(dir, 'lerobot-columns');
    const summary = await exportTo('lerobot-columns', { format: 'lerobot', images: 'columns' });
    expect(summary.rows).toEqual({ frames: frames() });
    const info = JSON.parse(readFileSync(join(out, 'meta/info.json'), 'utf8'));
    expect(info).toMatchObject({
      codebase_version: 'v3.0',
      robot_type: 'planar-arm',
      fps: 10,
      total_episodes: episodes.length,
      total_frames: frames(),
      total_tasks: new Set(episodes.map((e) => e.instruction)).size,
      chunks_size: 1000,
      data_path: 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet',
      video_path: null,
    });
    const key = 'observation.images.overhead';
    expect(info.features[key]).toEqual({
      dtype: 'image',
      shape: [224, 224, 3],
      names: ['height', 'width', 'channels'],
    });
    expect(info.features['observation.state']).toEqual({
      dtype: 'float32',
      shape: [3],
      names: ['shoulder_joint', 'elbow_joint', 'wrist_joint'],
    });
    for (const name of ['timestamp', 'frame_index', 'episode_index', 'index', 'task_index']) {
      expect(info.features[name].shape).toEqual([1]);
    }

    const { rows } = await readParquet(join(out, LEROBOT_PATHS.data));
    expect(rows).toHaveLength(frames());
    expect(Object.keys(rows[0] as object).sort()).toEqual(Object.keys(info.features).sort());
    const tasks = (await readParquet(join(out, LEROBOT_PATHS.tasks))).rows;
    const taskIndex = new Map(tasks.map((t) => [t.task as string, Number(t.task_index)]));
    const meta = (await readParquet(join(out, LEROBOT_PATHS.episodes))).rows;
    let index = 0;
    for (const [e, episode] of episodes.entries()) {
      const m = meta[e] as Record<string, unknown>;
      expect(m.episode_index).toBe(BigInt(e));
      expect(m.tasks).toEqual([episode.instruction]);
      expect([m.length, m.dataset_from_index, m.dataset_to_index]).toEqual([
        BigInt(episode.frames.length),
        BigInt(index),
        BigInt(index + episode.frames.length),
      ]);
      for (const [i, frame] of episode.frames.entries()) {
        const row = rows[index] as Record<string, unknown>;
        expect([row.index, row.episode_index, row.frame_index, row.task_index]).toEqual([
          BigInt(index),
          BigInt(e),
          BigInt(i),
          BigInt(taskIndex.get(episode.instruction) as number),
        ]);
        expect(row.timestamp).toBeCloseTo(i / 10, 6);
        // The action is the next step of the chunk being executed (decided at most 0.5 s ago).
        const d = Math.floor(i / 5);
        const chunk = tokenizer.decode(episode.decisions[d]?.tokens as Uint32Array, 'test');
        const k = (i % 5) + 1;
        for (const [j, a] of (row.action as number[]).entries()) {
          expect(a).toBeCloseTo(chunk[k * D + j] as number, 5);
        }
        const joints = episode.joints.find((s) => s.stampNs === frame.stampNs);
        for (const [j, x] of (row['observation.state'] as number[]).entries()) {
          expect(x).toBeCloseTo(joints?.position[j] as number, 5);
        }
        index++;
      }
    }
    // Images decode to the recorded frames.
    const last = rows[rows.length - 1]?.[key] as { bytes: Uint8Array };
    const raw = await sharp(last.bytes).raw().toBuffer();
    const lastFrame = episodes.at(-1)?.frames.at(-1)?.image as { data: Uint8Array };
    expect(Buffer.compare(raw, Buffer.from(lastFrame.data))).toBe(0);

    const stats = JSON.parse(readFileSync(join(out, 'meta/stats.json'), 'utf8'));
    const states = rows.map((r) => r['observation.state'] as number[]);
    const expected = reference(states.map((s) => s[1] as number));
    expect(stats['observation.state'].mean[1]).toBeCloseTo(expected.mean as number, 6);
    expect(stats['observation.state'].q99[1]).toBeCloseTo(expected.q99 as number, 6);
    expect(stats['observation.state'].count).toEqual([frames()]);
    for (const q of ['q01', 'q10', 'q50', 'q90', 'q99']) expect(stats.action[q]).toHaveLength(3);
    // Camera statistics per channel, in [0, 1], shaped [3, 1, 1] as LeRobot's.
    const pixels = episodes.flatMap((e) =>
      e.frames.map((f) => (f.image as { data: Uint8Array }).data),
    );
    let red = 0;
    for (const p of pixels) for (let i = 0; i < p.length; i += 3) red += p[i] as number;
    expect(stats[key].mean).toHaveLength(3);
    expect(stats[key].mean[0][0][0]).toBeCloseTo(red / (pixels.length * 224 * 224) / 255, 9);
  });

  it('encodes the camera as one AV1 video whose frames are the recorded ones', async () => {
    const out = join(dir, 'lerobot-video');
    await exportTo('lerobot-video', { format: 'lerobot', images: 'video' });
    const info = JSON.parse(readFileSync(join(out, 'meta/info.json'), 'utf8'));
    const key = 'observation.images.overhead';
    expect(info.video_path).toBe(
      'videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4',
    );
    expect(info.features[key]).toMatchObject({
      dtype: 'video',
      info: { 'video.codec': 'av1', 'video.fps': 10 },
    });
    const video = join(out, LEROBOT_PATHS.video(key));
    const { spawnSync } = await import('node:child_process');
    const decoded = spawnSync(
      'ffmpeg',
      ['-v', 'error', '-i', video, '-f', 'rawvideo', '-pix_fmt', 'rgb24', 'pipe:1'],
      {
        maxBuffer: 1 << 30,
      },
    ).stdout;
    const size = 224 * 224 * 3;
    expect(decoded.length).toBe(frames() * size);
    // Lossy, but each frame is its recorded frame: closer to it than to the episode's others.
    const all = episodes.flatMap((e) =>
      e.frames.map((f) => (f.image as { data: Uint8Array }).data),
    );
    const error = (a: Uint8Array, b: Uint8Array) => {
      let sum = 0;
      for (let i = 0; i < a.length; i++) sum += Math.abs((a[i] as number) - (b[i] as number));
      return sum / a.length;
    };
    for (const i of [0, 12, all.length - 1]) {
      const got = decoded.subarray(i * size, (i + 1) * size);
      expect(error(got, all[i] as Uint8Array)).toBeLessThan(3);
    }
    const meta = (await readParquet(join(out, LEROBOT_PATHS.episodes))).rows;
    expect(meta[1]?.[`videos/${key}/from_timestamp`]).toBeCloseTo(
      (episodes[0]?.frames.length as number) / 10,
      9,
    );
    expect(meta.at(-1)?.[`videos/${key}/to_timestamp`]).toBeCloseTo(frames() / 10, 9);
  });

  it('says so when ffmpeg is missing, before writing anything', async () => {
    process.env.PONS_FFMPEG = join(dir, 'no-ffmpeg');
    try {
      await expect(exportTo('no-video', { format: 'lerobot' })).rejects.toThrow(
        /needs ffmpeg.*--images columns/,
      );
    } finally {
      delete process.env.PONS_FFMPEG;
    }
  });
});

describe('bad input', () => {
  it('refuses a model vocabulary whose action tokens do not tokenize back to their ids', () => {
    // Ids 264… are BPE merges: their texts are byte-level symbols, not tokens of their own.
    const action_tokens = { count: 24, first_id: 264, last_id: 519 };
    expect(() => modelVocabulary({ ...pkg, manifest: { ...pkg.manifest, action_tokens } })).toThrow(
      /tokenizer\.json: model\.vocab\[\d+\]: ".*" tokenizes to \[.*\], not the action id alone/,
    );
  });

  it('refuses no inputs, and a file with no episodes', async () => {
    await expect(exportTo('none', { from: [] })).rejects.toThrow(
      /--from: \(root\): names no recording/,
    );
    const bare = join(dir, 'bare.mcap');
    const recorder = await Recorder.open(bare);
    recorder.record(
      '/camera/image_raw',
      ROS_TYPES.image,
      1n,
      imageMsg({
        stampNs: 1n,
        width: 1,
        height: 1,
        encoding: 'rgb8',
        step: 3,
        data: new Uint8Array(3),
      }),
      'sensor_data',
    );
    await recorder.close();
    await expect(exportTo('bare', { from: [bare] })).rejects.toThrow(
      /bare\.mcap: pons_msgs\/msg\/EpisodeEvent: holds no episodes/,
    );
    const garbage = join(dir, 'garbage.mcap');
    writeFileSync(garbage, 'not an mcap file at all');
    await expect(exportTo('garbage', { from: [garbage] })).rejects.toThrow(/holds no episodes/);
  });

  it('refuses recordings of two ActionSpecs, and a spec other than the recording’s', async () => {
    const other = { ...spec, name: 'planar-arm-other' };
    const mixed = await collect('mixed', { spec: other, tasks: ['reach'], episodes: 1 });
    await expect(exportTo('mixed', { from: [good.file, mixed.file] })).rejects.toThrow(
      /spec_id: is [0-9a-f]{64}, but .*collect-reach-push-0\.mcap has [0-9a-f]{64}: a dataset holds one ActionSpec/,
    );
    await expect(exportTo('other', { from: [mixed.file] })).rejects.toThrow(
      /the ActionSpec given \(planar-arm\)/,
    );
  });

  it('leaves failed episodes out unless asked, and says when none is left', async () => {
    expect(failed.episodes.every((e) => !e.success)).toBe(true);
    await expect(exportTo('failed', { from: [failed.file] })).rejects.toThrow(
      /hold no successful episode \(2 failed ones left out\)/,
    );
    const all = await exportTo('failed-all', { from: [failed.file], includeFailed: true });
    expect(all.episodes).toBe(2);
    const mixed = await exportTo('good-and-failed', { from: [good.file, failed.file] });
    expect([mixed.episodes, mixed.failedLeftOut]).toEqual([4, 2]);
  });

  it('reads a truncated recording up to the damage, and drops only the cut episode', async () => {
    const bytes = readFileSync(good.file);
    const cut = join(dir, 'cut.mcap');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const warnings: string[] = [];
    const summary = await exportTo('cut', { from: [cut], warn: (m) => warnings.push(m) });
    expect(summary.episodes).toBeGreaterThanOrEqual(1);
    expect(summary.episodes).toBeLessThan(4);
    expect(warnings.join('\n')).toMatch(/truncated|corrupt/);
  });

  it('refuses a decision without the frame it was made on', async () => {
    const file = join(dir, 'no-frame.mcap');
    const recorder = await Recorder.open(file);
    const event = { episodeId: 'e', task: 'reach', seed: 1, instruction: 'reach the red block' };
    recorder.record(
      EPISODE_EVENTS_TOPIC,
      PONS_TYPES.episodeEvent,
      1n,
      episodeEventMsg({ ...event, event: 'start', stampNs: 1n }),
      'reliable',
    );
    const { recordDecision } = await import('../../src/nodes/brain-recording.js');
    recordDecision(recorder, {
      spec_id: specId(spec),
      model_id: 'm',
      episode_id: 'e',
      seq: 0,
      obs_stamp_ns: 5n,
      emit_stamp_ns: 5n,
      tokens: new Uint32Array(24).fill(4000),
      timings_ms: {},
    });
    recorder.record(
      EPISODE_EVENTS_TOPIC,
      PONS_TYPES.episodeEvent,
      9n,
      episodeEventMsg({ ...event, event: 'end', stampNs: 9n, success: true, duration: 1 }),
      'reliable',
    );
    await recorder.close();
    await expect(exportTo('no-frame', { from: [file] })).rejects.toThrow(
      /no-frame\.mcap episode e: .*header\.stamp: no frame is stamped 5 ns, the stamp of decision seq 0/,
    );
  });
});
