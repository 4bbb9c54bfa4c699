import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadActionSpec, specId, specJson } from '../../src/contract/index.js';
import type { LinkLog } from '../../src/link/index.js';

export { freeLoopbackPort as freePort } from '../../src/link/index.js';

export const SPEC_FILE = join(import.meta.dirname, '../../calibration/planar-arm/action_spec.yaml');

export function planarArmIdentity(modelId = 'test') {
  const spec = loadActionSpec(SPEC_FILE);
  return {
    spec: specJson(spec),
    specId: specId(spec),
    modelId,
    software: 'test',
    actionSpec: spec,
  };
}

/** Fresh ipc endpoints in a temp dir. */
export function ipcEndpoints(prefix = 'pons-link-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, endpoints: { tokens: `ipc://${dir}/tokens`, state: `ipc://${dir}/state` } };
}

/** A logger that keeps its lines for assertions. */
export function memoryLog(): LinkLog & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`INFO ${m}`), warn: (m) => lines.push(`WARN ${m}`) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls until `check` is true or `ms` pass; returns whether it became true. */
export async function eventually(check: () => boolean, ms = 3000): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await sleep(10);
  }
  return check();
}
