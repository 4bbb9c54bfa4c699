import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { loadJointLimits } from '../../src/cerebellum/joint-limits.js';
import { SerialChainKinematics } from '../../src/cerebellum/kinematics.js';
import { SafetyFilter, violationCount } from '../../src/cerebellum/safety.js';
import type { JointLimits, SafetyConfig, WorkspaceBox } from '../../src/cerebellum/types.js';
import { InputError, loadUrdf, serialChain } from '../../src/contract/index.js';

const urdf = new URL('../../sim/planar_arm.urdf', import.meta.url).pathname;
const yaml = new URL('../../calibration/planar-arm/joint_limits.yaml', import.meta.url).pathname;
const JOINTS = ['shoulder_joint', 'elbow_joint', 'wrist_joint'];
const bundledLimits = loadJointLimits({ urdf, jointLimitsYaml: yaml, joints: JOINTS });
const armFk = new SerialChainKinematics(serialChain(loadUrdf(urdf), 'base_link', 'tool0'), {
  jointOrder: JOINTS,
});

function limits(overrides: Partial<Record<keyof JointLimits, number[]>> = {}): JointLimits {
  const pick = (key: keyof JointLimits, fallback: Float64Array) =>
    Float64Array.from((overrides[key] as number[] | undefined) ?? fallback);
  return {
    names: [...JOINTS],
    lower: pick('lower', bundledLimits.lower),
    upper: pick('upper', bundledLimits.upper),
    maxVelocity: pick('maxVelocity', bundledLimits.maxVelocity),
    maxAcceleration: pick('maxAcceleration', bundledLimits.maxAcceleration),
  };
}

const UNLIMITED = {
  maxVelocity: [Infinity, Infinity, Infinity],
  maxAcceleration: [Infinity, Infinity, Infinity],
};

function config(extra: Partial<SafetyConfig> = {}): SafetyConfig {
  return {
    limits: limits(),
    positionMargin: 0.02,
    maxStepFromMeasured: 0.25,
    onViolation: 'clamp',
    ...extra,
  };
}

const v3 = (a: number, b: number, c: number) => Float64Array.of(a, b, c);

