import type { Distribution } from '../bench/percentiles.js';
import { shortId } from '../contract/index.js';
import type { InspectReport } from '../nodes/inspect.js';
import type { ActionTokensSummary, SpecTokens } from '../nodes/token-stats.js';
import { textTable } from './text-table.js';

/** `pons inspect`'s human-readable report: what `--json` prints, as tables. */
export function inspectText(r: InspectReport): string[] {
  const out: string[] = [];
  const when = r.start_ns === null ? '' : ` from ${isoTime(r.start_ns)}`;
  out.push(
    `${r.file}: ${r.bytes} bytes, ${r.messages} messages over ${r.duration_s} s${when}${r.complete ? '' : ' (INCOMPLETE)'}`,
  );
  if (r.damage) {
    const at =
      r.damage.last_read_ns === null
        ? ''
        : `, after the message logged at ${isoTime(r.damage.last_read_ns)}`;
    const { kind, offset, unread_bytes } = r.damage;
    out.push(
      kind === 'truncated'
        ? `  read up to byte ${offset} of ${r.bytes}: ${unread_bytes} bytes lost${at}`
        : `  a damaged record ending at byte ${offset} of ${r.bytes}: it and ${unread_bytes} bytes after it lost${at}`,
      `  ${r.damage.reason}`,
    );
  }
  if (r.undecodable > 0)
    out.push(`  ${r.undecodable} messages did not decode against their schema`);
  out.push('');
  const factor = r.topics[0]?.gaps.factor ?? 3;
  out.push(
    ...textTable(
      [
        [
          'topic',
          'type',
          'msgs',
          'first s',
          'last s',
          'rate Hz',
          'median ms',
          'largest ms',
          'at s',
          `gaps>${factor}×`,
          'bytes min/mean/max',
        ],
        ...r.topics.map((t) => [
          t.topic,
          t.type,
          String(t.messages),
          seconds(t.first_ns, r.start_ns),
          seconds(t.last_ns, r.start_ns),
          t.rate_hz === null ? '-' : t.rate_hz.toFixed(2),
          t.period_ms ? t.period_ms.median.toFixed(1) : '-',
          t.period_ms ? t.period_ms.largest.toFixed(1) : '-',
          t.period_ms ? t.period_ms.largest_after_s.toFixed(2) : '-',
          String(t.gaps.count),
          `${t.size_bytes.min}/${Math.round(t.size_bytes.mean)}/${t.size_bytes.max}`,
        ]),
      ],
      [0, 1],
    ),
  );
  for (const u of r.undecoded)
    out.push(`not decoded: ${u.topic}, ${u.messages} messages: ${u.reason}`);
  for (const t of r.action_tokens) out.push('', ...tokensText(t));
  for (const c of r.commands) {
    out.push(
      '',
      `commands on ${c.topic} (${c.type}): ${c.messages} at ${c.rate_hz?.toFixed(2) ?? '-'} Hz`,
    );
    const v = c.versus_state;
    if (!v) continue;
    out.push(
      `  command − last measured state before it (${v.state_topic}), ${v.paired} commands paired:`,
      ...indent(
        textTable(
          [
            ['joint', 'mean |e|', 'rms', 'max |e|'],
            ...v.joints.map((j) => [
              j.name,
              j.mean_abs.toFixed(4),
              j.rms.toFixed(4),
              j.max_abs.toFixed(4),
            ]),
          ],
          [0],
        ),
      ),
    );
  }
  return out;
}

function tokensText(t: ActionTokensSummary): string[] {
  const out = [
    `action tokens on ${t.topic}: ${t.packets} packets, ${t.episode_ids} episode(s)`,
    `  spec ids: ${counts(t.spec_ids)}`,
    `  model ids: ${counts(t.model_ids)}`,
    `  seq: ${t.seq.lost} decisions lost in ${t.seq.gaps} gaps, ${t.seq.restarts} restarts, ${t.seq.out_of_order} out of order`,
  ];
  if (t.other_spec && t.other_spec.packets > 0) {
    out.push(
      `  ${t.other_spec.packets} packets of another spec than ${shortId(t.other_spec.expected)} (the profile's)`,
    );
  }
  if (t.invalid > 0) out.push(`  ${t.invalid} messages unreadable: ${t.first_invalid}`);
  const rows: string[][] = [['ms', 'n', 'p50', 'p90', 'p99', 'max']];
  const row = (name: string, d: Distribution | null) => {
    if (d)
      rows.push([name, String(d.count), ...[d.p50, d.p90, d.p99, d.max].map((v) => v.toFixed(2))]);
  };
  row('decision (emit − stamp)', t.latency_ms.decision);
  row('logged − stamp', t.latency_ms.log);
  row('logged − emit', t.latency_ms.log_after_emit);
  for (const [stage, d] of Object.entries(t.timing_ms)) row(`stage ${stage}`, d);
  out.push(...indent(textTable(rows, [0])));
  for (const s of t.tokens) out.push(...specTokensText(s));
  return out;
}

function specTokensText(s: SpecTokens): string[] {
  if (!s.known) {
    return [
      `  tokens of spec ${shortId(s.spec_id)} (unknown here: raw ids): ${s.packets} packets of ${s.tokens_per_packet.min}–${s.tokens_per_packet.max} tokens, ids ${s.ids.min}–${s.ids.max}, ${s.ids.distinct} distinct`,
    ];
  }
  const refused = s.refused > 0 ? `, ${s.refused} refused: ${s.first_refusal}` : '';
  return [
    `  tokens of spec ${s.spec_name} (${shortId(s.spec_id)}): ${s.packets} packets${refused}`,
    ...indent(
      textTable(
        [
          ['dimension', 'unit', 'bins', 'distinct', 'min', 'max', 'histogram (min bin … max bin)'],
          ...s.dimensions.map((d) => [
            d.name,
            d.unit,
            `${d.bins.min}–${d.bins.max}`,
            String(d.bins.distinct),
            d.value.min.toFixed(4),
            d.value.max.toFixed(4),
            sparkline(d.histogram, d.bins.min, d.bins.max),
          ]),
        ],
        [0, 1, 6],
      ),
    ),
  ];
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/** Counts over [lo, hi], merged into at most 32 columns. */
function sparkline(histogram: Record<string, number>, lo: number, hi: number): string {
  const columns = Math.min(32, hi - lo + 1);
  const sums = new Array<number>(columns).fill(0);
  for (const [bin, n] of Object.entries(histogram)) {
    const c = Math.min(columns - 1, Math.floor(((Number(bin) - lo) * columns) / (hi - lo + 1)));
    sums[c] = (sums[c] as number) + n;
  }
  const top = Math.max(1, ...sums);
  return sums.map((n) => (n === 0 ? ' ' : BLOCKS[Math.min(7, Math.floor((n / top) * 8))])).join('');
}

function counts(map: Record<string, number>): string {
  return Object.entries(map)
    .map(([id, n]) => `${id.length === 64 ? shortId(id) : id || '(none)'} ×${n}`)
    .join(', ');
}

function seconds(ns: bigint, start: bigint | null): string {
  return (Number(ns - (start ?? ns)) / 1e9).toFixed(2);
}

function isoTime(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

function indent(lines: string[]): string[] {
  return lines.map((l) => `    ${l}`);
}
