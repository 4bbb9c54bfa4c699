import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from '@foxglove/rosmsg';
import { MessageWriter } from '@foxglove/rosmsg2-serialization';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/contract/index.js';
import { anythingRead, inspectRecording } from '../../src/nodes/inspect.js';
import { writeInspectPlots } from '../../src/nodes/inspect-plots.js';
import { ros2msgSchema } from '../../src/record/ros2msg-schema.js';
import { cdrWriter, ROS_TYPES } from '../../src/ros/index.js';
import { tokenizerFor } from '../../src/tokenizer/index.js';
import { planarArmIdentity } from '../helpers/link-fixtures.js';
import { jsonChannel, memoryMcapWriter } from '../helpers/mcap.js';
import {
  binOf,
  EXPECTED,
  JOINTS,
  OFFSETS,
  OTHER_SPEC,
  recordInspectFixture,
  T0,
} from '../helpers/recordings.js';

// `pons inspect`'s statistics on recordings written by the real Recorder with gaps, losses,
// latencies and token bins put there on purpose (test/helpers/recordings.ts).

const dir = mkdtempSync(join(tmpdir(), 'pons-inspect-'));
const file = join(dir, 'fixture.mcap');
const { actionSpec, specId } = planarArmIdentity();
let bytes: Uint8Array;

