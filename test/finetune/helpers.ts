import { readFileSync } from 'node:fs';
import { parquetMetadata, parquetReadObjects } from 'hyparquet';

/** A parquet file's rows, read by hyparquet (binary columns as bytes) and its key-value metadata. */
export async function readParquet(
  path: string,
): Promise<{ rows: Record<string, unknown>[]; metadata: Record<string, string> }> {
  const buf = readFileSync(path);
  const file = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer;
  const rows = (await parquetReadObjects({ file, utf8: false })) as Record<string, unknown>[];
  const metadata = Object.fromEntries(
    (parquetMetadata(file).key_value_metadata ?? []).map((kv) => [kv.key, kv.value ?? '']),
  );
  return { rows, metadata };
}

/** numpy.quantile (linear), mean and population std, written plainly as the reference. */
export function reference(values: number[]): Record<string, number> {
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => {
    const h = (s.length - 1) * p;
    return (
      (s[Math.floor(h)] as number) +
      (h - Math.floor(h)) * ((s[Math.ceil(h)] as number) - (s[Math.floor(h)] as number))
    );
  };
  const mean = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mean) ** 2, 0) / values.length);
  return {
    mean,
    std,
    min: s[0] as number,
    max: s[s.length - 1] as number,
    q01: q(0.01),
    q99: q(0.99),
  };
}
