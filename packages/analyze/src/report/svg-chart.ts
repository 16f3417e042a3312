/** Escapes text for HTML and SVG. */
export function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/**
 * One bar of a {@link horizontalBarChart}: an infinite value is drawn as a labelled marker, not a
 * bar; `undefined` (not measured) as "n/a" without a bar.
 */
export interface ChartBar {
  readonly label: string;
  readonly value: number | undefined;
  /** Shown in the bar's tooltip after its value. */
  readonly note?: string;
  /**
   * The value is a bound, not the bar's own (for example a screened block's score): drawn
   * lighter, its label prefixed with this sign (`≥`, `≤`).
   */
  readonly bound?: string;
}

/** A horizontal bar chart with an x axis, ticks, a title and each bar's value. */
export interface ChartSpec {
  readonly title: string;
  readonly axisLabel: string;
  readonly bars: readonly ChartBar[];
  /** Added to every value label, e.g. ` dB`. */
  readonly unit?: string;
  /** Decimals of value labels (default: {@link formatNumber}'s 2, or 3 significant digits below 1). */
  readonly digits?: number;
}

/** A number for a label: `∞`, `−∞`, or 2 decimals (3 significant digits below 1). */
export function formatNumber(v: number, digits?: number): string {
  if (v === Number.POSITIVE_INFINITY) return '∞';
  if (v === Number.NEGATIVE_INFINITY) return '−∞';
  if (Number.isNaN(v)) return '–';
  if (digits !== undefined) return v.toFixed(digits);
  return Math.abs(v) >= 1 || v === 0 ? v.toFixed(2) : v.toPrecision(3);
}

/** Round tick positions covering [lo, hi]. */
export function niceTicks(lo: number, hi: number, count = 6): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * mag >= raw) ?? 10) * mag;
  const ticks: number[] = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** An SVG horizontal bar chart (inline, no scripts, no network). */
export function horizontalBarChart(spec: ChartSpec): string {
  const unit = spec.unit ?? '';
  const rowH = 18;
  const labelW = 230;
  const plotW = 460;
  const valueW = 110;
  const top = 34;
  const height = top + spec.bars.length * rowH + 44;
  const width = labelW + plotW + valueW;
  const finite = spec.bars.map((b) => b.value).filter((v): v is number => v !== undefined && Number.isFinite(v));
  let lo = Math.min(0, ...finite);
  let hi = Math.max(0, ...finite);
  if (hi === lo) hi = lo + 1;
  const ticks = niceTicks(lo, hi);
  lo = Math.min(lo, ticks[0] ?? lo);
  hi = Math.max(hi, ticks[ticks.length - 1] ?? hi);
  const x = (v: number) => labelW + ((v - lo) / (hi - lo)) * plotW;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  const axisY = top + spec.bars.length * rowH + 4;
  for (const t of ticks) {
    parts.push(
      `<line x1="${x(t)}" y1="${top - 4}" x2="${x(t)}" y2="${axisY}" stroke="#ddd"/>`,
      `<line x1="${x(t)}" y1="${axisY}" x2="${x(t)}" y2="${axisY + 5}" stroke="#333"/>`,
      `<text class="tick" x="${x(t)}" y="${axisY + 17}" text-anchor="middle">${formatNumber(t)}</text>`,
    );
  }
  parts.push(
    `<line x1="${labelW}" y1="${axisY}" x2="${labelW + plotW}" y2="${axisY}" stroke="#333"/>`,
    `<text class="axis-label" x="${labelW + plotW / 2}" y="${axisY + 36}" text-anchor="middle">${escapeXml(spec.axisLabel)}</text>`,
  );
  for (const [i, b] of spec.bars.entries()) {
    const y = top + i * rowH;
    const v = b.value;
    const shown =
      v === undefined || Number.isNaN(v)
        ? 'n/a'
        : `${b.bound ? `${b.bound} ` : ''}${formatNumber(v, spec.digits)}${Number.isFinite(v) ? unit : v > 0 ? ' (identical)' : ''}`;
    const tip = `${b.label}: ${shown}${b.note ? ` (${b.note})` : ''}`;
    parts.push(
      `<text class="bar-label" x="${labelW - 6}" y="${y + 12}" text-anchor="end">${escapeXml(truncate(b.label, 34))}<title>${escapeXml(tip)}</title></text>`,
    );
    if (v !== undefined && Number.isFinite(v)) {
      const x0 = x(Math.max(lo, Math.min(0, v)));
      const x1 = x(Math.max(0, v));
      parts.push(
        `<rect class="bar${v < 0 ? ' negative' : ''}${b.bound ? ' bound' : ''}" x="${x0}" y="${y + 2}" width="${Math.max(1, x1 - x0)}" height="${rowH - 5}" fill="${v < 0 ? '#c0392b' : '#2e86c1'}"${b.bound ? ' fill-opacity="0.4"' : ''}><title>${escapeXml(tip)}</title></rect>`,
      );
    } else if (v !== undefined && !Number.isNaN(v)) {
      // Infinite (identical to float): a marker at the axis end, never the longest bar.
      const at = v > 0 ? labelW + plotW : labelW;
      parts.push(`<text class="infinite" x="${at}" y="${y + 13}" text-anchor="middle" font-size="15" fill="#7d3c98">∞</text>`);
    }
    parts.push(`<text class="bar-value" x="${labelW + plotW + 8}" y="${y + 12}">${escapeXml(shown)}</text>`);
  }
  parts.push('</svg>');
  return parts.join('');
}

