/**
 * Rows of cells as aligned text columns, two spaces apart: numbers right-aligned, and the
 * columns named in `left` (indices) left-aligned.
 */
export function textTable(
  rows: readonly (readonly string[])[],
  left: readonly number[] = [],
): string[] {
  const widths: number[] = [];
  for (const row of rows) {
    row.forEach((cell, i) => {
      widths[i] = Math.max(widths[i] ?? 0, cell.length);
    });
  }
  return rows.map((row) =>
    row
      .map((cell, i) =>
        left.includes(i) ? cell.padEnd(widths[i] as number) : cell.padStart(widths[i] as number),
      )
      .join('  ')
      .trimEnd(),
  );
}