describe('SafetyFilter rules', () => {
  it('(a) never passes NaN/Inf: the joint holds its previous command, counted', () => {
    const filter = new SafetyFilter(config());
    filter.reset(v3(0.1, 0.2, 0.3));
    const out = new Float64Array(3);
    const report = filter.filter(v3(Number.NaN, Infinity, 0.3), undefined, 0.002, out);
    expect(Array.from(out)).toEqual([0.1, 0.2, 0.3]);
    expect(report.nonFinite).toBe(2);
    expect(report.clamped).toBe(true);
    // A non-finite measured component: counted; the step rule is skipped for that joint.
    const again = filter.filter(v3(0.1, 0.2, 0.3), v3(0.1, Number.NaN, 0.3), 0.002, out);
    expect(again.nonFinite).toBe(1);
    expect(again.clamped).toBe(false);
  });

  it('(b) clamps into [lower + margin, upper − margin]', () => {
    const filter = new SafetyFilter(config({ limits: limits(UNLIMITED) }));
    filter.reset(v3(0, 0, 0));
    const out = new Float64Array(3);
    const report = filter.filter(v3(3, -3, 2.58), undefined, 0.002, out);
    expect(Array.from(out)).toEqual([2.58, -2.58, 2.58]);
    expect(report).toMatchObject({ position: 2, clamped: true, step: 0, velocity: 0 });
  });

  it('(c) keeps the command within maxStep of the measured state', () => {
    const filter = new SafetyFilter(config({ limits: limits(UNLIMITED) }));
    filter.reset(v3(0, 0, 0));
    const out = new Float64Array(3);
    const report = filter.filter(v3(1, -1, 0.1), v3(0, 0.05, 0), 0.002, out);
    expect(Array.from(out)).toEqual([0.25, 0.05 - 0.25, 0.1]);
    expect(report).toMatchObject({ step: 2, clamped: true });
  });

  it('(d) limits the velocity to maxVelocity', () => {
    const filter = new SafetyFilter(
      config({ limits: limits({ maxAcceleration: [Infinity, Infinity, Infinity] }) }),
    );
    filter.reset(v3(0, 0, 0));
    const out = new Float64Array(3);
    const report = filter.filter(v3(1, -1, 0.001), undefined, 0.01, out);
    expect(out[0]).toBeCloseTo(0.015, 15);
    expect(out[1]).toBeCloseTo(-0.015, 15);
    expect(out[2]).toBe(0.001);
    expect(report).toMatchObject({ velocity: 2, clamped: true });
  });

  it('(e) limits the acceleration, from rest up to maxVelocity', () => {
    const filter = new SafetyFilter(config());
    filter.reset(v3(0, 0, 0));
    const out = new Float64Array(3);
    const dt = 0.002;
    const report = filter.filter(v3(1, 0, 0), undefined, dt, out);
    expect(out[0]).toBeCloseTo(6 * dt * dt, 15);
    expect(report.acceleration).toBe(1);
    let previous = 0;
    let velocity = 0;
    let peak = 0;
    previous = out[0] as number;
    velocity = previous / dt;
    for (let k = 0; k < 200; k++) {
      filter.filter(v3(1, 0, 0), undefined, dt, out);
      const v = ((out[0] as number) - previous) / dt;
      expect(Math.abs(v - velocity) / dt).toBeLessThanOrEqual(6 * (1 + 1e-9));
      expect(v).toBeLessThanOrEqual(1.5 * (1 + 1e-9));
      peak = Math.max(peak, v);
      previous = out[0] as number;
      velocity = v;
    }
    expect(peak).toBeCloseTo(1.5, 9);
  });

  it('(e) brakes in time to stop at the position limit, within the acceleration limit', () => {
    const filter = new SafetyFilter(config());
    filter.reset(v3(1.5, 0, 0), v3(1.5, 0, 0));
    const out = new Float64Array(3);
    const dt = 0.001;
    let previous = 1.5;
    let velocity = 1.5;
    for (let k = 0; k < 3000; k++) {
      // Irregular tick periods must not break the guarantee.
      const step = k % 7 === 0 ? dt * 5 : dt;
      filter.filter(v3(10, 0, 0), undefined, step, out);
      const q = out[0] as number;
      const v = (q - previous) / step;
      expect(q).toBeLessThanOrEqual(2.58);
      expect(Math.abs(v - velocity) / step).toBeLessThanOrEqual(6 * (1 + 1e-9) + 1e-6);
      previous = q;
      velocity = v;
    }
    expect(previous).toBeCloseTo(2.58, 6);
    expect(Math.abs(velocity)).toBeLessThan(1e-3);
  });

  it('(c) beats (d) and (e): a measured jump re-anchors the command near the robot', () => {
    const filter = new SafetyFilter(config());
    filter.reset(v3(0, 0, 0));
    const out = new Float64Array(3);
    // The robot was pushed 0.6 rad away; smooth limits would allow only µrad this tick.
    const report = filter.filter(v3(0, 0, 0), v3(0.6, 0, 0), 0.002, out);
    expect(out[0]).toBeCloseTo(0.35, 15);
    expect(report.step).toBe(1);
    // The jump is no velocity of the robot's: the velocity state restarts from rest.
    expect(filter.lastVelocity[0]).toBe(0);
    // From there on the command is smooth again (still held at the step bound toward 0).
    filter.filter(v3(0, 0, 0), v3(0.6, 0, 0), 0.002, out);
    expect(out[0]).toBeCloseTo(0.35, 15);
    expect(filter.lastVelocity[0]).toBeCloseTo(0, 12);
    filter.filter(v3(1, 0, 0), v3(0.6, 0, 0), 0.002, out);
    expect(out[0]).toBeCloseTo(0.35 + 6 * 0.002 * 0.002, 15);
  });

  it('(e) slows down before the edge of the step window when the measured state lags', () => {
    const filter = new SafetyFilter(config());
    filter.reset(v3(0, 0, 0));
    const out = new Float64Array(3);
    const dt = 0.002;
    const stale = v3(0, 0, 0); // the measured state never moves
    let previous = 0;
    let velocity = 0;
    let steps = 0;
    for (let k = 0; k < 1000; k++) {
      steps += filter.filter(v3(2, 0, 0), stale, dt, out).step;
      const v = ((out[0] as number) - previous) / dt;
      expect(Math.abs(v - velocity) / dt).toBeLessThanOrEqual(6 * (1 + 1e-9));
      expect(out[0]).toBeLessThanOrEqual(0.25);
      previous = out[0] as number;
      velocity = v;
    }
    expect(previous).toBeCloseTo(0.25, 6);
    expect(Math.abs(velocity)).toBeLessThan(1e-3);
    expect(steps).toBeGreaterThan(0);
  });

  it('(b) beats (c): a measured state far outside the range still gets a command inside it', () => {
    const filter = new SafetyFilter(config({ limits: limits(UNLIMITED) }));
    filter.reset(v3(2.5, 0, 0));
    const out = new Float64Array(3);
    const report = filter.filter(v3(2.9, 0, 0), v3(2.9, 0, 0), 0.002, out);
    expect(out[0]).toBe(2.58);
    expect(report.position).toBe(1);
  });

  it('holds on a tick with an invalid dt', () => {
    const filter = new SafetyFilter(config());
    filter.reset(v3(0.5, 0.5, 0.5));
    const out = new Float64Array(3);
    for (const dt of [0, -0.001, Number.NaN, Infinity]) {
      filter.filter(v3(1, 1, 1), undefined, dt, out);
      expect(Array.from(out)).toEqual([0.5, 0.5, 0.5]);
    }
  });

  it('passes a target that breaks no rule unchanged, and may write in place', () => {
    const filter = new SafetyFilter(config());
    filter.reset(v3(0.5, -0.5, 0));
    const target = v3(0.5 + 1e-6, -0.5, 0);
    const report = filter.filter(target, v3(0.5, -0.5, 0), 0.002, target);
    expect(Array.from(target)).toEqual([0.5 + 1e-6, -0.5, 0]);
    expect(report.clamped).toBe(false);
    expect(violationCount(report)).toBe(0);
    expect(Array.from(filter.lastCommand)).toEqual([0.5 + 1e-6, -0.5, 0]);
    // The report is the filter's own, reused every tick (no allocation).
    expect(filter.filter(target, undefined, 0.002, target)).toBe(report);
  });

  it('seeds from the first measured state without a reset, and refuses to guess otherwise', () => {
    const filter = new SafetyFilter(config());
    expect(() => filter.filter(v3(0, 0, 0), undefined, 0.002, new Float64Array(3))).toThrow(
      /reset/,
    );
    const out = new Float64Array(3);
    filter.filter(v3(0.3, 0.3, 0.3), v3(0.3, 0.3, 3), 0.002, out);
    expect(filter.isSeeded).toBe(true);
    // Seeded at the measured state, clamped into the range.
    expect(Array.from(out)).toEqual([0.3, 0.3, 2.58]);
    expect(() => filter.reset(v3(0, Number.NaN, 0))).toThrow(InputError);
  });

  it('works with continuous joints (no position limits)', () => {
    const filter = new SafetyFilter(
      config({
        limits: limits({ lower: [-Infinity, -2.6, -2.6], upper: [Infinity, 2.6, 2.6] }),
      }),
    );
    filter.reset(v3(100, 0, 0), v3(1.5, 0, 0));
    const out = new Float64Array(3);
    filter.filter(v3(1e9, 0, 0), undefined, 0.01, out);
    expect(out[0]).toBeCloseTo(100.015, 12);
  });

  it('rejects configurations that leave no room', () => {
    expect(() => new SafetyFilter(config({ positionMargin: 3 }))).toThrow(
      /limits\[shoulder_joint\]: the position margin 3 leaves no range/,
    );
    expect(() => new SafetyFilter(config({ maxStepFromMeasured: 0 }))).toThrow(InputError);
    expect(() => new SafetyFilter(config({ limits: limits({ maxVelocity: [1, 0, 1] }) }))).toThrow(
      /limits\[elbow_joint\]\.maxVelocity/,
    );
  });
});

