import type { SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadActionSpec, specId } from '../../src/contract/index.js';
import { readSecretCertificate } from '../../src/link/index.js';
import { runPons } from '../helpers/processes.js';
import { armProfile } from '../helpers/profiles.js';

const REPO = resolve(import.meta.dirname, '../..');
const SPEC = 'calibration/planar-arm/action_spec.yaml';

const dir = mkdtempSync(join(tmpdir(), 'pons-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pons(...args: string[]): SpawnSyncReturns<string> {
  return runPons(args, 20_000);
}

/** The non-empty lines a process wrote to stderr. */
function stderrLines(result: SpawnSyncReturns<string>): string[] {
  return result.stderr.split('\n').filter((l) => l.trim() !== '');
}

function expectNoStackTrace(text: string): void {
  expect(text).not.toMatch(/^\s+at /m);
  expect(text).not.toMatch(/\.(js|ts):\d+/);
}

describe('pons --help', () => {
  it.each([
    [[], 'pons'],
    [['demo'], 'pons demo'],
    [['link'], 'pons link'],
    [['link', 'serve'], 'pons link serve'],
    [['link', 'listen'], 'pons link listen'],
    [['cerebellum'], 'pons cerebellum'],
    [['bench', 'cerebellum'], 'pons bench cerebellum'],
    [['bench', 'wire'], 'pons bench wire'],
    [['bench'], 'pons bench'],
    [['bench', 'link'], 'pons bench link'],
    [['keygen'], 'pons keygen'],
    [['spec'], 'pons spec'],
    [['brain'], 'pons brain'],
    [['bus', 'camera'], 'pons bus camera'],
    [['model', 'check'], 'pons model check'],
    [['model', 'run'], 'pons model run'],
    [['bench', 'brain'], 'pons bench brain'],
    [['bench', 'brain-pipeline'], 'pons bench brain-pipeline'],
    [['bench', 'sim'], 'pons bench sim'],
    [['bench', 'recorder'], 'pons bench recorder'],
    [['sim', 'run'], 'pons sim run'],
    [['sim', 'serve'], 'pons sim serve'],
    [['sim', 'expert'], 'pons sim expert'],
    [['sim', 'collect'], 'pons sim collect'],
    [['sim', 'eval'], 'pons sim eval'],
    [['finetune', 'brain'], 'pons finetune brain'],
    [['dataset', 'export'], 'pons dataset export'],
    [['bench', 'collect'], 'pons bench collect'],
    [['replay'], 'pons replay'],
    [['inspect'], 'pons inspect'],
  ])('%j answers --help with a usage line', (command, usage) => {
    const result = pons(...command, '--help');
    expect(result.status, result.stderr).toBe(0);
    const first = result.stdout.split('\n')[0] ?? '';
    expect(first.startsWith(`Usage: ${usage} `)).toBe(true);
    expect(result.stdout).toContain('--help');
  });

  it('lists every command in the top-level help', () => {
    const { stdout } = pons('--help');
    for (const command of [
      'demo',
      'link',
      'bench',
      'keygen',
      'spec',
      'brain',
      'bus',
      'model',
      'sim',
      'dataset',
      'finetune',
      'replay',
      'inspect',
    ]) {
      expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    }
  });

  it('lists the link flags in link serve and link listen', () => {
    for (const sub of ['serve', 'listen']) {
      const { stdout } = pons('link', sub, '--help');
      for (const flag of ['--tokens', '--state', '--curve-secret', '--insecure', '--duration']) {
        expect(stdout, `${sub} ${flag}`).toContain(flag);
      }
    }
  });
});

describe('pons sim collect and pons dataset export', () => {
  it('collect records episodes and says how fast; export makes a dataset of them', () => {
    const record = join(dir, 'collect');
    const collected = pons(
      'sim',
      'collect',
      '--task',
      'reach',
      '--episodes',
      '2',
      '--record',
      record,
      '--json',
    );
    expect(collected.status, collected.stderr).toBe(0);
    const summary = JSON.parse(collected.stdout);
    expect(summary).toMatchObject({ episodes: 2, succeeded: 2 });
    expect(summary.episodes_per_minute).toBeGreaterThan(0);
    expect(stderrLines(collected)).toEqual([
      expect.stringMatching(
        /^\[pons sim collect\] 1\/2 reach-0: success in \d+\.\d s, \d+ decisions$/,
      ),
      expect.stringMatching(/^\[pons sim collect\] 2\/2 reach-1: success/),
    ]);
    const to = join(dir, 'aa');
    const exported = pons(
      'dataset',
      'export',
      '--from',
      summary.file,
      '--to',
      to,
      '--format',
      'align-anything',
      '--json',
    );
    expect(exported.status, exported.stderr).toBe(0);
    expect(JSON.parse(exported.stdout)).toMatchObject({ format: 'align-anything', episodes: 2 });
    expect(exported.stderr).toMatch(/\[pons dataset\] file 1\/1 collect-reach-0\.mcap: /);
    expect(statSync(join(to, 'train.parquet')).size).toBeGreaterThan(0);
    expect(readFileSync(join(to, 'README.md'), 'utf8')).toContain('AA_TI2T');
  });

  it('refuses an unknown format, a missing file and an unknown task in one line', () => {
    for (const [args, message] of [
      [
        ['dataset', 'export', '--from', 'x.mcap', '--to', dir, '--format', 'rlds'],
        /^pons: --format: \(root\): must be align-anything or lerobot$/,
      ],
      [
        [
          'dataset',
          'export',
          '--from',
          join(dir, 'missing.mcap'),
          '--to',
          dir,
          '--format',
          'lerobot',
          '--images',
          'columns',
        ],
        /missing\.mcap: \(root\): cannot be read \(ENOENT\)/,
      ],
      [
        ['sim', 'collect', '--task', 'fly', '--record', dir],
        /^pons: --task: \(root\): must be all, reach or push$/,
      ],
    ] as const) {
      const result = pons(...args);
      expect(result.status).toBe(2);
      expect(stderrLines(result).at(-1)).toMatch(message);
      expectNoStackTrace(result.stderr);
    }
  });
});

describe('pons keygen', () => {
  it('writes a certificate pair that loads and prints its public key', () => {
    const out = join(dir, 'keys');
    const result = pons('keygen', '--out', out, '--name', 'arm1');
    expect(result.status, result.stderr).toBe(0);
    const publicFile = join(out, 'arm1.key');
    const secretFile = join(out, 'arm1.key_secret');
    expect(statSync(publicFile).isFile()).toBe(true);
    expect(statSync(secretFile).mode & 0o777).toBe(0o600);
    const cert = readSecretCertificate(secretFile);
    expect(result.stdout).toContain(cert.publicKey);
    expect(result.stdout).toContain(publicFile);
    expect(result.stdout).toContain(secretFile);
    expect(result.stdout).not.toContain(cert.secretKey);
    expect(readFileSync(publicFile, 'utf8')).toContain(cert.publicKey);
  });

  it('refuses a certificate name with a path in it', () => {
    const result = pons('keygen', '--out', join(dir, 'keys2'), '--name', '../evil');
    expect(result.status).not.toBe(0);
    expect(stderrLines(result)).toHaveLength(1);
    expectNoStackTrace(result.stderr);
  });
});

describe('pons spec', () => {
  it('prints the spec id of the bundled spec', () => {
    const result = pons('spec', SPEC);
    expect(result.status, result.stderr).toBe(0);
    const id = specId(loadActionSpec(resolve(REPO, SPEC)));
    expect(result.stdout).toMatch(new RegExp(`^spec id\\s+${id}$`, 'm'));
  });

  it('--json adds the canonical JSON', () => {
    const result = pons('spec', SPEC, '--json');
    expect(result.status, result.stderr).toBe(0);
    const json = result.stdout.split('\n').find((l) => l.startsWith('{'));
    expect(JSON.parse(json ?? 'null')).toMatchObject({ name: 'planar-arm', horizon: 8 });
  });

  it('fails on a bad spec with one line naming the file, the field and the reason', () => {
    const bundled = readFileSync(resolve(REPO, SPEC), 'utf8');
    const broken = bundled.replace(
      '{ name: shoulder_joint, unit: rad, kind: joint_position, lower: -2.6, upper: 2.6 }',
      '{ name: shoulder_joint, unit: rad, kind: joint_position, lower: 2.6, upper: -2.6 }',
    );
    expect(broken).not.toBe(bundled);
    const file = join(dir, 'bad_spec.yaml');
    writeFileSync(file, broken);
    writeFileSync(
      join(dir, 'dataset_statistics.json'),
      readFileSync(resolve(REPO, 'calibration/planar-arm/dataset_statistics.json')),
    );
    const result = pons('spec', file);
    expect(result.status).not.toBe(0);
    expect(result.status).not.toBeNull();
    expect(result.stdout).toBe('');
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expect(lines[0]).toContain('dimensions[0].upper');
    expect(lines[0]).toMatch(/dimensions\[0\]\.upper: \S.*/);
    expectNoStackTrace(result.stderr);
  });

  it('fails on a missing file with one line naming it', () => {
    const file = join(dir, 'absent.yaml');
    const result = pons('spec', file);
    expect(result.status).not.toBe(0);
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(file);
    expectNoStackTrace(result.stderr);
  });
});

describe('pons link refusals', () => {
  it('refuses to serve on a non-loopback address without CURVE or --insecure', () => {
    const result = pons(
      'link',
      'serve',
      '--tokens',
      'tcp://0.0.0.0:5999',
      '--state',
      'tcp://0.0.0.0:6000',
      '--duration',
      '1',
    );
    expect(result.status).not.toBe(0);
    expect(result.status).not.toBeNull();
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--insecure');
    expect(lines[0]).toContain('tcp://0.0.0.0:5999');
    expectNoStackTrace(result.stderr);
  });

  it('refuses to listen with --curve-secret but no --server-key', () => {
    const result = pons('link', 'listen', '--curve-secret', 'x');
    expect(result.status).not.toBe(0);
    expect(result.status).not.toBeNull();
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--server-key');
    expect(lines[0]).toContain('--curve-secret');
    expectNoStackTrace(result.stderr);
  });

  it('refuses to serve with --curve-secret but no --authorized-keys', () => {
    const result = pons('link', 'serve', '--curve-secret', 'x', '--duration', '1');
    expect(result.status).not.toBe(0);
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('--authorized-keys');
    expectNoStackTrace(result.stderr);
  });
});

describe('pons brain without ROS 2', () => {
  it('--source ros fails at once with one line saying how to fix it', () => {
    const result = pons('brain', '--source', 'ros', '--duration', '1');
    expect(result.status).not.toBe(0);
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ROS 2 is not available: source \/opt\/ros\/.*setup\.bash/);
    expectNoStackTrace(result.stderr);
  });
});

