import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { repo, TINY_VLA } from '../helpers/brain-packages.js';

// The Python half of the brain: the exporter's tests and the tiny-vla build script, run with
// Debian's PyTorch (python3-torch, python3-onnx, python3-jinja2 under /usr/bin/python3, as
// .ci/run installs them).

const PYTHON = '/usr/bin/python3';
const scratch = mkdtempSync(join(tmpdir(), 'pons-python-build-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function python(args: string[]) {
  const run = spawnSync(PYTHON, args, { cwd: repo(''), encoding: 'utf8', timeout: 240_000 });
  if (run.error) throw run.error;
  return run;
}

function files(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('models/export and models/training (PyTorch)', () => {
  it('the exporter and tokenizer unit tests pass', () => {
    const run = python(['-m', 'unittest', 'discover', '-s', 'models/export/tests']);
    expect(run.stderr).toMatch(/\nOK\s*$/);
    expect(run.status).toBe(0);
  }, 240_000);

  it("the trainer's package-weight loader tests pass", () => {
    const run = python(['-m', 'unittest', 'discover', '-s', 'models/training/tests']);
    expect(run.stderr).toMatch(/\nOK\s*$/);
    expect(run.status).toBe(0);
  }, 240_000);

  it('make_tiny_vla.py rebuilds the bundled package byte for byte from its seed', () => {
    const out = join(scratch, 'tiny-vla');
    const fixtures = join(scratch, 'resize');
    const run = python(['models/training/make_tiny_vla.py', '--out', out, '--fixtures', fixtures]);
    expect(run.status, run.stderr).toBe(0);
    const built = files(out);
    expect(built).toEqual(files(TINY_VLA).filter((f) => f !== 'README.md'));
    for (const f of built.filter((f) => f !== 'pons.json')) {
      expect(readFileSync(join(out, f)).equals(readFileSync(join(TINY_VLA, f))), f).toBe(true);
    }
    // pons.json names the ActionSpec relative to the package, wherever that is.
    const manifest = (dir: string) => {
      const m = JSON.parse(readFileSync(join(dir, 'pons.json'), 'utf8'));
      return { ...m, action_spec: resolve(dir, m.action_spec) };
    };
    expect(manifest(out)).toEqual(manifest(TINY_VLA));
    const committed = repo('test/fixtures/brain/resize');
    for (const f of files(fixtures)) {
      expect(readFileSync(join(fixtures, f)).equals(readFileSync(join(committed, f))), f).toBe(
        true,
      );
    }
  }, 240_000);
});
