import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import { fillPrompt, InputError, promptNeedsState } from '../contract/index.js';
import { type ActionTokenizer, stateText, tokenizerFor } from '../tokenizer/index.js';
import type { ModelPackage } from './model-package.js';

/**
 * Instruction (and joint state, for a package whose prompt holds `{state}`) → the model's
 * input ids: `pons.json`'s user message filled in (contract `fillPrompt`), rendered by the
 * package's chat template, tokenized by its tokenizer.json, with the image token expanded to
 * one id per image feature (as LlavaProcessor does).
 */

/** Longer instructions are refused: no robot task needs them, and they cost prefill time. */
export const MAX_INSTRUCTION_CHARS = 2000;

export interface EncodedPrompt {
  /** The rendered chat text. */
  text: string;
  /** Token ids with the image token expanded. */
  ids: BigInt64Array;
  /** Index in `ids` of the first image position (they are contiguous). */
  imageStart: number;
}

export class PromptEncoder {
  private readonly template: Template;
  private readonly tokenizer: Tokenizer;
  private readonly specialTokens: Record<string, string>;
  private readonly addedTokens: string[];
  private readonly user: string;
  private readonly addSpecialTokens: boolean;
  private readonly imageTokenId: number;
  private readonly imageTokens: number;
  private readonly actions: ActionTokenizer;
  /** The prompt holds the joint state: every decision needs one. */
  readonly needsState: boolean;
  private last: { key: string; prompt: EncodedPrompt } | undefined;

  constructor(pkg: ModelPackage) {
    const config = pkg.tokenizerConfig;
    const source = `${pkg.dir}/tokenizer_config.json`;
    try {
      this.template = new Template(config.chat_template as string);
    } catch (err) {
      throw new InputError(
        source,
        'chat_template',
        `is not a valid template: ${(err as Error).message}`,
      );
    }
    try {
      this.tokenizer = new Tokenizer(pkg.tokenizerJson, config);
    } catch (err) {
      throw new InputError(
        `${pkg.dir}/tokenizer.json`,
        '',
        `cannot be loaded: ${(err as Error).message}`,
      );
    }
    this.specialTokens = {};
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const token = tokenText(config[key]);
      if (token !== undefined) this.specialTokens[key] = token;
    }
    this.addedTokens = [...this.tokenizer.get_added_tokens_decoder().values()]
      .map((t) => t.content)
      .filter((t) => t.length > 0);
    this.user = pkg.manifest.prompt.user;
    this.addSpecialTokens = pkg.manifest.prompt.add_special_tokens;
    this.imageTokenId = pkg.dims.imageTokenId;
    this.imageTokens = pkg.dims.imageTokens;
    this.actions = tokenizerFor(pkg.spec);
    this.needsState = promptNeedsState(this.user);
  }

  /**
   * Encodes `instruction`, with `state` (joint positions in the spec's dimensions) where the
   * prompt holds it; the last encoding is kept, as instruction and state rarely both change.
   */
  encode(instruction: string, source = 'instruction', state?: ArrayLike<number>): EncodedPrompt {
    const spelled = this.needsState ? this.spellState(state, source) : undefined;
    const key = spelled === undefined ? instruction : `${spelled}\n${instruction}`;
    if (this.last?.key === key) return this.last.prompt;
    const trimmed = instruction.trim();
    if (trimmed === '') throw new InputError(source, 'text', 'is empty');
    if (trimmed.length > MAX_INSTRUCTION_CHARS) {
      throw new InputError(
        source,
        'text',
        `has ${trimmed.length} characters, more than ${MAX_INSTRUCTION_CHARS}`,
      );
    }
    // An instruction spelling a special token (an image token above all) would change the
    // prompt's structure; such text never comes from a person.
    const special = this.addedTokens.find((t) => trimmed.includes(t));
    if (special !== undefined) {
      throw new InputError(source, 'text', `contains the special token "${special}"`);
    }
    const content = fillPrompt(this.user, trimmed, spelled, source);
    const text = this.template.render({
      messages: [{ role: 'user', content }],
      add_generation_prompt: true,
      ...this.specialTokens,
    });
    const raw = this.tokenizer.encode(text, { add_special_tokens: this.addSpecialTokens }).ids;
    const prompt = this.expand(raw, source);
    const encoded = { ...prompt, text };
    this.last = { key, prompt: encoded };
    return encoded;
  }

  private spellState(state: ArrayLike<number> | undefined, source: string): string | undefined {
    if (state === undefined) return undefined;
    const dims = this.actions.dims;
    if (state.length !== dims || !Array.from(state).every(Number.isFinite)) {
      throw new InputError(
        source,
        'state',
        `must be ${dims} finite joint positions (the spec's dimensions), got [${Array.from(state).join(', ')}]`,
      );
    }
    return stateText(this.actions, state, (id) => this.tokenizer.id_to_token(id) as string);
  }

  private expand(raw: readonly number[], source: string): Omit<EncodedPrompt, 'text'> {
    const at = raw.indexOf(this.imageTokenId);
    if (at < 0 || raw.indexOf(this.imageTokenId, at + 1) >= 0) {
      throw new InputError(
        source,
        'prompt',
        `the rendered prompt must hold the image token (id ${this.imageTokenId}) exactly once`,
      );
    }
    const ids = new BigInt64Array(raw.length - 1 + this.imageTokens);
    for (let i = 0; i < at; i++) ids[i] = BigInt(raw[i] as number);
    ids.fill(BigInt(this.imageTokenId), at, at + this.imageTokens);
    for (let i = at + 1; i < raw.length; i++)
      ids[i - 1 + this.imageTokens] = BigInt(raw[i] as number);
    return { ids, imageStart: at };
  }
}

/** tokenizer_config.json writes special tokens as strings or as AddedToken objects. */
function tokenText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { content?: unknown }).content === 'string'
  ) {
    return (value as { content: string }).content;
  }
  return undefined;
}
