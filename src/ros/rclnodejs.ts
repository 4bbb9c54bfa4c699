/**
 * rclnodejs, loaded only when a command needs ROS 2. It is an optional dependency: its install
 * builds against a sourced ROS 2 and fails (and is left out) everywhere else, so nothing in pons
 * imports it statically. `loadRclnodejs()` either returns the module or throws a
 * RosUnavailableError whose message is one line saying how to fix it.
 *
 * It checks before importing: rclnodejs, imported without a built native part, runs
 * `npm run rebuild` (node-gyp, minutes) inside the import; pons does not let that happen in a
 * shell where ROS 2 is not sourced.
 */
import { createRequire } from 'node:module';
import type { RclnodejsQosClass } from './qos.js';

/** The part of rclnodejs's API pons uses (rclnodejs 2.x). */
export interface Rclnodejs {
  init(): Promise<void>;
  shutdown(): void | Promise<void>;
  isShutdown?(): boolean;
  Node: new (name: string, namespace?: string) => RclNode;
  QoS: RclnodejsQosClass;
}

export interface RclNode {
  createPublisher(type: string, topic: string, options?: { qos?: unknown }): RclPublisher;
  createSubscription(
    type: string,
    topic: string,
    options: { qos?: unknown; enableTypedArray?: boolean; isRaw?: boolean },
    callback: (message: unknown) => void,
  ): unknown;
  /** ROS time: follows /clock when the node's use_sim_time parameter is true. */
  now(): { nanoseconds: bigint };
  spin(timeout?: number): void;
  destroy(): void;
}

export interface RclPublisher {
  /** A message object in rclnodejs's JS shape, or a Buffer of pre-serialized CDR. */
  publish(message: object | Buffer): void;
}

/** ROS 2 cannot be used from this process; `message` is one line saying how to fix it. */
export class RosUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RosUnavailableError';
  }
}

export interface LoadRclnodejsOptions {
  /** Environment to check (default process.env). */
  env?: NodeJS.ProcessEnv;
  /** Resolves the package without running it; throws when it is not installed. */
  resolve?: (specifier: string) => string;
  /** Imports the package (default: dynamic import). */
  importModule?: (specifier: string) => Promise<unknown>;
}

const SPECIFIER = 'rclnodejs';
let loaded: Promise<Rclnodejs> | undefined;

/**
 * Loads rclnodejs once (later calls share the first successful load). Throws
 * RosUnavailableError when it is not installed, when ROS 2 is not sourced, or when its native
 * part does not load.
 */
export function loadRclnodejs(options: LoadRclnodejsOptions = {}): Promise<Rclnodejs> {
  const custom =
    options.env !== undefined ||
    options.resolve !== undefined ||
    options.importModule !== undefined;
  if (!custom && loaded) return loaded;
  const attempt = load(options);
  if (!custom) {
    loaded = attempt;
    attempt.catch(() => {
      if (loaded === attempt) loaded = undefined;
    });
  }
  return attempt;
}

async function load(options: LoadRclnodejsOptions): Promise<Rclnodejs> {
  const env = options.env ?? process.env;
  const resolve = options.resolve ?? createRequire(import.meta.url).resolve;
  const importModule = options.importModule ?? ((specifier: string) => import(specifier));
  const setup = `/opt/ros/${env.ROS_DISTRO || '<distro>'}/setup.bash`;

  try {
    resolve(SPECIFIER);
  } catch (error) {
    // Any other resolution error (an exports mismatch, say) means it is there: try importing.
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND' || code === undefined) {
      throw new RosUnavailableError(
        `ROS 2 is not available: source ${setup} and run \`npm install rclnodejs\` (pons was installed without it)`,
      );
    }
  }
  if (!env.AMENT_PREFIX_PATH) {
    throw new RosUnavailableError(
      `ROS 2 is not available: source ${setup} before running this command (AMENT_PREFIX_PATH is not set)`,
    );
  }
  let mod: unknown;
  try {
    mod = await importModule(SPECIFIER);
  } catch (error) {
    throw new RosUnavailableError(
      `ROS 2 is not available: rclnodejs did not load (${firstLine(error)}); source ${setup} and run \`npm rebuild rclnodejs\``,
      { cause: error },
    );
  }
  const rcl = ((mod as { default?: unknown }).default ?? mod) as Partial<Rclnodejs>;
  if (
    typeof rcl.init !== 'function' ||
    typeof rcl.Node !== 'function' ||
    typeof rcl.QoS !== 'function'
  ) {
    throw new RosUnavailableError(
      'ROS 2 is not available: the installed rclnodejs lacks init/Node/QoS; run `npm install rclnodejs@^2` with ROS 2 sourced',
    );
  }
  return rcl as Rclnodejs;
}

function firstLine(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  const line = text.split('\n').find((l) => l.trim() !== '') ?? 'unknown error';
  return line.length > 160 ? `${line.slice(0, 157)}...` : line.trim();
}
