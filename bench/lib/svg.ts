/**
 * The chart for docs/performance.md: guest MIPS per configuration, one group of bars per workload,
 * on a logarithmic axis (native and the interpreters are three orders of magnitude apart). Plain
 * SVG text, no dependencies, the same bytes for the same figures.
 */
import type { Row } from './results.js';

const COLORS = ['#1f77b4', '#2ca02c', '#17becf', '#ff7f0e', '#9467bd', '#8c564b', '#7f7f7f', '#d62728'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function chart(rows: Row[], title: string): string {
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const configs = [...new Set(rows.map((r) => r.config))];
  const max = Math.max(1, ...rows.map((r) => r.mips ?? 0));
  const decades = Math.max(1, Math.ceil(Math.log10(max)));
  const bar = 22;
  const gap = 30;
  const left = 70;
  const top = 40;
  const plotH = 300;
  const groupW = configs.length * bar + gap;
  const legendW = 220;
  const width = left + workloads.length * groupW + legendW;
  const height = top + plotH + 50;
  const y = (mips: number) => top + plotH - (Math.log10(Math.max(1, mips)) / decades) * plotH;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
    `<text x="${left}" y="20" font-size="14">${esc(title)}</text>`,
  ];
  for (let d = 0; d <= decades; d++) {
    const yy = y(10 ** d);
    out.push(`<line x1="${left}" x2="${left + workloads.length * groupW}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`);
    out.push(`<text x="${left - 6}" y="${yy + 4}" text-anchor="end">${10 ** d}</text>`);
  }
  out.push(`<text x="14" y="${top + plotH / 2}" transform="rotate(-90 14 ${top + plotH / 2})" text-anchor="middle">guest MIPS (log)</text>`);
  workloads.forEach((w, wi) => {
    const x0 = left + wi * groupW + gap / 2;
    configs.forEach((c, ci) => {
      const r = rows.find((q) => q.workload === w && q.config === c);
      if (!r || r.mips === null) return;
      const x = x0 + ci * bar;
      const yy = y(r.mips);
      out.push(`<rect x="${x}" y="${yy.toFixed(1)}" width="${bar - 3}" height="${(top + plotH - yy).toFixed(1)}" fill="${COLORS[ci % COLORS.length]}"><title>${esc(`${c}: ${r.mips.toFixed(1)} MIPS`)}</title></rect>`);
      out.push(`<text x="${x + (bar - 3) / 2}" y="${(yy - 3).toFixed(1)}" text-anchor="middle" font-size="9">${r.mips < 10 ? r.mips.toFixed(1) : Math.round(r.mips)}</text>`);
    });
    out.push(`<text x="${x0 + (configs.length * bar) / 2}" y="${top + plotH + 18}" text-anchor="middle">${esc(w)}</text>`);
  });
  configs.forEach((c, ci) => {
    const lx = left + workloads.length * groupW + 10;
    const ly = top + ci * 18;
    out.push(`<rect x="${lx}" y="${ly}" width="12" height="12" fill="${COLORS[ci % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 18}" y="${ly + 10}">${esc(c)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
