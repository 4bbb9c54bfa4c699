/** Messages between a Recorder (main thread) and its writer thread (recorder-worker.ts). */

export interface RecordedMessage {
  channel: number;
  logTimeNs: bigint;
  data: Uint8Array;
}

export type ToWriter =
  | { type: 'channel'; id: number; topic: string; schemaName: string; schema: string; qos: string }
  | { type: 'messages'; messages: RecordedMessage[] }
  | { type: 'close' };

export type FromWriter =
  | { type: 'ready' }
  /** After each batch: messages written in all, and the file's size. */
  | { type: 'written'; messages: number; bytes: number }
  | { type: 'closed' }
  | { type: 'error'; message: string };
