import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { loadCameraInfo, parseWith, readYamlFile } from '../contract/index.js';
import { topicQosSchema } from '../ros/index.js';

/**
 * The robot profile: one YAML file that describes a robot to both pons nodes (the action
 * spec, its description and limits, the link, the controller, the outputs). Paths in it
 * are relative to the file. Every default lives here, in this schema.
 */

const endpoint = z
  .string()
  .regex(/^(tcp|ipc|inproc):\/\//, 'must be a ZeroMQ endpoint (tcp://, ipc://)');

const linkSchema = z
  .object({
    tokens: endpoint.default('tcp://127.0.0.1:5555'),
    state: endpoint.default('tcp://127.0.0.1:5556'),
    /** CURVE: this side's secret certificate; the brain's authorized-keys directory; the brain's public certificate (cerebellum). */
    curve_secret: z.string().optional(),
    authorized_keys: z.string().optional(),
    server_key: z.string().optional(),
    insecure: z.boolean().default(false),
    /** Token packets whose observation is older than this are dropped (ms). */
    max_age_ms: z.number().positive().default(1000),
  })
  .strict();

const blendingSchema = z.discriminatedUnion('policy', [
  z.object({ policy: z.literal('latest') }).strict(),
  z
    .object({ policy: z.literal('crossfade'), window_s: z.number().positive().default(0.1) })
    .strict(),
  z
    .object({ policy: z.literal('ensemble'), decay: z.number().nonnegative().default(0.5) })
    .strict(),
]);

const vec3 = z.tuple([z.number(), z.number(), z.number()]);

const safetySchema = z
  .object({
    /** Kept clear of the URDF position limits (rad or m). */
    position_margin: z.number().nonnegative().default(0.02),
    /** Largest |command − measured| per joint (rad or m). */
    max_step_from_measured: z.number().positive().default(0.25),
    workspace: z
      .object({ min: vec3, max: vec3 })
      .strict()
      .refine((w) => w.min.every((v, i) => v < (w.max[i] as number)), 'min must be below max')
      .optional(),
    on_violation: z.enum(['clamp', 'reject']).default('clamp'),
  })
  .strict();

const outputSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('none') }).strict(),
  /** Commands as JSON lines, one per tick: the sink until a robot or simulator is attached. */
  z.object({ kind: z.literal('record'), path: z.string() }).strict(),
  /**
   * A robot or simulator without ROS (the embedded simulator): commands on its command bus,
   * measured joint states from its observation bus.
   */
  z
    .object({
      kind: z.literal('bus'),
      commands: endpoint.default('tcp://127.0.0.1:5558'),
      observations: endpoint.default('tcp://127.0.0.1:5557'),
    })
    .strict(),
  z
    .object({
      kind: z.literal('ros'),
      /**
       * `trajectory` → trajectory_msgs/JointTrajectory; `forward` → std_msgs/Float64MultiArray;
       * for a mobile base, `twist_stamped` → geometry_msgs/TwistStamped (Jazzy's
       * diff_drive_controller) or `twist` → geometry_msgs/Twist.
       */
      command: z.enum(['trajectory', 'forward', 'twist_stamped', 'twist']).default('forward'),
      twist_topic: z.string().default('/cmd_vel'),
      trajectory_topic: z.string().default('/joint_trajectory_controller/joint_trajectory'),
      forward_topic: z.string().default('/forward_command_controller/commands'),
      joint_states_topic: z.string().default('/joint_states'),
      estop_topic: z.string().default('/pons/estop'),
      diagnostics_topic: z.string().default('/diagnostics'),
      /** Publish every n-th control tick (a JointTrajectoryController does not need 1 kHz). */
      decimation: z.int().positive().default(1),
      /**
       * QoS per topic name: a profile name (`sensor_data`, `reliable`, …) or policies over one.
       * Unnamed topics: commands, e-stop and diagnostics reliable; joint states sensor_data.
       */
      qos: topicQosSchema.default({}),
    })
    .strict(),
]);

type Output = z.infer<typeof outputSchema>;

