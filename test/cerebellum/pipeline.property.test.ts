import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Controller, type TickOutput } from '../../src/cerebellum/controller.js';
import { loadJointLimits } from '../../src/cerebellum/joint-limits.js';
import { SafetyFilter } from '../../src/cerebellum/safety.js';
import type { Blending } from '../../src/cerebellum/scheduler.js';
import { InputError, loadActionSpec, specId } from '../../src/contract/index.js';
import { tokenizerFor } from '../../src/tokenizer/index.js';
import { decodePacket, encodePacket, PROTOCOL_VERSION, WireError } from '../../src/wire/index.js';

/**
 * The cerebellum's whole intake and control path, as `pons cerebellum` composes it:
 * bytes → wire validation → spec check → token decoding → scheduler → controller →
 * safety filter. Inputs: arbitrary token streams (valid, out-of-range ids, corrupt
 * bytes, another spec), arbitrary timing (bursts, gaps, reordered and duplicated packets,
 * clock jumps) and arbitrary measured states. Whatever they are, no command exceeds a
 * limit, and no command comes from a packet that failed validation.
 */
const specFile = new URL('../../calibration/planar-arm/action_spec.yaml', import.meta.url).pathname;
const urdf = new URL('../../sim/planar_arm.urdf', import.meta.url).pathname;
const yaml = new URL('../../calibration/planar-arm/joint_limits.yaml', import.meta.url).pathname;
const spec = loadActionSpec(specFile);
const ID = specId(spec);
const JOINTS = spec.dimensions.map((d) => d.name);
const limits = loadJointLimits({ urdf, jointLimitsYaml: yaml, joints: JOINTS });
const tokenizer = tokenizerFor(spec);
const N = tokenizer.tokensPerDecision;
const MARGIN = 0.02;
const TICK = 0.002;
/** Sequence numbers of packets that are invalid by construction (bad ids, another spec). */
const INVALID_SEQ = 1_000_000;
/** Corrupted packets: most fail validation, but a flipped byte can leave a valid packet. */
const CORRUPT_SEQ = 2_000_000;

type Event =
  | {
      kind: 'packet';
      form: 'valid' | 'bad_ids' | 'corrupt' | 'other_spec';
      ids: number[];
      obsMs: number;
      repeat: boolean;
      cut: number;
    }
  | { kind: 'advance'; ms: number }
  | { kind: 'measured'; offset: number[] };

const idArb = fc.oneof(
  { weight: 9, arbitrary: fc.integer({ min: tokenizer.minId, max: tokenizer.maxId }) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 2 ** 32 - 1 }) },
);
const eventArb: fc.Arbitrary<Event> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('packet' as const),
      form: fc.constantFrom(
        'valid' as const,
        'valid' as const,
        'bad_ids' as const,
        'corrupt' as const,
        'other_spec' as const,
      ),
      ids: fc.array(idArb, { minLength: N, maxLength: N }),
      // Observation time relative to now: stale, old, fresh or from a clock ahead of ours.
      obsMs: fc.oneof(fc.integer({ min: -1500, max: 0 }), fc.integer({ min: -100, max: 400 })),
      repeat: fc.boolean(),
      cut: fc.nat(),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 400 }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('measured' as const),
      offset: fc.array(
        fc.oneof(
          fc.double({ min: -0.05, max: 0.05, noNaN: true }),
          fc.double({ min: -3, max: 3, noNaN: true }),
        ),
        {
          minLength: 3,
          maxLength: 3,
        },
      ),
    }),
  },
);
const blendingArb: fc.Arbitrary<Blending> = fc.oneof(
  fc.constant({ policy: 'latest' as const }),
  fc.record({
    policy: fc.constant('crossfade' as const),
    windowS: fc.double({ min: 0.01, max: 0.5, noNaN: true }),
  }),
  fc.record({
    policy: fc.constant('ensemble' as const),
    decay: fc.double({ min: 0, max: 2, noNaN: true }),
  }),
);

function packetBytes(
  e: Extract<Event, { kind: 'packet' }>,
  seq: number,
  obsNs: bigint,
): Uint8Array {
  const bytes = encodePacket({
    v: PROTOCOL_VERSION,
    kind: 'tokens',
    spec_id: e.form === 'other_spec' ? 'f'.repeat(64) : ID,
    model_id: 'fuzz',
    episode_id: 'fuzz',
    seq,
    obs_stamp_ns: obsNs,
    emit_stamp_ns: obsNs,
    tokens: Uint32Array.from(e.ids, (id) =>
      e.form === 'bad_ids' ? tokenizer.maxId + 1 + (id % 1000) : id,
    ),
    timings_ms: {},
  });
  if (e.form !== 'corrupt') return bytes;
  const broken = Uint8Array.from(bytes);
  const at = e.cut % broken.length;
  broken[at] = (broken[at] as number) ^ 0xff;
  return broken.subarray(0, broken.length - (e.cut % 7));
}