describe('(f) the workspace box, with the planar arm', () => {
  // The tool must stay at x ≤ 0.5 m; the arm is at z = 0.1.
  const box: WorkspaceBox = { min: [-1, -1, 0], max: [0.5, 1, 0.2] };
  const unlimited = () =>
    new SafetyFilter(
      config({ limits: limits(UNLIMITED), workspace: box, maxStepFromMeasured: 10 }),
      armFk,
    );

  it('holds the previous command when the candidate leaves the box', () => {
    const filter = unlimited();
    filter.reset(v3(Math.PI / 2, 0, 0)); // tool at (0, 0.7)
    const out = new Float64Array(3);
    let report = filter.filter(v3(0.3, 0, 0), undefined, 0.002, out); // tool at x = 0.67
    expect(Array.from(out)).toEqual([Math.PI / 2, 0, 0]);
    expect(report.workspace).toBe(1);
    expect(report.clamped).toBe(true);
    report = filter.filter(v3(1.2, 0, 0), undefined, 0.002, out); // x = 0.25: inside
    expect(Array.from(out)).toEqual([1.2, 0, 0]);
    expect(report.workspace).toBe(0);
  });

  it('lets a command outside the box move back toward it', () => {
    const filter = unlimited();
    filter.reset(v3(0, 0, 0)); // tool at x = 0.7, outside
    const out = new Float64Array(3);
    expect(filter.filter(v3(0.5, 0, 0), undefined, 0.002, out).workspace).toBe(0); // x = 0.61
    expect(out[0]).toBe(0.5);
    expect(filter.filter(v3(0.1, 0, 0), undefined, 0.002, out).workspace).toBe(1); // x = 0.70
    expect(out[0]).toBe(0.5);
  });

  it('brakes within the acceleration limit instead of stopping dead', () => {
    const box2: WorkspaceBox = { min: [-1, -1, 0], max: [0.5, 1, 0.2] };
    const filter = new SafetyFilter(config({ workspace: box2, maxStepFromMeasured: 10 }), armFk);
    filter.reset(v3(1.2, 0, 0), v3(-1.5, 0, 0)); // swinging toward +x at full speed
    const out = new Float64Array(3);
    const dt = 0.002;
    let previous = 1.2;
    let velocity = -1.5;
    let holds = 0;
    for (let k = 0; k < 500; k++) {
      holds += filter.filter(v3(0, 0, 0), undefined, dt, out).workspace;
      const v = ((out[0] as number) - previous) / dt;
      expect(Math.abs(v - velocity) / dt).toBeLessThanOrEqual(6 * (1 + 1e-9));
      previous = out[0] as number;
      velocity = v;
    }
    expect(holds).toBeGreaterThan(0);
    expect(Math.abs(velocity)).toBeLessThan(1e-9);
    // It came to rest just past the box's face, as braking at 6 rad/s² allows.
    const tool = armFk.endEffectorPosition(out, new Float64Array(3));
    expect(tool[0]).toBeGreaterThan(0.5);
    expect(tool[0]).toBeLessThan(0.6);
  });

  it('builds its forward kinematics from config.kinematics (plain data for the control thread)', () => {
    const filter = new SafetyFilter(
      structuredClone(
        config({
          limits: limits(UNLIMITED),
          workspace: box,
          kinematics: { urdf, base: 'base_link', tip: 'tool0' },
        }),
      ),
    );
    filter.reset(v3(Math.PI / 2, 0, 0));
    const out = new Float64Array(3);
    expect(filter.filter(v3(0.3, 0, 0), undefined, 0.002, out).workspace).toBe(1);
    expect(() => new SafetyFilter(config({ workspace: box }))).toThrow(
      /workspace: needs forward kinematics/,
    );
  });
});

