import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The installed package's root (dist/cli/ → ../..), where calibration/ and models/ live. */
export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

export const VERSION: string = (
  JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

export const DEFAULT_SPEC = resolve(PACKAGE_ROOT, 'calibration/planar-arm/action_spec.yaml');

export const DEFAULT_PROFILE = resolve(PACKAGE_ROOT, 'calibration/planar-arm/robot.yaml');

export const DEFAULT_LEARNED_STAGE = resolve(PACKAGE_ROOT, 'models/learned-cerebellum');

/** `node <this package's CLI>`: how one pons process starts another. */
export const CLI_ENTRY = resolve(PACKAGE_ROOT, 'dist/cli/main.js');

/** The untrained seeded package: the base that fine-tuning starts from, and the golden tests'. */
export const DEFAULT_BRAIN = resolve(PACKAGE_ROOT, 'models/tiny-vla');

/** tiny-vla fine-tuned on expert demonstrations (models/training/reproduce.sh): the demo's brain. */
export const TRAINED_BRAIN = resolve(PACKAGE_ROOT, 'models/planar-vla');
