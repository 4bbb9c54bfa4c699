import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROS_TYPES, stringMsg } from '../../src/ros/index.js';

// The recorder writes from a worker thread, so it comes from dist/ (npm test builds it).
const compiled = '../../dist/record/recorder.js';
const { Recorder } = (await import(compiled)) as typeof import('../../src/record/recorder.js');

const dir = mkdtempSync(join(tmpdir(), 'pons-drained-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('Recorder.drained', () => {
  it('resolves once a burst recorded without yielding is written, before close', async () => {
    const recorder = await Recorder.open(join(dir, 'burst.mcap'), { maxQueue: 10_000 });
    for (let i = 0; i < 3000; i++) {
      recorder.record('/t', ROS_TYPES.string, BigInt(i), stringMsg(`message ${i}`), 'reliable');
    }
    expect(recorder.counters.recorded).toBe(0);
    await recorder.drained();
    expect(recorder.counters.recorded).toBe(3000);
    for (let i = 0; i < 500; i++) {
      recorder.record('/t', ROS_TYPES.string, BigInt(3000 + i), stringMsg('more'), 'reliable');
    }
    await recorder.drained();
    expect(recorder.counters).toMatchObject({ recorded: 3500, dropped: 0 });
    await recorder.close();
    await recorder.drained();
  });
});