describe('checkChunk (reject mode)', () => {
  const box: WorkspaceBox = { min: [-1, -1, 0], max: [0.5, 1, 0.2] };
  const filter = new SafetyFilter(config({ workspace: box, onViolation: 'reject' }), armFk);

  it('passes a chunk inside every limit', () => {
    const chunk = Float64Array.of(1.2, 0, 0, 1.3, 0.1, 0, 1.4, 0.2, -0.1);
    const report = filter.checkChunk(chunk);
    expect(report.clamped).toBe(false);
    expect(violationCount(report)).toBe(0);
    expect(filter.mode).toBe('reject');
  });

  it('flags non-finite values, positions outside the range and steps outside the box', () => {
    const chunk = Float64Array.of(
      ...[1.2, Number.NaN, 0],
      ...[1.2, 2.59, -2.7],
      ...[0, 0, 0], // tool at x = 0.7
      ...[1.2, 0, Infinity],
    );
    const report = filter.checkChunk(chunk);
    expect(report).toMatchObject({ clamped: true, nonFinite: 2, position: 2, workspace: 1 });
    expect(() => filter.checkChunk(new Float64Array(4))).toThrow(RangeError);
  });

  it('leaves the filter state alone', () => {
    const f = new SafetyFilter(config());
    f.reset(v3(0.1, 0.1, 0.1));
    f.checkChunk(Float64Array.of(2, 2, 2));
    expect(Array.from(f.lastCommand)).toEqual([0.1, 0.1, 0.1]);
  });
});

