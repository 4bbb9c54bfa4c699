import type { ControlInput, ControlSetup } from '../cerebellum/control-protocol.js';
import { controlSetupFromJson } from '../cerebellum/control-setup-json.js';
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
 * A cerebellum recording read back as its control thread saw it: the setup and tick 0's epoch
 * time, every input with the tick that applied it (in the order sent), the ticks the clock
 * skipped, and the commands with their ticks. What `pons replay --verify` re-runs and what
 * `pons finetune cerebellum` learns from.
 */
export interface ControlRecording {
  file: string;
  setup: ControlSetup;
  epochStartNs: bigint;
  inputs: { index: number; tick: number; input: ControlInput }[];
  /** Inputs missing from the recording (gaps in their index). */
  missingInputs: number;
  /** [first, count] of each run of ticks the control clock skipped. */
  skips: [number, number][];
  commandsTopic: string;
  /** Commands in tick order; values in the setup's joint order. */
  commands: (CommandValues & { tick: number })[];
  read: McapReadReport;
}

export function readControlRecording(
  bytes: Uint8Array,
  file: string,
  options: { commandsTopic?: string; joints?: readonly string[] } = {},
): ControlRecording {
  const read = newReport();
  let recorded: { epochStartNs: bigint; setup: ControlSetup } | undefined;
  const inputs: ControlRecording['inputs'] = [];
  const skips: [number, number][] = [];
  const commandsByTopic = new Map<
    string,
    { type: string; message: unknown; logTimeNs: bigint }[]
  >();
  for (const m of readRos2Mcap(bytes, file, read)) {
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
  const commandsTopic = options.commandsTopic ?? onlyTopic([...commandsByTopic.keys()], file);
  const names = options.joints ?? recorded.setup.safety.limits.names;
  const periodNs = 1e9 / recorded.setup.rateHz;
  const { epochStartNs } = recorded;
  const commands = (commandsByTopic.get(commandsTopic) ?? []).map((c) => ({
    tick: Math.round(Number(c.logTimeNs - epochStartNs) / periodNs),
    ...commandValues(c.type, c.message, names, `${file} ${commandsTopic}`),
  }));
  if (commands.length === 0) throw new InputError(file, commandsTopic, 'has no commands');
  inputs.sort((a, b) => a.index - b.index);
  let missingInputs = 0;
  inputs.forEach((x, i) => {
    missingInputs += x.index - (i === 0 ? 0 : (inputs[i - 1]?.index ?? 0) + 1);
  });
  return {
    file,
    setup: recorded.setup,
    epochStartNs,
    inputs,
    missingInputs,
    skips,
    commandsTopic,
    commands,
    read,
  };
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
