/**
 * The benchmark's figures from the raw runs: per workload and configuration the median wall time
 * of the N-iteration run and of the iters=0 run (boot and process start-up, subtracted), guest
 * instructions (ringvm's count; for peers ringvm's count of the same image and N), net MIPS, peak
 * RSS, checksum agreement with the native program, ringvm's translation figures; then the ratios
 * and targets of issue 8, and the text table.
 */
import { median } from './measure.js';

export interface Sample {
  wall: number;
  maxRssKiB: number;
  checksum: string | null;
  status: number | null;
  stats: Record<string, unknown> | null; // ringvm --stats json
}

export interface Row {
  workload: string;
  config: string;
  iterations: number;
  runs: number;
  wallMedian: number; // s, the N-iteration run
  baseMedian: number; // s, iters=0
  netSeconds: number;
  guestInstructions: number | null; // N-iteration run minus iters=0
  instructionSource: 'measured' | 'ringvm' | 'none';
  mips: number | null;
  maxRssMiB: number;
  checksum: string | null;
  expected: string | null; // native program's checksum for the same N
  failedRuns: number; // runs (N-iteration or iters=0) that printed no checksum line
  checksumOk: boolean | null;
  walls: number[];
  baseWalls: number[];
  loopMips: number | null; // ringvm only: its own instructions / its own run-loop seconds (no start-up)
  translateMs: number | null;
  engineStats: Record<string, unknown> | null;
}

export function summarise(
  workload: string, config: string, iterations: number, full: Sample[], base: Sample[], expected: string | null,
  perIteration: number | null,
): Row {
  const wallMedian = median(full.map((s) => s.wall));
  const baseMedian = median(base.map((s) => s.wall));
  const netSeconds = wallMedian - baseMedian;
  const count = (s: Sample | undefined) => (s?.stats && typeof s.stats.guestInstructions === 'number' ? s.stats.guestInstructions : null);
  const measuredFull = count(full[0]);
  const measuredBase = count(base[0]);
  let guestInstructions: number | null = null;
  let instructionSource: Row['instructionSource'] = 'none';
  if (measuredFull !== null && measuredBase !== null) {
    guestInstructions = measuredFull - measuredBase;
    instructionSource = 'measured';
  } else if (perIteration !== null) {
    guestInstructions = perIteration * iterations;
    instructionSource = 'ringvm';
  }
  // A run with no checksum line (crash, timeout) counts as failed; its wall time is NaN and the
  // median ignores it. Different checksums across the good runs are a wrong result ("mixed").
  const good = [...new Set(full.map((s) => s.checksum).filter((c) => c !== null))];
  const checksum = good.length === 0 ? null : good.length === 1 ? good[0]! : 'mixed';
  const failedRuns = full.filter((s) => s.checksum === null).length + base.filter((s) => s.checksum === null).length;
  const loops = full.map((s) =>
    s.stats && typeof s.stats.guestInstructions === 'number' && typeof s.stats.wallSeconds === 'number'
      ? s.stats.guestInstructions / s.stats.wallSeconds / 1e6 : NaN);
  const loopMips = median(loops);
  const engine = (full[0]?.stats?.engine ?? null) as Record<string, unknown> | null;
  const tms = engine && typeof engine.translateMs === 'number' ? engine.translateMs : null;
  return {
    workload, config, iterations, runs: full.length, wallMedian, baseMedian, netSeconds, guestInstructions, instructionSource,
    mips: guestInstructions !== null && netSeconds > 0 ? guestInstructions / netSeconds / 1e6 : null,
    maxRssMiB: Math.max(0, ...full.map((s) => s.maxRssKiB)) / 1024,
    checksum, expected, failedRuns, checksumOk: expected === null ? null : checksum === expected,
    walls: full.map((s) => s.wall), baseWalls: base.map((s) => s.wall),
    loopMips: Number.isFinite(loopMips) ? loopMips : null, translateMs: tms, engineStats: engine,
  };
}

