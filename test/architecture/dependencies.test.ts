import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

// ARCHITECTURE.md's dependency direction, checked on every import in src/: each part imports
// only the parts below it (`*`: the runnable layers, which wire everything together).

const ALLOWED: Record<string, readonly string[] | '*'> = {
  contract: [],
  tokenizer: ['contract'],
  wire: ['contract'],
  link: ['wire'],
  onnx: ['contract'],
  brain: ['contract', 'tokenizer', 'onnx'],
  cerebellum: ['contract', 'tokenizer', 'onnx'],
  observe: [],
  ros: ['contract'],
  record: ['wire', 'ros'],
  sim: ['contract'],
  finetune: ['contract', 'tokenizer', 'record', 'ros'],
  nodes: '*',
  bench: '*',
  cli: '*',
};

const SRC = resolve(import.meta.dirname, '../../src');

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map(
    (m) => m[1] as string,
  );
}

describe('dependency direction (ARCHITECTURE.md)', () => {
  const parts = readdirSync(SRC, { withFileTypes: true }).filter((d) => d.isDirectory());

  it('knows every part of src/', () => {
    expect(parts.map((d) => d.name).filter((name) => !(name in ALLOWED))).toEqual([]);
  });

  it('has no import that points up or sideways', () => {
    const wrong: string[] = [];
    for (const part of parts) {
      const allowed = ALLOWED[part.name];
      if (allowed === '*') continue;
      const dir = join(SRC, part.name);
      for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
        if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
        const file = join(entry.parentPath, entry.name);
        for (const spec of imports(file)) {
          const target = relative(SRC, resolve(entry.parentPath, spec)).split('/')[0] as string;
          if (target !== part.name && !allowed?.includes(target)) {
            wrong.push(`${relative(SRC, file)} imports ${target} (${spec})`);
          }
        }
      }
    }
    expect(wrong).toEqual([]);
  });
});
