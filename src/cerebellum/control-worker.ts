import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { PeriodicClock } from './clock.js';
import type {
  ControlCommand,
  ControlEvent,
  ControlStats,
  ToControl,
  WorkerConfig,
} from './control-protocol.js';
import { Controller, type TickOutput } from './controller.js';
import { SafetyFilter } from './safety.js';

/**
 * The control thread. It never awaits anything: each tick it drains the messages waiting
 * from the main thread (chunks, measured states, e-stop) synchronously, runs the
 * controller and posts the command. Decoding, I/O, logging and the main thread's garbage
 * collection happen elsewhere and cannot delay a tick.
 */
const config = workerData as WorkerConfig;
const port = parentPort;
if (!port) throw new Error('control-worker must run in a worker thread');

const joints = config.controller.joints;
const safety = new SafetyFilter(config.safety);
const controller = new Controller(
  { ...config.controller, maxAcceleration: Float64Array.from(config.controller.maxAcceleration) },
  safety,
);
const periodNs = BigInt(Math.round(1e9 / config.rateHz));
const startNs = process.hrtime.bigint() + periodNs;
const clock = new PeriodicClock({
  periodNs,
  spinNs: BigInt(Math.round(config.spinUs * 1e3)),
  startNs,
});
const offsetNs = BigInt(config.epochOffsetNs);
/** Controller time is seconds since tick 0, on the epoch clock shared with the main thread. */
const epochStartNs = startNs + offsetNs;
const toControllerTime = (epochNs: bigint) => Number(epochNs - epochStartNs) / 1e9;

const out: TickOutput = {
  position: new Float64Array(joints),
  velocity: new Float64Array(joints),
  mode: 'hold',
  chunkSeq: -1,
  report: undefined,
};
const lateNs = new Float64Array(Math.min(config.maxTicks ?? 1_000_000, 10_000_000));
let ticks = 0;
let stopping = false;
if (config.initial) controller.initialize(Float64Array.from(config.initial));

function post(message: ControlCommand | ControlEvent | ControlStats): void {
  port?.postMessage(message);
}

function handle(message: ToControl, now: number): void {
  switch (message.type) {
    case 'chunk': {
      const result = controller.ingest(
        message.seq,
        toControllerTime(message.obsNs),
        message.values,
        now,
      );
      if (result !== 'accepted') post({ type: 'event', event: result, seq: message.seq });
      break;
    }
    case 'measured':
      if (!controller.isInitialized) controller.initialize(message.position);
      controller.setMeasured(message.position);
      break;
    case 'estop':
      controller.estop(message.reason);
      post({ type: 'event', event: 'estop', reason: message.reason });
      break;
    case 'reset':
      controller.reset();
      post({ type: 'event', event: 'reset' });
      break;
    case 'stop':
      stopping = true;
      break;
  }
}

while (!stopping) {
  const tick = clock.next();
  if (ticks < lateNs.length) lateNs[ticks] = Number(tick.startNs - tick.dueNs);
  ticks++;
  const now = Number(tick.dueNs - startNs) / 1e9;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    handle(m.message as ToControl, now);
  }
  if (controller.tick(now, out)) {
    post({
      type: 'command',
      index: tick.index,
      stampNs: tick.dueNs + offsetNs,
      position: out.position,
      velocity: out.velocity,
      mode: out.mode,
      chunkSeq: out.chunkSeq,
      clamped: out.report?.clamped ?? false,
    });
  }
}
post({
  type: 'stats',
  ticks,
  skipped: clock.skipped,
  lateNs: lateNs.slice(0, Math.min(ticks, lateNs.length)),
});