// ---------------------------------------------------------------------------------------
// Property tests.

type TargetValue = { abs: number } | { rel: number };
type Measured =
  | { kind: 'none' }
  /** Within the radius that leaves room for a smooth command, as a fraction of it. */
  | { kind: 'near'; u: number[] }
  /** Exactly maxStep away from the previous command. */
  | { kind: 'edge'; sign: number[] }
  /** Anywhere in the URDF range. */
  | { kind: 'anywhere'; u: number[] }
  /** Anywhere at all, NaN included. */
  | { kind: 'wild'; value: number[] };

interface Tick {
  target: TargetValue[];
  dt: number;
  measured: Measured;
}

const triple = <T>(a: fc.Arbitrary<T>) => fc.array(a, { minLength: 3, maxLength: 3 });
const unit = fc.double({ min: -1, max: 1, noNaN: true });
const targetArb: fc.Arbitrary<TargetValue> = fc.oneof(
  fc.record({ abs: fc.double() }), // anything: NaN, ±Inf, ±1e308, −0
  fc.record({ abs: fc.double({ min: -3, max: 3, noNaN: true }) }),
  fc.record({ abs: fc.constantFrom(Number.NaN, Infinity, -Infinity, 1e300, -1e300) }),
  fc.record({ rel: fc.double({ min: -0.01, max: 0.01, noNaN: true }) }),
  fc.record({ rel: fc.double({ min: -1, max: 1, noNaN: true }) }),
);
const measuredArb: fc.Arbitrary<Measured> = fc.oneof(
  { weight: 2, arbitrary: fc.constant({ kind: 'none' as const }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('near' as const), u: triple(unit) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('edge' as const),
      sign: triple(fc.constantFrom(-1, 1)),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('anywhere' as const),
      u: triple(fc.double({ min: 0, max: 1, noNaN: true })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('wild' as const), value: triple(fc.double()) }),
  },
);
const tickArb: fc.Arbitrary<Tick> = fc.record({
  target: triple(targetArb),
  dt: fc.double({ min: 0.0005, max: 0.01, noNaN: true }),
  measured: measuredArb,
});

interface Setup {
  lower: number[];
  upper: number[];
  maxVelocity: number[];
  maxAcceleration: number[];
  margin: number;
  /** maxStep = margin + extra. */
  extra: number;
  start: number[];
  startVelocity: number[];
  workspace: boolean;
}

const setupArb: fc.Arbitrary<Setup> = fc.record({
  lower: triple(fc.double({ min: -3, max: -0.3, noNaN: true })),
  upper: triple(fc.double({ min: 0.3, max: 3, noNaN: true })),
  maxVelocity: triple(fc.double({ min: 0.05, max: 5, noNaN: true })),
  maxAcceleration: triple(fc.double({ min: 0.5, max: 50, noNaN: true })),
  margin: fc.double({ min: 0, max: 0.1, noNaN: true }),
  extra: fc.double({ min: 0.005, max: 0.5, noNaN: true }),
  start: triple(fc.double({ min: 0, max: 1, noNaN: true })),
  startVelocity: triple(unit),
  workspace: fc.boolean(),
});

const EPS = Number.EPSILON;

/**
 * Runs a stream through a fresh filter and checks every tick. Velocity is the finite
 * difference of consecutive outputs, acceleration that of consecutive velocities (what a
 * robot sees). Slack: 1e-9 relative, plus the float64 resolution of the positions (a few
 * ulps of |q| ≈ 3, divided by dt or dt²), which no filter can beat.
 */
interface Coverage {
  ticks: number;
  velocityChecks: number;
  accelerationChecks: number;
  stepChecks: number;
  /** Report counts summed. */
  position: number;
  step: number;
  velocity: number;
  acceleration: number;
  workspace: number;
  nonFinite: number;
  /** Joint-ticks where the velocity state restarted from rest after a jump. */
  reanchors: number;
}

function newCoverage(): Coverage {
  return {
    ticks: 0,
    velocityChecks: 0,
    accelerationChecks: 0,
    stepChecks: 0,
    position: 0,
    step: 0,
    velocity: 0,
    acceleration: 0,
    workspace: 0,
    nonFinite: 0,
    reanchors: 0,
  };
}

