import { escapeXml, horizontalBarChart } from './svg-chart.js';

export { escapeXml };

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
}

/** Formats a value for labels: ∞ for infinities, "n/a" when missing. */
export function formatValue(v: number | undefined, digits = 1): string {
  if (v === undefined || Number.isNaN(v)) return 'n/a';
  if (v === Number.POSITIVE_INFINITY) return '∞';
  if (v === Number.NEGATIVE_INFINITY) return '−∞';
  return v.toFixed(digits);
}

/**
 * Renders a horizontal bar chart as inline SVG (no scripts, no external resources), with an x axis
 * and ticks: {@link horizontalBarChart} with the unit as axis label. Negative values grow left of
 * zero; infinite ones are marked ∞; missing ones read "n/a".
 */
export function barChartSvg(chart: BarChart): string {
  return horizontalBarChart({
    title: chart.title,
    axisLabel: chart.unit,
    unit: ` ${chart.unit}`,
    digits: chart.digits ?? 1,
    bars: chart.bars,
  });
}
