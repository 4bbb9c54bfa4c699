import type { ControlRecording } from './control-recording.js';

/**
 * What the learned cerebellum stage learns from, out of cerebellum recordings: for every chunk
 * step the controller executed, the model's run-time input (the joint state the step starts
 * from and the next K targets, built as src/cerebellum/chunk-correction.ts builds them) and
 * the label: the tracking error the arm showed at that step, target − measured position when
 * the step was due (linearly interpolated between measured states), bounded by ±maxCorrection.
 *
 * Executed steps: those of a chunk the controller accepted (not while e-stopped), due no
 * earlier than the chunk arrived and before the next chunk arrived, and inside the measured
 * states. The held-out part is the last `heldOut` of each recording's steps, in time, so it is
 * never interleaved with training steps of the same motion.
 */

export interface StepRows {
  position: number[];
  velocity: number[];
  targets: number[];
  correction: number[];
}

export interface CerebellumTrainset {
  joints: string[];
  lookahead: number;
  max_correction: number;
  source: { files: string[]; chunks: number; steps: number };
  train: StepRows;
  held_out: StepRows;
  /** RMS tracking error per joint over every labelled step, before any bound (rad). */
  tracking_rms: number[];
}

const emptyRows = (): StepRows => ({ position: [], velocity: [], targets: [], correction: [] });

export function cerebellumTrainset(
  recordings: readonly ControlRecording[],
  options: { lookahead: number; maxCorrection: number; heldOut: number },
): CerebellumTrainset {
  const first = recordings[0];
  if (!first) throw new Error('no cerebellum recordings to learn from');
  const joints = first.setup.safety.limits.names;
  const { lookahead: k, maxCorrection } = options;
  const set: CerebellumTrainset = {
    joints: [...joints],
    lookahead: k,
    max_correction: maxCorrection,
    source: { files: [], chunks: 0, steps: 0 },
    train: emptyRows(),
    held_out: emptyRows(),
    tracking_rms: joints.map(() => 0),
  };
  const squared = new Float64Array(joints.length);
  for (const recording of recordings) {
    const names = recording.setup.safety.limits.names;
    if (names.join() !== joints.join()) {
      throw new Error(
        `${recording.file}: joints ${names.join(', ')}, but ${first.file} has ${joints.join(', ')}`,
      );
    }
    const steps = executedSteps(recording, k, maxCorrection, squared);
    set.source.files.push(recording.file);
    set.source.chunks += steps.chunks;
    set.source.steps += steps.rows.correction.length / joints.length;
    const split = Math.floor(
      (steps.rows.correction.length / joints.length) * (1 - options.heldOut),
    );
    for (const key of ['position', 'velocity', 'targets', 'correction'] as const) {
      const width = key === 'targets' ? k * joints.length : joints.length;
      // concat, not push(...): an hour of steps is more arguments than a call can take.
      set.train[key] = set.train[key].concat(steps.rows[key].slice(0, split * width));
      set.held_out[key] = set.held_out[key].concat(steps.rows[key].slice(split * width));
    }
  }
  set.tracking_rms = Array.from(squared, (s) => Math.sqrt(s / Math.max(1, set.source.steps)));
  return set;
}

function executedSteps(
  recording: ControlRecording,
  k: number,
  maxCorrection: number,
  squared: Float64Array,
): { rows: StepRows; chunks: number } {
  const { setup, epochStartNs, inputs, commands } = recording;
  const { horizon, dt } = setup.controller;
  const j = setup.safety.limits.names.length;
  const tickS = 1 / setup.rateHz;
  const measured = inputs.flatMap((x) =>
    x.input.type === 'measured' ? [{ t: x.tick * tickS, q: x.input.position }] : [],
  );
  const rows = emptyRows();
  let chunks = 0;
  let estopped = false;
  let command = 0;
  /** When each chunk arrived: a chunk's steps ran until the next one arrived. */
  const chunkTicks = inputs.flatMap((x) => (x.input.type === 'chunk' ? [x.tick] : []));
  let nth = -1;
  for (const x of inputs) {
    if (x.input.type === 'estop') estopped = true;
    if (x.input.type === 'reset') estopped = false;
    if (x.input.type !== 'chunk') continue;
    nth++;
    if (estopped) continue;
    const chunk = x.input.values;
    const arrived = x.tick * tickS;
    const until = (chunkTicks[nth + 1] ?? Number.POSITIVE_INFINITY) * tickS;
    // Where the arm was when the chunk arrived: the last command at or before then.
    while (command + 1 < commands.length && (commands[command + 1]?.tick ?? 0) <= x.tick) command++;
    const start = commands[command];
    if (!start || start.tick > x.tick) continue;
    const t0 = Number(x.input.obsNs - epochStartNs) / 1e9;
    let used = false;
    for (let step = 0; step < horizon; step++) {
      const due = t0 + step * dt;
      if (due < arrived || due >= until) continue;
      const q = measuredAt(measured, due);
      if (!q) continue;
      used = true;
      for (let i = 0; i < j; i++) {
        const previous =
          step === 0 ? (start.position[i] as number) : (chunk[(step - 1) * j + i] as number);
        const target = chunk[step * j + i] as number;
        rows.position.push(previous);
        rows.velocity.push((target - previous) / dt);
        const error = target - (q[i] as number);
        squared[i] = (squared[i] as number) + error * error;
        rows.correction.push(Math.max(-maxCorrection, Math.min(maxCorrection, error)));
      }
      for (let a = 0; a < k; a++) {
        const source = Math.min(step + a, horizon - 1);
        for (let i = 0; i < j; i++) rows.targets.push(chunk[source * j + i] as number);
      }
    }
    if (used) chunks++;
  }
  return { rows, chunks };
}

/** The measured position at `t` (s), linearly between the samples around it; none outside. */
function measuredAt(
  samples: { t: number; q: Float64Array }[],
  t: number,
): Float64Array | undefined {
  let lo = 0;
  let hi = samples.length - 1;
  if (hi < 1 || t < (samples[0]?.t ?? 0) || t > (samples[hi]?.t ?? 0)) return undefined;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if ((samples[mid]?.t ?? 0) <= t) lo = mid;
    else hi = mid;
  }
  const a = samples[lo] as { t: number; q: Float64Array };
  const b = samples[hi] as { t: number; q: Float64Array };
  const w = b.t > a.t ? (t - a.t) / (b.t - a.t) : 0;
  return Float64Array.from(a.q, (v, i) => v + w * ((b.q[i] as number) - v));
}
