import { ControlCore } from '../cerebellum/control-core.js';
import type { ControlInput, ControlSetup } from '../cerebellum/control-protocol.js';
import { controlSetupFromJson } from '../cerebellum/control-setup-json.js';
import type { TickOutput } from '../cerebellum/controller.js';
import { InputError } from '../contract/index.js';
import { type McapReadReport, newReport, readRos2Mcap } from '../record/mcap-read.js';
import {
  COMMAND_TYPES,
  type CommandValues,
  type ControlInputMsg,
  commandValues,
  nsFromStamp,
  shortTypeName,
} from '../ros/index.js';
import {
  CONTROL_INPUTS_TOPIC,
  CONTROL_SETUP_TOPIC,
  type RecordedControlSetup,
} from './cerebellum-recording.js';

/**
 * `pons replay --verify`: the control thread of a recorded cerebellum run again, offline and
 * tick by tick, from the recording's control setup and the inputs it applied at the ticks it
 * applied them; its commands are compared with the recorded ones. With the recorded setup
 * and unchanged controller code they match exactly (the controller is deterministic and its
 * time is a function of the tick alone); a changed controller or a different configuration
 * (`against`) shows as the largest deviation per joint: the regression test for controller
 * changes against yesterday's run.
 */

export interface VerifyOptions {
  bytes: Uint8Array;
  file: string;
  /** Run this setup, made from the recorded one, instead (a configuration change under test). */
  against?: (recorded: ControlSetup) => ControlSetup;
  /** The commands topic; found by type when absent. */
  commandsTopic?: string;
}

export interface VerifyResult {
  /** Every recorded command reproduced bit for bit. */
  exact: boolean;
  setup: 'recorded' | 'given';
  commands_topic: string;
  commands: number;
  identical: number;
  /** Recorded commands at ticks where the replay produced none. */
  unmatched: number;
  /** Largest |replayed − recorded| position per joint (rad, m; for a base its speeds). */
  max_deviation: Record<string, number>;
  /** The same for velocities, where the recorded messages carry them. */
  max_velocity_deviation?: Record<string, number>;
  first_difference?: { tick: number; joint: string; recorded: number; replayed: number };
  inputs: number;
  /** Inputs missing from the recording (gaps in their index): the replay cannot be exact. */
  missing_inputs: number;
  ticks: number;
  /** Ticks the recorded control clock skipped (it ran late); the replay skips them too. */
  skipped_ticks: number;
  read: McapReadReport;
}

interface RecordedCommand extends CommandValues {
  tick: number;
}

function inputOf(m: ControlInputMsg, source: string): ControlInput {
  switch (m.kind) {
    case 'chunk':
      return {
        type: 'chunk',
        seq: Number(m.seq),
        obsNs: nsFromStamp(m.obs_stamp, source, 'obs_stamp'),
        values: Float64Array.from(m.values),
      };
    case 'measured':
      return { type: 'measured', position: Float64Array.from(m.values) };
    case 'estop':
      return { type: 'estop', reason: m.reason };
    case 'reset':
      return { type: 'reset' };
    default:
      // 'skip' records are read apart from inputs.
      throw new InputError(source, 'kind', `"${String(m.kind)}" is not a control input`);
  }
}

