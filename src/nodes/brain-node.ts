import { type Observable, type Subscription, tap } from 'rxjs';
import { percentile, round } from '../bench/percentiles.js';
import type { BrainRuntime, Decision, DecodingMode, Frame } from '../brain/index.js';
import { InputError, JointOrder } from '../contract/index.js';
import type { LinkLog, LinkServer } from '../link/index.js';
import {
  type GateCounters,
  newestWins,
  newGateCounters,
  newSyncCounters,
  type SensorEvent,
  type SyncCounters,
  type SyncedSet,
  synchronize,
} from '../observe/index.js';
import type { Mode, StatePacket, TokensPacket } from '../wire/index.js';
import type { RobotProfile } from './profile.js';

/**
 * The brain node: sensor events (frames, joint states) from any source are synchronised,
 * gated (one inference in flight, newest wins, stale ones dropped) and decided on by the
 * brain runtime; each decision goes out on the link as a `tokens` packet stamped with the
 * observation's capture time. The instruction is whatever arrived last; it applies from the
 * next decision. While the cerebellum reports e-stop the brain does not run (unless the
 * profile says otherwise). The model sees the first camera, and the joint state where its
 * prompt holds one; other cameras and the joint states are synchronised with it, so every
 * decision has a consistent set.
 */

export type BrainPayload =
  | { kind: 'frame'; frame: Frame }
  | { kind: 'joints'; name: string[]; position: Float64Array };

export type BrainEvent = SensorEvent<BrainPayload>;

/** The topic name joint states travel under in the synchroniser. */
export const JOINTS_TOPIC = 'joint_states';

export interface BrainNodeOptions {
  profile: RobotProfile;
  brain: BrainRuntime;
  link: LinkServer;
  /** Frames (topic = camera name) and joint states (topic JOINTS_TOPIC). */
  sensors: Observable<BrainEvent>;
  instructions: Observable<string>;
  /** The instruction until one arrives (profile or command line). */
  instruction?: string;
  episodeId: string;
  mode?: DecodingMode;
  /** Now on the observations' clock (epoch ns, or sim time) for staleness. */
  now: () => bigint;
  /** Monotonic ns (process.hrtime) for latency accounting. */
  monotonic?: () => bigint;
  log: LinkLog;
  /** Called after each packet is published (recorders, benchmarks). */
  onDecision?: (decided: DecisionRecord) => void;
}

/** One published decision and what the pipeline around the model cost. */
export interface DecisionRecord {
  set: SyncedSet<BrainPayload>;
  decision: Decision;
  /** The packet as it went out on the link. */
  packet: TokensPacket;
  /** Primary frame received → packet sent, less model time and any wait for a busy model. */
  pipelineMs: number;
  /** How long the observation waited for the model to finish an earlier one. */
  waitedMs: number;
}

/** The last decisions' timings kept for percentiles. */
const WINDOW = 500;

export interface BrainHealth {
  provider: string;
  decisions: number;
  decisions_per_s: number;
  instruction: string | null;
  cerebellum_mode: Mode | null;
  latency_ms: Record<string, { p50: number; p99: number }>;
  gate: GateCounters & { no_instruction: number; estop: number };
  sync: SyncCounters;
  bad_instructions: number;
  camera_timeouts: Record<string, number>;
  cameras_silent: string[];
}

export class BrainNode {
  private instruction: string | undefined;
  private cerebellumMode: Mode | undefined;
  private decisions = 0;
  private badInstructions = 0;
  private readonly gate = newGateCounters();
  private readonly pauses = { no_instruction: 0, estop: 0 };
  private readonly sync = newSyncCounters();
  private readonly recent: DecisionRecord[] = [];
  private readonly decidedAt: number[] = [];
  private readonly lastFrame = new Map<string, number>();
  private readonly silent = new Set<string>();
  private readonly timeouts: Record<string, number> = {};
  private readonly subscriptions: Subscription[] = [];
  private readonly watchdog: NodeJS.Timeout;
  private readonly monotonic: () => bigint;
  private idleWaiters: (() => void)[] = [];
  private running = 0;
  /** The joint state in the spec's dimensions, for a package whose prompt holds it. */
  private readonly stateOrder: JointOrder;

