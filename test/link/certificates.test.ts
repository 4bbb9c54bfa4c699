import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { curveKeyPair } from 'zeromq';
import { InputError } from '../../src/contract/index.js';
import {
  generateCertificate,
  isCurveKey,
  readAuthorizedKeys,
  readCertificate,
  readSecretCertificate,
} from '../../src/link/index.js';

const root = mkdtempSync(join(tmpdir(), 'pons-certs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dirCount = 0;
function freshDir(): string {
  const dir = join(root, `case${dirCount++}`);
  mkdirSync(dir);
  return dir;
}

/** A certificate exactly as CZMQ's zcert_save writes it. */
function czmqCertificate(publicKey: string, secretKey?: string): string {
  return [
    '#   ****  Generated on 2024-01-02 03:04:05 by CZMQ  ****',
    secretKey === undefined
      ? '#   ZeroMQ CURVE Public Certificate'
      : '#   ZeroMQ CURVE **Secret** Certificate',
    '#   Exchange securely, or use a secure mechanism to verify the contents',
    '#   of this file after exchange. Store public certificates in your home',
    '#   directory, in the .curve subdirectory.',
    '',
    'metadata',
    '    name = "x"',
    '    email = "arm@example.com"',
    'curve',
    `    public-key = "${publicKey}"`,
    ...(secretKey === undefined ? [] : [`    secret-key = "${secretKey}"`]),
    '',
  ].join('\n');
}

/** Calls `fn` and returns the InputError it throws (failing if it throws anything else). */
function inputError(fn: () => unknown): InputError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return err as InputError;
  }
  throw new Error('expected an InputError, but nothing was thrown');
}

describe('generateCertificate', () => {
  it('writes <name>.key and <name>.key_secret and returns the public key', () => {
    const dir = freshDir();
    const files = generateCertificate(dir, 'arm1');
    expect(files.publicFile).toBe(join(dir, 'arm1.key'));
    expect(files.secretFile).toBe(join(dir, 'arm1.key_secret'));
    expect(statSync(files.publicFile).isFile()).toBe(true);
    expect(statSync(files.secretFile).isFile()).toBe(true);
    expect(isCurveKey(files.publicKey)).toBe(true);
  });

  it('makes the secret file readable by its owner only', () => {
    const files = generateCertificate(freshDir(), 'arm1');
    expect(statSync(files.secretFile).mode & 0o777).toBe(0o600);
  });

  it('tightens the mode of a secret file that already existed with a looser one', () => {
    const dir = freshDir();
    writeFileSync(join(dir, 'arm1.key_secret'), 'old', { mode: 0o644 });
    const files = generateCertificate(dir, 'arm1');
    expect(statSync(files.secretFile).mode & 0o777).toBe(0o600);
  });

  it('keeps the secret key out of the public file', () => {
    const files = generateCertificate(freshDir(), 'arm1');
    const secret = readSecretCertificate(files.secretFile).secretKey;
    const publicText = readFileSync(files.publicFile, 'utf8');
    expect(publicText).toContain(files.publicKey);
    expect(publicText).not.toContain(secret);
    expect(publicText).not.toContain('secret-key');
    expect(readCertificate(files.publicFile).secretKey).toBeUndefined();
  });

  it('round-trips through readCertificate and readSecretCertificate', () => {
    const files = generateCertificate(freshDir(), 'arm1');
    const pub = readCertificate(files.publicFile);
    expect(pub.publicKey).toBe(files.publicKey);
    expect(pub.metadata.name).toBe('arm1');
    expect(Number.isNaN(Date.parse(pub.metadata.created ?? ''))).toBe(false);
    const secret = readSecretCertificate(files.secretFile);
    expect(secret.publicKey).toBe(files.publicKey);
    expect(isCurveKey(secret.secretKey)).toBe(true);
    expect(secret.secretKey).not.toBe(secret.publicKey);
    expect(readCertificate(files.secretFile).metadata.name).toBe('arm1');
  });

  it('gives every certificate a new key pair', () => {
    const dir = freshDir();
    const a = generateCertificate(dir, 'a');
    const b = generateCertificate(dir, 'b');
    expect(a.publicKey).not.toBe(b.publicKey);
    expect(readSecretCertificate(a.secretFile).secretKey).not.toBe(
      readSecretCertificate(b.secretFile).secretKey,
    );
  });

  it('refuses names that would leave the directory', () => {
    const dir = freshDir();
    for (const name of ['../evil', 'a/b', '', 'with space']) {
      expect(() => generateCertificate(dir, name), name).toThrow(RangeError);
    }
  });
});

