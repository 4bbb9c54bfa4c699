import { writeFileSync } from 'node:fs';
import { parquetWriteBuffer } from 'hyparquet-writer';

/**
 * Parquet files as Hugging Face `datasets` writes them (through pyarrow): nullable columns,
 * lists in the standard three-level LIST layout, images as the Image feature's struct
 * `{bytes, path}`, and the `huggingface` key-value metadata holding the features, so
 * `datasets.load_dataset` hands images back as PIL images (Align-Anything's AA_TI2T template
 * and LeRobot expect that) and fixed-length lists as sequences of their length.
 */

export type ColumnKind =
  | 'string'
  | 'int64'
  | 'float32'
  | 'float64'
  | 'bool'
  | 'image'
  | 'float32[]'
  | 'float64[]'
  | 'string[]';

export interface Column {
  name: string;
  kind: ColumnKind;
  data: unknown[];
  /** Fixed length of a list column (its Sequence feature's `length`). */
  length?: number;
}

/** The Image feature's storage: encoded bytes and a file name (its extension names the codec). */
export interface ImageCell {
  bytes: Uint8Array;
  path: string;
}

type SchemaElement = NonNullable<Parameters<typeof parquetWriteBuffer>[0]['schema']>[number];

const PRIMITIVE: Record<string, Pick<SchemaElement, 'type' | 'converted_type'>> = {
  string: { type: 'BYTE_ARRAY', converted_type: 'UTF8' },
  int64: { type: 'INT64' },
  float32: { type: 'FLOAT' },
  float64: { type: 'DOUBLE' },
  bool: { type: 'BOOLEAN' },
};

function schemaOf(column: Column): SchemaElement[] {
  const optional = { repetition_type: 'OPTIONAL' } as const;
  if (column.kind === 'image') {
    return [
      { name: column.name, ...optional, num_children: 2 },
      { name: 'bytes', type: 'BYTE_ARRAY', ...optional },
      { name: 'path', ...PRIMITIVE.string, ...optional },
    ];
  }
  if (column.kind.endsWith('[]')) {
    const element = PRIMITIVE[column.kind.slice(0, -2)];
    return [
      { name: column.name, ...optional, converted_type: 'LIST', num_children: 1 },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', ...element, ...optional },
    ];
  }
  return [{ name: column.name, ...PRIMITIVE[column.kind], ...optional }];
}

function featureOf(column: Column): object {
  if (column.kind === 'image') return { _type: 'Image' };
  if (column.kind.endsWith('[]')) {
    return {
      feature: { dtype: column.kind.slice(0, -2), _type: 'Value' },
      length: column.length ?? -1,
      _type: 'Sequence',
    };
  }
  return { dtype: column.kind, _type: 'Value' };
}

export function writeParquet(
  path: string,
  columns: readonly Column[],
  metadata: Record<string, string> = {},
): void {
  const rows = columns[0]?.data.length ?? 0;
  for (const c of columns) {
    if (c.data.length !== rows) {
      throw new RangeError(`${path}: column ${c.name} has ${c.data.length} rows, not ${rows}`);
    }
  }
  const features = Object.fromEntries(columns.map((c) => [c.name, featureOf(c)]));
  const buffer = parquetWriteBuffer({
    columnData: columns.map((c) => ({ name: c.name, data: c.data })),
    schema: [{ name: 'schema', num_children: columns.length }, ...columns.flatMap(schemaOf)],
    kvMetadata: [
      { key: 'huggingface', value: JSON.stringify({ info: { features } }) },
      ...Object.entries(metadata).map(([key, value]) => ({ key, value })),
    ],
    createdBy: 'pons',
  });
  writeFileSync(path, new Uint8Array(buffer));
}