  constructor(private readonly options: BrainNodeOptions) {
    this.monotonic = options.monotonic ?? process.hrtime.bigint;
    const { brain, profile } = options;
    const b = profile.brain;
    if (options.instruction !== undefined) this.setInstruction(options.instruction, 'profile');
    const cameras = b.cameras.map((c) => c.name);
    if (brain.needsState && !b.use_joint_states) {
      throw new InputError(
        profile.file,
        'brain.use_joint_states',
        `must be true: ${brain.pkg.dir} decides from the joint state as well as the camera`,
      );
    }
    this.stateOrder = new JointOrder(brain.pkg.spec.dimensions.map((d) => d.name));
    const topics = b.use_joint_states ? [...cameras, JOINTS_TOPIC] : cameras;
    const started = Date.now();
    for (const c of cameras) this.lastFrame.set(c, started);
    options.link.onState((state: StatePacket) => {
      if (state.mode !== this.cerebellumMode) {
        options.log.info(`cerebellum mode ${state.mode}`);
        if (state.mode === 'estop' && !b.run_during_estop) {
          options.log.warn('cerebellum is e-stopped: the brain pauses until it is released');
        }
      }
      this.cerebellumMode = state.mode;
    });

    this.subscriptions.push(
      options.instructions.subscribe((text) => this.setInstruction(text, 'instruction source')),
    );
    this.subscriptions.push(
      options.sensors
        .pipe(
          tap((e) => {
            if (e.payload.kind === 'frame') this.frameArrived(e.topic);
          }),
          synchronize<BrainPayload>(
            topics,
            {
              queueSize: b.sync.queue_size,
              agePenalty: b.sync.age_penalty,
              ...(b.sync.max_interval_ms === undefined
                ? {}
                : { maxIntervalNs: BigInt(Math.round(b.sync.max_interval_ms * 1e6)) }),
            },
            this.sync,
          ),
          newestWins((set: SyncedSet<BrainPayload>) => this.decide(set), {
            maxAgeNs: BigInt(Math.round(b.max_observation_age_ms * 1e6)),
            ...(b.max_rate_hz === undefined
              ? {}
              : { minPeriodNs: BigInt(Math.round(1e9 / b.max_rate_hz)) }),
            stampOf: (set) => set.stampNs,
            now: options.now,
            ready: () => this.ready(),
            counters: this.gate,
            onError: (err) => options.log.warn(`decision failed: ${(err as Error).message}`),
          }),
        )
        .subscribe(({ observation, result, waitedNs }) =>
          this.publish(observation, result, waitedNs),
        ),
    );
    this.watchdog = setInterval(() => this.checkCameras(), 100);
    this.watchdog.unref();
    options.log.info(
      `brain node: ${brain.pkg.manifest.name} on ${brain.provider}, cameras ${cameras.join(', ')}` +
        `${b.use_joint_states ? ' + joint states' : ''}, ${brain.tokensPerDecision} tokens per decision`,
    );
  }

