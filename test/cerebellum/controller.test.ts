import { describe, expect, it } from 'vitest';
import {
  Controller,
  type ControllerOptions,
  type TickOutput,
} from '../../src/cerebellum/controller.js';
import { SafetyFilter } from '../../src/cerebellum/safety.js';
import type { JointLimits } from '../../src/cerebellum/types.js';

// Two joints, chunks of 5 steps 0.1 s apart, a 500 Hz loop.
const DT = 0.002;
const limits: JointLimits = {
  names: ['a', 'b'],
  lower: Float64Array.of(-2, -2),
  upper: Float64Array.of(2, 2),
  maxVelocity: Float64Array.of(1, 1),
  maxAcceleration: Float64Array.of(5, 5),
};

function make(
  overrides: Partial<ControllerOptions> = {},
  onViolation: 'clamp' | 'reject' = 'clamp',
  initialize = true,
) {
  const safety = new SafetyFilter({
    limits,
    positionMargin: 0.05,
    maxStepFromMeasured: 0.5,
    onViolation,
  });
  const controller = new Controller(
    {
      horizon: 5,
      joints: 2,
      dt: 0.1,
      interpolation: 'linear',
      blending: { policy: 'latest' },
      stoppingTimeS: 0.3,
      maxAcceleration: limits.maxAcceleration,
      rejectViolatingChunks: onViolation === 'reject',
      ...overrides,
    },
    safety,
  );
  if (initialize) controller.initialize(new Float64Array(2));
  return controller;
}

function output(): TickOutput {
  return {
    position: new Float64Array(2),
    velocity: new Float64Array(2),
    mode: 'hold',
    chunkSeq: -1,
    report: undefined,
    correction: 0,
  };
}

/** Runs ticks from t0 to t1; returns [t, q0, v0, mode] per tick. */
function run(c: Controller, t0: number, t1: number) {
  const out = output();
  const rows: { t: number; q: number; v: number; mode: string; seq: number }[] = [];
  for (let t = t0; t <= t1 + 1e-12; t += DT) {
    c.tick(t, out);
    rows.push({
      t,
      q: out.position[0] as number,
      v: out.velocity[0] as number,
      mode: out.mode,
      seq: out.chunkSeq,
    });
  }
  return rows;
}

const chunk = (...steps: number[]) => Float64Array.from(steps.flatMap((q) => [q, -q]));

