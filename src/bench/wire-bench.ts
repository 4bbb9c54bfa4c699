import { decodePacket, encodePacket, PROTOCOL_VERSION, type TokensPacket } from '../wire/index.js';
import { percentile, round } from './percentiles.js';

/**
 * `pons bench wire`: the cost of encoding and decoding (with full validation) a `tokens`
 * packet of H=8 × D=7, hot (back to back) and cold (one every 5 ms, as packets arrive at
 * an idle process), in microseconds.
 */
export interface WireBenchResult {
  packet_bytes: number;
  hot_encode_us: number;
  hot_decode_us: number;
  cold_decode_p50_us: number;
  cold_decode_p99_us: number;
}

export async function runWireBench(
  hotIterations = 100_000,
  coldSamples = 400,
): Promise<WireBenchResult> {
  const packet: TokensPacket = {
    v: PROTOCOL_VERSION,
    kind: 'tokens',
    spec_id: 'a'.repeat(64),
    model_id: 'bench',
    episode_id: 'bench',
    seq: 1,
    obs_stamp_ns: 1_764_000_000_000_000_000n,
    emit_stamp_ns: 1_764_000_000_000_100_000n,
    tokens: new Uint32Array(56).fill(31_900),
    timings_ms: { vision: 1.5, decode: 3.25 },
  };
  const bytes = encodePacket(packet);
  let t = process.hrtime.bigint();
  for (let i = 0; i < hotIterations; i++) encodePacket(packet);
  const encodeUs = Number(process.hrtime.bigint() - t) / 1e3 / hotIterations;
  t = process.hrtime.bigint();
  for (let i = 0; i < hotIterations; i++) decodePacket(bytes, 'bench');
  const decodeUs = Number(process.hrtime.bigint() - t) / 1e3 / hotIterations;
  const cold: number[] = [];
  for (let i = 0; i < coldSamples; i++) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    const copy = Uint8Array.from(bytes);
    const start = process.hrtime.bigint();
    decodePacket(copy, 'bench');
    cold.push(Number(process.hrtime.bigint() - start) / 1e3);
  }
  return {
    packet_bytes: bytes.byteLength,
    hot_encode_us: round(encodeUs, 2),
    hot_decode_us: round(decodeUs, 2),
    cold_decode_p50_us: round(percentile(cold, 50)),
    cold_decode_p99_us: round(percentile(cold, 99)),
  };
}