describe('reading certificates', () => {
  it("parses a certificate in CZMQ's own layout", () => {
    const dir = freshDir();
    const keys = curveKeyPair();
    const publicPath = join(dir, 'x.key');
    const secretPath = join(dir, 'x.key_secret');
    writeFileSync(publicPath, czmqCertificate(keys.publicKey));
    writeFileSync(secretPath, czmqCertificate(keys.publicKey, keys.secretKey));
    expect(readCertificate(publicPath)).toEqual({
      publicKey: keys.publicKey,
      metadata: { name: 'x', email: 'arm@example.com' },
    });
    expect(readSecretCertificate(secretPath)).toEqual(keys);
  });

  it('accepts CRLF line endings, trailing comments and tab indentation', () => {
    const dir = freshDir();
    const keys = curveKeyPair();
    const path = join(dir, 'crlf.key_secret');
    writeFileSync(
      path,
      `# comment\r\ncurve\r\n\tpublic-key = "${keys.publicKey}"   # the public one\r\n\tsecret-key = "${keys.secretKey}"\r\n`,
    );
    expect(readSecretCertificate(path)).toEqual(keys);
  });

  it('names the file and curve.public-key when the public key is missing', () => {
    const dir = freshDir();
    const path = join(dir, 'nokey.key');
    writeFileSync(path, 'metadata\n    name = "x"\ncurve\n');
    const err = inputError(() => readCertificate(path));
    expect(err.source).toBe(path);
    expect(err.field).toBe('curve.public-key');
    expect(err.message).toContain(path);
    expect(err.message).toContain('curve.public-key');
    expect(err.reason).toMatch(/missing/);
  });

  it('names the file and curve.public-key when there is no curve section at all', () => {
    const dir = freshDir();
    const path = join(dir, 'nocurve.key');
    writeFileSync(path, 'metadata\n    name = "x"\n');
    const err = inputError(() => readCertificate(path));
    expect(err.source).toBe(path);
    expect(err.field).toBe('curve.public-key');
  });

  it('rejects a public key that is not 40 Z85 characters', () => {
    const dir = freshDir();
    const good = curveKeyPair().publicKey;
    for (const [i, bad] of [good.slice(0, 39), `${good}0`, `${good.slice(0, 39)}_`].entries()) {
      const path = join(dir, `bad${i}.key`);
      writeFileSync(path, czmqCertificate(bad));
      const err = inputError(() => readCertificate(path));
      expect(err.source, bad).toBe(path);
      expect(err.field, bad).toBe('curve.public-key');
      expect(err.reason, bad).toMatch(/40-character Z85/);
    }
  });

  it('rejects a secret key that is not 40 Z85 characters', () => {
    const dir = freshDir();
    const keys = curveKeyPair();
    const path = join(dir, 'bad.key_secret');
    writeFileSync(path, czmqCertificate(keys.publicKey, keys.secretKey.slice(0, 35)));
    const err = inputError(() => readSecretCertificate(path));
    expect(err.source).toBe(path);
    expect(err.field).toBe('curve.secret-key');
    expect(err.message).toContain(path);
  });

  it('refuses a public certificate where a secret one is needed', () => {
    const files = generateCertificate(freshDir(), 'arm1');
    const err = inputError(() => readSecretCertificate(files.publicFile));
    expect(err.source).toBe(files.publicFile);
    expect(err.field).toBe('curve.secret-key');
    expect(err.message).toContain(files.publicFile);
    expect(err.reason).toMatch(/public certificate/);
  });

  it('names the file and line of a garbage line', () => {
    const dir = freshDir();
    const keys = curveKeyPair();
    const path = join(dir, 'garbage.key');
    writeFileSync(
      path,
      [
        'metadata',
        '    name = "x"',
        'curve',
        `    public-key = "${keys.publicKey}"`,
        '    ???',
      ].join('\n'),
    );
    const err = inputError(() => readCertificate(path));
    expect(err.source).toBe(path);
    expect(err.field).toBe('line 5');
    expect(err.message).toContain(path);
    expect(err.reason).toMatch(/ZPL/);
  });

  it('rejects an indented entry before any section', () => {
    const dir = freshDir();
    const path = join(dir, 'orphan.key');
    writeFileSync(path, `# header\n    public-key = "${curveKeyPair().publicKey}"\n`);
    const err = inputError(() => readCertificate(path));
    expect(err.source).toBe(path);
    expect(err.field).toBe('line 2');
  });

  it('names a missing file', () => {
    const path = join(freshDir(), 'absent.key');
    const err = inputError(() => readCertificate(path));
    expect(err.source).toBe(path);
    expect(err.message).toContain(path);
    expect(err.reason).toMatch(/cannot be read \(ENOENT\)/);
    const secretErr = inputError(() => readSecretCertificate(path));
    expect(secretErr.source).toBe(path);
  });
});

