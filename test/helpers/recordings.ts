import type { Recorder as RecorderType } from '../../src/record/recorder.js';
import {
  actionTokensMsg,
  float64MultiArrayMsg,
  headerMsg,
  jointStateMsg,
  PONS_TYPES,
  ROS_TYPES,
} from '../../src/ros/index.js';
import { tokenizerFor } from '../../src/tokenizer/index.js';
import { planarArmIdentity } from './link-fixtures.js';

// The recorder writes from a worker thread, so it comes from dist/ (npm test builds it).
const compiled = '../../dist/record/recorder.js';
const { Recorder } = (await import(compiled)) as { Recorder: typeof RecorderType };
type Recorder = RecorderType;

/**
 * A recording with known statistics, written by the real Recorder: what `pons inspect` must
 * find in it is in `EXPECTED`. Times are log times from T0.
 *
 * - camera `/overhead/image_raw` at 10 Hz for 3 s, frames 10–14 missing (one 600 ms gap
 *   after 0.9 s);
 * - `/joint_states` at 50 Hz, positions changing every sample;
 * - `/pons/commands` at 100 Hz, two per state, each the last state + OFFSETS;
 * - `/pons/action_tokens` at 5 Hz, seq 0…14 without 5 and 6 (two decisions lost), emitted
 *   40 ms and logged 55 ms after their observation stamp, stages preprocess 5 ms and decode
 *   30 + k ms; tokens in known bins, then two packets of another spec and one of the right
 *   spec with a token missing;
 * - `/diagnostics` (a type inspect has no special statistics for), 4 messages.
 */

export const T0 = 1_700_000_000_000_000_000n;
const MS = 1_000_000n;
export const OFFSETS = [0.01, 0, -0.03];
export const OTHER_SPEC = 'ab'.repeat(32);

/** Bin of dimension d in decision k: shoulder alternates 100/101, elbow 0…4, wrist 255. */
export const binOf = (k: number, d: number) => [100 + (k % 2), k % 5, 255][d] as number;

export const EXPECTED = {
  camera: { messages: 25, gapMs: 600, gapAfterS: 0.9 },
  decisions: 13,
  lost: 2,
  decisionMs: 40,
  logMs: 55,
};

export async function recordInspectFixture(path: string, chunkBytes?: number): Promise<void> {
  const recorder = await Recorder.open(path, chunkBytes === undefined ? {} : { chunkBytes });
  const { specId, actionSpec } = planarArmIdentity('fixture-brain');
  const tokenizer = tokenizerFor(actionSpec);
  const messages: { t: bigint; record: () => void }[] = [];
  for (let k = 0; k < 30; k++) {
    if (k >= 10 && k < 15) continue;
    const t = T0 + BigInt(k) * 100n * MS;
    messages.push({
      t,
      record: () =>
        recorder.record(
          '/overhead/image_raw',
          ROS_TYPES.image,
          t,
          {
            header: headerMsg(t, 'overhead'),
            height: 2,
            width: 2,
            encoding: 'rgb8',
            is_bigendian: 0,
            step: 6,
            data: new Uint8Array(12).fill(k),
          },
          'sensor_data',
        ),
    });
  }
  for (let k = 0; k < 150; k++) {
    const t = T0 + BigInt(k) * 20n * MS;
    const position = [0.1 * Math.sin(k / 10), -0.5 + k / 1000, 1 - k / 500];
    messages.push({
      t,
      record: () =>
        recorder.record(
          '/joint_states',
          ROS_TYPES.jointState,
          t,
          jointStateMsg({ stampNs: t, names: JOINTS, position }),
          'sensor_data',
        ),
    });
    for (const after of [5n, 15n]) {
      const command = position.map((p, j) => p + (OFFSETS[j] as number));
      messages.push({
        t: t + after * MS,
        record: () =>
          recorder.record(
            '/pons/commands',
            ROS_TYPES.float64MultiArray,
            t + after * MS,
            float64MultiArrayMsg(command, 'joints', 3),
            'reliable',
          ),
      });
    }
  }
  const seqs = [0, 1, 2, 3, 4, 7, 8, 9, 10, 11, 12, 13, 14];
  seqs.forEach((seq, k) => {
    const obs = T0 + BigInt(seq) * 200n * MS;
    const tokens = Array.from({ length: tokenizer.tokensPerDecision }, (_, i) => {
      return tokenizer.maxId - binOf(k, i % tokenizer.dims);
    });
    messages.push(tokenMessage(recorder, specId, seq, obs, tokens, 30 + k));
  });
  // Another brain's spec, then a packet of the right spec one token short.
  const late = T0 + 2_900n * MS;
  messages.push(tokenMessage(recorder, OTHER_SPEC, 15, late, [7, 8, 9], 30));
  messages.push(tokenMessage(recorder, OTHER_SPEC, 16, late + 10n * MS, [9, 10], 30));
  messages.push(tokenMessage(recorder, specId, 17, late + 20n * MS, [tokenizer.maxId], 30));
  for (let k = 0; k < 4; k++) {
    const t = T0 + BigInt(k) * 1000n * MS;
    messages.push({
      t,
      record: () =>
        recorder.record(
          '/diagnostics',
          ROS_TYPES.diagnosticArray,
          t,
          { header: headerMsg(t, ''), status: [] },
          'reliable',
        ),
    });
  }
  messages.sort((a, b) => (a.t < b.t ? -1 : a.t > b.t ? 1 : 0));
  for (const m of messages) m.record();
  await recorder.close();
}

export const JOINTS = ['shoulder_joint', 'elbow_joint', 'wrist_joint'];

function tokenMessage(
  recorder: Recorder,
  specId: string,
  seq: number,
  obs: bigint,
  tokens: number[],
  decodeMs: number,
) {
  const t = obs + 55n * MS;
  return {
    t,
    record: () =>
      recorder.record(
        '/pons/action_tokens',
        PONS_TYPES.actionTokens,
        t,
        actionTokensMsg({
          spec_id: specId,
          model_id: 'fixture-brain',
          episode_id: 'e1',
          seq,
          obs_stamp_ns: obs,
          emit_stamp_ns: obs + 40n * MS,
          tokens,
          timings_ms: { preprocess: 5, decode: decodeMs },
        }),
        'reliable',
      ),
  };
}
