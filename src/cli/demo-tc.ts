/**
 * `ringvm demo tc-index`: how the translation cache is keyed. tinyos's `procs` runs alpha and
 * beta, two different programs at the same virtual address in two address spaces, switched by the
 * timer. Keyed by guest-physical PC (`phys`) the two never meet; keyed by guest-virtual PC (`virt`)
 * the cache must be flushed on every CR3 write; `virt-noflush` skips that flush, so one process
 * runs the other's translation. The demo checks each run's output against the facts the programs'
 * sources fix (docs/tinyos.md) and prints the cache statistics side by side.
 */
import { runDemoGuest, textTable } from './demo-run.js';

export const TC_MODES = ['phys', 'virt', 'virt-noflush'] as const;
export type TcMode = (typeof TC_MODES)[number];

export interface TcRun {
  mode: TcMode;
  /** Every check passed. */
  correct: boolean;
  /** The checks that failed, in words. */
  failures: string[];
  output: string;
  instructions: number;
  wallSeconds: number;
  engine: Record<string, number>;
}

/**
 * What `procs` must print whatever the timing: each program's own lines, in its own order (alpha
 * counts up "line i of n", beta counts down "k lines to go"), both at the same virtual `main` at
 * different physical addresses; the fork's private copy; exec(alpha)'s exit status being the frame
 * number it printed; nobody killed.
 */
export function checkProcs(text: string): string[] {
  const lines = text.split('\n').map((l) => l.trimEnd());
  const fail: string[] = [];
  const started = /^procs: started alpha \(pid (\d+)\) and beta \(pid (\d+)\)$/.exec(lines.find((l) => l.startsWith('procs: started')) ?? '');
  if (started === null) return ['no "procs: started" line'];
  const [a, b] = [started[1], started[2]];
  const own = (tag: string, pid: string): string[] =>
    lines.filter((l) => l.startsWith(`[${tag}] pid ${pid}: `)).map((l) => l.slice(`[${tag}] pid ${pid}: `.length));
  const al = own('alpha', a);
  const bl = own('beta', b);
  const mainA = /^main at (0x[0-9a-f]+), physical (0x[0-9a-f]+)$/.exec(al[0] ?? '');
  const mainB = /^main at (0x[0-9a-f]+), physical (0x[0-9a-f]+)$/.exec(bl[0] ?? '');
  if (mainA === null) fail.push(`alpha's first line is not "main at ...": ${JSON.stringify(al[0] ?? '(none)')}`);
  if (mainB === null) fail.push(`beta's first line is not "main at ...": ${JSON.stringify(bl[0] ?? '(none)')}`);
  if (mainA !== null && mainB !== null) {
    if (mainA[1] !== mainB[1]) fail.push(`alpha and beta report different virtual main (${mainA[1]}, ${mainB[1]})`);
    if (mainA[2] === mainB[2]) fail.push('alpha and beta report the same physical main');
  }
  // both get the same line count from procs; alpha says it in every line ("line i of n")
  // (or, when alpha printed none, beta's first count: "k lines to go" with k = n - 1)
  const nm = /^line \d+ of (\d+)$/.exec(al[1] ?? '');
  const bm = /^(\d+) lines to go$/.exec(bl[1] ?? '');
  const n = nm !== null ? Number(nm[1]) : bm !== null ? Number(bm[1]) + 1 : 0;
  const wantA = Array.from({ length: n }, (_, i) => `line ${i + 1} of ${n}`);
  if (al.length < 2) fail.push('alpha printed no "line i of n" lines');
  else if (n < 1 || al.slice(1).join('\n') !== wantA.join('\n')) fail.push(`alpha's lines are not "line 1..${n} of ${n}" in order`);
  const wantB = Array.from({ length: n }, (_, i) => `${n - 1 - i} lines to go`);
  if (bl.length < 2) fail.push('beta printed no "k lines to go" lines');
  else if (n < 1 || bl.slice(1).join('\n') !== wantB.join('\n')) fail.push(`beta's lines are not "${n - 1}..0 lines to go" in order`);
  const killed = lines.filter((l) => / killed: /.test(l));
  if (killed.length > 0) fail.push(`${killed.length} process(es) killed: ${killed[0]}`);
  if (!lines.includes('procs: both done')) fail.push('no "procs: both done"');
  if (!lines.includes('[fork-child] shared=101')) fail.push('the fork child did not see its own copy (shared=101)');
  if (!lines.includes('procs: fork child exited with 7, parent still sees shared=100')) fail.push('the parent\'s copy changed or the child\'s status is wrong');
  const page = lines.map((l) => /^\[alpha\] pid \d+: page 0x40000000 is physical 0x([0-9a-f]+)$/.exec(l)).find((m) => m !== null);
  const exec = lines.map((l) => /^procs: forked child \d+ ran exec\(alpha\) and exited with status (\d+)$/.exec(l)).find((m) => m !== null);
  if (page == null || exec == null || Number(exec[1]) !== parseInt(page[1], 16) >>> 12) {
    fail.push('exec(alpha) did not exit with the frame number it printed');
  }
  if (!lines.includes('tinyos: procs exited with status 0')) fail.push('procs did not exit with status 0');
  return fail;
}

