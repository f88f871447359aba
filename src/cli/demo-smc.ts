/**
 * `ringvm demo smc`: when must a translation cache be invalidated? tinyos's `smc` program writes
 * code three ways: (1) a JIT rewriting one page 200 times and calling it, (2) a loop storing into
 * the immediate of an instruction a few bytes ahead in its own block, (3) the kernel loading beta
 * into the physical page alpha's code had just used. The demo runs it twice: with invalidation
 * (every store to a page holding translated or decoded code drops that page's blocks) and with
 * invalidation deliberately disabled, which shows the stale-code results. Invalidations are
 * counted per cause by watching the store-to-code seam (PhysicalMemory.onCodeWrite) and noting
 * which part of the program was running (the lines it had printed) and at which privilege level.
 *
 * Disabling: the machine's `smcCheck: false` (what `ringvm run --no-smc-check` sets) leaves the
 * seam unwired: stores to code pages land and nothing is dropped, in the translator and in the
 * interpreter's decoded-page cache alike.
 */
import type { Machine } from '../machine/machine.js';
import { OFF_CPL } from '../cpu/state.js';
import { runDemoGuest, textTable } from './demo-run.js';

export const SMC_CAUSES = [
  'JIT: user stores rewriting a code page',
  'self-patching: a store into the running block',
  'page reuse: the kernel loading a program into a freed page',
  'other',
] as const;

export interface SmcPart {
  name: string;
  /** What the program printed for this part. */
  line: string;
  correct: boolean;
}

export interface SmcRun {
  checked: boolean;
  parts: SmcPart[];
  /** Stores to code pages per cause, indexed like SMC_CAUSES: each drops the page's decoded code. */
  writes: number[];
  /** Of those, the stores that dropped translated blocks (the engine's `invalidations` counter). */
  causes: number[];
  engine: Record<string, number>;
  output: string;
  wallSeconds: number;
}

/** Which part of smc is running, from what it has printed so far, and who stores. */
function causeOf(m: Machine, printed: string): number {
  if (m.views.u32[OFF_CPL >>> 2] === 0) return 2;
  if (!printed.includes('smc: jit:')) return 0;
  if (!printed.includes('smc: patch:')) return 1;
  return 3;
}

/** Checks each part against what the program's source fixes (docs/tinyos.md, "smc"). */
export function checkSmc(text: string): SmcPart[] {
  const lines = text.split('\n').map((l) => l.trimEnd());
  const jit = lines.find((l) => l.startsWith('smc: jit:')) ?? '';
  const jm = /^smc: jit: (\d+) functions generated and run, (\d+) wrong/.exec(jit);
  const patch = lines.find((l) => l.startsWith('smc: patch:')) ?? '';
  const pm = /summed (-?\d+) \(expected (\d+)\)$/.exec(patch);
  const pa = lines.find((l) => /^\[alpha\] pid \d+: page 0x40000000 is physical/.test(l));
  const pb = lines.find((l) => /^\[beta\] pid \d+: page 0x40000000 is physical/.test(l));
  const reuse = lines.find((l) => l.startsWith('smc: page reuse:')) ?? '';
  return [
    { name: 'jit', line: jit || '(missing)', correct: jm !== null && Number(jm[1]) === 200 && jm[2] === '0' },
    { name: 'patch', line: patch || '(missing)', correct: pm !== null && pm[1] === '4950' && pm[2] === '4950' },
    {
      name: 'page reuse',
      line: [pa, pb, reuse].filter((x) => x !== undefined && x !== '').join(' / ') || '(missing)',
      // beta must run beta's code (print a [beta] line) from the page alpha had
      correct: pa !== undefined && pb !== undefined && /same physical page$/.test(reuse),
    },
  ];
}

export async function runSmc(checked: boolean, threshold?: number): Promise<SmcRun> {
  const causes = SMC_CAUSES.map(() => 0);
  const writes = SMC_CAUSES.map(() => 0);
  const r = await runDemoGuest({
    append: 'run smc',
    dbt: { threshold, tcSync: true },
    smcCheck: checked,
    prepare: (m, output) => {
      if (!checked) return;
      const inner = m.phys.onCodeWrite;
      m.phys.onCodeWrite = (page) => {
        const cause = causeOf(m, output());
        const before = m.engineStats().invalidations ?? 0;
        inner?.(page);
        writes[cause]++;
        if ((m.engineStats().invalidations ?? 0) > before) causes[cause]++;
      };
    },
  });
  const parts = checkSmc(r.output);
  if (r.stop.status !== 33) parts.push({ name: 'machine', line: r.stop.reason, correct: false });
  return { checked, parts, writes, causes, engine: r.engine, output: r.output, wallSeconds: r.wallSeconds };
}

export async function runSmcDemo(threshold?: number): Promise<SmcRun[]> {
  return [await runSmc(true, threshold), await runSmc(false, threshold)];
}

export function formatSmc(runs: SmcRun[], threshold?: number): string {
  const out: string[] = [];
  out.push(`ringvm demo smc: tinyos \`run smc\`, with invalidation and with invalidation disabled${threshold === undefined ? '' : ` (--tc-threshold ${threshold})`}`);
  for (const r of runs) {
    out.push('');
    out.push(r.checked ? 'with invalidation (the default):' : 'invalidation disabled (stores to code pages drop nothing):');
    out.push('');
    out.push(textTable(['part', 'result', 'what the program printed'], r.parts.map((p) => [p.name, p.correct ? 'correct' : 'WRONG (stale code ran)', p.line])));
  }
  const c = runs.find((r) => r.checked);
  if (c !== undefined) {
    out.push('');
    out.push('invalidations per cause (with invalidation):');
    out.push('');
    const rows = SMC_CAUSES.map((name, i) => [name, String(c.writes[i]), String(c.causes[i])]).filter((row, i) => i < 3 || row[1] !== '0');
    rows.push(['total', String(c.writes.reduce((a, b) => a + b, 0)), String(c.engine.invalidations ?? 0)]);
    out.push(textTable(['cause', 'stores to code pages', 'translation-cache invalidations'], rows));
    out.push('');
    out.push(textTable(['translator counter', 'value'], [
      ['translated blocks dropped', String(c.engine.invalidatedBlocks ?? 0)],
      ['blocks stopped after a store into themselves (smcStops)', String(c.engine.smcStops ?? 0)],
      ['pages demoted to the interpreter (rewritten too often)', String(c.engine.pagesDemoted ?? 0)],
    ]));
  }
  return out.join('\n');
}