function truncate(s: string, n: number): string {
  return s.length <= n ? s : `…${s.slice(s.length - n + 1)}`;
}

/** One point of a {@link lineChart}. */
export interface ChartPoint {
  readonly x: number;
  readonly y: number;
  /** Shown in the point's tooltip. */
  readonly label: string;
  /** Drawn larger and in another colour (for example the chosen plan). */
  readonly highlight?: boolean;
}

/** An x–y chart of points joined in order, with both axes, ticks and an optional level line. */
export interface LineChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly points: readonly ChartPoint[];
  /** A horizontal line (for example the target score), with its label. */
  readonly level?: { readonly y: number; readonly label: string };
  /** Decimals of the y tick labels. */
  readonly digits?: number;
}

/** An SVG line chart (inline, no scripts, no network); non-finite points are left out. */
export function lineChart(spec: LineChartSpec): string {
  const width = 760;
  const height = 380;
  const left = 70;
  const right = 20;
  const top = 34;
  const bottom = 56;
  const points = spec.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y));
  const ys = [...points.map((p) => p.y), ...(spec.level && Number.isFinite(spec.level.y) ? [spec.level.y] : [])];
  // The data's extent, padded by 5 % a side (or ±5 % of the value when there is one).
  const range = (values: number[]): [number, number] => {
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [0, 1];
    const pad = hi > lo ? (hi - lo) * 0.05 : Math.abs(lo) * 0.05 || 1;
    return [lo - pad, hi + pad];
  };
  const [x0, x1] = range(points.map((p) => p.x));
  const [y0, y1] = range(ys);
  const px = (v: number) => left + ((v - x0) / (x1 - x0)) * (width - left - right);
  const py = (v: number) => height - bottom - ((v - y0) / (y1 - y0)) * (height - top - bottom);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="${escapeXml(spec.title)}">`,
    `<text x="${width / 2}" y="16" text-anchor="middle" font-weight="bold">${escapeXml(spec.title)}</text>`,
  ];
  const axisY = height - bottom;
  for (const t of niceTicks(x0, x1))
    parts.push(
      `<line x1="${px(t)}" y1="${top}" x2="${px(t)}" y2="${axisY}" stroke="#eee"/>`,
      `<line x1="${px(t)}" y1="${axisY}" x2="${px(t)}" y2="${axisY + 5}" stroke="#333"/>`,
      `<text class="tick" x="${px(t)}" y="${axisY + 18}" text-anchor="middle">${formatNumber(t)}</text>`,
    );
  for (const t of niceTicks(y0, y1))
    parts.push(
      `<line x1="${left}" y1="${py(t)}" x2="${width - right}" y2="${py(t)}" stroke="#eee"/>`,
      `<line x1="${left - 5}" y1="${py(t)}" x2="${left}" y2="${py(t)}" stroke="#333"/>`,
      `<text class="tick" x="${left - 8}" y="${py(t) + 4}" text-anchor="end">${formatNumber(t, spec.digits)}</text>`,
    );
  parts.push(
    `<line x1="${left}" y1="${axisY}" x2="${width - right}" y2="${axisY}" stroke="#333"/>`,
    `<line x1="${left}" y1="${top}" x2="${left}" y2="${axisY}" stroke="#333"/>`,
    `<text class="axis-label" x="${(left + width - right) / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text class="axis-label" x="16" y="${(top + axisY) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(top + axisY) / 2})">${escapeXml(spec.yLabel)}</text>`,
  );
  if (spec.level && Number.isFinite(spec.level.y))
    parts.push(
      `<line class="level" x1="${left}" y1="${py(spec.level.y)}" x2="${width - right}" y2="${py(spec.level.y)}" stroke="#c0392b" stroke-dasharray="5 4"/>`,
      `<text class="level-label" x="${width - right - 4}" y="${py(spec.level.y) - 5}" text-anchor="end" fill="#c0392b">${escapeXml(spec.level.label)}</text>`,
    );
  if (points.length > 1)
    parts.push(
      `<polyline fill="none" stroke="#2e86c1" stroke-width="1.5" points="${points.map((p) => `${px(p.x)},${py(p.y)}`).join(' ')}"/>`,
    );
  for (const p of points)
    parts.push(
      `<circle class="point${p.highlight ? ' chosen' : ''}" cx="${px(p.x)}" cy="${py(p.y)}" r="${p.highlight ? 6 : 3.5}" fill="${p.highlight ? '#27ae60' : '#2e86c1'}"><title>${escapeXml(p.label)}</title></circle>`,
    );
  parts.push('</svg>');
  return parts.join('');
}
