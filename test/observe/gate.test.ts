import { Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { type GateResult, newestWins, newGateCounters } from '../../src/observe/index.js';

// The model is a promise the test resolves by hand: time and model speed are explicit.

interface Obs {
  id: number;
  stampNs: bigint;
}

function harness(options: { maxAgeNs?: bigint; ready?: () => boolean; minPeriodNs?: bigint } = {}) {
  let now = 0n;
  const inFlight: { obs: Obs; finish: (ok: boolean) => void }[] = [];
  const started: number[] = [];
  let maxConcurrent = 0;
  const counters = newGateCounters();
  const input = new Subject<Obs>();
  const results: GateResult<Obs, number>[] = [];
  const errors: number[] = [];
  let completed = false;
  input
    .pipe(
      newestWins(
        (obs: Obs) =>
          new Promise<number>((resolve, reject) => {
            started.push(obs.id);
            inFlight.push({
              obs,
              finish: (ok) => (ok ? resolve(obs.id * 10) : reject(new Error('bad frame'))),
            });
            maxConcurrent = Math.max(maxConcurrent, inFlight.length);
          }),
        {
          maxAgeNs: options.maxAgeNs ?? 10n ** 12n,
          stampOf: (o) => o.stampNs,
          now: () => now,
          counters,
          onError: (_err, obs) => errors.push(obs.id),
          ...(options.ready ? { ready: options.ready } : {}),
          ...(options.minPeriodNs === undefined ? {} : { minPeriodNs: options.minPeriodNs }),
        },
      ),
    )
    .subscribe({ next: (r) => results.push(r), complete: () => (completed = true) });
  return {
    counters,
    started,
    results,
    errors,
    get maxConcurrent() {
      return maxConcurrent;
    },
    get completed() {
      return completed;
    },
    /** A camera frame captured now. */
    frame(id: number) {
      input.next({ id, stampNs: now });
    },
    advance(ns: bigint) {
      now += ns;
    },
    /** The model finishes its current run (and lets the gate start the next). */
    async finish(ok = true) {
      const run = inFlight.shift();
      if (!run) throw new Error('nothing in flight');
      run.finish(ok);
      await new Promise((r) => setImmediate(r));
    },
    end() {
      input.complete();
    },
  };
}

describe('newest-wins gate', () => {
  it('with a model 5× slower than the camera: one run at a time, always on the newest frame', async () => {
    const h = harness();
    let id = 0;
    for (let decision = 0; decision < 20; decision++) {
      for (let k = 0; k < 5; k++) {
        h.frame(id++);
        h.advance(33_000_000n);
      }
      await h.finish();
    }
    expect(h.maxConcurrent).toBe(1);
    // Run 0 is frame 0; every later run is the last frame before the previous one finished.
    expect(h.started.slice(0, 4)).toEqual([0, 4, 9, 14]);
    expect(h.started.length).toBe(21);
    // Of each burst of frames that arrived during a run, all but the newest were superseded.
    expect(h.counters.superseded).toBe(3 + 19 * 4);
    expect(h.counters.admitted).toBe(21);
    expect(h.results.map((r) => r.result)).toEqual(h.started.slice(0, 20).map((i) => i * 10));
  });

  it('with a minimum period: runs start that far apart, the first frame after it at once', async () => {
    const g = harness({ minPeriodNs: 500_000_000n });
    // A fast model and a 10 Hz camera over 2 s: a run on frames 0, 5, 10, 15 only.
    for (let id = 0; id < 20; id++) {
      g.frame(id);
      if (g.started.length > g.results.length) await g.finish();
      g.advance(100_000_000n);
    }
    expect(g.started).toEqual([0, 5, 10, 15]);
    expect(g.counters.throttled).toBe(16);
    expect(g.counters.admitted).toBe(4);
  });

  it('drops an observation that grew stale while the model was busy, and counts it', async () => {
    const h = harness({ maxAgeNs: 100_000_000n });
    h.frame(0);
    h.frame(1);
    h.advance(150_000_000n);
    await h.finish();
    expect(h.counters.stale).toBe(1);
    expect(h.started).toEqual([0]);
    h.frame(2);
    expect(h.started).toEqual([0, 2]);
  });

  it('reports a failed run and goes on with the next observation', async () => {
    const h = harness();
    h.frame(0);
    h.frame(1);
    await h.finish(false);
    expect(h.errors).toEqual([0]);
    expect(h.counters.failed).toBe(1);
    expect(h.started).toEqual([0, 1]);
    await h.finish();
    expect(h.results.map((r) => r.observation.id)).toEqual([1]);
  });

  it('runs nothing while not ready (e-stop), and counts what it dropped', () => {
    let ready = false;
    const h = harness({ ready: () => ready });
    h.frame(0);
    h.frame(1);
    expect(h.started).toEqual([]);
    expect(h.counters.paused).toBe(2);
    ready = true;
    h.frame(2);
    expect(h.started).toEqual([2]);
  });

  it('completes only after the run in flight has finished', async () => {
    const h = harness();
    h.frame(0);
    h.end();
    expect(h.completed).toBe(false);
    await h.finish();
    expect(h.completed).toBe(true);
    expect(h.results).toHaveLength(1);
  });

  it('measures how long an observation waited for a free model', async () => {
    const h = harness();
    h.frame(0);
    h.advance(10_000_000n);
    h.frame(1);
    h.advance(20_000_000n);
    await h.finish();
    await h.finish();
    expect(h.results.map((r) => r.waitedNs)).toEqual([0n, 20_000_000n]);
  });
});
