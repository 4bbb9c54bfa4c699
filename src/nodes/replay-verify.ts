import { ControlCore } from '../cerebellum/control-core.js';
import type { ControlSetup } from '../cerebellum/control-protocol.js';
import { newTickOutput } from '../cerebellum/controller.js';
import type { McapReadReport } from '../record/mcap-read.js';
import { readControlRecording } from './control-recording.js';

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

export function verifyReplay(options: VerifyOptions): VerifyResult {
  const { file } = options;
  const recording = readControlRecording(options.bytes, file, {
    ...(options.commandsTopic ? { commandsTopic: options.commandsTopic } : {}),
  });
  const { inputs, skips, commands, read } = recording;
  const missing = recording.missingInputs;
  const topic = recording.commandsTopic;
  const setup = options.against ? options.against(recording.setup) : recording.setup;
  const names = setup.safety.limits.names;
  const core = new ControlCore(setup, recording.epochStartNs);
  const joints = names.length;
  const out = newTickOutput(joints);
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
  // Not Math.max(...): an hour at 500 Hz is more arguments than a call can take.
  const lastTick = commands.reduce((last, c) => Math.max(last, c.tick), 0);
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
      const c = commands[nextCommand] as (typeof commands)[number];
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