/** An output with every default, for `--output ros|bus` on a profile that names another. */
export function outputDefaults<K extends 'ros' | 'bus'>(kind: K): Extract<Output, { kind: K }> {
  return outputSchema.parse({ kind }) as Extract<Output, { kind: K }>;
}

/**
 * Record what the node sees and emits to this rosbag2 MCAP file (`--record` overrides it).
 * Relative to the working directory, as an output; `{stamp}` becomes the start time
 * (20261202T004512Z), so runs do not overwrite each other. None by default.
 */
const recordSchema = z
  .string()
  .regex(/\.mcap$/, 'must name a .mcap file')
  .optional();

/** A profile's `record` path with its `{stamp}` filled in. */
export function recordPath(template: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
  return template.replaceAll('{stamp}', stamp);
}

const cerebellumSchema = z
  .object({
    rate_hz: z.number().min(100).max(1000).default(500),
    /** The control thread spins this long before each tick instead of sleeping (µs). */
    spin_us: z.number().nonnegative().max(2000).default(300),
    interpolation: z.enum(['linear', 'cubic']).default('cubic'),
    blending: blendingSchema.default({ policy: 'crossfade', window_s: 0.1 }),
    /**
     * Each chunk is smoothed to a least-squares polynomial of this degree over its steps
     * before it is executed (removes token quantization); `null` executes the steps as they are.
     */
    smoothing_degree: z.int().min(0).max(8).nullable().default(2),
    /**
     * Bandwidth of the tracker that joins and follows the chunks before the safety filter
     * (critically damped, velocity feed-forward); `null` hands chunk values to the filter.
     */
    tracking_bandwidth_hz: z.number().positive().max(100).nullable().default(5),
    stopping_time_s: z.number().positive().default(0.5),
    state_rate_hz: z.number().positive().max(1000).default(50),
    /**
     * How often commands are handed from the control thread to the sinks (Hz); the control
     * thread's own timing does not depend on it. Higher means fresher output and more
     * wake-ups competing with the control thread for the cores.
     */
    sink_rate_hz: z.number().positive().max(1000).default(100),
    safety: safetySchema.prefault({}),
    /** A learned correction stage package (models/learned-cerebellum); none by default. */
    learned_stage: z.string().optional(),
    output: outputSchema.default({ kind: 'none' }),
    record: recordSchema,
  })
  .strict();

const cameraSchema = z
  .object({
    /** The camera's name: the bus `camera` field, and how logs and metrics call it. */
    name: z.string().min(1).max(128),
    /** ROS topic; `sensor_msgs/CompressedImage` when `compressed`, else `sensor_msgs/Image`. */
    topic: z.string().default('/camera/image_raw'),
    compressed: z.boolean().default(false),
    /** A camera silent this long is reported as timed out (ms). */
    timeout_ms: z.number().positive().default(500),
    /** camera_calibration YAML (camera_info), checked at load; the model sees the raw image. */
    calibration: z.string().optional(),
  })
  .strict();