  /** Resolves when no decision is in flight (for orderly shutdown). */
  idle(): Promise<void> {
    if (this.running === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  health(): BrainHealth {
    const now = Date.now();
    while (this.decidedAt.length > 0 && (this.decidedAt[0] as number) < now - 5000) {
      this.decidedAt.shift();
    }
    const pct = (values: number[]) => ({
      p50: round(percentile(values, 50), 3),
      p99: round(percentile(values, 99), 3),
    });
    const t = this.recent.map((r) => r.decision.timings);
    return {
      provider: this.options.brain.provider,
      decisions: this.decisions,
      decisions_per_s: round(this.decidedAt.length / 5, 2),
      instruction: this.instruction ?? null,
      cerebellum_mode: this.cerebellumMode ?? null,
      latency_ms: {
        preprocess: pct(t.map((x) => x.preprocess_ms)),
        vision: pct(t.map((x) => x.vision_ms)),
        prefill: pct(t.map((x) => x.prefill_ms)),
        decode: pct(t.map((x) => x.tokens_ms.reduce((a, b) => a + b, 0))),
        decision: pct(t.map((x) => x.total_ms)),
        pipeline: pct(this.recent.map((r) => r.pipelineMs)),
        waited: pct(this.recent.map((r) => r.waitedMs)),
      },
      gate: { ...this.gate, ...this.pauses },
      sync: { ...this.sync, overflow: { ...this.sync.overflow } },
      bad_instructions: this.badInstructions,
      camera_timeouts: { ...this.timeouts },
      cameras_silent: [...this.silent],
    };
  }

  close(): void {
    clearInterval(this.watchdog);
    for (const s of this.subscriptions) s.unsubscribe();
  }

  private setInstruction(text: string, source: string): void {
    try {
      this.options.brain.encodeInstruction(text, source);
    } catch (err) {
      this.badInstructions++;
      this.options.log.warn(`refused instruction: ${(err as Error).message}`);
      return;
    }
    if (text !== this.instruction) this.options.log.info(`instruction: "${text.trim()}"`);
    this.instruction = text;
  }

  private ready(): boolean {
    if (this.instruction === undefined) {
      this.pauses.no_instruction++;
      return false;
    }
    if (this.cerebellumMode === 'estop' && !this.options.profile.brain.run_during_estop) {
      this.pauses.estop++;
      return false;
    }
    return true;
  }

  private async decide(set: SyncedSet<BrainPayload>): Promise<Decision> {
    const primary = set.events[0] as BrainEvent;
    if (primary.payload.kind !== 'frame') throw new Error('the first topic must be a camera');
    this.running++;
    try {
      return await this.options.brain.decide(primary.payload.frame, this.instruction as string, {
        source: `camera ${primary.topic}`,
        ...(this.options.brain.needsState ? { state: this.state(set) } : {}),
        ...(this.options.mode === undefined ? {} : { mode: this.options.mode }),
      });
    } finally {
      this.running--;
      if (this.running === 0) {
        for (const resolve of this.idleWaiters.splice(0)) resolve();
      }
    }
  }

  private state(set: SyncedSet<BrainPayload>): Float64Array {
    const joints = set.events.find((e) => e.payload.kind === 'joints');
    const { joints: names } = this.stateOrder;
    if (
      joints?.payload.kind !== 'joints' ||
      !this.stateOrder.take(joints.payload.name, joints.payload.position)
    ) {
      throw new InputError(
        `topic ${this.options.profile.brain.joint_states_topic}`,
        'name',
        `lacks a joint of the spec (${names.join(', ')})`,
      );
    }
    return Float64Array.from(this.stateOrder.position);
  }

  private publish(set: SyncedSet<BrainPayload>, decision: Decision, waitedNs: bigint): void {
    const t = decision.timings;
    const decode = t.tokens_ms.reduce((a, b) => a + b, 0);
    const packet = this.options.link.publishTokens({
      episode_id: this.options.episodeId,
      obs_stamp_ns: set.stampNs,
      tokens: decision.tokens,
      timings_ms: {
        preprocess: t.preprocess_ms,
        vision: t.vision_ms,
        prefill: t.prefill_ms,
        decode,
        total: t.total_ms,
      },
    });
    const received = (set.events[0] as BrainEvent).receivedNs;
    const sinceReceivedMs = Number(this.monotonic() - received) / 1e6;
    const waitedMs = Number(waitedNs) / 1e6;
    const record = {
      set,
      decision,
      packet,
      pipelineMs: sinceReceivedMs - waitedMs - t.total_ms,
      waitedMs,
    };
    this.recent.push(record);
    if (this.recent.length > WINDOW) this.recent.shift();
    this.options.onDecision?.(record);
    this.decisions++;
    this.decidedAt.push(Date.now());
  }

  private frameArrived(camera: string): void {
    this.lastFrame.set(camera, Date.now());
    if (this.silent.delete(camera)) this.options.log.info(`camera ${camera}: frames again`);
  }

  private checkCameras(): void {
    const now = Date.now();
    for (const camera of this.options.profile.brain.cameras) {
      const last = this.lastFrame.get(camera.name) ?? now;
      if (now - last > camera.timeout_ms && !this.silent.has(camera.name)) {
        this.silent.add(camera.name);
        this.timeouts[camera.name] = (this.timeouts[camera.name] ?? 0) + 1;
        this.options.log.warn(
          `camera ${camera.name}: no frame for ${now - last} ms (timeout ${camera.timeout_ms} ms)`,
        );
      }
    }
  }
}
