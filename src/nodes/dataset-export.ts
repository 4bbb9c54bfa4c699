import { Tokenizer } from '@huggingface/tokenizers';
import type { ModelPackage } from '../brain/index.js';
import { InputError } from '../contract/index.js';
import type { DatasetVocabulary } from '../finetune/align-anything.js';
import { stateText, tokenizerFor } from '../tokenizer/index.js';

/**
 * A model package's prompt and vocabulary, as the Align-Anything export needs them: the user
 * prompt of its `pons.json`, its image token, and each token id spelled as its tokenizer.json
 * spells it (tiny-vla: id 3840 + bin is `<act_bin>`). A vocabulary whose action tokens do not
 * tokenize back to themselves is refused: responses spelled with it would not be those ids.
 */
export function modelVocabulary(pkg: ModelPackage): DatasetVocabulary {
  const tokenizer = new Tokenizer(pkg.tokenizerJson, pkg.tokenizerConfig);
  const source = `${pkg.dir}/tokenizer.json`;
  const tokenText = (id: number) => {
    const text = tokenizer.id_to_token(id);
    if (text === undefined) throw new InputError(source, 'model.vocab', `has no token id ${id}`);
    return text;
  };
  // A response is the action tokens' texts run together: each must tokenize back to its id.
  const { first_id: first, last_id: last } = pkg.manifest.action_tokens;
  for (let id = first; id <= last; id++) {
    const text = tokenText(id);
    const ids = tokenizer.encode(text, { add_special_tokens: false }).ids;
    if (ids.length !== 1 || ids[0] !== id) {
      throw new InputError(
        source,
        `model.vocab[${id}]`,
        `"${text}" tokenizes to [${ids.join(', ')}], not the action id alone`,
      );
    }
  }
  const actions = tokenizerFor(pkg.spec);
  return {
    userPrompt: pkg.manifest.prompt.user,
    imageToken: tokenText(pkg.dims.imageTokenId),
    tokenText,
    stateText: (position) => stateText(actions, position, tokenText),
  };
}