export function verifyReplay(options: VerifyOptions): VerifyResult {
  const { file } = options;
  const read = newReport();
  let recorded: { epochStartNs: bigint; setup: ControlSetup } | undefined;
  const inputs: { index: number; tick: number; input: ControlInput }[] = [];
  /** [first, count] of each run of ticks the control clock skipped. */
  const skips: [number, number][] = [];
  const commandsByTopic = new Map<
    string,
    { type: string; message: unknown; logTimeNs: bigint }[]
  >();
  for (const m of readRos2Mcap(options.bytes, file, read)) {
    const source = `${file} ${m.topic}`;
    if (m.topic === CONTROL_SETUP_TOPIC && !recorded) {
      recorded = recordedSetup((m.message as { data: string }).data, source);
    } else if (m.topic === CONTROL_INPUTS_TOPIC) {
      const msg = m.message as ControlInputMsg;
      if (msg.kind === 'skip') skips.push([Number(msg.tick), Number(msg.values[0])]);
      else {
        inputs.push({
          index: Number(msg.index),
          tick: Number(msg.tick),
          input: inputOf(msg, source),
        });
      }
    } else if (COMMAND_TYPES.includes(shortTypeName(m.type))) {
      const list = commandsByTopic.get(m.topic) ?? [];
      list.push({ type: m.type, message: m.message, logTimeNs: m.logTimeNs });
      commandsByTopic.set(m.topic, list);
    }
  }
  if (!recorded) {
    throw new InputError(
      file,
      CONTROL_SETUP_TOPIC,
      `is missing${read.stopped ? ` (${read.stopped})` : ''}: record the run with \`pons cerebellum --record file.mcap\``,
    );
  }
  const topic = options.commandsTopic ?? onlyTopic([...commandsByTopic.keys()], file);
  const setup = options.against ? options.against(recorded.setup) : recorded.setup;
  const names = setup.safety.limits.names;
  const periodNs = 1e9 / recorded.setup.rateHz;
  const commands: RecordedCommand[] = (commandsByTopic.get(topic) ?? []).map((c) => ({
    tick: Math.round(Number(c.logTimeNs - recorded.epochStartNs) / periodNs),
    ...commandValues(c.type, c.message, names, `${file} ${topic}`),
  }));
  if (commands.length === 0) throw new InputError(file, topic, 'has no commands to compare');

  inputs.sort((a, b) => a.index - b.index);
  let missing = 0;
  inputs.forEach((x, i) => {
    missing += x.index - (i === 0 ? 0 : (inputs[i - 1]?.index ?? 0) + 1);
  });

  const core = new ControlCore(setup, recorded.epochStartNs);
  const joints = names.length;
  const out: TickOutput = {
    position: new Float64Array(joints),
    velocity: new Float64Array(joints),
    mode: 'hold',
    chunkSeq: -1,
    report: undefined,
    correction: 0,
  };
  const result: VerifyResult = {
    exact: false,
    setup: options.against ? 'given' : 'recorded',
    commands_topic: topic,
    commands: commands.length,
    identical: 0,
    unmatched: 0,
    max_deviation: Object.fromEntries(names.map((n) => [n, 0])),
    inputs: inputs.length,
    missing_inputs: missing,
    ticks: 0,
    skipped_ticks: 0,
    read,
  };
  const velocityDeviation = new Float64Array(joints);
  let hasVelocity = false;
  let nextInput = 0;
  let nextCommand = 0;
  const lastTick = Math.max(...commands.map((c) => c.tick));
  const skipped = new Set(
    skips.flatMap(([first, count]) => Array.from({ length: count }, (_, k) => first + k)),
  );
  // The controller is stateful: every tick that ran runs again, whether or not its command
  // was recorded; the ticks the clock skipped did not run.
  for (let tick = 0; tick <= lastTick; tick++) {
    if (skipped.has(tick)) continue;
    for (; nextInput < inputs.length && (inputs[nextInput]?.tick ?? 0) <= tick; nextInput++) {
      core.apply((inputs[nextInput] as (typeof inputs)[number]).input, tick);
    }
    const produced = core.tick(tick, out);
    for (
      ;
      nextCommand < commands.length && (commands[nextCommand]?.tick ?? 0) <= tick;
      nextCommand++
    ) {
      const c = commands[nextCommand] as RecordedCommand;
      if (c.tick !== tick || !produced) {
        result.unmatched++;
        continue;
      }
      let same = true;
      for (let j = 0; j < joints; j++) {
        const d = Math.abs((out.position[j] as number) - (c.position[j] as number));
        const name = names[j] as string;
        if (!(d <= (result.max_deviation[name] as number))) result.max_deviation[name] = d;
        if (d !== 0) {
          same = false;
          result.first_difference ??= {
            tick,
            joint: name,
            recorded: c.position[j] as number,
            replayed: out.position[j] as number,
          };
        }
        if (c.velocity) {
          hasVelocity = true;
          const dv = Math.abs((out.velocity[j] as number) - (c.velocity[j] as number));
          if (!(dv <= (velocityDeviation[j] as number))) velocityDeviation[j] = dv;
          if (dv !== 0) same = false;
        }
      }
      if (same) result.identical++;
    }
  }
  result.ticks = lastTick + 1;
  result.skipped_ticks = skipped.size;
  if (hasVelocity)
    result.max_velocity_deviation = Object.fromEntries(
      names.map((n, j) => [n, velocityDeviation[j] as number]),
    );
  result.exact = result.identical === result.commands && missing === 0;
  return result;
}

function recordedSetup(text: string, source: string) {
  let json: Partial<RecordedControlSetup>;
  try {
    json = JSON.parse(text) as Partial<RecordedControlSetup>;
  } catch (err) {
    throw new InputError(source, 'data', `is not JSON: ${(err as Error).message}`);
  }
  if (typeof json.epoch_start_ns !== 'string' || !/^\d+$/.test(json.epoch_start_ns))
    throw new InputError(source, 'epoch_start_ns', 'must be a decimal integer string of ns');
  return {
    epochStartNs: BigInt(json.epoch_start_ns),
    setup: controlSetupFromJson(JSON.stringify(json.setup), source),
  };
}

function onlyTopic(topics: string[], file: string): string {
  if (topics.length === 1) return topics[0] as string;
  throw new InputError(
    file,
    'commands',
    topics.length === 0
      ? 'no command messages recorded'
      : `commands on several topics (${topics.join(', ')}): pick one with --commands-topic`,
  );
}
