import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { InputError } from './errors.js';

/**
 * Reading files from outside: every failure is an InputError naming the file and why
 * (unreadable with its errno code, or not valid JSON/YAML with the parser's first line).
 */

export function readFileBytes(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new InputError(
      path,
      '',
      `cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`,
    );
  }
}

export function readTextFile(path: string): string {
  return readFileBytes(path).toString('utf8');
}

export function readJsonFile(path: string): unknown {
  const text = readTextFile(path);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new InputError(path, '', `is not valid JSON: ${(err as Error).message}`);
  }
}

/** YAML is a superset of JSON: this reads both. */
export function readYamlFile(path: string): unknown {
  const text = readTextFile(path);
  try {
    return parseYaml(text);
  } catch (err) {
    throw new InputError(path, '', `is not valid YAML: ${(err as Error).message.split('\n')[0]}`);
  }
}
