import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModelPackage } from '../brain/index.js';
import { exportDataset } from '../finetune/export.js';
import { modelVocabulary } from '../nodes/dataset-export.js';
import { EPISODE_SECONDS } from '../nodes/episode-runner.js';
import type { RobotProfile } from '../nodes/profile.js';
import { collectEpisodes } from '../nodes/sim-collect.js';
import { TASK_KINDS } from '../sim/index.js';

/**
 * The demonstration pipeline's speed: recorded expert episodes per wall minute (`pons sim
 * collect`, both tasks), and the Align-Anything and LeRobot (image columns) exports of them,
 * in decisions and frames per wall second.
 */
export interface CollectBenchResult {
  episodes: number;
  succeeded: number;
  episodes_per_minute: number;
  sim_s_per_wall_s: number;
  recording_mb_per_episode: number;
  align_anything_rows_per_s: number;
  lerobot_frames_per_s: number;
}

export async function runCollectBench(
  profile: RobotProfile,
  modelDir: string,
  episodesPerTask: number,
): Promise<CollectBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'pons-bench-collect-'));
  try {
    const pkg = loadModelPackage(modelDir);
    const run = await collectEpisodes({
      spec: pkg.spec,
      brain: profile.brain,
      tasks: TASK_KINDS,
      episodes: episodesPerTask,
      seed: 0,
      dir,
      budgetSeconds: (task) => EPISODE_SECONDS[task] ?? 30,
    });
    const timed = async (format: 'align-anything' | 'lerobot') => {
      const started = performance.now();
      const summary = await exportDataset({
        from: [run.file],
        to: join(dir, format),
        format,
        spec: pkg.spec,
        vocabulary: modelVocabulary(pkg),
        statsKey: 'bench',
        images: 'columns',
      });
      const seconds = (performance.now() - started) / 1000;
      return Object.values(summary.rows).reduce((a, b) => a + b, 0) / seconds;
    };
    const round = (x: number) => Math.round(x * 10) / 10;
    const n = run.episodes.length;
    return {
      episodes: n,
      succeeded: run.episodes.filter((e) => e.success).length,
      episodes_per_minute: round((60 * n) / run.wallSeconds),
      sim_s_per_wall_s: round(run.episodes.reduce((a, e) => a + e.seconds, 0) / run.wallSeconds),
      recording_mb_per_episode: round(run.recorded.bytes / 1e6 / n),
      align_anything_rows_per_s: round(await timed('align-anything')),
      lerobot_frames_per_s: round(await timed('lerobot')),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
