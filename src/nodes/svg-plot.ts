import sharp from 'sharp';

/**
 * The plots of pons's HTML reports (`pons sim run`, `pons inspect`): small self-contained SVG
 * strings (line plots, bar plots, histograms) that a page inlines, and their PNG copies
 * rendered by sharp (librsvg) for places that take no SVG.
 */

const COLOURS = [
  '#d9480f',
  '#1c7ed6',
  '#2b8a3e',
  '#9c36b5',
  '#e67700',
  '#0b7285',
  '#c2255c',
  '#5c940d',
];

/** The i-th series colour, cycling. */
export function plotColour(i: number): string {
  return COLOURS[i % COLOURS.length] as string;
}

const W = 560;
const H = 220;
/** Left and bottom margin; the top one leaves two rows of legend and the y label. */
const PAD = 36;
const TOP = 48;
const INNER_W = W - PAD - 8;
const INNER_H = H - TOP - PAD;

export interface Series {
  /** [x, y] points in x order. */
  points: readonly (readonly [number, number])[];
  colour: string;
  dashed?: boolean;
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function svgToPng(svg: string): Promise<Buffer> {
  return sharp(Buffer.from(svg)).png().toBuffer();
}

function svg(body: string): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}"><rect width="${W}" height="${H}" fill="#fff"/>${body}</svg>`;
}

/** Axes with three y ticks; `xRange` adds the x range to its label (none for categories). */
function axes(
  xLabel: string,
  yLabel: string,
  xRange: readonly [number, number] | undefined,
  yMin: number,
  yMax: number,
): string {
  const ticks = [yMin, (yMin + yMax) / 2, yMax]
    .map((v) => {
      const y = TOP + (1 - (v - yMin) / (yMax - yMin || 1)) * INNER_H;
      return `<text x="${PAD - 4}" y="${y + 4}" text-anchor="end" font-size="10">${tick(v)}</text>`;
    })
    .join('');
  const range = xRange === undefined ? '' : ` (${tick(xRange[0])}–${tick(xRange[1])})`;
  return (
    `<line x1="${PAD}" y1="${H - PAD}" x2="${W - 8}" y2="${H - PAD}" stroke="#888"/>` +
    `<line x1="${PAD}" y1="${TOP}" x2="${PAD}" y2="${H - PAD}" stroke="#888"/>${ticks}` +
    `<text x="${W / 2}" y="${H - 6}" text-anchor="middle" font-size="11">${escapeHtml(xLabel)}${range}</text>` +
    `<text x="10" y="${TOP - 6}" font-size="11">${escapeHtml(yLabel)}</text>`
  );
}

function tick(v: number): string {
  return Math.abs(v) >= 1000 || v === Math.round(v) ? v.toFixed(0) : v.toFixed(1);
}

/** Names in their series' colours, flowing along the top from the left, wrapping. */
function legend(entries: readonly { name: string; colour: string }[]): string {
  let x = PAD;
  let y = 12;
  return entries
    .map((e) => {
      const width = 8 + 6.5 * e.name.length;
      if (x + width > W && x > PAD) {
        x = PAD;
        y += 12;
      }
      const text = `<text x="${x}" y="${y}" font-size="11" fill="${e.colour}">${escapeHtml(e.name)}</text>`;
      x += width;
      return text;
    })
    .join('');
}

/** Lines over a shared x and y range; `null` when no series has two points. */
export function linePlot(options: {
  series: readonly Series[];
  xLabel: string;
  yLabel: string;
  legend?: readonly { name: string; colour: string }[];
}): string | null {
  const drawn = options.series.filter((s) => s.points.length >= 2);
  if (drawn.length === 0) return null;
  let [xMin, xMax, yMin, yMax] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const s of drawn) {
    for (const [x, y] of s.points) {
      xMin = Math.min(xMin, x);
      xMax = Math.max(xMax, x);
      yMin = Math.min(yMin, y);
      yMax = Math.max(yMax, y);
    }
  }
  const px = (x: number) => PAD + ((x - xMin) / (xMax - xMin || 1)) * INNER_W;
  const py = (y: number) => TOP + (1 - (y - yMin) / (yMax - yMin || 1)) * INNER_H;
  const lines = drawn
    .map((s) => {
      const points = s.points.map(([x, y]) => `${px(x).toFixed(1)},${py(y).toFixed(1)}`);
      const style = s.dashed ? 'stroke-dasharray="4 3"' : 'stroke-width="1.5"';
      return `<polyline fill="none" stroke="${s.colour}" ${style} points="${points.join(' ')}"/>`;
    })
    .join('');
  return svg(
    `${axes(options.xLabel, options.yLabel, [xMin, xMax], yMin, yMax)}${lines}${legend(options.legend ?? [])}`,
  );
}

/** Labelled bars of values in [0, yMax], each with its text above it. */
export function barPlot(
  bars: readonly { label: string; value: number; text: string }[],
  xLabel: string,
  yLabel: string,
  yMax: number,
): string {
  const body = bars
    .map((b, i) => {
      const h = (b.value / (yMax || 1)) * INNER_H;
      const x = PAD + 20 + i * 120;
      return `<rect x="${x}" y="${H - PAD - h}" width="80" height="${h}" fill="#1c7ed6"/><text x="${x + 40}" y="${H - PAD + 14}" text-anchor="middle" font-size="11">${escapeHtml(b.label)}</text><text x="${x + 40}" y="${H - PAD - h - 4}" text-anchor="middle" font-size="11">${escapeHtml(b.text)}</text>`;
    })
    .join('');
  return svg(`${axes(xLabel, yLabel, undefined, 0, yMax)}${body}`);
}

/** Counts of consecutive equal-width bins spanning `xRange`, as touching bars. */
export function countsPlot(
  counts: readonly number[],
  xLabel: string,
  yLabel: string,
  xRange: readonly [number, number],
  colour = '#2b8a3e',
): string {
  const top = Math.max(1, ...counts);
  const bw = INNER_W / Math.max(1, counts.length);
  const bars = counts
    .map((c, i) => {
      const h = (c / top) * INNER_H;
      return `<rect x="${(PAD + i * bw).toFixed(2)}" y="${H - PAD - h}" width="${Math.max(0.5, bw - 1).toFixed(2)}" height="${h}" fill="${colour}"/>`;
    })
    .join('');
  return svg(`${axes(xLabel, yLabel, xRange, 0, top)}${bars}`);
}

/** A histogram of non-negative samples in `bins` bins from 0 to their maximum. */
export function histogramPlot(
  samples: readonly number[],
  xLabel: string,
  yLabel: string,
  bins = 30,
): string | null {
  if (samples.length === 0) return null;
  let max = 0;
  for (const v of samples) if (v > max) max = v;
  const width = max / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (const v of samples) {
    const bin = Math.min(bins - 1, Math.max(0, Math.floor(v / width)));
    counts[bin] = (counts[bin] as number) + 1;
  }
  return countsPlot(counts, xLabel, yLabel, [0, max]);
}
