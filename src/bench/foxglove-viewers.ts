import { createInterface } from 'node:readline';
import foxglove from '@foxglove/ws-protocol';
import { WebSocket } from 'ws';
import { emitJson } from '../cli/run-until.js';

/**
 * Foxglove viewers for the recorder benchmark, in their own process: `clients` connect to a
 * live view and subscribe to every channel it advertises; on a `stall` line on stdin the first
 * `stalled` of them stop reading (a viewer on a dead network). On stdin's end each client's
 * received message count is printed as one `viewers` JSON line.
 */
export interface ViewersConfig {
  url: string;
  clients: number;
  stalled: number;
}

export async function runViewers(config: ViewersConfig): Promise<void> {
  const received = new Array<number>(config.clients).fill(0);
  const sockets = await Promise.all(
    received.map(async (_, i) => {
      const ws = new WebSocket(config.url, [foxglove.FoxgloveClient.SUPPORTED_SUBPROTOCOL]);
      const client = new foxglove.FoxgloveClient({ ws });
      client.on('advertise', (channels) => {
        for (const c of channels) client.subscribe(c.id);
      });
      client.on('message', () => {
        received[i] = (received[i] ?? 0) + 1;
      });
      await new Promise((resolve, reject) => {
        ws.once('open', resolve);
        ws.once('error', reject);
      });
      return ws;
    }),
  );
  emitJson('ready', { clients: sockets.length });
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line === 'stall') for (const ws of sockets.slice(0, config.stalled)) ws.pause();
  });
  await new Promise((resolve) => lines.once('close', resolve));
  emitJson('viewers', { received });
  for (const ws of sockets) ws.terminate();
}
