import { type ActionSpec, parseActionSpec } from '../contract/index.js';

/**
 * The benchmarks' action space: OpenVLA's 7-D end-effector delta + gripper with H=8
 * steps, i.e. 56 tokens per packet, the size the link goals are stated for.
 */
export function benchSpec(): ActionSpec {
  const dims = [
    ['dx', 'm', 'ee_delta_position'],
    ['dy', 'm', 'ee_delta_position'],
    ['dz', 'm', 'ee_delta_position'],
    ['droll', 'rad', 'ee_delta_rotation'],
    ['dpitch', 'rad', 'ee_delta_rotation'],
    ['dyaw', 'rad', 'ee_delta_rotation'],
    ['gripper', '1', 'gripper'],
  ] as const;
  const n = dims.length;
  return parseActionSpec(
    {
      name: 'bench-ee7',
      horizon: 8,
      dt: 0.05,
      dimensions: dims.map(([name, unit, kind]) => ({ name, unit, kind, lower: -1, upper: 1 })),
      tokenizer: { type: 'uniform', bins: 256, vocab_size: 32000 },
      statistics: {
        mean: new Array(n).fill(0),
        std: new Array(n).fill(0.5),
        min: new Array(n).fill(-1),
        max: new Array(n).fill(1),
        q01: new Array(n).fill(-1),
        q99: new Array(n).fill(1),
        mask: [true, true, true, true, true, true, false],
      },
    },
    'bench spec',
  );
}
