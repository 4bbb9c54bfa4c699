import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EpisodeRun, TaskSummary } from './episode-runner.js';
import type { SimEpisodeResult } from './sim-node.js';

/**
 * The report of `pons sim run`: one self-contained HTML page (inline SVG plots, camera
 * frames as inline PNG) with the table, success per task, the frame → command latency
 * histogram, and for the first episode of each task the joint trajectories against the
 * commands and a few camera frames.
 */

const COLOURS = ['#d9480f', '#1c7ed6', '#2b8a3e'];
const W = 560;
const H = 200;
const PAD = 36;

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
<h2>Frame → command latency</h2>${histogram(run.episodes.flatMap((e) => e.latencyMs))}
${sections.join('\n')}
</body></html>`;
  const path = join(dir, 'index.html');
  writeFileSync(path, html);
  return path;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
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

function svg(body: string, width = W, height = H): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${body}</svg>`;
}

/** Axes with three y ticks; `xMax` adds the x range to its label (none for categories). */
function axes(
  xLabel: string,
  yLabel: string,
  xMax: number | undefined,
  yMin: number,
  yMax: number,
): string {
  const ticks = [yMin, (yMin + yMax) / 2, yMax]
    .map((v) => {
      const y = PAD + (1 - (v - yMin) / (yMax - yMin || 1)) * (H - 2 * PAD);
      return `<text x="${PAD - 4}" y="${y + 4}" text-anchor="end" font-size="10">${v.toFixed(1)}</text>`;
    })
    .join('');
  return (
    `<line x1="${PAD}" y1="${H - PAD}" x2="${W - 8}" y2="${H - PAD}" stroke="#888"/>` +
    `<line x1="${PAD}" y1="${PAD}" x2="${PAD}" y2="${H - PAD}" stroke="#888"/>${ticks}` +
    `<text x="${W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${xLabel}${xMax === undefined ? '' : ` (0–${xMax.toFixed(1)})`}</text>` +
    `<text x="10" y="${PAD - 12}" font-size="11">${yLabel}</text>`
  );
}

/** Measured joints (solid) against the commands that reached the simulator (dashed). */
function trajectoryPlot(episode: SimEpisodeResult): string {
  const trace = episode.trace;
  if (trace.length < 2) return '<p>(no trace)</p>';
  const tMax = (trace.at(-1) as (typeof trace)[number]).t || 1;
  const values = trace.flatMap((p) => [...p.measured, ...p.commanded]);
  const yMin = Math.min(...values);
  const yMax = Math.max(...values);
  const x = (t: number) => PAD + (t / tMax) * (W - PAD - 8);
  const y = (v: number) => PAD + (1 - (v - yMin) / (yMax - yMin || 1)) * (H - 2 * PAD);
  const lines = [0, 1, 2]
    .map((j) => {
      const measured = trace.map((p) => `${x(p.t)},${y(p.measured[j] as number)}`).join(' ');
      const commanded = trace.map((p) => `${x(p.t)},${y(p.commanded[j] as number)}`).join(' ');
      return (
        `<polyline fill="none" stroke="${COLOURS[j]}" stroke-width="1.5" points="${measured}"/>` +
        `<polyline fill="none" stroke="${COLOURS[j]}" stroke-dasharray="4 3" points="${commanded}"/>`
      );
    })
    .join('');
  const legend = ['shoulder', 'elbow', 'wrist']
    .map(
      (n, j) =>
        `<text x="${W - 200 + j * 64}" y="16" font-size="11" fill="${COLOURS[j]}">${n}</text>`,
    )
    .join('');
  return svg(
    `${axes('sim time s', 'joint rad (solid measured, dashed command)', tMax, yMin, yMax)}${lines}${legend}`,
  );
}

function successPlot(tasks: TaskSummary[]): string {
  const bars = tasks
    .map((t, i) => {
      const h = t.success_rate * (H - 2 * PAD);
      const x = PAD + 20 + i * 120;
      return `<rect x="${x}" y="${H - PAD - h}" width="80" height="${h}" fill="#1c7ed6"/><text x="${x + 40}" y="${H - PAD + 14}" text-anchor="middle" font-size="11">${t.task}</text><text x="${x + 40}" y="${H - PAD - h - 4}" text-anchor="middle" font-size="11">${(100 * t.success_rate).toFixed(0)}%</text>`;
    })
    .join('');
  return svg(`${axes('task', 'success rate', undefined, 0, 1)}${bars}`);
}

function histogram(latency: number[]): string {
  if (latency.length === 0) return '<p>(no commands executed a decided frame)</p>';
  const max = Math.max(...latency);
  const bins = 30;
  const width = max / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of latency) {
    const bin = Math.min(bins - 1, Math.floor(v / width));
    counts[bin] = (counts[bin] as number) + 1;
  }
  const top = Math.max(...counts);
  const bars = counts
    .map((c, i) => {
      const h = (c / top) * (H - 2 * PAD);
      const bw = (W - PAD - 8) / bins;
      return `<rect x="${PAD + i * bw}" y="${H - PAD - h}" width="${bw - 1}" height="${h}" fill="#2b8a3e"/>`;
    })
    .join('');
  return svg(`${axes('latency ms', 'decisions', max, 0, top)}${bars}`);
}
