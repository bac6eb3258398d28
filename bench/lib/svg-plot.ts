/**
 * A dependency-free SVG line plot for benchmark results: series of (x, y) points, optional
 * horizontal reference lines (a limit, a target), axes with round ticks, a legend. Several charts
 * stack vertically into one file with `stackCharts`.
 */

export interface PlotSeries {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** CSS colour; a palette colour by default. */
  color?: string;
  /** SVG stroke-dasharray, e.g. '6 3'. */
  dash?: string;
}

export interface ReferenceLine {
  y: number;
  label: string;
  color?: string;
  dash?: string;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly PlotSeries[];
  referenceLines?: readonly ReferenceLine[];
  /** Default 900 × 380. */
  width?: number;
  height?: number;
  /** Axis ranges; by default 0 (or the data minimum, if negative) to the data maximum, rounded up to a tick. */
  xMin?: number;
  xMax?: number;
  yMin?: number;
  yMax?: number;
}

const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#17becf'];
const MARGIN = { top: 36, right: 190, bottom: 48, left: 64 };

export function escapeXml(s: string): string {
  return s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );
}

/** Round tick positions (steps of 1, 2 or 5 × 10^k) covering [min, max] with about `count` ticks. */
export function niceTicks(min: number, max: number, count = 6): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + step * 1e-9; t += step) {
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

function niceMax(max: number): number {
  if (max <= 0) return 1;
  const ticks = niceTicks(0, max);
  const step = ticks.length > 1 ? ticks[1]! - ticks[0]! : max;
  return Math.ceil(max / step - 1e-9) * step;
}

const fmt = (n: number) =>
  Math.abs(n) >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toPrecision(3);

/** One chart as a standalone `<svg>` document. */
export function renderLineChart(chart: LineChart): string {
  const width = chart.width ?? 900;
  const height = chart.height ?? 380;
  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = [
    ...chart.series.flatMap((s) => s.points.map((p) => p[1])),
    ...(chart.referenceLines ?? []).map((r) => r.y),
  ];
  const xMin = chart.xMin ?? Math.min(0, ...xs);
  const xMax = chart.xMax ?? niceMax(Math.max(...xs, xMin + 1));
  const yMin = chart.yMin ?? Math.min(0, ...ys);
  const yMax = chart.yMax ?? niceMax(Math.max(...ys, yMin + 1) * 1.05);
  const sx = (x: number) => MARGIN.left + ((x - xMin) / (xMax - xMin || 1)) * plotW;
  const sy = (y: number) => MARGIN.top + plotH - ((y - yMin) / (yMax - yMin || 1)) * plotH;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${escapeXml(chart.title)}</text>`,
  );
  for (const t of niceTicks(yMin, yMax)) {
    const y = sy(t).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`,
      `<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${fmt(t)}</text>`,
    );
  }
  for (const t of niceTicks(xMin, xMax)) {
    const x = sx(t).toFixed(1);
    out.push(
      `<line x1="${x}" y1="${MARGIN.top + plotH}" x2="${x}" y2="${MARGIN.top + plotH + 4}" stroke="#333"/>`,
      `<text x="${x}" y="${MARGIN.top + plotH + 17}" text-anchor="middle">${fmt(t)}</text>`,
    );
  }
  out.push(
    `<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${height - 10}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`,
    `<text transform="translate(16 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel)}</text>`,
  );

  const legend: Array<{ label: string; color: string; dash?: string }> = [];
  for (const r of chart.referenceLines ?? []) {
    const color = r.color ?? '#555';
    const y = sy(r.y).toFixed(1);
    out.push(
      `<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="${color}" stroke-width="1.5" stroke-dasharray="${r.dash ?? '2 3'}"/>`,
    );
    legend.push({ label: r.label, color, dash: r.dash ?? '2 3' });
  }
  chart.series.forEach((s, i) => {
    const color = s.color ?? PALETTE[i % PALETTE.length]!;
    if (s.points.length > 0) {
      const d = s.points
        .map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`)
        .join(' ');
      out.push(
        `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.8"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`,
      );
    }
    legend.push({ label: s.name, color, dash: s.dash });
  });
  legend.forEach((l, i) => {
    const x = MARGIN.left + plotW + 14;
    const y = MARGIN.top + 8 + i * 18;
    out.push(
      `<line x1="${x}" y1="${y}" x2="${x + 24}" y2="${y}" stroke="${l.color}" stroke-width="2"${l.dash ? ` stroke-dasharray="${l.dash}"` : ''}/>`,
      `<text x="${x + 30}" y="${y}" dominant-baseline="middle">${escapeXml(l.label)}</text>`,
    );
  });
  out.push('</svg>');
  return out.join('\n');
}

/** Several charts one above the other, as one `<svg>` document. */
export function stackCharts(charts: readonly LineChart[]): string {
  let y = 0;
  const width = Math.max(...charts.map((c) => c.width ?? 900));
  const parts = charts.map((c) => {
    const svg = renderLineChart(c).replace('<svg ', `<svg y="${y}" `);
    y += c.height ?? 380;
    return svg;
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y}" viewBox="0 0 ${width} ${y}">`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
