import { closeSync, fsyncSync, mkdirSync, openSync, readlinkSync, writeSync } from 'node:fs';
import { setPriority } from 'node:os';
import { dirname } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { compress, init as initZstd } from '@bokuweb/zstd-wasm';
import { McapWriter } from '@mcap/core';
import type { FromWriter, ToWriter } from './recorder-protocol.js';

/**
 * The recorder's writer thread: MCAP chunking, zstd compression and the file writes, off the
 * node's main thread. On Linux it lowers its own scheduling priority, so that on a small CPU
 * the control thread (and the main thread feeding it) win the cores whenever they want them:
 * compressing two raw cameras takes most of a core, and would otherwise delay control ticks.
 * Each chunk goes to the file as soon as it is complete, with a plain write, so a process
 * killed mid-recording leaves a file that reads back up to its last completed chunk.
 */
const { path, chunkBytes, nice } = workerData as { path: string; chunkBytes: number; nice: number };
const port = parentPort;
if (!port) throw new Error('recorder-worker must run in a worker thread');

function lowerPriority(): void {
  try {
    // `/proc/thread-self` → "<pid>/task/<tid>"; setpriority on a tid affects that thread only.
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (Number.isInteger(tid)) setPriority(tid, nice);
  } catch {
    // Not Linux, or not allowed: the writer runs at normal priority.
  }
}

const post = (message: FromWriter) => port.postMessage(message);
mkdirSync(dirname(path), { recursive: true });
const fd = openSync(path, 'w');
let bytes = 0;
let written = 0;
let sequence = 0;
const writer = new McapWriter({
  writable: {
    position: () => BigInt(bytes),
    write: async (buffer: Uint8Array) => {
      writeSync(fd, buffer);
      bytes += buffer.byteLength;
    },
  },
  chunkSize: chunkBytes,
  compressChunk: (data) => ({ compression: 'zstd', compressedData: compress(data, 3) }),
});

// @mcap/core's writer must be awaited call by call: one chain, in arrival order, after the
// file's header.
let chain = (async () => {
  lowerPriority();
  await initZstd();
  await writer.start({ profile: 'ros2', library: 'pons' });
  post({ type: 'ready' });
})();
async function handle(message: ToWriter): Promise<void> {
  switch (message.type) {
    case 'channel':
      await writer.registerSchema({
        name: message.schemaName,
        encoding: 'ros2msg',
        data: new TextEncoder().encode(message.schema),
      });
      await writer.registerChannel({
        schemaId: message.id + 1,
        topic: message.topic,
        messageEncoding: 'cdr',
        metadata: new Map([['offered_qos_profiles', message.qos]]),
      });
      return;
    case 'messages':
      for (const m of message.messages) {
        await writer.addMessage({
          channelId: m.channel,
          sequence: sequence++,
          logTime: m.logTimeNs,
          publishTime: m.logTimeNs,
          data: m.data,
        });
      }
      written += message.messages.length;
      post({ type: 'written', messages: written, bytes });
      return;
    case 'close':
      await writer.end();
      fsyncSync(fd);
      closeSync(fd);
      post({ type: 'written', messages: written, bytes });
      post({ type: 'closed' });
      return;
  }
}

port.on('message', (message: ToWriter) => {
  chain = chain
    .then(() => handle(message))
    .catch((err: Error) => post({ type: 'error', message: err.message }));
});