describe('cerebellum pipeline under arbitrary input', () => {
  it('never emits a command beyond a limit, nor one from an invalid packet', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 40 }),
        blendingArb,
        fc.constantFrom('linear' as const, 'cubic' as const),
        fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
        fc.option(fc.double({ min: 0.5, max: 50, noNaN: true }), { nil: undefined }),
        (events, blending, interpolation, smoothingDegree, trackingBandwidthHz) => {
          const safety = new SafetyFilter({
            limits,
            positionMargin: MARGIN,
            maxStepFromMeasured: 0.25,
            onViolation: 'clamp',
          });
          const controller = new Controller(
            {
              horizon: spec.horizon,
              joints: 3,
              dt: spec.dt,
              interpolation,
              blending,
              stoppingTimeS: 0.5,
              maxAcceleration: limits.maxAcceleration,
              rejectViolatingChunks: false,
              ...(smoothingDegree === undefined ? {} : { smoothingDegree }),
              ...(trackingBandwidthHz === undefined ? {} : { trackingBandwidthHz }),
            },
            safety,
          );
          controller.initialize(new Float64Array(3));
          const out: TickOutput = {
            position: new Float64Array(3),
            velocity: new Float64Array(3),
            mode: 'hold',
            chunkSeq: -1,
            report: undefined,
            correction: 0,
          };
          const accepted = new Set<number>();
          const chunk = new Float64Array(N);
          const previous = new Float64Array(3);
          const previousVelocity = new Float64Array(3);
          const measured = new Float64Array(3);
          let measuredConsistent = true;
          // A re-anchoring tick breaks the velocity history: the next acceleration is not judged.
          let judgeAcceleration = true;
          let t = 0;
          let seq = 0;
          let ticks = 0;
          const epochNs = 1_800_000_000_000_000_000n;

          const tick = () => {
            controller.tick(t, out);
            ticks++;
            for (let j = 0; j < 3; j++) {
              const q = out.position[j] as number;
              expect(Number.isFinite(q)).toBe(true);
              expect(q).toBeGreaterThanOrEqual((limits.lower[j] as number) + MARGIN - 1e-9);
              expect(q).toBeLessThanOrEqual((limits.upper[j] as number) - MARGIN + 1e-9);
              if (ticks > 1 && measuredConsistent) {
                const v = (q - (previous[j] as number)) / TICK;
                expect(Math.abs(v)).toBeLessThanOrEqual(
                  (limits.maxVelocity[j] as number) * (1 + 1e-9) + 1e-9,
                );
                const a = (v - (previousVelocity[j] as number)) / TICK;
                if (judgeAcceleration) {
                  expect(Math.abs(a)).toBeLessThanOrEqual(
                    (limits.maxAcceleration[j] as number) * (1 + 1e-6) + 1e-6,
                  );
                }
              }
            }
            if (out.chunkSeq >= 0) expect(accepted.has(out.chunkSeq)).toBe(true);
            for (let j = 0; j < 3; j++) {
              previousVelocity[j] =
                ticks > 1 ? ((out.position[j] as number) - (previous[j] as number)) / TICK : 0;
            }
            previous.set(out.position);
            judgeAcceleration = measuredConsistent;
            // The arm follows its commands (measured one tick later), unless disturbed.
            controller.setMeasured(previous);
            t += TICK;
          };
          tick();

          for (const e of events) {
            if (e.kind === 'advance') {
              for (let k = 0; k < e.ms / 2; k++) tick();
              measuredConsistent = true;
            } else if (e.kind === 'measured') {
              for (let j = 0; j < 3; j++)
                measured[j] = (previous[j] as number) + (e.offset[j] as number);
              controller.setMeasured(measured);
              measuredConsistent = e.offset.every((o) => Math.abs(o) <= 0.05);
              // A disturbance (the arm pushed, a sensor glitch) for one tick; after a large one the
              // filter re-anchors on the measured state, so judge again from the next tick on.
              tick();
              measuredConsistent = true;
            } else {
              const mySeq =
                e.form === 'valid'
                  ? seq++
                  : e.form === 'corrupt'
                    ? CORRUPT_SEQ + seq++
                    : INVALID_SEQ + seq++;
              const obsNs = epochNs + BigInt(Math.round((t * 1000 + e.obsMs) * 1e6));
              const bytes = packetBytes(e, mySeq, obsNs);
              for (const _ of e.repeat ? [0, 1] : [0]) {
                try {
                  const packet = decodePacket(bytes, 'fuzz');
                  if (packet.kind !== 'tokens' || packet.spec_id !== ID) continue;
                  tokenizer.decodeInto(packet.tokens, chunk, 'fuzz');
                  const start = Number(packet.obs_stamp_ns - epochNs) / 1e9;
                  if (controller.ingest(packet.seq, start, chunk, t) === 'accepted')
                    accepted.add(packet.seq);
                } catch (err) {
                  if (!(err instanceof WireError || err instanceof InputError)) throw err;
                }
              }
            }
          }
          // Nothing invalid by construction was ever accepted (so, above, never commanded).
          expect([...accepted].filter((s) => s >= INVALID_SEQ && s < CORRUPT_SEQ)).toEqual([]);
        },
      ),
      { numRuns: 150 },
    );
  });
});
