/** Summaries and the printed table. */

/** Nearest-rank percentile of unsorted numbers. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

export function summary(values) {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
  };
}

export const nsToMs = (ns) => Number(ns) / 1e6;
export const mib = (bytes) => bytes / (1024 * 1024);

export function fmt(value, digits = 2) {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  return value.toFixed(digits);
}

/**
 * One row per figure: what was measured, the value with its unit, the target and whether it was
 * met (undefined when there is no target).
 */
export function row(figure, value, unit, target, met) {
  return { figure, value, unit, target: target ?? '', verdict: met === undefined ? '' : met ? 'ok' : 'MISSED' };
}

export function printTable(rows, out = process.stdout) {
  const cells = rows.map((r) => [r.figure, `${r.value} ${r.unit}`.trim(), r.target, r.verdict]);
  const header = ['figure', 'value', 'target', ''];
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) => c.map((v, i) => v.padEnd(widths[i])).join(' | ').trimEnd();
  out.write(`${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('-|-')}\n`);
  for (const c of cells) out.write(`${line(c)}\n`);
}