function runStream(
  setup: Setup,
  ticks: Tick[],
  options: { fixedDt?: number; coverage?: Coverage } = {},
): void {
  const cov = options.coverage ?? newCoverage();
  const lim = limits({
    lower: setup.lower,
    upper: setup.upper,
    maxVelocity: setup.maxVelocity,
    maxAcceleration: setup.maxAcceleration,
  });
  const maxStep = setup.margin + setup.extra;
  const filter = new SafetyFilter(
    {
      limits: lim,
      positionMargin: setup.margin,
      maxStepFromMeasured: maxStep,
      onViolation: 'clamp',
      ...(setup.workspace ? { workspace: { min: [-0.6, -0.6, 0], max: [0.6, 0.6, 0.2] } } : {}),
    },
    armFk,
  );
  const lo = (j: number) => (lim.lower[j] as number) + setup.margin;
  const hi = (j: number) => (lim.upper[j] as number) - setup.margin;
  filter.reset(
    setup.start.map(
      (u, j) =>
        (lim.lower[j] as number) + u * ((lim.upper[j] as number) - (lim.lower[j] as number)),
    ),
    // Whatever velocity the caller claims, the filter only keeps one the limits allow.
    setup.startVelocity.map((u, j) => u * (lim.maxVelocity[j] as number)),
  );
  const prev = Float64Array.from(filter.lastCommand);
  const prevVelocity = Float64Array.from(filter.lastVelocity);
  let prevSmooth = true;
  const target = new Float64Array(3);
  const measured = new Float64Array(3);
  const out = new Float64Array(3);
  for (const tick of ticks) {
    const dt = options.fixedDt ?? tick.dt;
    const m = tick.measured;
    let calm = true;
    let smooth = true;
    for (let j = 0; j < 3; j++) {
      const t = tick.target[j] as TargetValue;
      target[j] = 'abs' in t ? t.abs : (prev[j] as number) + t.rel;
      const vmax = lim.maxVelocity[j] as number;
      const amax = lim.maxAcceleration[j] as number;
      const radius = maxStep - vmax * dt - amax * dt * dt;
      const p = prev[j] as number;
      if (m.kind === 'near') measured[j] = p + (m.u[j] as number) * Math.max(radius, 0);
      else if (m.kind === 'edge') measured[j] = p + (m.sign[j] as number) * maxStep;
      else if (m.kind === 'anywhere') {
        const l = lim.lower[j] as number;
        measured[j] = l + (m.u[j] as number) * ((lim.upper[j] as number) - l);
      } else if (m.kind === 'wild') measured[j] = m.value[j] as number;
      if (m.kind !== 'none' && Number.isFinite(measured[j])) {
        const gap = Math.abs((measured[j] as number) - p);
        if (!(gap <= maxStep)) calm = false;
        if (!(gap <= radius)) smooth = false;
      }
    }
    const given = m.kind === 'none' ? undefined : measured;
    const report = filter.filter(target, given, dt, out);
    cov.ticks++;
    cov.position += report.position;
    cov.step += report.step;
    cov.velocity += report.velocity;
    cov.acceleration += report.acceleration;
    cov.workspace += report.workspace;
    cov.nonFinite += report.nonFinite;
    for (let j = 0; j < 3; j++) {
      const y = out[j] as number;
      const p = prev[j] as number;
      // Finite, inside the range with its margin.
      expect(Number.isFinite(y)).toBe(true);
      expect(y).toBeGreaterThanOrEqual(lo(j));
      expect(y).toBeLessThanOrEqual(hi(j));
      // Within maxStep of a measured state that allows it.
      const mj = measured[j] as number;
      const feasible =
        given &&
        Number.isFinite(mj) &&
        mj >= (lim.lower[j] as number) - setup.extra &&
        mj <= (lim.upper[j] as number) + setup.extra;
      if (feasible) {
        expect(Math.abs(y - mj)).toBeLessThanOrEqual(maxStep * (1 + 1e-12) + 4 * EPS);
        cov.stepChecks++;
      }
      const v = (y - p) / dt;
      const vmax = lim.maxVelocity[j] as number;
      const amax = lim.maxAcceleration[j] as number;
      if (calm) {
        expect(Math.abs(v)).toBeLessThanOrEqual(vmax * (1 + 1e-9) + (8 * EPS) / dt);
        cov.velocityChecks++;
      }
      if (smooth && prevSmooth) {
        const a = (v - (prevVelocity[j] as number)) / dt;
        expect(Math.abs(a)).toBeLessThanOrEqual(amax * (1 + 1e-9) + (16 * EPS) / (dt * dt));
        cov.accelerationChecks++;
      }
      if (v !== 0 && filter.lastVelocity[j] === 0) cov.reanchors++;
      if (smooth) {
        // The filter's velocity state is the velocity the robot saw.
        expect(filter.lastVelocity[j]).toBe(v);
      }
      prevVelocity[j] = v;
      prev[j] = y;
    }
    prevSmooth = smooth;
  }
}

