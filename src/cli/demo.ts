/**
 * `ringvm demo NAME`: the three experiments of the course, each a few in-process runs of tinyos
 * with one knob turned, printed as tables (docs/experiments/ holds a measured copy of each):
 *   virtualizability  redpill under --sensitive emulate | leak | umip   (demo-virt.ts)
 *   tc-index          procs under --tc-index phys | virt | virt-noflush  (demo-tc.ts)
 *   smc               smc with and without invalidation                  (demo-smc.ts)
 * Each demo also states what it expects (the right modes right, the deliberately wrong ones
 * wrong) and exits with 1 when that does not hold, so a script can rely on it. `--svg DIR` writes
 * the charts (src/machine/svg.ts).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { barChartSvg } from '../machine/svg.js';
import { formatSmc, runSmcDemo, SMC_CAUSES, type SmcRun } from './demo-smc.js';
import { formatTcIndex, runTcIndex, type TcRun } from './demo-tc.js';
import { formatVirtualizability, runVirtualizability, type VirtResult } from './demo-virt.js';
import { UsageError } from './errors.js';

interface DemoOptions {
  svg?: string;
  json?: boolean;
  tcThreshold?: string;
}

/** What the virtualizability experiment must show; returns the ways it did not. */
export function virtExpectations(r: VirtResult): string[] {
  const bad: string[] = [];
  const by = (p: string) => r.runs.find((x) => x.policy === p);
  const k = (p: string) => r.kernel.find((x) => x.policy === p);
  if (by('emulate')?.differ !== 0) bad.push('emulate: some probe differs');
  if (by('leak')?.probes.get('SGDT')?.ok !== false) bad.push('leak: SGDT does not leak the monitor\'s table');
  if (!(by('umip')?.probes.get('SGDT')?.seen ?? '').startsWith('fault vector=13')) bad.push('umip: SGDT does not raise #GP');
  if (k('emulate')?.ifAfter !== 1) bad.push('emulate: the kernel\'s POPF did not set IF');
  if (k('leak')?.ifAfter !== 0) bad.push('leak: the kernel\'s POPF did not lose IF');
  return bad;
}

export function tcExpectations(runs: TcRun[]): string[] {
  const bad: string[] = [];
  for (const r of runs) {
    const want = r.mode !== 'virt-noflush';
    if (r.correct !== want) bad.push(`${r.mode}: output ${r.correct ? 'correct' : 'wrong'}, expected ${want ? 'correct' : 'wrong'}`);
  }
  return bad;
}

export function smcExpectations(runs: SmcRun[]): string[] {
  const bad: string[] = [];
  for (const r of runs) {
    const wrong = r.parts.filter((p) => !p.correct).map((p) => p.name);
    if (r.checked && wrong.length > 0) bad.push(`with invalidation: ${wrong.join(', ')} wrong`);
    if (!r.checked && wrong.length === 0) bad.push('without invalidation: every part still correct (nothing stale shown)');
  }
  return bad;
}

function threshold(o: DemoOptions): number | undefined {
  if (o.tcThreshold === undefined) return undefined;
  const n = Number(o.tcThreshold);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--tc-threshold: expected a whole number >= 0, got '${o.tcThreshold}'`);
  return n;
}

function writeSvg(dir: string | undefined, name: string, svg: string): void {
  if (dir === undefined) return;
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, svg);
  process.stderr.write(`ringvm: wrote ${path}\n`);
}

export function tcCharts(runs: TcRun[]): Record<string, string> {
  const modes = runs.map((r) => r.mode);
  return {
    'tc-index-cache.svg': barChartSvg({
      title: 'procs: translation-cache traffic per index (log scale)',
      categories: modes,
      yLabel: 'count',
      log: true,
      series: [
        { name: 'lookups', values: runs.map((r) => r.engine.lookups ?? 0), color: '#4c78a8' },
        { name: 'misses (blocks decoded)', values: runs.map((r) => r.engine.misses ?? 0), color: '#f58518' },
        { name: 'CR3 flushes', values: runs.map((r) => r.engine.flushesCr3 ?? 0), color: '#e45756' },
      ],
    }),
    'tc-index-time.svg': barChartSvg({
      title: 'procs: wall time translating vs running',
      categories: modes,
      yLabel: 'milliseconds',
      series: [
        { name: 'translating', values: runs.map((r) => Math.round(r.engine.translateMs ?? 0)), color: '#f58518' },
        { name: 'running (the rest)', values: runs.map((r) => Math.round(r.wallSeconds * 1000 - (r.engine.translateMs ?? 0))), color: '#4c78a8' },
      ],
    }),
  };
}

export function smcCharts(runs: SmcRun[]): Record<string, string> {
  const c = runs.find((r) => r.checked);
  if (c === undefined) return {};
  return {
    'smc.svg': barChartSvg({
      title: 'smc: stores to code pages and translation-cache invalidations per cause',
      categories: SMC_CAUSES.slice(0, 3).map((s) => s.split(':')[0]),
      yLabel: 'count',
      series: [
        { name: 'stores to code pages', values: c.writes.slice(0, 3), color: '#4c78a8' },
        { name: 'translation-cache invalidations', values: c.causes.slice(0, 3), color: '#e45756' },
      ],
    }),
  };
}

function finish(text: string, json: unknown, bad: string[], o: DemoOptions): void {
  process.stdout.write((o.json ? JSON.stringify(json, (_k, v: unknown) => (v instanceof Map ? Object.fromEntries(v) : v)) : text) + '\n');
  if (bad.length > 0) {
    process.stderr.write(`ringvm demo: the experiment did not come out as expected:\n${bad.map((b) => `  - ${b}`).join('\n')}\n`);
    process.exitCode = 1;
  } else {
    process.exitCode = 0;
  }
}

export function registerDemo(program: Command): void {
  const demo = program
    .command('demo')
    .description('the experiments: virtualizability, tc-index, smc (run tinyos in-process and print measured tables)');
  const common = (c: Command): Command => c
    .option('--json', 'print the measured results as JSON instead of tables')
    .option('--svg <dir>', 'also write the charts as SVG files into this directory');
  common(demo.command('virtualizability')
    .description('redpill under --sensitive emulate, leak and umip; a ring-0 POPF losing IF under leak'))
    .action(async (o: DemoOptions) => {
      const r = await runVirtualizability();
      finish(formatVirtualizability(r), r, virtExpectations(r), o);
    });
  common(demo.command('tc-index')
    .description('procs under --tc-index phys, virt and virt-noflush: correctness and cache statistics')
    .option('--tc-threshold <n>', 'executions of a block before it is translated (0: at once)'))
    .action(async (o: DemoOptions) => {
      const th = threshold(o);
      const runs = await runTcIndex(th);
      for (const [name, svg] of Object.entries(tcCharts(runs))) writeSvg(o.svg, name, svg);
      const json = runs.map(({ output: _o, ...rest }) => rest);
      finish(formatTcIndex(runs, th), json, tcExpectations(runs), o);
    });
  common(demo.command('smc')
    .description('smc with invalidation (per cause) and with invalidation disabled (stale code)')
    .option('--tc-threshold <n>', 'executions of a block before it is translated (0: at once)'))
    .action(async (o: DemoOptions) => {
      const th = threshold(o);
      const runs = await runSmcDemo(th);
      for (const [name, svg] of Object.entries(smcCharts(runs))) writeSvg(o.svg, name, svg);
      const json = runs.map(({ output: _o, ...rest }) => rest);
      finish(formatSmc(runs, th), json, smcExpectations(runs), o);
    });
}
