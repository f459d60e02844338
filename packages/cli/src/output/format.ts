/** Milliseconds for tables: 3 significant figures, unit switches at 1 s. */
export function ms(v: number): string {
  if (!Number.isFinite(v)) return '-';
  if (v >= 1000) return `${(v / 1000).toPrecision(3)}s`;
  if (v >= 100) return `${v.toFixed(0)}ms`;
  if (v >= 10) return `${v.toFixed(1)}ms`;
  return `${v.toFixed(2)}ms`;
}

/** Bytes with binary units, named as such (KiB, MiB): the same units as the HTML report. */
export function bytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

/** A percentage with two decimals. */
export function pct(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

/** Pads columns of a table (first column left, the rest right-aligned). */
export function table(rows: string[][], indent = '  '): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visible(c).length)));
  return rows.map((r) => indent + r.map((c, i) => (i === 0 ? c + ' '.repeat(widths[i]! - visible(c).length) : ' '.repeat(widths[i]! - visible(c).length) + c)).join('  ')).join('\n');
}

function visible(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\u001b\[\d+m/g, '');
}

/** A k6-style dotted label: `name ......: `. */
export function dotted(label: string, width = 22): string {
  return `${label} ${'.'.repeat(Math.max(2, width - label.length))}:`;
}
