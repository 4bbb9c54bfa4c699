import type { ActionSpec } from '../contract/index.js';
import { UniformActionTokenizer } from './uniform.js';

export { UniformActionTokenizer } from './uniform.js';

/** Every tokenizer kind; FAST joins this union when it exists. */
export type ActionTokenizer = UniformActionTokenizer;

/** The tokenizer a spec names. */
export function tokenizerFor(spec: ActionSpec): ActionTokenizer {
  const type = spec.tokenizer.type;
  switch (type) {
    case 'uniform':
      return new UniformActionTokenizer(spec);
    default:
      // Unreachable for validated specs; a hand-built one may still name something else.
      throw new RangeError(`unknown tokenizer type ${String(type satisfies never)}`);
  }
}
