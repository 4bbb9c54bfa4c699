import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, round } from '../bench/percentiles.js';
import { Process } from './process.js';
import type { RobotProfile } from './profile.js';
import type { SimEpisodeResult } from './sim-node.js';

/**
 * `pons sim run`: the simulator, a brain (a model package through `pons brain`, or the
 * scripted expert) and the cerebellum as three processes joined by ZeroMQ, as on a robot:
 * frames and joint states on the simulator's observation bus, tokens on the link, commands
 * on the simulator's command bus. Episodes run paced to the wall clock. Optionally the brain
 * is killed mid-episode and restarted, to show the cerebellum holding and the episode
 * resuming.
 */

export interface EpisodeRunOptions {
  cli: string;
  profile: RobotProfile;
  /** A model package directory, or 'expert'. */
  brain: string;
  providers: string[];
  tasks: string[];
  episodes: number;
  seed: number;
  /** Kill the brain this many seconds into the first episode, restart it 2 s later. */
  killBrainAfterS?: number;
  /** A directory: the cerebellum (and a model brain) record rosbag2 MCAP files there. */
  record?: string;
  /** Live Foxglove views: the cerebellum on this port, a model brain on the next. */
  foxgloveBasePort?: number;
  /** Decisions per second of the scripted expert (its own default when absent). */
  expertRateHz?: number;
  progress: (message: string) => void;
}

export interface TaskSummary {
  task: string;
  brain: string;
  episodes: number;
  success_rate: number;
  mean_length_s: number;
  decision_rate_hz: number;
  latency_ms: { p50: number; p99: number };
  dropped_frames: number;
  watchdog_holds: number;
}

export interface EpisodeRun {
  tasks: TaskSummary[];
  episodes: SimEpisodeResult[];
  brainRestarts: number;
}

/** Sim seconds an episode may take: pushing is slower than reaching. */
export const EPISODE_SECONDS: Record<string, number> = { reach: 12, push: 25 };