describe('SafetyFilter properties (fast-check)', () => {
  it('for arbitrary targets, tick periods and measured states: finite, inside the range, within maxStep; velocity and acceleration hold whenever the measured state allows', () => {
    const coverage = newCoverage();
    fc.assert(
      fc.property(
        setupArb,
        fc.array(tickArb, { minLength: 1, maxLength: 200, size: 'max' }),
        (setup, ticks) => {
          runStream(setup, ticks, { coverage });
        },
      ),
      { numRuns: 200 },
    );
    // The streams did exercise every rule and every check.
    for (const key of Object.keys(coverage) as (keyof Coverage)[]) {
      expect(coverage[key], key).toBeGreaterThan(0);
    }
    expect(coverage.accelerationChecks).toBeGreaterThan(coverage.ticks / 4);
  });

  it('tracking the command (measured = last command, or none): every limit holds on every tick', () => {
    const trackingTick = fc.record({
      target: triple(targetArb),
      dt: fc.double({ min: 0.0005, max: 0.01, noNaN: true }),
      measured: fc.oneof(
        fc.constant<Measured>({ kind: 'none' }),
        fc.constant<Measured>({ kind: 'near', u: [0, 0, 0] }),
      ),
    });
    fc.assert(
      fc.property(
        setupArb,
        fc.array(trackingTick, { minLength: 1, maxLength: 300, size: 'max' }),
        (setup, ticks) => {
          runStream(setup, ticks);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('long smooth runs toward far targets at a fixed rate stop at the margins within the limits', () => {
    fc.assert(
      fc.property(
        setupArb,
        fc.constantFrom(0.001, 0.002, 0.005),
        triple(fc.constantFrom(-10, 10)),
        (setup, dt, goal) => {
          const ticks: Tick[] = Array.from({ length: 1000 }, () => ({
            target: goal.map((abs) => ({ abs })),
            dt,
            measured: { kind: 'none' },
          }));
          runStream(setup, ticks, { fixedDt: dt });
        },
      ),
      { numRuns: 12 },
    );
  });

  it('with invalid tick periods too (0, negative, NaN, ∞, huge): finite and inside the range', () => {
    const wildTick = fc.record({
      target: triple(targetArb),
      dt: fc.oneof(fc.double(), fc.constantFrom(0, -0.001, 1e9)),
      measured: fc.oneof(
        fc.constant({ kind: 'none' as const }),
        fc.record({ kind: fc.constant('wild' as const), value: triple(fc.double()) }),
      ),
    });
    fc.assert(
      fc.property(
        setupArb,
        fc.array(wildTick, { minLength: 1, maxLength: 100 }),
        (setup, ticks) => {
          const lim = limits({ lower: setup.lower, upper: setup.upper });
          const filter = new SafetyFilter(
            {
              limits: lim,
              positionMargin: setup.margin,
              maxStepFromMeasured: 0.3,
              onViolation: 'clamp',
            },
            armFk,
          );
          filter.reset([0, 0, 0]);
          const out = new Float64Array(3);
          for (const tick of ticks) {
            const target = Float64Array.from(tick.target, (t) => ('abs' in t ? t.abs : t.rel));
            const measured =
              tick.measured.kind === 'wild' ? Float64Array.from(tick.measured.value) : undefined;
            filter.filter(target, measured, tick.dt, out);
            for (let j = 0; j < 3; j++) {
              expect(Number.isFinite(out[j])).toBe(true);
              expect(out[j]).toBeGreaterThanOrEqual((lim.lower[j] as number) + setup.margin);
              expect(out[j]).toBeLessThanOrEqual((lim.upper[j] as number) - setup.margin);
              expect(Number.isFinite(filter.lastVelocity[j])).toBe(true);
            }
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