describe('controller', () => {
  it('executes a chunk at the present, in run mode, with the chunk sequence', () => {
    const c = make();
    // A gentle ramp (0.5 rad/s) that started 0.05 s ago.
    expect(c.ingest(7, 0, chunk(0, 0.05, 0.1, 0.15, 0.2), 0.05)).toBe('accepted');
    const rows = run(c, 0.0, 0.3);
    const late = rows.filter((r) => r.t > 0.2);
    expect(late.every((r) => r.mode === 'run' && r.seq === 7)).toBe(true);
    // Starting from rest, the acceleration limit makes it lag, then catch up with the chunk
    // (0.15 at t = 0.3) to within a few hundredths.
    const last = late.at(-1) as (typeof late)[number];
    expect(Math.abs(last.q - 0.15)).toBeLessThan(0.03);
  });

  it('holds when no chunk covers the present: decelerates to rest within the stopping time, never jumping', () => {
    const c = make();
    c.ingest(0, 0, chunk(0, 0.08, 0.16, 0.24, 0.32), 0);
    const rows = run(c, 0, 1.2);
    const hold = rows.findIndex((r) => r.mode === 'hold' && r.t > 0.1);
    expect(rows[hold]?.t).toBeGreaterThan(0.39);
    expect(rows[hold]?.t).toBeLessThan(0.41);
    // Velocity falls to zero within the 0.3 s stopping time and stays there.
    const rest = rows.find((r) => r.t > (rows[hold]?.t as number) + 0.3 + DT);
    expect(Math.abs(rest?.v as number)).toBeLessThan(1e-9);
    for (let i = 1; i < rows.length; i++) {
      const dq = Math.abs((rows[i]?.q as number) - (rows[i - 1]?.q as number));
      expect(dq).toBeLessThanOrEqual(1 * DT + 1e-12);
    }
  });

  it('latches an e-stop: brakes to rest, refuses chunks, and resumes only after reset', () => {
    const c = make();
    c.ingest(0, 0, chunk(0, 0.05, 0.1, 0.15, 0.2), 0);
    run(c, 0, 0.2);
    c.estop('test');
    expect(c.mode).toBe('estop');
    expect(c.ingest(1, 0.2, chunk(1, 1, 1, 1, 1), 0.2)).toBe('estopped');
    const stopped = run(c, 0.202, 0.8);
    expect(stopped.every((r) => r.mode === 'estop')).toBe(true);
    expect(Math.abs(stopped.at(-1)?.v as number)).toBeLessThan(1e-9);
    c.reset();
    expect(c.mode).toBe('hold');
    expect(c.ingest(2, 0.8, chunk(0.2, 0.25, 0.3, 0.35, 0.4), 0.8)).toBe('accepted');
    expect(run(c, 0.802, 0.9).at(-1)?.mode).toBe('run');
  });

  it('in reject mode refuses a chunk with any step outside the limits, and keeps executing the last good one', () => {
    const c = make({}, 'reject');
    expect(c.ingest(0, 0, chunk(0, 0.05, 0.1, 0.15, 0.2), 0)).toBe('accepted');
    expect(c.ingest(1, 0.05, chunk(0, 0.5, 1, 5, 1), 0.05)).toBe('rejected');
    expect(run(c, 0, 0.2).at(-1)?.seq).toBe(0);
  });

  it('clamps in clamp mode: a chunk beyond the limits is followed only up to them', () => {
    const c = make();
    c.ingest(0, 0, chunk(3, 3, 3, 3, 3), 0);
    const rows = run(c, 0, 0.4);
    expect(Math.max(...rows.map((r) => r.q))).toBeLessThanOrEqual(0.4 + 1e-9);
    expect(rows.every((r) => Math.abs(r.v) <= 1 + 1e-9)).toBe(true);
  });

  it('for a base (restAtZero), a hold ramps the command to zero at the rate limit', () => {
    const c = make({ restAtZero: true, trackingBandwidthHz: 5 });
    c.ingest(0, 0, chunk(0.3, 0.3, 0.3, 0.3, 0.3), 0);
    const rows = run(c, 0, 1.5);
    const held = rows.filter((r) => r.mode === 'hold');
    expect(held.length).toBeGreaterThan(0);
    // It left the chunk's 0.3 and reached zero, never faster than the rate limit allows.
    expect(held.at(-1)?.q).toBe(0);
    for (let i = 1; i < rows.length; i++) {
      expect(Math.abs((rows[i]?.q as number) - (rows[i - 1]?.q as number))).toBeLessThanOrEqual(
        DT + 1e-12,
      );
    }
  });

  it('joins a far chunk with the tracker as fast as the limits allow, without overshoot', () => {
    // 0.6 rad away: at 5 Hz the tracker alone would ask for ~600 rad/s², the filter allows 5.
    const c = make({ horizon: 10, trackingBandwidthHz: 5 });
    c.ingest(0, 0, chunk(...new Array<number>(10).fill(0.6)), 0);
    const rows = run(c, 0, 0.9).filter((r) => r.mode === 'run');
    expect(rows.length).toBeGreaterThan(440);
    expect(Math.max(...rows.map((r) => r.q))).toBeLessThanOrEqual(0.6 + 1e-9);
    expect(rows.every((r) => Math.abs(r.v) <= 1 + 1e-9)).toBe(true);
    // It still gets there within the chunk: ~0.8 s at ≤ 1 rad/s and ≤ 5 rad/s².
    expect(rows.at(-1)?.q).toBeGreaterThan(0.59);
  });

  it('emits nothing before it knows where the arm is', () => {
    const c = make({}, 'clamp', false);
    expect(c.tick(0, output())).toBe(false);
  });
});
