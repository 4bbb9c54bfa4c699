import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRAPHS, type GraphName } from '../../src/brain/index.js';

const root = join(import.meta.dirname, '../..');
export const repo = (path: string) => join(root, path);
export const TINY_VLA = repo('models/tiny-vla');

type Json = Record<string, unknown>;
const JSON_FILES = {
  manifest: 'pons.json',
  config: 'config.json',
  preprocessor: 'preprocessor_config.json',
  tokenizerConfig: 'tokenizer_config.json',
} as const;

export interface PackageEdits {
  manifest?: (m: Json) => void;
  config?: (c: Json) => void;
  preprocessor?: (p: Json) => void;
  tokenizerConfig?: (t: Json) => void;
  /** This graph's file holds the first kilobyte of the real one: a truncated download. */
  corrupt?: GraphName;
  /** These graphs are left out. */
  remove?: GraphName[];
  /** Extra files: name in the package → bytes, or the name of a bundled graph to copy. */
  extra?: Record<string, Uint8Array | GraphName>;
}

let scratch: string | undefined;
let copies = 0;

/**
 * A copy of the bundled tiny-vla package in a temporary directory, with edits applied.
 * Untouched graphs are symbolic links to the bundled ones, so a copy costs no disk.
 */
export function brainPackageCopy(edits: PackageEdits = {}): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'pons-brain-package-'));
  const dir = join(scratch, `pkg-${copies++}`);
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  for (const [key, name] of Object.entries(JSON_FILES)) {
    const value = JSON.parse(readFileSync(join(TINY_VLA, name), 'utf8')) as Json;
    edits[key as keyof typeof JSON_FILES]?.(value);
    writeFileSync(join(dir, name), JSON.stringify(value));
  }
  // The manifest's relative ActionSpec path must still resolve from the copy.
  const manifestPath = join(dir, 'pons.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Json;
  if (manifest.action_spec === '../../calibration/planar-arm/action_spec.yaml') {
    manifest.action_spec = repo('calibration/planar-arm/action_spec.yaml');
    writeFileSync(manifestPath, JSON.stringify(manifest));
  }
  symlinkSync(join(TINY_VLA, 'tokenizer.json'), join(dir, 'tokenizer.json'));
  for (const graph of GRAPHS) {
    const target = join(dir, `onnx/${graph}.onnx`);
    const bundled = join(TINY_VLA, `onnx/${graph}.onnx`);
    if (edits.remove?.includes(graph)) continue;
    if (edits.corrupt === graph) writeFileSync(target, readFileSync(bundled).subarray(0, 1024));
    else symlinkSync(bundled, target);
  }
  for (const [name, content] of Object.entries(edits.extra ?? {})) {
    const target = join(dir, name);
    if (typeof content === 'string') copyFileSync(join(TINY_VLA, `onnx/${content}.onnx`), target);
    else writeFileSync(target, content);
  }
  return dir;
}

/** Removes every copy this test file made (call in afterAll). */
export function removeBrainPackageCopies(): void {
  if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}
