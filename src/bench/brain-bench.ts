import {
  type BrainOptions,
  BrainRuntime,
  type DecodingMode,
  type RawFrame,
} from '../brain/index.js';
import { percentile, round } from './percentiles.js';

/**
 * Whole decisions of a brain model package, back to back, on a 640×480 rgb8 frame that
 * changes every decision (as a camera's does): per-stage latency percentiles, decisions/s,
 * tokens/s, and resident memory after the first 100 decisions and at the end, which is
 * the leak check.
 */

export interface Percentiles {
  p50: number;
  p99: number;
}

export interface BrainBenchResult {
  model: string;
  provider: string;
  fallbacks: string[];
  mode: DecodingMode;
  decisions: number;
  decision_ms: Percentiles;
  stages_ms: {
    preprocess: Percentiles;
    vision: Percentiles;
    prefill: Percentiles;
    token: Percentiles;
  };
  decisions_per_s: number;
  tokens_per_s: number;
  prompt_tokens: number;
  peak_rss_mb: number;
  rss_after_100_mb: number;
  rss_end_mb: number;
  rss_growth_pct: number;
}

export interface BrainBenchOptions extends BrainOptions {
  decisions?: number;
  warmup?: number;
  mode?: DecodingMode;
  instruction?: string;
  progress?: (message: string) => void;
}

export async function runBrainBench(
  dir: string,
  options: BrainBenchOptions = {},
): Promise<BrainBenchResult> {
  const brain = await BrainRuntime.open(dir, options);
  try {
    const decisions = options.decisions ?? 1000;
    const warmup = options.warmup ?? 20;
    const mode = options.mode ?? brain.pkg.manifest.decoding.default;
    const instruction = options.instruction ?? 'reach the red block';
    const frame = testFrame(640, 480);
    const fill = (n: number) => {
      // A band that sweeps across the image: every frame differs from the last.
      const x0 = (n * 7) % frame.width;
      for (let y = 200; y < 280; y++) {
        const row = y * frame.step;
        for (let x = 0; x < frame.width; x++)
          frame.data[row + 3 * x] = Math.abs(x - x0) < 40 ? 250 : 30;
      }
    };
    for (let n = 0; n < warmup; n++) {
      fill(n);
      await brain.decide(frame, instruction, { mode });
    }
    const total: number[] = [];
    const stages = {
      preprocess: [] as number[],
      vision: [] as number[],
      prefill: [] as number[],
      token: [] as number[],
    };
    let rssAfter100 = 0;
    let promptTokens = 0;
    const every = Math.max(1, Math.floor(decisions / 10));
    const started = performance.now();
    for (let n = 0; n < decisions; n++) {
      fill(warmup + n);
      const d = await brain.decide(frame, instruction, { mode });
      total.push(d.timings.total_ms);
      stages.preprocess.push(d.timings.preprocess_ms);
      stages.vision.push(d.timings.vision_ms);
      stages.prefill.push(d.timings.prefill_ms);
      stages.token.push(...d.timings.tokens_ms);
      promptTokens = d.promptTokens;
      if (n === 99 || (decisions < 100 && n === decisions - 1))
        rssAfter100 = process.memoryUsage.rss();
      if ((n + 1) % every === 0) options.progress?.(`${n + 1}/${decisions} decisions`);
    }
    const seconds = (performance.now() - started) / 1000;
    const rssEnd = process.memoryUsage.rss();
    const pct = (samples: number[]): Percentiles => ({
      p50: round(percentile(samples, 50), 3),
      p99: round(percentile(samples, 99), 3),
    });
    const mb = (bytes: number) => round(bytes / 2 ** 20, 1);
    return {
      model: brain.pkg.manifest.name,
      provider: brain.provider,
      fallbacks: brain.fallbacks.map((f) => `${f.graph}: ${f.provider}: ${f.reason}`),
      mode,
      decisions,
      decision_ms: pct(total),
      stages_ms: {
        preprocess: pct(stages.preprocess),
        vision: pct(stages.vision),
        prefill: pct(stages.prefill),
        token: pct(stages.token),
      },
      decisions_per_s: round(decisions / seconds, 1),
      tokens_per_s: round((decisions * brain.tokensPerDecision) / seconds, 0),
      prompt_tokens: promptTokens,
      // maxRSS is in kilobytes.
      peak_rss_mb: round(process.resourceUsage().maxRSS / 1024, 1),
      rss_after_100_mb: mb(rssAfter100),
      rss_end_mb: mb(rssEnd),
      rss_growth_pct: round((100 * (rssEnd - rssAfter100)) / rssAfter100, 2),
    };
  } finally {
    await brain.close();
  }
}

/** A grey tabletop with three coloured blocks. */
export function testFrame(width: number, height: number): RawFrame {
  const data = new Uint8Array(width * height * 3).fill(90);
  const blocks: [number, number, [number, number, number]][] = [
    [0.2, 0.3, [220, 40, 40]],
    [0.6, 0.5, [40, 60, 220]],
    [0.4, 0.75, [40, 200, 60]],
  ];
  const side = Math.round(Math.min(width, height) * 0.08);
  for (const [fx, fy, colour] of blocks) {
    const x0 = Math.round(fx * width);
    const y0 = Math.round(fy * height);
    for (let y = y0; y < Math.min(height, y0 + side); y++) {
      for (let x = x0; x < Math.min(width, x0 + side); x++) data.set(colour, (y * width + x) * 3);
    }
  }
  return { kind: 'raw', encoding: 'rgb8', width, height, step: width * 3, data };
}
