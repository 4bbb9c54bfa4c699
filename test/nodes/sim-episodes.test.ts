import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyReplay } from '../../src/nodes/replay-verify.js';
import { newReport, readRos2Mcap } from '../../src/record/mcap-read.js';
import { CLI } from '../helpers/processes.js';

// `pons sim run` end to end: simulator, brain and cerebellum as three real processes on
// ZeroMQ, paced to the wall clock, with the scripted expert as the brain.

const dir = mkdtempSync(join(tmpdir(), 'pons-sim-run-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface RunOutput {
  tasks: {
    task: string;
    episodes: number;
    success_rate: number;
    latency_ms: { p50: number; p99: number };
    decision_rate_hz: number;
    watchdog_holds: number;
  }[];
  episodes: {
    task: string;
    success: boolean;
    seconds: number;
    holds: number;
    hold_max_speed: number;
  }[];
  brain_restarts: number;
  report: string;
}

function simRun(args: string[]): RunOutput {
  const run = spawnSync(
    process.execPath,
    [CLI, 'sim', 'run', '--json', '--brain', 'expert', ...args],
    {
      encoding: 'utf8',
      timeout: 170_000,
    },
  );
  expect(run.status, run.stderr.slice(-3000)).toBe(0);
  return JSON.parse(run.stdout.trim().split('\n').at(-1) as string) as RunOutput;
}

describe('pons sim run', () => {
  it('runs expert episodes across three processes to success, and writes the report', () => {
    const out = simRun([
      '--task',
      'reach',
      '--episodes',
      '2',
      '--seed',
      '7',
      '--report',
      join(dir, 'report'),
      '--record',
      join(dir, 'recording'),
    ]);
    const [reach] = out.tasks;
    expect(reach).toMatchObject({ task: 'reach', episodes: 2, success_rate: 1 });
    // Decisions at the expert's 2 Hz, each frame's chunk executed within a few frames.
    expect(reach?.decision_rate_hz).toBeGreaterThan(1.5);
    expect(reach?.latency_ms.p50).toBeGreaterThan(0);
    expect(reach?.latency_ms.p99).toBeLessThan(500);
    const html = readFileSync(out.report, 'utf8');
    expect(html).toContain('<table>');
    expect(html.match(/<svg /g)?.length).toBeGreaterThanOrEqual(3);
    expect(html).toMatch(/<img src="data:image\/png;base64,/);
    // The cerebellum's recording of the run is whole and decodes against its schemas.
    const report = newReport();
    const file = readFileSync(join(dir, 'recording/cerebellum.mcap'));
    const recorded = [...readRos2Mcap(file, 'cerebellum.mcap', report)];
    expect(report.stopped).toBeUndefined();
    expect(report.undecodable).toBe(0);
    expect(report.byTopic['/pons/action_chunks']).toBe(report.byTopic['/pons/action_tokens']);
    expect(recorded.filter((m) => m.topic === '/pons/commands').length).toBeGreaterThan(1000);
    // Measured joint states, diagnostics, and what replays the control thread, recorded too.
    expect(report.byTopic['/joint_states']).toBeGreaterThan(100);
    expect(report.byTopic['/diagnostics']).toBeGreaterThanOrEqual(2);
    expect(report.byTopic['/pons/control/setup']).toBe(1);
    const verified = verifyReplay({ bytes: file, file: 'cerebellum.mcap' });
    expect(verified.exact, JSON.stringify({ ...verified, read: undefined })).toBe(true);
  }, 180_000);

  it('survives the brain being killed mid-episode: the arm holds, the episode resumes', () => {
    const out = simRun([
      '--task',
      'push',
      '--episodes',
      '1',
      '--seed',
      '3',
      '--kill-brain-after',
      '2',
      '--report',
      join(dir, 'fault'),
      '--record',
      join(dir, 'fault-recording'),
    ]);
    expect(out.brain_restarts).toBe(1);
    const [episode] = out.episodes;
    expect(episode?.holds).toBeGreaterThanOrEqual(1);
    // Held: once braked, the joints barely move while the brain is away (rad/s).
    expect(episode?.hold_max_speed).toBeLessThan(0.05);
    expect(episode?.success).toBe(true);
    // The hold while the brain was away replays exactly too.
    const bytes = readFileSync(join(dir, 'fault-recording/cerebellum.mcap'));
    const verified = verifyReplay({ bytes, file: 'cerebellum.mcap' });
    expect(verified.exact, JSON.stringify({ ...verified, read: undefined })).toBe(true);
  }, 180_000);
});