const brainSchema = z
  .object({
    /** Brain model package directory (docs/model-package.md). */
    model: z.string().default('../../models/tiny-vla'),
    record: recordSchema,
    /** onnxruntime execution providers in order of preference; pons falls back itself. */
    providers: z.array(z.string().min(1)).min(1).default(['cuda', 'cpu']),
    /** Model file variant (transformers.js suffix: fp16, quantized, …); none by default. */
    variant: z.string().optional(),
    /** onnxruntime threads per run; 0 lets onnxruntime choose. */
    threads: z.int().nonnegative().default(0),
    /** Decoding mode; the package's default when absent. */
    mode: z.enum(['autoregressive', 'parallel']).optional(),
    /**
     * Where observations come from: the pons observation bus, ROS 2 topics, or a rosbag2 MCAP
     * recording of those topics (`pons brain --mcap <file>`).
     */
    source: z.enum(['bus', 'ros', 'mcap']).default('bus'),
    bus: endpoint.default('tcp://127.0.0.1:5557'),
    cameras: z
      .array(cameraSchema)
      .min(1)
      .prefault([{ name: 'overhead' }]),
    /** Joint states join each observation (synchronised like a camera) when true. */
    use_joint_states: z.boolean().default(false),
    joint_states_topic: z.string().default('/joint_states'),
    instruction_topic: z.string().default('/pons/instruction'),
    /** The instruction until one arrives from the bus, ROS or the command line. */
    instruction: z.string().optional(),
    /** message_filters ApproximateTime parameters. */
    sync: z
      .object({
        queue_size: z.int().positive().default(10),
        max_interval_ms: z.number().positive().optional(),
        age_penalty: z.number().nonnegative().default(0.1),
      })
      .strict()
      .prefault({}),
    /** Observations older than this when the model is free are dropped as stale (ms). */
    max_observation_age_ms: z.number().positive().default(500),
    /**
     * At most this many decisions per second: a model trained on decisions taken at a fixed
     * rate (models/planar-vla: 2 Hz, as the expert decided) acts on that rate, not on every
     * frame. Unlimited by default.
     */
    max_rate_hz: z.number().positive().optional(),
    /** Decide while the cerebellum reports e-stop (default: the brain pauses). */
    run_during_estop: z.boolean().default(false),
    /** Serve Prometheus metrics on 127.0.0.1:<port>/metrics; off when absent. */
    metrics_port: z.int().min(1).max(65535).optional(),
    diagnostics_topic: z.string().default('/diagnostics'),
  })
  .strict()
  .refine(
    (b) => new Set(b.cameras.map((c) => c.name)).size === b.cameras.length,
    'camera names must be unique',
  );

const profileSchema = z
  .object({
    name: z.string().min(1),
    spec: z.string(),
    robot: z
      .object({
        urdf: z.string(),
        base_link: z.string().default('base_link'),
        /** The arm's end-effector link (arms: joint and end-effector specs). */
        tip_link: z.string().optional(),
        joint_limits: z.string().optional(),
        /**
         * A mobile base's rate limits (base_twist specs): per component in the spec's order,
         * or one for all. The spec's dimension limits are the speed limits.
         */
        base: z
          .object({
            max_acceleration: z.union([z.number().positive(), z.array(z.number().positive())]),
            max_jerk: z.union([z.number().positive(), z.array(z.number().positive())]).optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    link: linkSchema.prefault({}),
    cerebellum: cerebellumSchema.prefault({}),
    brain: brainSchema.prefault({}),
  })
  .strict();

export type RobotProfile = z.infer<typeof profileSchema> & { file: string };

/** Reads and validates a profile; relative paths come back resolved against its folder. */
export function loadProfile(path: string): RobotProfile {
  const raw = parseWith(profileSchema, readYamlFile(path), path);
  const at = (p: string) => resolve(dirname(path), p);
  const link = raw.link;
  return {
    ...raw,
    file: path,
    spec: at(raw.spec),
    robot: {
      ...raw.robot,
      urdf: at(raw.robot.urdf),
      ...(raw.robot.joint_limits ? { joint_limits: at(raw.robot.joint_limits) } : {}),
    },
    link: {
      ...link,
      ...(link.curve_secret ? { curve_secret: at(link.curve_secret) } : {}),
      ...(link.authorized_keys ? { authorized_keys: at(link.authorized_keys) } : {}),
      ...(link.server_key ? { server_key: at(link.server_key) } : {}),
    },
    brain: {
      ...raw.brain,
      model: at(raw.brain.model),
      cameras: raw.brain.cameras.map((c) => {
        if (!c.calibration) return c;
        const calibration = at(c.calibration);
        loadCameraInfo(calibration); // a broken calibration file fails the profile, not later
        return { ...c, calibration };
      }),
    },
    cerebellum: {
      ...raw.cerebellum,
      ...(raw.cerebellum.learned_stage ? { learned_stage: at(raw.cerebellum.learned_stage) } : {}),
      output:
        raw.cerebellum.output.kind === 'record'
          ? { ...raw.cerebellum.output, path: at(raw.cerebellum.output.path) }
          : raw.cerebellum.output,
    },
  };
}
