/** One bar of a chart. */
export interface Bar {
  readonly label: string;
  /** `undefined` for not measured; ±Infinity is drawn as a full bar marked ∞. */
  readonly value: number | undefined;
  /** Shown in the tooltip after the value. */
  readonly note?: string;
}

/** A horizontal bar chart. */
export interface BarChart {
  readonly title: string;
  /** Unit of the values, after each number. */
  readonly unit: string;
  readonly bars: readonly Bar[];
  /** Digits after the decimal point in labels (default 1). */
  readonly digits?: number;
  /** Width of the whole SVG in pixels (default 760). */
  readonly width?: number;
}

/** Escapes text for HTML and SVG. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** Formats a value for labels: ∞ for infinities, "n/a" when missing. */
export function formatValue(v: number | undefined, digits = 1): string {
  if (v === undefined || Number.isNaN(v)) return 'n/a';
  if (v === Number.POSITIVE_INFINITY) return '∞';
  if (v === Number.NEGATIVE_INFINITY) return '−∞';
  return v.toFixed(digits);
}

const ROW = 18;
const LABEL = 230;
const VALUE = 80;
const TOP = 30;

/**
 * Renders a horizontal bar chart as inline SVG (no scripts, no external resources). Negative
 * values grow left of a zero line; infinite ones fill their side and are labelled ∞.
 */
export function barChartSvg(chart: BarChart): string {
  const width = chart.width ?? 760;
  const digits = chart.digits ?? 1;
  const plot = width - LABEL - VALUE;
  const finite = chart.bars.map((b) => b.value).filter((v): v is number => v !== undefined && Number.isFinite(v));
  const lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (hi === lo) hi = lo + 1;
  const x = (v: number) => LABEL + ((Math.min(Math.max(v, lo), hi) - lo) / (hi - lo)) * plot;
  const zero = x(0);
  const height = TOP + chart.bars.length * ROW + 10;
  const rows = chart.bars.map((b, i) => {
    const y = TOP + i * ROW;
    const v = b.value;
    const end =
      v === undefined || Number.isNaN(v)
        ? zero
        : v === Number.POSITIVE_INFINITY
          ? x(hi)
          : v === Number.NEGATIVE_INFINITY
            ? x(lo)
            : x(v);
    const left = Math.min(zero, end);
    const w = Math.max(Math.abs(end - zero), v === undefined ? 0 : 1);
    const text = `${formatValue(v, digits)}${v === undefined || !Number.isFinite(v) ? '' : ` ${chart.unit}`}`;
    const tip = `${b.label}: ${text}${b.note ? ` (${b.note})` : ''}`;
    const label = b.label.length > 34 ? `${b.label.slice(0, 33)}…` : b.label;
    return [
      `<g class="row"><title>${escapeXml(tip)}</title>`,
      `<text x="${LABEL - 6}" y="${y + 13}" text-anchor="end" class="label">${escapeXml(label)}</text>`,
      `<rect class="bar${v !== undefined && v < 0 ? ' negative' : ''}" x="${left.toFixed(1)}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW - 6}"/>`,
      `<text x="${width - VALUE + 4}" y="${y + 13}" class="value">${escapeXml(text)}</text></g>`,
    ].join('');
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(chart.title)}">`,
    `<text x="0" y="16" class="title">${escapeXml(chart.title)}</text>`,
    `<line x1="${zero.toFixed(1)}" y1="${TOP - 4}" x2="${zero.toFixed(1)}" y2="${height - 6}" class="axis"/>`,
    ...rows,
    '</svg>',
  ].join('\n');
}
