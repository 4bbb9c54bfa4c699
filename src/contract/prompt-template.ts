import { InputError } from './errors.js';

/**
 * A model package's user prompt (`pons.json` `prompt.user`) is a template: `{instruction}`
 * is the task's text, and `{state}`, where present, the robot's joint state spelled as
 * action tokens (tokenizer `stateText`). A package whose prompt holds `{state}` decides from
 * the camera frame and the joint state together; the runtime, the dataset export and the
 * training set all fill the template here, so they agree on every character.
 */
export const INSTRUCTION_SLOT = '{instruction}';
export const STATE_SLOT = '{state}';

export function promptNeedsState(user: string): boolean {
  return user.includes(STATE_SLOT);
}

export function fillPrompt(
  user: string,
  instruction: string,
  state: string | undefined,
  source: string,
): string {
  // The state first: an instruction that spells `{state}` stays text.
  if (promptNeedsState(user) && state === undefined) {
    throw new InputError(source, 'state', "is needed: the model's prompt holds the joint state");
  }
  const withState = state === undefined ? user : user.replaceAll(STATE_SLOT, state);
  return withState.replaceAll(INSTRUCTION_SLOT, instruction);
}
