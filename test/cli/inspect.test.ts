import type { SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planarArmIdentity } from '../helpers/link-fixtures.js';
import { PonsProcess, runPons } from '../helpers/processes.js';
import { armProfile } from '../helpers/profiles.js';
import { binOf, EXPECTED, JOINTS, recordInspectFixture, T0 } from '../helpers/recordings.js';

// `pons inspect` as a real child process of the built CLI: the table, --json, --plot, bad
// files; and a recording made by a real cerebellum process fed by `pons replay`.

const dir = mkdtempSync(join(tmpdir(), 'pons-cli-inspect-'));
const fixture = join(dir, 'fixture.mcap');

beforeAll(async () => {
  await recordInspectFixture(fixture, 4096);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function pons(...args: string[]): SpawnSyncReturns<string> {
  return runPons(args, 30_000);
}

/** The one JSON object `--json` prints. */
function json(result: SpawnSyncReturns<string>): Record<string, unknown> {
  const lines = result.stdout.split('\n').filter((l) => l.trim() !== '');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}

function oneErrorLine(result: SpawnSyncReturns<string>): string {
  const lines = result.stderr.split('\n').filter((l) => l.trim() !== '');
  expect(lines).toHaveLength(1);
  expect(result.stderr).not.toMatch(/^\s+at /m);
  return lines[0] as string;
}

describe('pons inspect (CLI)', () => {
  it('--json prints the report as one JSON object, stamps as integer nanosecond strings', () => {
    const result = pons('inspect', fixture, '--json');
    expect(result.status, result.stderr).toBe(0);
    const report = json(result) as {
      event: string;
      complete: boolean;
      start_ns: string;
      topics: { topic: string; messages: number; first_ns: string; gaps: { count: number } }[];
      action_tokens: { seq: { lost: number }; latency_ms: { decision: { p50: number } } }[];
      commands: { versus_state: { joints: { name: string }[] } }[];
    };
    expect(report.event).toBe('inspect');
    expect(report.complete).toBe(true);
    expect(report.start_ns).toBe(T0.toString());
    const camera = report.topics.find((t) => t.topic === '/overhead/image_raw');
    expect(camera).toMatchObject({
      messages: EXPECTED.camera.messages,
      first_ns: T0.toString(),
      gaps: { count: 1 },
    });
    expect(report.action_tokens[0]?.seq.lost).toBe(EXPECTED.lost);
    expect(report.action_tokens[0]?.latency_ms.decision.p50).toBe(EXPECTED.decisionMs);
    expect(report.commands[0]?.versus_state.joints.map((j) => j.name)).toEqual(JOINTS);
  });

  it('prints a table per topic and the decision statistics by default', () => {
    const result = pons('inspect', fixture);
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toMatch(
      /^\/overhead\/image_raw\s+sensor_msgs\/msg\/Image\s+25\s+0\.00\s+2\.90\s+8\.28\s+100\.0\s+600\.0\s+0\.90\s+1\s/m,
    );
    expect(result.stdout).toContain(`seq: ${EXPECTED.lost} decisions lost in 1 gaps`);
    expect(result.stdout).toMatch(/decision \(emit − stamp\)\s+16\s+40\.00/);
    expect(result.stdout).toContain('2 packets of another spec');
    expect(result.stdout).toMatch(/^\s+wrist_joint\s+0\.0300\s+0\.0300\s+0\.0300$/m);
  });

  it('--plot writes the HTML report and its PNGs, and --json says where', () => {
    const out = join(dir, 'plots');
    const result = pons('inspect', fixture, '--plot', out, '--json');
    expect(result.status, result.stderr).toBe(0);
    const { plots } = json(result) as { plots: { html: string; png: Record<string, string> } };
    expect(plots.html).toBe(join(out, 'index.html'));
    expect(readFileSync(plots.html, 'utf8')).toContain('<svg ');
    expect(statSync(plots.png.rates as string).size).toBeGreaterThan(1000);
  });

  it('inspects a cut-short file up to the damage, exits 0, and says what was lost', () => {
    const bytes = readFileSync(fixture);
    const cut = join(dir, 'cut.mcap');
    writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const result = pons('inspect', cut, '--json');
    expect(result.status, result.stderr).toBe(0);
    const report = json(result) as {
      complete: boolean;
      messages: number;
      damage: { reason: string; offset: number; unread_bytes: number };
    };
    expect(report.complete).toBe(false);
    expect(report.messages).toBeGreaterThan(0);
    expect(report.damage.reason).toMatch(/truncated after \d+ messages/);
    expect(report.damage.offset + report.damage.unread_bytes).toBe(Math.floor(bytes.length * 0.6));
    const text = pons('inspect', cut);
    expect(text.stdout).toContain('(INCOMPLETE)');
    expect(text.stdout).toMatch(/read up to byte \d+ of \d+: \d+ bytes lost/);
  });

  it('exits non-zero when nothing of the file is readable', () => {
    const stub = join(dir, 'stub.mcap');
    writeFileSync(stub, readFileSync(fixture).subarray(0, 12));
    const result = pons('inspect', stub);
    expect(result.status).toBe(1);
    expect(result.stdout).toContain('truncated after 0 messages');
  });

  it('answers a file that is not MCAP, or is missing, with one line naming it', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a recording at all');
    const notMcap = pons('inspect', text);
    expect(notMcap.status).toBe(2);
    expect(oneErrorLine(notMcap)).toBe(
      `pons: ${text}: (root): is not an MCAP file (it does not start with the MCAP magic)`,
    );
    const missing = pons('inspect', join(dir, 'absent.mcap'));
    expect(missing.status).toBe(2);
    expect(oneErrorLine(missing)).toContain(join(dir, 'absent.mcap'));
  });
});

describe('pons inspect on a real cerebellum recording', () => {
  it('reports the tokens it accepted, binned through the spec, and its commands', async () => {
    const nodeDir = mkdtempSync(join(dir, 'nodes-'));
    const profile = armProfile(nodeDir);
    const recording = join(nodeDir, 'cerebellum.mcap');
    const cerebellum = PonsProcess.start([
      'cerebellum',
      '--config',
      profile,
      '--record',
      recording,
      '--json',
    ]);
    await cerebellum.waitFor((e) => e.event === 'ready', 20_000);
    const replay = PonsProcess.start(['replay', fixture, '--config', profile, '--json']);
    const done = await replay.waitFor((e) => e.event === 'summary', 20_000);
    expect(done).toMatchObject({ refused_spec: 2 });
    await new Promise((r) => setTimeout(r, 300));
    cerebellum.child.kill('SIGINT');
    await cerebellum.waitFor((e) => e.event === 'summary', 10_000);
    expect(await cerebellum.exited).toBe(0);

    const result = pons('inspect', recording, '--config', profile, '--json');
    expect(result.status, result.stderr).toBe(0);
    const report = json(result) as {
      complete: boolean;
      topics: { topic: string; messages: number }[];
      action_tokens: {
        packets: number;
        spec_ids: Record<string, number>;
        model_ids: Record<string, number>;
        other_spec: { packets: number };
        tokens: {
          known: boolean;
          refused: number;
          dimensions: { name: string; histogram: Record<string, number> }[];
        }[];
      }[];
      commands: { topic: string; messages: number }[];
    };
    expect(report.complete).toBe(true);
    const [tokens] = report.action_tokens;
    const { specId, actionSpec } = planarArmIdentity();
    // The packet one token short never passed the cerebellum's check; the rest may.
    expect(tokens?.packets).toBeGreaterThan(0);
    expect(tokens?.packets).toBeLessThanOrEqual(EXPECTED.decisions);
    expect(tokens?.spec_ids).toEqual({ [specId]: tokens?.packets });
    expect(tokens?.model_ids).toEqual({ replay: tokens?.packets });
    expect(tokens?.other_spec.packets).toBe(0);
    const [spec] = tokens?.tokens ?? [];
    expect(spec).toMatchObject({ known: true, refused: 0 });
    // Every bin seen is one the fixture put there, and every token is counted once.
    spec?.dimensions.forEach((d, j) => {
      const allowed = new Set(Array.from({ length: EXPECTED.decisions }, (_, k) => binOf(k, j)));
      for (const bin of Object.keys(d.histogram)) expect(allowed.has(Number(bin))).toBe(true);
      const total = Object.values(d.histogram).reduce((a, b) => a + b, 0);
      expect(total).toBe((tokens?.packets ?? 0) * actionSpec.horizon);
    });
    const chunks = report.topics.find((t) => t.topic === '/pons/action_chunks');
    expect(chunks?.messages).toBe(tokens?.packets);
    const commands = report.commands.find((c) => c.topic === '/pons/commands');
    expect(commands?.messages).toBeGreaterThan(100);
  }, 60_000);
});
