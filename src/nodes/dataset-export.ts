import { Tokenizer } from '@huggingface/tokenizers';
import type { ModelPackage } from '../brain/index.js';
import { InputError } from '../contract/index.js';
import type { DatasetVocabulary } from '../finetune/align-anything.js';

/**
 * A model package's prompt and vocabulary, as the Align-Anything export needs them: the user
 * prompt of its `pons.json`, its image token, and each token id spelled as its tokenizer.json
 * spells it (tiny-vla: id 3840 + bin is `<act_bin>`), so a response text tokenizes back to
 * exactly the recorded ids.
 */
export function modelVocabulary(pkg: ModelPackage): DatasetVocabulary {
  const tokenizer = new Tokenizer(pkg.tokenizerJson, pkg.tokenizerConfig);
  const source = `${pkg.dir}/tokenizer.json`;
  const tokenText = (id: number) => {
    const text = tokenizer.id_to_token(id);
    if (text === undefined) throw new InputError(source, 'model.vocab', `has no token id ${id}`);
    return text;
  };
  return {
    userPrompt: pkg.manifest.prompt.user,
    imageToken: tokenText(pkg.dims.imageTokenId),
    tokenText,
  };
}