beforeAll(async () => {
  await recordInspectFixture(file, 4096);
  bytes = readFileSync(file);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const inspect = (b: Uint8Array, name = 'fixture.mcap') =>
  inspectRecording({ file: name, bytes: b, specs: [actionSpec] });

describe('pons inspect: statistics', () => {
  it('counts every topic, its rate, first and last time, and the gap put in on purpose', () => {
    const { report } = inspect(bytes);
    expect(report.complete).toBe(true);
    expect(report.start_ns).toBe(T0);
    const topic = (name: string) => report.topics.find((t) => t.topic === name);
    const camera = topic('/overhead/image_raw');
    expect(camera).toMatchObject({
      type: ROS_TYPES.image,
      messages: EXPECTED.camera.messages,
      first_ns: T0,
      last_ns: T0 + 2_900_000_000n,
      duration_s: 2.9,
      period_ms: {
        median: 100,
        largest: EXPECTED.camera.gapMs,
        largest_after_s: EXPECTED.camera.gapAfterS,
      },
      gaps: { factor: 3, count: 1, total_s: 0.6 },
    });
    expect(camera?.rate_hz).toBeCloseTo(24 / 2.9, 3);
    expect(topic('/joint_states')).toMatchObject({ messages: 150, rate_hz: 50 });
    expect(topic('/joint_states')?.gaps.count).toBe(0);
    expect(topic('/pons/commands')).toMatchObject({ messages: 300, rate_hz: 100 });
    // A type inspect has nothing special for still gets the generic statistics.
    expect(topic('/diagnostics')).toMatchObject({
      type: ROS_TYPES.diagnosticArray,
      messages: 4,
      rate_hz: 1,
    });
    // Sizes: every camera message carries the same 2×2 frame.
    const size = camera?.size_bytes;
    expect(size?.min).toBe(size?.max);
    expect(size?.total).toBe((size?.min ?? 0) * EXPECTED.camera.messages);
    expect(size?.min).toBeGreaterThan(12);
  });

  it('reports decisions: ids, seq losses, latencies and stage timings', () => {
    const { report } = inspect(bytes);
    const [tokens] = report.action_tokens;
    expect(tokens).toMatchObject({
      topic: '/pons/action_tokens',
      packets: EXPECTED.decisions + 3,
      invalid: 0,
      spec_ids: { [specId]: EXPECTED.decisions + 1, [OTHER_SPEC]: 2 },
      model_ids: { 'fixture-brain': EXPECTED.decisions + 3 },
      episode_ids: 1,
      other_spec: { expected: specId, packets: 2 },
      seq: { lost: EXPECTED.lost, gaps: 1, restarts: 0, out_of_order: 0 },
    });
    const n = EXPECTED.decisions + 3;
    expect(tokens?.latency_ms.decision).toEqual({ count: n, p50: 40, p90: 40, p99: 40, max: 40 });
    expect(tokens?.latency_ms.log).toEqual({ count: n, p50: 55, p90: 55, p99: 55, max: 55 });
    expect(tokens?.latency_ms.log_after_emit).toMatchObject({ p50: 15, max: 15 });
    expect(tokens?.timing_ms.preprocess).toMatchObject({ p50: 5, max: 5 });
    // decode: 30…42 ms over the 13 decisions, then 30 three times.
    expect(tokens?.timing_ms.decode).toEqual({ count: n, p50: 34, p90: 41, p99: 42, max: 42 });
  });

  it('bins the tokens of the known spec per dimension and keeps other specs as raw ids', () => {
    const { report } = inspect(bytes);
    const specs = report.action_tokens[0]?.tokens ?? [];
    const known = specs.find((s) => s.spec_id === specId);
    if (!known?.known) throw new Error('the fixture spec was not decoded');
    expect(known.packets).toBe(EXPECTED.decisions + 1);
    expect(known.refused).toBe(1);
    expect(known.first_refusal).toContain('has 1 ids, the spec needs H·D = 24');
    const tokenizer = tokenizerFor(actionSpec);
    const steps = actionSpec.horizon;
    const histogram = (d: number) => {
      const out: Record<string, number> = {};
      for (let k = 0; k < EXPECTED.decisions; k++) {
        const bin = String(binOf(k, d));
        out[bin] = (out[bin] ?? 0) + steps;
      }
      return out;
    };
    expect(known.dimensions.map((d) => d.name)).toEqual(JOINTS);
    expect(known.dimensions[0]).toMatchObject({
      bins: { min: 100, max: 101, distinct: 2 },
      histogram: histogram(0),
    });
    expect(known.dimensions[1]).toMatchObject({
      bins: { min: 0, max: 4, distinct: 5 },
      histogram: histogram(1),
    });
    expect(known.dimensions[2]).toMatchObject({
      bins: { min: 255, max: 255, distinct: 1 },
      histogram: { 255: EXPECTED.decisions * steps },
    });
    // Values are the tokenizer's bin centres in the dimension's unit.
    const decoded = tokenizer.decode(
      Uint32Array.from(
        { length: tokenizer.tokensPerDecision },
        (_, i) => tokenizer.maxId - binOf(0, i % 3),
      ),
      'test',
    );
    expect(known.dimensions[2]?.value).toEqual({ min: decoded[2], max: decoded[2] });
    expect(known.dimensions[0]?.value.min).toBe(decoded[0]);
    const other = specs.find((s) => s.spec_id === OTHER_SPEC);
    expect(other).toEqual({
      spec_id: OTHER_SPEC,
      known: false,
      packets: 2,
      tokens_per_packet: { min: 2, max: 3 },
      ids: { min: 7, max: 10, distinct: 4 },
      histogram: { 7: 1, 8: 1, 9: 2, 10: 1 },
    });
  });

  it('compares commands with the measured state per joint', () => {
    const { report, series } = inspect(bytes);
    const [commands] = report.commands;
    expect(commands).toMatchObject({
      topic: '/pons/commands',
      type: ROS_TYPES.float64MultiArray,
      messages: 300,
      rate_hz: 100,
      versus_state: {
        command_topic: '/pons/commands',
        state_topic: '/joint_states',
        paired: 300,
        unreadable: 0,
      },
    });
    const joints = commands?.versus_state?.joints ?? [];
    expect(joints.map((j) => j.name)).toEqual(JOINTS);
    joints.forEach((j, i) => {
      const offset = Math.abs(OFFSETS[i] as number);
      expect(j.mean_abs).toBeCloseTo(offset, 6);
      expect(j.rms).toBeCloseTo(offset, 6);
      expect(j.max_abs).toBeCloseTo(offset, 6);
    });
    expect(series.joints[0]?.series[0]?.command).toHaveLength(300);
    expect(series.joints[0]?.series[0]?.state).toHaveLength(150);
  });

  it('inspects a cut-short file up to the damage and says where it stopped', () => {
    const cut = bytes.subarray(0, Math.floor(bytes.length * 0.6));
    const { report } = inspect(cut, 'cut.mcap');
    const whole = inspect(bytes).report;
    expect(report.complete).toBe(false);
    expect(report.messages).toBeGreaterThan(50);
    expect(report.messages).toBeLessThan(whole.messages);
    expect(report.damage?.reason).toMatch(/^cut\.mcap: truncated after \d+ messages/);
    expect(report.damage?.kind).toBe('truncated');
    expect(report.damage?.offset).toBeGreaterThan(0);
    expect((report.damage?.offset ?? 0) + (report.damage?.unread_bytes ?? 0)).toBe(cut.length);
    // What was read is the start of the recording, and the last message read bounds it.
    expect(report.damage?.last_read_ns).toBe(report.end_ns);
    expect((report.end_ns ?? 0n) < (whole.end_ns ?? 0n)).toBe(true);
    expect(anythingRead(report)).toBe(true);
  });

  it('stops at a damaged chunk, past the damage, keeping everything before it', () => {
    const damaged = Uint8Array.from(bytes);
    const at = Math.floor(damaged.length / 2);
    damaged[at] = (damaged[at] as number) ^ 0xff;
    const { report } = inspect(damaged, 'bad.mcap');
    const whole = inspect(bytes).report;
    expect(report.damage?.kind).toBe('corrupt');
    expect(report.damage?.reason).toMatch(/^bad\.mcap: corrupt after \d+ messages: .*CRC/);
    // The failed chunk is consumed before its CRC is checked: the offset is past the damage.
    expect(report.damage?.offset).toBeGreaterThan(at);
    expect(report.messages).toBeGreaterThan(50);
    expect(report.messages).toBeLessThan(whole.messages);
  });

  it('reads nothing from a file cut inside its first record, and says so', () => {
    const { report } = inspect(bytes.subarray(0, 12), 'stub.mcap');
    expect(report.messages).toBe(0);
    expect(report.damage?.reason).toMatch(/^stub\.mcap: truncated after 0 messages/);
    expect(anythingRead(report)).toBe(false);
  });

  it('refuses a file that is not MCAP with one error naming it', () => {
    expect(() => inspect(new TextEncoder().encode('not a recording'), 'notes.txt')).toThrow(
      new InputError(
        'notes.txt',
        '',
        'is not an MCAP file (it does not start with the MCAP magic)',
      ),
    );
  });

  it('lists channels it cannot decode with their message counts, and reads the rest', async () => {
    const { writer, bytes } = await memoryMcapWriter();
    const json = await jsonChannel(writer);
    const bool = await writer.registerSchema({
      name: ROS_TYPES.bool,
      encoding: 'ros2msg',
      data: new TextEncoder().encode(ros2msgSchema(ROS_TYPES.bool)),
    });
    const boolChannel = await writer.registerChannel({
      schemaId: bool,
      topic: '/estop',
      messageEncoding: 'cdr',
      metadata: new Map(),
    });
    // A type named ActionTokens whose schema is not pons's: decoded, but not a decision.
    const foreign = await writer.registerSchema({
      name: 'pons_msgs/msg/ActionTokens',
      encoding: 'ros2msg',
      data: new TextEncoder().encode('string spec_id\nuint32 seq'),
    });
    const foreignChannel = await writer.registerChannel({
      schemaId: foreign,
      topic: '/other/action_tokens',
      messageEncoding: 'cdr',
      metadata: new Map(),
    });
    await writer.addMessage({
      channelId: foreignChannel,
      sequence: 9,
      logTime: T0,
      publishTime: T0,
      data: new MessageWriter(parse('string spec_id\nuint32 seq', { ros2: true })).writeMessage({
        spec_id: 'x',
        seq: 1,
      }),
    });
    for (let k = 0; k < 3; k++) {
      const t = T0 + BigInt(k) * 1_000_000n;
      await writer.addMessage({
        channelId: json,
        sequence: k,
        logTime: t,
        publishTime: t,
        data: new TextEncoder().encode('{}'),
      });
      await writer.addMessage({
        channelId: boolChannel,
        sequence: k,
        logTime: t,
        publishTime: t,
        data: cdrWriter(ROS_TYPES.bool).writeMessage({ data: k === 1 }),
      });
    }
    await writer.end();
    const { report } = inspect(bytes(), 'mixed.mcap');
    expect(report.undecoded).toEqual([
      { topic: '/json', reason: 'message encoding "json" (pons reads cdr)', messages: 3 },
    ]);
    expect(report.topics.map((t) => [t.topic, t.messages])).toEqual([
      ['/other/action_tokens', 1],
      ['/estop', 3],
    ]);
    expect(report.action_tokens[0]).toMatchObject({
      topic: '/other/action_tokens',
      packets: 0,
      invalid: 1,
      first_invalid: '/other/action_tokens: seq: must be a uint64, got number',
    });
    expect(report.complete).toBe(true);
  });
});

describe('pons inspect --plot', () => {
  it('writes an HTML page with the plots as SVG and a PNG copy of each', async () => {
    const { report, series } = inspect(bytes);
    const out = join(dir, 'plots');
    const written = await writeInspectPlots(report, series, out);
    const html = readFileSync(written.html, 'utf8');
    const names = Object.keys(written.png);
    for (const joint of JOINTS) expect(names).toContain(`joint-pons_commands-${joint}`);
    expect(names).toContain('latency-pons_action_tokens');
    expect(names).toContain('rates');
    for (const joint of JOINTS) expect(names).toContain(`tokens-pons_action_tokens-${joint}`);
    expect(html.match(/<svg /g)?.length).toBe(names.length);
    expect(html).toContain('commands on /pons/commands against the measured state');
    for (const [name, path] of Object.entries(written.png)) {
      expect(html).toContain(`href="${name}.png"`);
      const png = readFileSync(path);
      expect(png.subarray(0, 8)).toEqual(
        Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
      );
      const meta = await sharp(png).metadata();
      expect(meta).toMatchObject({ format: 'png', width: 560, height: 220 });
    }
    // The rate plot's lines are drawn, not blank: its PNG has more than the background.
    const { data } = await sharp(readFileSync(written.png.rates as string))
      .raw()
      .toBuffer({ resolveWithObject: true });
    expect(data.some((v) => v < 200)).toBe(true);
  });
});

describe('pons inspect on the committed episode (a real cerebellum recording)', () => {
  const EPISODE = join(import.meta.dirname, '../fixtures/episodes/reach-expert-cerebellum.mcap');

  it('finds its decisions, commands, measured states and the topics it has no special view of', () => {
    const { report } = inspect(readFileSync(EPISODE), 'episode.mcap');
    expect(report.complete).toBe(true);
    expect(report.undecoded).toEqual([]);
    const topic = (name: string) => report.topics.find((t) => t.topic === name);
    const [tokens] = report.action_tokens;
    // Every accepted packet was recorded with its decoded chunk.
    expect(topic('/pons/action_chunks')?.messages).toBe(tokens?.packets);
    expect(tokens).toMatchObject({
      invalid: 0,
      spec_ids: { [specId]: tokens?.packets },
      model_ids: { 'scripted-expert': tokens?.packets },
      other_spec: { packets: 0 },
      seq: { lost: 0, restarts: 0, out_of_order: 0 },
    });
    const [spec] = tokens?.tokens ?? [];
    expect(spec).toMatchObject({ known: true, refused: 0 });
    if (!spec?.known) throw new Error('the episode spec was not decoded');
    spec.dimensions.forEach((d) => {
      const total = Object.values(d.histogram).reduce((a, b) => a + b, 0);
      expect(total).toBe((tokens?.packets ?? 0) * actionSpec.horizon);
      expect(d.bins.distinct).toBe(Object.keys(d.histogram).length);
    });
    // The measured joint states the cerebellum recorded are the state its commands are held against.
    const [commands] = report.commands;
    expect(commands?.topic).toBe('/pons/commands');
    const tracking = commands?.versus_state;
    expect(tracking).toMatchObject({ state_topic: '/joint_states', unreadable: 0 });
    expect(tracking?.paired).toBeGreaterThan(0);
    expect(tracking?.paired).toBeLessThanOrEqual(commands?.messages ?? 0);
    expect(tracking?.joints.map((j) => j.name)).toEqual(JOINTS);
    for (const j of tracking?.joints ?? []) {
      expect(j.mean_abs).toBeGreaterThan(0);
      expect(j.mean_abs).toBeLessThanOrEqual(j.rms);
      expect(j.rms).toBeLessThanOrEqual(j.max_abs);
    }
    // Topics with nothing special still get counts and rates.
    expect(topic('/diagnostics')?.messages).toBeGreaterThan(0);
    expect(topic('/pons/control/inputs')?.type).toBe('pons_msgs/msg/ControlInput');
  });
});
