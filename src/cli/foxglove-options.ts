import type { Command } from 'commander';
import { InputError } from '../contract/index.js';
import type { NodeSinkOptions } from '../nodes/node-sinks.js';

export interface FoxgloveFlags {
  foxglove?: string;
  foxgloveHost: string;
  foxgloveSendBuffer?: string;
}

/** The flags of the nodes that serve their topics live (`pons brain`, `pons cerebellum`). */
export function addFoxgloveFlags(command: Command): Command {
  return command
    .option(
      '--foxglove <port>',
      'serve the recorded topics live over the Foxglove WebSocket protocol (0: any free port)',
    )
    .option('--foxglove-host <address>', 'address the live view listens on', '127.0.0.1')
    .option(
      '--foxglove-send-buffer <bytes>',
      "bytes queued for one client past which that client's messages are dropped (default 4 MiB)",
    );
}

export function foxgloveOptions(flags: FoxgloveFlags): NodeSinkOptions['foxglove'] {
  if (flags.foxglove === undefined) return undefined;
  const port = integerFlag(flags.foxglove, '--foxglove', 0, 65535);
  const buffer = flags.foxgloveSendBuffer;
  return {
    port,
    host: flags.foxgloveHost,
    ...(buffer === undefined
      ? {}
      : { sendBufferBytes: integerFlag(buffer, '--foxglove-send-buffer', 1, 2 ** 31) }),
  };
}

/** An integer flag's value, or a one-line error naming the flag. */
export function integerFlag(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new InputError(
      'command line',
      flag,
      `must be an integer from ${min} to ${max}, not "${text}"`,
    );
  }
  return value;
}