describe('pons sim serve without ROS 2', () => {
  it('--ros fails at once with one line saying how to fix it', () => {
    const result = pons('sim', 'serve', '--ros', '--episodes', '[{"task": "reach", "seed": 1}]');
    expect(result.status).not.toBe(0);
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ROS 2 is not available: source \/opt\/ros\/.*setup\.bash/);
    expectNoStackTrace(result.stderr);
  });
});

describe('pons replay without ROS 2', () => {
  it('--to-ros fails at once with one line saying how to fix it', () => {
    const result = pons('replay', join(import.meta.dirname, '../../package.json'), '--to-ros');
    expect(result.status).not.toBe(0);
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ROS 2 is not available: source \/opt\/ros\/.*setup\.bash/);
    expectNoStackTrace(result.stderr);
  });
});

describe('pons cerebellum without ROS 2', () => {
  it('--output ros fails at once with one line saying how to fix it', () => {
    const result = pons('cerebellum', '--output', 'ros', '--duration', '1');
    expect(result.status).not.toBe(0);
    const lines = stderrLines(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/ROS 2 is not available: source \/opt\/ros\/.*setup\.bash/);
    expectNoStackTrace(result.stderr);
  });
});

describe('pons cerebellum --foxglove', () => {
  it('refuses a port that is not one, naming the flag', () => {
    const result = pons('cerebellum', '--config', armProfile(dir), '--foxglove', '70000');
    expect(result.status).toBe(2);
    expect(stderrLines(result)).toEqual([
      'pons: command line: --foxglove: must be an integer from 0 to 65535, not "70000"',
    ]);
  });

  it('warns when the live view listens off loopback', () => {
    const result = pons(
      ...['cerebellum', '--config', armProfile(dir), '--duration', '0.2'],
      ...['--foxglove', '0', '--foxglove-host', '0.0.0.0'],
    );
    expect(result.status).toBe(0);
    expect(result.stderr).toMatch(
      /WARN ws:\/\/0\.0\.0\.0:\d+: the live view is reachable off this host, unencrypted and without authentication/,
    );
  });
});