export async function runTcMode(mode: TcMode, threshold?: number): Promise<TcRun> {
  const r = await runDemoGuest({ append: 'run procs', dbt: { tcIndex: mode, threshold, tcSync: true } });
  const failures = checkProcs(r.output);
  if (r.stop.status !== 33) failures.push(`the machine stopped: ${r.stop.reason}`);
  return { mode, correct: failures.length === 0, failures, output: r.output, instructions: r.instructions, wallSeconds: r.wallSeconds, engine: r.engine };
}

export async function runTcIndex(threshold?: number): Promise<TcRun[]> {
  const runs: TcRun[] = [];
  for (const m of TC_MODES) runs.push(await runTcMode(m, threshold));
  return runs;
}

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

/** Rows: one statistic per row, one mode per column (the modes are what is compared). */
export function tcRows(runs: TcRun[]): string[][] {
  const e = (k: string) => runs.map((r) => String(r.engine[k] ?? 0));
  return [
    ['output correct', ...runs.map((r) => (r.correct ? 'yes' : 'NO'))],
    ['guest instructions', ...runs.map((r) => String(r.instructions))],
    ['blocks decoded into the cache', ...e('blocksDecoded')],
    ['blocks translated to wasm', ...e('blocksTranslated')],
    ['retranslations (same key again)', ...e('retranslations')],
    ['cache flushes on CR3 writes', ...e('flushesCr3')],
    ['invalidations (pages) / blocks', ...runs.map((r) => `${r.engine.invalidations ?? 0} / ${r.engine.invalidatedBlocks ?? 0}`)],
    ['cache lookups', ...e('lookups')],
    ['hits / misses', ...runs.map((r) => `${r.engine.hits ?? 0} / ${r.engine.misses ?? 0}`)],
    ['hit rate', ...runs.map((r) => pct((r.engine.hits ?? 0) / Math.max(1, r.engine.lookups ?? 0)))],
    ['instructions run translated', ...e('insnsTranslated')],
    ['instructions interpreted', ...e('insnsInterp')],
    ['ms translating', ...runs.map((r) => (r.engine.translateMs ?? 0).toFixed(0))],
    ['ms running (wall - translating)', ...runs.map((r) => (r.wallSeconds * 1000 - (r.engine.translateMs ?? 0)).toFixed(0))],
  ];
}

export function formatTcIndex(runs: TcRun[], threshold?: number): string {
  const out: string[] = [];
  out.push(`ringvm demo tc-index: tinyos \`run procs\` under each --tc-index${threshold === undefined ? '' : ` (--tc-threshold ${threshold})`}`);
  out.push('');
  out.push(textTable(['', ...runs.map((r) => r.mode)], tcRows(runs)));
  for (const r of runs) {
    if (r.correct) continue;
    out.push('');
    out.push(`${r.mode}: wrong output:`);
    for (const f of r.failures) out.push(`  - ${f}`);
  }
  return out.join('\n');
}
