import type { ActionSpec } from '../contract/index.js';
import { UniformActionTokenizer } from './uniform.js';

export { UniformActionTokenizer } from './uniform.js';

/** Every tokenizer kind; FAST joins this union when it exists. */
export type ActionTokenizer = UniformActionTokenizer;

/**
 * A joint state (the spec's dimensions, physical units) spelled for a prompt: each value's
 * action token, as the model's vocabulary writes it (tiny-vla: `<act_118>`), so the state
 * tokenizes to the very ids the model emits for those positions.
 */
export function stateText(
  tokenizer: ActionTokenizer,
  position: ArrayLike<number>,
  tokenText: (id: number) => string,
): string {
  return Array.from(tokenizer.encodeStep(position), tokenText).join('');
}

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
