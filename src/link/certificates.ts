import { readdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curveKeyPair } from 'zeromq';
import { InputError, readTextFile } from '../wire/index.js';
import { isCurveKey } from './z85.js';

/**
 * CURVE certificates in ZeroMQ's certificate file format (ZPL, RFC 4, as CZMQ's zcert
 * writes them): `<name>.key` holds the public key and may be handed out; `<name>.key_secret`
 * holds both keys and is readable by its owner only.
 */

export interface Certificate {
  publicKey: string;
  secretKey?: string;
  /** The `metadata` section's entries (name, created, …). */
  metadata: Record<string, string>;
}

export interface KeyFiles {
  publicFile: string;
  secretFile: string;
  publicKey: string;
}

export function generateCertificate(dir: string, name: string): KeyFiles {
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new RangeError(`invalid certificate name '${name}'`);
  const { publicKey, secretKey } = curveKeyPair();
  const created = new Date().toISOString();
  const metadata = `metadata\n    name = "${name}"\n    created = "${created}"\n`;
  const publicFile = join(dir, `${name}.key`);
  const secretFile = join(dir, `${name}.key_secret`);
  writeFileSync(
    publicFile,
    `#   ****  Generated on ${created} by pons  ****\n` +
      '#   ZeroMQ CURVE Public Certificate\n' +
      '#   Exchange securely, or use a secure mechanism to verify the contents\n' +
      '#   of this file after exchange.\n\n' +
      `${metadata}curve\n    public-key = "${publicKey}"\n`,
  );
  // Written under a fresh name with mode 600, then renamed: the secret is never readable by
  // others, even for a moment, even when an older file of looser mode is replaced.
  const partial = `${secretFile}.${process.pid}.partial`;
  writeFileSync(
    partial,
    `#   ****  Generated on ${created} by pons  ****\n` +
      '#   ZeroMQ CURVE **Secret** Certificate\n' +
      '#   DO NOT PROVIDE THIS FILE TO OTHER USERS nor change its permissions.\n\n' +
      `${metadata}curve\n    public-key = "${publicKey}"\n    secret-key = "${secretKey}"\n`,
    { mode: 0o600, flag: 'wx' },
  );
  renameSync(partial, secretFile);
  return { publicFile, secretFile, publicKey };
}

/** Reads a public or secret certificate file. */
export function readCertificate(path: string): Certificate {
  const sections = parseZpl(readTextFile(path), path);
  const curve = sections.get('curve');
  const publicKey = curve?.['public-key'];
  if (publicKey === undefined) throw new InputError(path, 'curve.public-key', 'is missing');
  if (!isCurveKey(publicKey)) {
    throw new InputError(path, 'curve.public-key', 'is not a 40-character Z85 key');
  }
  const secretKey = curve?.['secret-key'];
  if (secretKey !== undefined && !isCurveKey(secretKey)) {
    throw new InputError(path, 'curve.secret-key', 'is not a 40-character Z85 key');
  }
  return {
    publicKey,
    ...(secretKey === undefined ? {} : { secretKey }),
    metadata: sections.get('metadata') ?? {},
  };
}

/** Reads a secret certificate, insisting that it holds the secret key. */
export function readSecretCertificate(path: string): Required<Omit<Certificate, 'metadata'>> {
  const cert = readCertificate(path);
  if (cert.secretKey === undefined) {
    throw new InputError(path, 'curve.secret-key', 'is missing: this is a public certificate');
  }
  return { publicKey: cert.publicKey, secretKey: cert.secretKey };
}

/**
 * The public keys in an authorized-keys directory: every certificate file in it but
 * secret ones (which do not belong there). A bad file is an error, not a silent skip.
 */
export function readAuthorizedKeys(dir: string): Map<string, string> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (err) {
    throw new InputError(dir, '', `cannot be read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const keys = new Map<string, string>();
  for (const name of names) {
    if (name.startsWith('.') || name.endsWith('_secret')) continue;
    keys.set(readCertificate(join(dir, name)).publicKey, name);
  }
  return keys;
}

/** ZPL: `name` lines open sections; indented `key = "value"` lines belong to the last one. */
function parseZpl(text: string, source: string): Map<string, Record<string, string>> {
  const sections = new Map<string, Record<string, string>>();
  let current: Record<string, string> | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\s+$/, '');
    if (line === '' || line.trimStart().startsWith('#')) continue;
    if (!/^\s/.test(line)) {
      current = {};
      sections.set(line.trim(), current);
      continue;
    }
    const match = /^\s+([A-Za-z0-9_.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|(\S*))\s*(#.*)?$/.exec(line);
    if (!match || current === undefined) {
      throw new InputError(source, `line ${i + 1}`, 'is not a ZPL entry (`    key = "value"`)');
    }
    current[match[1] as string] = match[2] ?? match[3] ?? match[4] ?? '';
  }
  return sections;
}