export async function runEpisodes(options: EpisodeRunOptions): Promise<EpisodeRun> {
  const dir = mkdtempSync(join(tmpdir(), 'pons-sim-'));
  if (options.record !== undefined) mkdirSync(options.record, { recursive: true });
  const at = (name: string) => `ipc://${dir}/${name}`;
  const bus = { observations: at('observations'), commands: at('commands') };
  const profilePath = join(dir, 'robot.json');
  const profile = {
    ...options.profile,
    link: { ...options.profile.link, tokens: at('tokens'), state: at('state') },
    brain: { ...options.profile.brain, bus: bus.observations, providers: options.providers },
    cerebellum: { ...options.profile.cerebellum, output: { kind: 'bus', ...bus } },
  };
  const { file: _file, ...written } = profile;
  writeFileSync(profilePath, JSON.stringify(written));
  const episodes = options.tasks.flatMap((task) =>
    Array.from({ length: options.episodes }, (_, i) => ({ task, seed: options.seed + i })),
  );
  const recordAs = (name: string) =>
    options.record === undefined ? [] : ['--record', join(options.record, `${name}.mcap`)];
  const liveAs = (offset: number) =>
    options.foxgloveBasePort === undefined
      ? []
      : ['--foxglove', String(options.foxgloveBasePort + offset)];
  const brainArgs =
    options.brain === 'expert'
      ? [
          'sim',
          'expert',
          '--config',
          profilePath,
          '--json',
          ...(options.expertRateHz === undefined ? [] : ['--rate', String(options.expertRateHz)]),
        ]
      : [
          'brain',
          '--config',
          profilePath,
          '--model',
          options.brain,
          '--json',
          '--episode',
          'sim',
          ...recordAs('brain'),
          ...liveAs(1),
        ];
  const processes: Process[] = [];
  let brainRestarts = 0;
  try {
    const sim = Process.start(options.cli, [
      'sim',
      'serve',
      '--observations',
      bus.observations,
      '--commands',
      bus.commands,
      '--episodes',
      JSON.stringify(episodes),
      '--json',
    ]);
    processes.push(sim);
    await sim.waitFor((e) => e.event === 'ready', 30_000);
    const cerebellum = Process.start(options.cli, [
      'cerebellum',
      '--config',
      profilePath,
      '--json',
      ...recordAs('cerebellum'),
      ...liveAs(0),
    ]);
    let brain = Process.start(options.cli, brainArgs);
    processes.push(cerebellum, brain);
    const ready = await Promise.all([
      cerebellum.waitFor((e) => e.event === 'ready', 30_000),
      brain.waitFor((e) => e.event === 'ready', 60_000),
    ]);
    for (const [name, e] of [
      ['cerebellum', ready[0]],
      ['brain', ready[1]],
    ] as const) {
      if (typeof e.foxglove === 'string')
        options.progress(`${name}: Foxglove live view on ${e.foxglove}`);
    }
    sim.send('go');
    const results: SimEpisodeResult[] = [];
    const droppedBy = new Map<number, number>();
    // Frames the brain's gate dropped (superseded or stale), from its last health report;
    // a killed brain's count is kept. The expert decides at a fixed rate and drops none.
    let droppedBefore = 0;
    const dropped = () => {
      const last = brain.events.findLast((e) => e.event === 'summary' || e.event === 'health');
      const gate = last?.gate as { superseded?: number; stale?: number } | undefined;
      return droppedBefore + (gate?.superseded ?? 0) + (gate?.stale ?? 0);
    };
    for (let i = 0; i < episodes.length; i++) {
      const started = await sim.waitFor(
        (e) => e.event === 'episode_start' && e.index === i,
        60_000,
      );
      options.progress(`episode ${i + 1}/${episodes.length}: ${started.instruction as string}`);
      const droppedAtStart = dropped();
      if (i === 0 && options.killBrainAfterS !== undefined) {
        await new Promise((resolve) =>
          setTimeout(resolve, (options.killBrainAfterS as number) * 1000),
        );
        options.progress('fault: killing the brain (SIGKILL)');
        droppedBefore = dropped();
        await brain.kill('SIGKILL');
        await new Promise((resolve) => setTimeout(resolve, 2000));
        options.progress('fault: restarting the brain');
        brain = Process.start(options.cli, brainArgs);
        processes.push(brain);
        brainRestarts++;
      }
      const done = await sim.waitFor(
        (e) => e.event === 'episode' && e.index === i,
        (EPISODE_SECONDS[started.task as string] ?? 30) * 3000 + 30_000,
      );
      const result = done.result as SimEpisodeResult;
      results.push(result);
      droppedBy.set(i, dropped() - droppedAtStart);
      options.progress(
        `  ${result.success ? 'success' : 'FAILED'} in ${result.seconds.toFixed(1)} s, ` +
          `${result.commands} commands, ${result.latencyMs.length} decisions executed, ${result.holds} hold(s)`,
      );
    }
    // Recorders finish their files on a clean stop.
    await Promise.all([brain, cerebellum].map((p) => p.kill('SIGINT')));
    return {
      tasks: summarize(results, options.brain, droppedBy),
      episodes: results,
      brainRestarts,
    };
  } finally {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  }
}

function summarize(
  results: SimEpisodeResult[],
  brain: string,
  droppedBy: ReadonlyMap<number, number>,
): TaskSummary[] {
  const tasks = [...new Set(results.map((r) => r.task))];
  return tasks.map((task) => {
    const mine = results.filter((r) => r.task === task);
    const latency = mine.flatMap((r) => r.latencyMs);
    const seconds = mine.reduce((a, r) => a + r.seconds, 0);
    return {
      task,
      brain: brain === 'expert' ? 'expert' : (brain.split('/').filter(Boolean).at(-1) ?? brain),
      episodes: mine.length,
      success_rate: round(mine.filter((r) => r.success).length / mine.length, 3),
      mean_length_s: round(seconds / mine.length, 2),
      decision_rate_hz: round(latency.length / Math.max(seconds, 1e-9), 1),
      latency_ms: {
        p50: round(percentile(latency, 50), 1),
        p99: round(percentile(latency, 99), 1),
      },
      dropped_frames: mine.reduce((a, r) => a + (droppedBy.get(r.index) ?? 0), 0),
      watchdog_holds: mine.reduce((a, r) => a + r.holds, 0),
    };
  });
}
