import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { InputError, loadActionSpec } from '../../contract/index.js';
import { stderrLog } from '../../link/index.js';
import { evaluateBrain, openBrainPolicy } from '../../nodes/brain-eval.js';
import { cerebellumExecution, type ExecutionFactory } from '../../nodes/cerebellum-execution.js';
import { writeEpisodeReport } from '../../nodes/episode-report.js';
import { EPISODE_SECONDS, runEpisodes, type TaskSummary } from '../../nodes/episode-runner.js';
import { ExpertBrain } from '../../nodes/expert-brain.js';
import { loadProfile, type RobotProfile } from '../../nodes/profile.js';
import { collectEpisodes } from '../../nodes/sim-collect.js';
import { busSimIo, rosSimIo, type SimEpisodeRequest, SimNode } from '../../nodes/sim-node.js';
import { TASK_KINDS, type TaskKind } from '../../sim/index.js';
import { integerFlag } from '../foxglove-options.js';
import { CLI_ENTRY, DEFAULT_PROFILE, TRAINED_BRAIN } from '../package-info.js';
import { emitJson, runUntilStopped } from '../run-until.js';
import { textTable } from '../text-table.js';

/** The episodes a sim command runs: tasks, how many of each, and the first seed. */
function episodeOptions(command: Command, defaults: { episodes: number; seed: number }): Command {
  return command
    .option('--task <task>', 'reach | push | all', 'all')
    .option('--episodes <n>', 'episodes per task', String(defaults.episodes))
    .option(
      '--seed <n>',
      "the first episode's seed (episode i uses seed + i)",
      String(defaults.seed),
    );
}

const EXECUTIONS = ['cerebellum', 'direct'];

/** How an in-process command executes chunks: `--execution cerebellum|direct`. */
function executionOption(command: Command): Command {
  return command.option(
    '--execution <how>',
    "cerebellum: the robot profile's controller (smoothing, blending, tracker, safety filter) " +
      'executes each chunk, as deployed; direct: steps interpolated as decoded',
    'cerebellum',
  );
}

function executionFor(how: string, profile: RobotProfile): ExecutionFactory | undefined {
  if (!EXECUTIONS.includes(how)) {
    throw new InputError('--execution', '', `must be ${EXECUTIONS.join(' or ')}, got '${how}'`);
  }
  return how === 'cerebellum'
    ? cerebellumExecution(profile, loadActionSpec(profile.spec))
    : undefined;
}

