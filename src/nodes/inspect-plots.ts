import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { InspectReport, InspectSeries } from './inspect.js';
import { countsPlot, escapeHtml, linePlot, plotColour, svgToPng } from './svg-plot.js';

/**
 * `pons inspect --plot <dir>`: `<dir>/index.html`, one self-contained page with the plots as
 * inline SVG (commands against the measured state per joint, latency and message rates over
 * time, token histograms per action dimension), and each plot's PNG copy beside it.
 */

export interface WrittenPlots {
  html: string;
  /** PNG files, by plot name. */
  png: Record<string, string>;
}

export async function writeInspectPlots(
  report: InspectReport,
  series: InspectSeries,
  dir: string,
): Promise<WrittenPlots> {
  mkdirSync(dir, { recursive: true });
  const plots: { name: string; title: string; svg: string }[] = [];
  const add = (name: string[], title: string, svg: string | null) => {
    if (svg !== null) plots.push({ name: fileName(name), title, svg });
  };
  for (const { topic, series: joints } of series.joints) {
    for (const joint of joints) {
      add(
        ['joint', topic, joint.name],
        `${joint.name}: commands on ${topic} against the measured state`,
        linePlot({
          series: [
            { points: joint.state, colour: plotColour(0) },
            { points: joint.command, colour: plotColour(1), dashed: true },
          ],
          xLabel: 'time s',
          yLabel: `${joint.name} (solid measured, dashed command)`,
          legend: [
            { name: 'measured', colour: plotColour(0) },
            { name: 'command', colour: plotColour(1) },
          ],
        }),
      );
    }
  }
  for (const { topic, series: latency } of series.latency) {
    add(
      ['latency', topic],
      `Latency of the decisions on ${topic}`,
      linePlot({
        series: [
          { points: latency.decision, colour: plotColour(0) },
          { points: latency.log, colour: plotColour(1), dashed: true },
        ],
        xLabel: 'time s',
        yLabel: 'ms after the observation stamp',
        legend: [
          { name: 'emitted', colour: plotColour(0) },
          { name: 'logged', colour: plotColour(1) },
        ],
      }),
    );
  }
  add(
    ['rates'],
    'Message rates',
    linePlot({
      series: series.rates.map((r, i) => ({ points: r.points, colour: plotColour(i) })),
      xLabel: 'time s',
      yLabel: 'messages/s',
      legend: series.rates.map((r, i) => ({ name: r.topic, colour: plotColour(i) })),
    }),
  );
  for (const tokens of report.action_tokens) {
    for (const spec of tokens.tokens) {
      if (!spec.known) continue;
      const bins = spec.dimensions.map((d) => d.histogram);
      const top = Math.max(0, ...bins.flatMap((h) => Object.keys(h).map(Number)));
      spec.dimensions.forEach((d, j) => {
        const counts = new Array<number>(top + 1).fill(0);
        for (const [bin, n] of Object.entries(d.histogram)) counts[Number(bin)] = n;
        add(
          ['tokens', tokens.topic, d.name],
          `Token bins of ${d.name} (${spec.spec_name}) on ${tokens.topic}`,
          countsPlot(counts, 'bin', 'tokens', [0, top], plotColour(j)),
        );
      });
    }
  }
  const png: Record<string, string> = {};
  for (const plot of plots) {
    png[plot.name] = join(dir, `${plot.name}.png`);
    writeFileSync(png[plot.name] as string, await svgToPng(plot.svg));
  }
  const figures = plots
    .map(
      (p) =>
        `<h2>${escapeHtml(p.title)}</h2><figure>${p.svg}<figcaption><a href="${p.name}.png">${p.name}.png</a></figcaption></figure>`,
    )
    .join('\n');
  const html = `<!doctype html>
<html><head><meta charset="utf-8"><title>pons inspect ${escapeHtml(report.file)}</title>
<style>body{font:14px system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f1f3f5}
figure{margin:0}svg{border:1px solid #dee2e6}</style></head>
<body><h1>pons inspect ${escapeHtml(report.file)}</h1>
<p>${report.messages} messages over ${report.duration_s} s${report.damage ? `; ${escapeHtml(report.damage.reason)}` : ''}</p>
${topicTable(report)}
${figures}
</body></html>`;
  const htmlPath = join(dir, 'index.html');
  writeFileSync(htmlPath, html);
  return { html: htmlPath, png };
}

function topicTable(report: InspectReport): string {
  const rows = report.topics
    .map(
      (t) =>
        `<tr><td style="text-align:left">${escapeHtml(t.topic)}</td><td style="text-align:left">${escapeHtml(t.type)}</td><td>${t.messages}</td><td>${t.rate_hz ?? '-'}</td><td>${t.period_ms?.largest ?? '-'}</td><td>${t.gaps.count}</td></tr>`,
    )
    .join('');
  return `<table><tr><th>topic</th><th>type</th><th>messages</th><th>rate Hz</th><th>largest gap ms</th><th>gaps</th></tr>${rows}</table>`;
}

/** A plot's name parts (a kind, topics, joints) as a file name: `joint-pons_commands-elbow`. */
function fileName(parts: string[]): string {
  return parts.map((p) => p.replace(/^\/+/, '').replace(/[^A-Za-z0-9_]+/g, '_')).join('-');
}
