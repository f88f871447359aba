/**
 * A tiny SVG writer for grouped bar charts, so that ringvm can draw the charts of its own
 * experiments (docs/experiments/) from measured numbers without a plotting dependency. One chart:
 * categories along the x axis, one bar per series in each category, a linear or log10 y axis,
 * the value printed on each bar, a legend. The output is plain deterministic text.
 */

export interface BarSeries {
  name: string;
  values: number[];
  color: string;
}

export interface BarChart {
  title: string;
  categories: string[];
  series: BarSeries[];
  /** The y axis label (unit). */
  yLabel: string;
  /** log10 axis for values spanning orders of magnitude (values <= 0 draw no bar). */
  log?: boolean;
}

const W = 640;
const H = 360;
const LEFT = 70;
const RIGHT = 20;
const TOP = 40;
const BOTTOM = 70;

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function fmt(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : v.toFixed(1);
}

export function barChartSvg(c: BarChart): string {
  const plotW = W - LEFT - RIGHT;
  const plotH = H - TOP - BOTTOM;
  const all = c.series.flatMap((s) => s.values);
  const max = Math.max(1, ...all);
  // y scale: linear from 0, or log10 from 1 up to the next power of ten
  const top = c.log ? Math.pow(10, Math.ceil(Math.log10(max))) : niceCeil(max);
  const y = (v: number): number => {
    if (c.log) return v <= 1 ? 0 : (Math.log10(v) / Math.log10(top)) * plotH;
    return (v / top) * plotH;
  };
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  out.push(`<text x="${W / 2}" y="22" text-anchor="middle" font-size="15">${esc(c.title)}</text>`);
  // axis ticks
  const ticks = c.log
    ? Array.from({ length: Math.round(Math.log10(top)) + 1 }, (_, i) => Math.pow(10, i))
    : [0, 0.25, 0.5, 0.75, 1].map((f) => f * top);
  for (const t of ticks) {
    const ty = TOP + plotH - y(t);
    out.push(`<line x1="${LEFT}" y1="${ty.toFixed(1)}" x2="${W - RIGHT}" y2="${ty.toFixed(1)}" stroke="#ddd"/>`);
    out.push(`<text x="${LEFT - 6}" y="${(ty + 4).toFixed(1)}" text-anchor="end">${esc(short(t))}</text>`);
  }
  out.push(`<line x1="${LEFT}" y1="${TOP + plotH}" x2="${W - RIGHT}" y2="${TOP + plotH}" stroke="black"/>`);
  out.push(`<text x="16" y="${TOP + plotH / 2}" transform="rotate(-90 16 ${TOP + plotH / 2})" text-anchor="middle">${esc(c.yLabel)}</text>`);
  // bars
  const groupW = plotW / Math.max(1, c.categories.length);
  const barW = (groupW * 0.8) / Math.max(1, c.series.length);
  c.categories.forEach((cat, i) => {
    const gx = LEFT + i * groupW + groupW * 0.1;
    c.series.forEach((s, j) => {
      const v = s.values[i] ?? 0;
      const h = y(v);
      const x = gx + j * barW;
      out.push(`<rect x="${x.toFixed(1)}" y="${(TOP + plotH - h).toFixed(1)}" width="${(barW - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${esc(s.color)}"/>`);
      out.push(`<text x="${(x + barW / 2 - 1).toFixed(1)}" y="${(TOP + plotH - h - 4).toFixed(1)}" text-anchor="middle" font-size="10">${esc(fmt(v))}</text>`);
    });
    out.push(`<text x="${(LEFT + i * groupW + groupW / 2).toFixed(1)}" y="${TOP + plotH + 18}" text-anchor="middle">${esc(cat)}</text>`);
  });
  // legend
  c.series.forEach((s, j) => {
    const lx = LEFT + j * 200;
    const ly = H - 22;
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${esc(s.color)}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly}">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** Axis labels: 1500 -> 1.5k, 2000000 -> 2M. */
function short(v: number): string {
  const p = (x: number): string => String(Number(x.toPrecision(3)));
  if (Math.abs(v) >= 1e6) return `${p(v / 1e6)}M`;
  if (Math.abs(v) >= 1e3) return `${p(v / 1e3)}k`;
  return p(v);
}

/** 1, 2 or 5 times a power of ten, at least v. */
function niceCeil(v: number): number {
  const p = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}