export interface Ratio {
  workload: string;
  name: string;
  value: number | null;
  target: number | null; // the goal for this ratio, when it has one
}

/** The ratios: a / b of MIPS, with the target where the issue sets one. */
export function ratios(rows: Row[]): Ratio[] {
  const out: Ratio[] = [];
  const workloads = [...new Set(rows.map((r) => r.workload))];
  const pairs: [string, string, number | null][] = [
    ['ringvm-interp', 'qemu-tcg', null],
    ['ringvm-interp', 'native', null],
    ['ringvm-dbt-phys', 'qemu-tcg', 1],
    ['ringvm-dbt-virt', 'qemu-tcg', 1],
    ['ringvm-dbt-phys', 'native', 0.2],
    ['ringvm-dbt-virt', 'native', 0.2],
    ['ringvm-dbt-phys', 'ringvm-interp', 10],
    ['ringvm-dbt-virt', 'ringvm-interp', 10],
    ['ringvm-interp', 'bochs', 1],
    ['ringvm-interp', 'v86-interp', null],
    ['ringvm-dbt-phys', 'v86-jit', null],
  ];
  for (const w of workloads) {
    const mips = (c: string) => rows.find((r) => r.workload === w && r.config === c)?.mips ?? null;
    for (const [a, b, target] of pairs) {
      const ma = mips(a);
      const mb = mips(b);
      if (ma === null && mb === null) continue;
      if (!rows.some((r) => r.workload === w && r.config === a) || !rows.some((r) => r.workload === w && r.config === b)) continue;
      out.push({ workload: w, name: `${a} / ${b}`, value: ma !== null && mb !== null ? ma / mb : null, target });
    }
  }
  return out;
}

const fmt = (x: number | null, d: number): string => (x === null || !Number.isFinite(x) ? '-' : x.toFixed(d));

export function table(rows: Row[], rs: Ratio[], skipped: { config: string; reason: string }[]): string {
  const head = ['workload', 'config', 'iters', 'wall s', 'base s', 'net s', 'Minsn', 'MIPS', 'loop MIPS', 'RSS MiB', 'xlate ms', 'checksum'];
  const body = rows.map((r) => [
    r.workload, r.config, String(r.iterations), fmt(r.wallMedian, 3), fmt(r.baseMedian, 3), fmt(r.netSeconds, 3),
    fmt(r.guestInstructions === null ? null : r.guestInstructions / 1e6, 1) + (r.instructionSource === 'ringvm' ? '*' : ''),
    fmt(r.mips, 1), fmt(r.loopMips, 1), fmt(r.maxRssMiB, 0), fmt(r.translateMs, 0),
    (r.checksumOk === null ? (r.checksum ?? 'none') : r.checksumOk ? 'ok' : `BAD ${r.checksum} != ${r.expected}`) +
      (r.failedRuns ? ` (${r.failedRuns} of ${r.runs * 2} runs failed)` : ''),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  const lines = [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)];
  lines.push('', '* instructions: ringvm\'s count of the same image and N (the peer cannot count them)');
  lines.push('net s = wall s - base s (median iters=0 run: process start-up and boot); MIPS = Minsn / net s;');
  lines.push('loop MIPS = ringvm\'s own count over its own run-loop time (--stats json), start-up excluded');
  if (rs.length) {
    lines.push('', 'ratios of MIPS (target: the issue\'s goal; "short by" = how far below it):');
    for (const r of rs) {
      const verdict =
        r.target === null || r.value === null ? '' : r.value >= r.target ? `  target >= ${r.target}: met` : `  target >= ${r.target}: short by ${(r.target / r.value).toFixed(1)}x`;
      lines.push(`  ${r.workload}  ${r.name.padEnd(34)} ${fmt(r.value, 3).padStart(8)}${verdict}`);
    }
  }
  for (const s of skipped) lines.push(`not run: ${s.config}: ${s.reason}`);
  return lines.join('\n');
}
