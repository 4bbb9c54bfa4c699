import { createSimulator } from '../sim/index.js';
import { percentile, round } from './percentiles.js';

/**
 * The embedded simulator's speed: physics ticks with the arm sweeping through blocks
 * (contacts every tick or so), and camera frames (draw + rgb8 readback) at 224², 336² and
 * 640×480, in microseconds; and how many sim seconds pass per wall second when stepping
 * alone and with a 224² frame every 0.1 s of sim time (a 10 Hz brain's camera).
 */
export interface SimBenchResult {
  physics_hz: number;
  sim_seconds: number;
  step_us: number;
  sim_s_per_wall_s: number;
  sim_s_per_wall_s_with_camera: number;
  renders: { width: number; height: number; p50_us: number; p99_us: number }[];
}

const RESOLUTIONS = [
  [224, 224],
  [336, 336],
  [640, 480],
] as const;

export async function runSimBench(simSeconds = 60, frames = 500): Promise<SimBenchResult> {
  const sim = await createSimulator({ task: 'push' });
  const hz = 1 / sim.physicsPeriodSeconds;
  const ticks = Math.round(simSeconds * hz);
  let wallNs = 0n;
  for (let i = 0; i < ticks; i++) {
    // A new episode every 10 s; in between the shoulder sweeps the hand across the blocks.
    if (i % (10 * hz) === 0) sim.reset(i, 'push');
    const t = (i % (10 * hz)) / hz;
    sim.applyJointTargets([0.8 * Math.sin(1.5 * t), 0.4 + 0.3 * Math.sin(0.7 * t), 0.2]);
    const start = process.hrtime.bigint();
    sim.step();
    wallNs += process.hrtime.bigint() - start;
  }
  sim.dispose();
  const stepUs = Number(wallNs) / 1e3 / ticks;

  const renders: SimBenchResult['renders'] = [];
  for (const [width, height] of RESOLUTIONS) {
    const cam = await createSimulator({ width, height, task: 'push' });
    const out = new Uint8Array(3 * width * height);
    const samples: number[] = [];
    for (let i = 0; i < frames + 20; i++) {
      cam.applyJointTargets([0.8 * Math.sin(i / 10), 0.5, 0.2]);
      cam.step(0.01);
      const start = process.hrtime.bigint();
      cam.render(out);
      // The first frames warm Skia's caches and the JIT.
      if (i >= 20) samples.push(Number(process.hrtime.bigint() - start) / 1e3);
    }
    cam.dispose();
    renders.push({
      width,
      height,
      p50_us: round(percentile(samples, 50)),
      p99_us: round(percentile(samples, 99)),
    });
  }
  const frameUs = renders[0]?.p50_us ?? 0;
  return {
    physics_hz: hz,
    sim_seconds: simSeconds,
    step_us: round(stepUs, 2),
    sim_s_per_wall_s: round(1e6 / (stepUs * hz)),
    sim_s_per_wall_s_with_camera: round(1e6 / (stepUs * hz + 10 * frameUs)),
    renders,
  };
}
