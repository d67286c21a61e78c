/** Plain-text output helpers shared by the commands. */

/** Formats rows as left-aligned columns separated by two spaces, without trailing blanks. */
export function table(rows: readonly (readonly string[])[], indent = ''): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows
    .map(
      (row) =>
        indent + row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '),
    )
    .map((line) => line.trimEnd())
    .join('\n');
}

/** Pretty JSON followed by a newline, for `--json` output that scripts read. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}
