import { parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { PeriodicClock } from './clock.js';
import { CommandRing } from './command-ring.js';
import { ControlCore, createController } from './control-core.js';
import type {
  ControlEvent,
  ControlStarted,
  ControlStats,
  ToControl,
  WorkerConfig,
} from './control-protocol.js';
import type { TickOutput } from './controller.js';
import { InputLog } from './input-log.js';

/**
 * The control thread. It never awaits anything and allocates nothing per tick: each tick
 * it drains the messages waiting from the main thread (chunks, measured states, e-stop)
 * synchronously, runs the controller and writes the command into shared memory. Decoding,
 * I/O, logging and the main thread's garbage collection happen elsewhere and cannot delay
 * a tick.
 */
const config = workerData as WorkerConfig;
const port = parentPort;
if (!port) throw new Error('control-worker must run in a worker thread');

const joints = config.controller.joints;
warmUp();
const ring = new CommandRing(joints, config.ring.slots, config.ring.notifyEvery, config.ring);
const inputLog = config.inputLog && new InputLog(config.inputLog.slots, config.inputLog);
const periodMs = 1000 / config.rateHz;
// Tick 0 is one period from now; the same instant on the epoch clock, for stamps.
const startMs = performance.now() + periodMs;
const epochStartNs =
  process.hrtime.bigint() + BigInt(config.epochOffsetNs) + BigInt(Math.round(periodMs * 1e6));
const clock = new PeriodicClock({ periodMs, spinMs: config.spinUs / 1000, startMs });
const core = new ControlCore(config, epochStartNs);

const out: TickOutput = {
  position: new Float64Array(joints),
  velocity: new Float64Array(joints),
  mode: 'hold',
  chunkSeq: -1,
  report: undefined,
  correction: 0,
};
const lateNs = new Float64Array(Math.min(config.maxTicks ?? 1_000_000, 10_000_000));
let ticks = 0;
let stopping = false;

function post(message: ControlEvent | ControlStarted | ControlStats): void {
  port?.postMessage(message);
}

function handle(message: ToControl, index: number): void {
  if (message.type === 'stop') {
    stopping = true;
    return;
  }
  const result = core.apply(message, index);
  inputLog?.applied(index);
  if (message.type === 'chunk' && result) post({ type: 'event', event: result, seq: message.seq });
  else if (message.type === 'estop')
    post({ type: 'event', event: 'estop', reason: message.reason });
  else if (message.type === 'reset') post({ type: 'event', event: 'reset' });
}

/**
 * Runs the tick path a few thousand times on a throwaway controller and ring before the
 * clock starts, so V8 has compiled it: otherwise the first ticks run interpreted and late.
 */
function warmUp(): void {
  const c = createController(config);
  const scratch = new CommandRing(joints, 16, 1 << 30);
  const o: TickOutput = {
    position: new Float64Array(joints),
    velocity: new Float64Array(joints),
    mode: 'hold',
    chunkSeq: -1,
    report: undefined,
    correction: 0,
  };
  const { horizon } = config.controller;
  const chunk = new Float64Array(horizon * joints);
  const start = config.initial ? Float64Array.from(config.initial) : new Float64Array(joints);
  for (let k = 0; k < horizon; k++) chunk.set(start, k * joints);
  c.initialize(start);
  for (let i = 0; i < 5000; i++) {
    const t = i * 0.001;
    if (i % 100 === 0) c.ingest(i, t, chunk, t);
    if (i === 4000) c.estop('warm-up');
    if (c.tick(t, o)) scratch.write(i, t, o.mode, o.chunkSeq, o.correction, o.position, o.velocity);
  }
}

post({ type: 'started', epochStartNs: epochStartNs.toString() });
let lastIndex = -1;
while (!stopping) {
  const tick = clock.next();
  if (tick.index > lastIndex + 1) inputLog?.skipped(lastIndex + 1, tick.index - lastIndex - 1);
  lastIndex = tick.index;
  if (ticks < lateNs.length) lateNs[ticks] = (tick.startMs - tick.dueMs) * 1e6;
  ticks++;
  for (let m = receiveMessageOnPort(port); m; m = receiveMessageOnPort(port)) {
    handle(m.message as ToControl, tick.index);
  }
  if (core.tick(tick.index, out)) {
    ring.write(
      tick.index,
      tick.index * periodMs,
      out.mode,
      out.chunkSeq,
      out.correction,
      out.position,
      out.velocity,
    );
  }
}
post({
  type: 'stats',
  ticks,
  skipped: clock.skipped,
  lateNs: lateNs.slice(0, Math.min(ticks, lateNs.length)),
});