describe('readAuthorizedKeys', () => {
  it('returns the public keys of every certificate in the directory, labelled by file', () => {
    const dir = freshDir();
    const a = generateCertificate(dir, 'arm1');
    const b = generateCertificate(dir, 'arm2');
    const keys = curveKeyPair();
    writeFileSync(join(dir, 'czmq.cert'), czmqCertificate(keys.publicKey));
    const authorized = readAuthorizedKeys(dir);
    expect(authorized).toEqual(
      new Map([
        [a.publicKey, 'arm1.key'],
        [b.publicKey, 'arm2.key'],
        [keys.publicKey, 'czmq.cert'],
      ]),
    );
  });

  it('skips *_secret files and dotfiles', () => {
    const dir = freshDir();
    const a = generateCertificate(dir, 'arm1');
    // Neither of these parses: reading them would fail the whole directory.
    writeFileSync(join(dir, '.hidden'), 'not a certificate\n    ???\n');
    writeFileSync(join(dir, 'stray_secret'), 'not a certificate\n    ???\n');
    const other = curveKeyPair();
    writeFileSync(join(dir, 'other.key_secret'), czmqCertificate(other.publicKey, other.secretKey));
    const authorized = readAuthorizedKeys(dir);
    expect([...authorized.keys()]).toEqual([a.publicKey]);
    expect(authorized.has(other.publicKey)).toBe(false);
  });

  it('returns an empty map for an empty directory', () => {
    expect(readAuthorizedKeys(freshDir()).size).toBe(0);
  });

  it('fails on a bad certificate, naming the file', () => {
    const dir = freshDir();
    generateCertificate(dir, 'arm1');
    const bad = join(dir, 'broken.key');
    writeFileSync(bad, 'curve\n    public-key = "short"\n');
    const err = inputError(() => readAuthorizedKeys(dir));
    expect(err.source).toBe(bad);
    expect(err.field).toBe('curve.public-key');
    expect(err.message).toContain(bad);
  });

  it('is an InputError naming the directory when it cannot be read', () => {
    const missing = join(freshDir(), 'no-such-dir');
    const err = inputError(() => readAuthorizedKeys(missing));
    expect(err.source).toBe(missing);
    expect(err.reason).toMatch(/cannot be read \(ENOENT\)/);

    // A file where a directory was expected (works even as root, unlike chmod 000).
    const file = join(freshDir(), 'plain-file');
    writeFileSync(file, '');
    const notDir = inputError(() => readAuthorizedKeys(file));
    expect(notDir.source).toBe(file);
    expect(notDir.reason).toMatch(/cannot be read \(ENOTDIR\)/);
  });
});
