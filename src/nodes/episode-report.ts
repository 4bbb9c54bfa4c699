import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeRun, TaskSummary } from './episode-runner.js';
import type { SimEpisodeResult } from './sim-node.js';
import { barPlot, escapeHtml, histogramPlot, linePlot, plotColour } from './svg-plot.js';

/**
 * The report of `pons sim run`: one self-contained HTML page (inline SVG plots, camera
 * frames as inline PNG) with the table, success per task, the frame → command latency
 * histogram, and for the first episode of each task the joint trajectories against the
 * commands and a few camera frames.
 */

const JOINTS = ['shoulder', 'elbow', 'wrist'];

export function writeEpisodeReport(run: EpisodeRun, dir: string): string {
  mkdirSync(dir, { recursive: true });
  const firsts = [...new Set(run.episodes.map((e) => e.task))].map(
    (task) => run.episodes.find((e) => e.task === task) as SimEpisodeResult,
  );
  const sections: string[] = [];
  for (const episode of firsts) {
    const frames = episode.snapshots.map(
      (s) =>
        `<figure><img src="data:image/png;base64,${s.png}" width="${s.width}" height="${s.height}"><figcaption>t = ${s.t.toFixed(1)} s</figcaption></figure>`,
    );
    sections.push(
      `<h2>${escapeHtml(episode.instruction)} (seed ${episode.seed}: ${episode.success ? 'success' : 'failed'} in ${episode.seconds.toFixed(1)} s)</h2>`,
      trajectoryPlot(episode),
      `<div class="frames">${frames.join('')}</div>`,
    );
  }
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>pons sim run</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f1f3f5}
.frames{display:flex;gap:12px}figure{margin:0}svg{background:#fff;border:1px solid #dee2e6}</style></head>
<body><h1>pons sim run</h1>
${table(run.tasks)}
<p>${run.brainRestarts > 0 ? `The brain was killed and restarted ${run.brainRestarts} time(s) during the run.` : ''}</p>
<h2>Success per task</h2>${successPlot(run.tasks)}
<h2>Frame → command latency</h2>${
    histogramPlot(
      run.episodes.flatMap((e) => e.latencyMs),
      'latency ms',
      'decisions',
    ) ?? '<p>(no commands executed a decided frame)</p>'
  }
${sections.join('\n')}
</body></html>`;
  const path = join(dir, 'index.html');
  writeFileSync(path, html);
  return path;
}

function table(tasks: TaskSummary[]): string {
  const rows = tasks
    .map(
      (t) =>
        `<tr><td style="text-align:left">${t.task}</td><td style="text-align:left">${escapeHtml(t.brain)}</td><td>${t.episodes}</td><td>${(100 * t.success_rate).toFixed(0)}%</td><td>${t.mean_length_s}</td><td>${t.decision_rate_hz}</td><td>${t.latency_ms.p50}</td><td>${t.latency_ms.p99}</td><td>${t.dropped_frames}</td><td>${t.watchdog_holds}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>task</th><th>brain</th><th>episodes</th><th>success</th><th>mean length s</th><th>decisions/s</th><th>latency p50 ms</th><th>p99 ms</th><th>dropped frames</th><th>watchdog holds</th></tr>${rows}</table>`;
}

/** Measured joints (solid) against the commands that reached the simulator (dashed). */
function trajectoryPlot(episode: SimEpisodeResult): string {
  const trace = episode.trace;
  const series = JOINTS.flatMap((_, j) => [
    { points: trace.map((p) => [p.t, p.measured[j] as number] as const), colour: plotColour(j) },
    {
      points: trace.map((p) => [p.t, p.commanded[j] as number] as const),
      colour: plotColour(j),
      dashed: true,
    },
  ]);
  return (
    linePlot({
      series,
      xLabel: 'sim time s',
      yLabel: 'joint rad (solid measured, dashed command)',
      legend: JOINTS.map((name, j) => ({ name, colour: plotColour(j) })),
    }) ?? '<p>(no trace)</p>'
  );
}

function successPlot(tasks: TaskSummary[]): string {
  const bars = tasks.map((t) => ({
    label: t.task,
    value: t.success_rate,
    text: `${(100 * t.success_rate).toFixed(0)}%`,
  }));
  return barPlot(bars, 'task', 'success rate', 1);
}