export function registerSim(program: Command): void {
  const sim = program.command('sim').description('the embedded simulator and closed-loop episodes');

  episodeOptions(sim.command('run'), { episodes: 5, seed: 1000 })
    .description('run episodes: simulator, brain and cerebellum as three processes on ZeroMQ')
    .option('--brain <dir|expert>', 'a brain model package, or the scripted expert', TRAINED_BRAIN)
    .option('--config <robot.yaml>', 'robot profile', DEFAULT_PROFILE)
    .option('--providers <list>', 'execution providers for a model brain', 'cpu')
    .option('--report <dir>', 'where the HTML report goes', 'out/sim-report')
    .option(
      '--kill-brain-after <s>',
      'fault test: kill the brain this far into episode 1, restart it',
    )
    .option(
      '--record <dir>',
      'record the cerebellum (and a model brain) as rosbag2 MCAP files in <dir>',
    )
    .option('--expert-rate <hz>', 'decisions per second of the expert brain (default 2)')
    .option(
      '--foxglove <base-port>',
      'serve the cerebellum (and a model brain, on the next port) live over the Foxglove WebSocket protocol',
    )
    .option('--json', 'print the table as JSON')
    .action(
      async (flags: {
        task: string;
        episodes: string;
        brain: string;
        seed: string;
        config: string;
        providers: string;
        report: string;
        killBrainAfter?: string;
        record?: string;
        expertRate?: string;
        foxglove?: string;
        json?: boolean;
      }) => {
        const tasks = flags.task === 'all' ? Object.keys(EPISODE_SECONDS) : [flags.task];
        const run = await runEpisodes({
          cli: CLI_ENTRY,
          profile: loadProfile(flags.config),
          brain: flags.brain,
          providers: flags.providers.split(','),
          tasks,
          episodes: Number(flags.episodes),
          seed: Number(flags.seed),
          ...(flags.killBrainAfter === undefined
            ? {}
            : { killBrainAfterS: Number(flags.killBrainAfter) }),
          ...(flags.record === undefined ? {} : { record: flags.record }),
          ...(flags.expertRate === undefined ? {} : { expertRateHz: Number(flags.expertRate) }),
          ...(flags.foxglove === undefined
            ? {}
            : { foxgloveBasePort: integerFlag(flags.foxglove, '--foxglove', 1, 65534) }),
          progress: (m) => process.stderr.write(`[pons sim] ${m}\n`),
        });
        const report = writeEpisodeReport(run, flags.report);
        if (flags.json) {
          const episodes = run.episodes.map((e) => ({
            task: e.task,
            seed: e.seed,
            success: e.success,
            seconds: e.seconds,
            holds: e.holds,
            hold_max_speed: e.holdMaxSpeed,
          }));
          console.log(
            JSON.stringify({
              tasks: run.tasks,
              episodes,
              brain_restarts: run.brainRestarts,
              report,
            }),
          );
        } else {
          printTable(run.tasks);
          console.log(`report: ${report}`);
        }
      },
    );

  executionOption(episodeOptions(sim.command('collect'), { episodes: 10, seed: 0 }))
    .description(
      'recorded expert demonstrations: simulator and scripted expert in one process, as fast as the CPU allows',
    )
    .requiredOption('--record <dir>', 'where the rosbag2 MCAP file goes')
    .option('--config <robot.yaml>', 'robot profile (ActionSpec, brain topics)', DEFAULT_PROFILE)
    .option('--rate <hz>', 'expert decisions per sim second', '2')
    .option('--fps <hz>', 'camera frames and joint states per sim second (default 1/dt)')
    .option(
      '--brain <dir>',
      'DAgger: this brain package acts, the expert labels each of its decisions',
    )
    .option(
      '--noise <rad>',
      "DART: execute the expert's chunks with a random error up to this at their last step (labels stay the expert's)",
      '0',
    )
    .option(
      '--every-block',
      "play each seed's scene once for every block in it as the task's block (the same frames, other instructions)",
    )
    .option(
      '--decoy <s>',
      "for the first 0 to this many sim seconds the arm heads for another block (labels stay the expert's for the task's block)",
      '0',
    )
    .option('--json', 'print the summary as JSON')
    .action(
      async (flags: {
        task: string;
        episodes: string;
        seed: string;
        record: string;
        noise: string;
        everyBlock?: boolean;
        decoy: string;
        config: string;
        rate: string;
        fps?: string;
        brain?: string;
        execution: string;
        json?: boolean;
      }) => {
        const profile = loadProfile(flags.config);
        const execution = executionFor(flags.execution, profile);
        const tasks = flags.task === 'all' ? [...TASK_KINDS] : [flags.task];
        if (!tasks.every((t): t is TaskKind => (TASK_KINDS as readonly string[]).includes(t))) {
          throw new InputError('--task', '', `must be all, ${TASK_KINDS.join(' or ')}`);
        }
        const actor =
          flags.brain === undefined ? undefined : await openBrainPolicy(flags.brain, ['cpu']);
        const run = await collectEpisodes({
          ...(actor === undefined ? {} : { actor }),
          ...(execution === undefined ? {} : { execution }),
          spec: loadActionSpec(profile.spec),
          brain: profile.brain,
          tasks,
          episodes: Number(flags.episodes),
          seed: Number(flags.seed),
          dir: flags.record,
          budgetSeconds: (task) => EPISODE_SECONDS[task] ?? 30,
          rateHz: Number(flags.rate),
          noise: Number(flags.noise),
          everyBlock: flags.everyBlock === true,
          decoySeconds: Number(flags.decoy),
          ...(flags.fps === undefined ? {} : { frameHz: Number(flags.fps) }),
          progress: (done, total, e) =>
            process.stderr.write(
              `[pons sim collect] ${done}/${total} ${e.id}: ${e.success ? 'success' : 'failure'} in ${e.seconds.toFixed(1)} s, ${e.decisions} decisions\n`,
            ),
        }).finally(() => actor?.close());
        const succeeded = run.episodes.filter((e) => e.success).length;
        const summary = {
          file: run.file,
          episodes: run.episodes.length,
          succeeded,
          wall_s: run.wallSeconds,
          episodes_per_minute: (60 * run.episodes.length) / run.wallSeconds,
          sim_s_per_wall_s: run.episodes.reduce((a, e) => a + e.seconds, 0) / run.wallSeconds,
          bytes: run.recorded.bytes,
        };
        if (flags.json) console.log(JSON.stringify({ ...summary, runs: run.episodes }));
        else {
          console.log(
            `${summary.episodes} episodes (${succeeded} succeeded) in ${summary.wall_s.toFixed(1)} s: ` +
              `${summary.episodes_per_minute.toFixed(1)} episodes/min, ${(summary.bytes / 1e6).toFixed(1)} MB in ${summary.file}`,
          );
        }
      },
    );

  executionOption(episodeOptions(sim.command('eval'), { episodes: 50, seed: 9000 }))
    .description(
      'a brain package in closed loop in one process, unpaced: decide on the camera frame, execute the chunk',
    )
    .option('--brain <dir>', 'a brain model package', TRAINED_BRAIN)
    .option('--rate <hz>', 'decisions per sim second (as pons sim collect)', '2')
    .option('--config <robot.yaml>', "robot profile (the cerebellum's controller)", DEFAULT_PROFILE)
    .option('--providers <list>', 'execution providers', 'cpu')
    .option('--json', 'print the result as JSON')
    .action(
      async (flags: {
        task: string;
        episodes: string;
        brain: string;
        seed: string;
        rate: string;
        config: string;
        execution: string;
        providers: string;
        json?: boolean;
      }) => {
        const execution = executionFor(flags.execution, loadProfile(flags.config));
        const result = await evaluateBrain({
          ...(execution === undefined ? {} : { execution }),
          brain: flags.brain,
          tasks: flags.task === 'all' ? Object.keys(EPISODE_SECONDS) : [flags.task],
          episodes: Number(flags.episodes),
          seed: Number(flags.seed),
          rateHz: Number(flags.rate),
          providers: flags.providers.split(','),
          progress: (m) => process.stderr.write(`[pons sim eval] ${m}\n`),
        });
        if (flags.json) {
          console.log(JSON.stringify({ brain: flags.brain, seed: Number(flags.seed), ...result }));
          return;
        }
        for (const t of result.tasks) {
          console.log(
            `${t.task.padEnd(6)} ${String(t.episodes).padStart(3)} episodes from seed ${flags.seed}: ` +
              `success ${(100 * t.success_rate).toFixed(0)}%, mean length ${t.mean_length_s.toFixed(1)} s, ` +
              `decision p50 ${t.decision_ms_p50.toFixed(1)} ms`,
          );
        }
      },
    );

  sim
    .command('serve')
    .description(
      'the simulator as a robot on the observation and command buses (used by `sim run`)',
    )
    .option('--observations <endpoint>', 'observation bus to bind', 'tcp://127.0.0.1:5557')
    .option('--commands <endpoint>', 'command bus to bind', 'tcp://127.0.0.1:5558')
    .option(
      '--ros',
      'ROS 2 topics instead of the buses: camera, joint states, /clock out; JointTrajectory or Float64MultiArray in',
    )
    .requiredOption('--episodes <json>', 'episodes as JSON: [{"task": "reach", "seed": 1}, …]')
    .option('--json', 'events as JSON lines; episodes start on a "go" line on stdin')
    .action(
      async (flags: {
        observations: string;
        commands: string;
        episodes: string;
        ros?: boolean;
        json?: boolean;
      }) => {
        const episodes = JSON.parse(flags.episodes) as SimEpisodeRequest[];
        const node = await SimNode.start({
          io: (joints) =>
            flags.ros ? rosSimIo(joints) : busSimIo(flags.observations, flags.commands, stderrLog),
          episodes,
          maxSeconds: (task) => EPISODE_SECONDS[task] ?? 30,
          log: stderrLog,
          onEpisodeStart: (index, instruction) =>
            emitJson('episode_start', { index, instruction, task: episodes[index]?.task }),
          onEpisode: (result) => emitJson('episode', { index: result.index, result }),
        });
        if (flags.json) {
          emitJson('ready', { pid: process.pid });
          await new Promise<void>((resolve) =>
            createInterface({ input: process.stdin }).on(
              'line',
              (line) => line.trim() === 'go' && resolve(),
            ),
          );
        }
        process.once('SIGINT', () => node.stop());
        process.once('SIGTERM', () => node.stop());
        await node.run();
        await node.close();
        emitJson('done', {});
      },
    );

  sim
    .command('expert')
    .description('the scripted expert as a brain: privileged sim state in, action tokens out')
    .option('--config <robot.yaml>', 'robot profile (link, brain.bus)', DEFAULT_PROFILE)
    .option('--rate <hz>', 'decisions per second (the expert is steady up to about 2)', '2')
    .option('--json', 'print events as JSON lines')
    .action(async (flags: { config: string; rate: string; json?: boolean }) => {
      const profile = loadProfile(flags.config);
      const expert = await ExpertBrain.start({
        spec: loadActionSpec(profile.spec),
        observations: profile.brain.bus,
        link: { tokens: profile.link.tokens, state: profile.link.state },
        rateHz: Number(flags.rate),
        episodeId: 'sim',
        log: stderrLog,
      });
      if (flags.json) emitJson('ready', { pid: process.pid });
      const why = await runUntilStopped();
      expert.close();
      if (flags.json) emitJson('summary', { why, decisions: expert.decisions });
    });
}

export function printTable(tasks: TaskSummary[]): void {
  const head = [
    'task',
    'brain',
    'episodes',
    'success',
    'length s',
    'decisions/s',
    'lat p50 ms',
    'lat p99 ms',
    'dropped',
    'holds',
  ];
  const rows = tasks.map((t) => [
    t.task,
    t.brain,
    String(t.episodes),
    `${(100 * t.success_rate).toFixed(0)}%`,
    t.mean_length_s.toFixed(1),
    t.decision_rate_hz.toFixed(1),
    t.latency_ms.p50.toFixed(1),
    t.latency_ms.p99.toFixed(1),
    String(t.dropped_frames),
    String(t.watchdog_holds),
  ]);
  for (const line of textTable([head, ...rows])) console.log(line);
}
