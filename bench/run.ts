/**
 * The benchmark suite (issue 8): runs every workload on every configuration that can run here
 * (ringvm's engines, QEMU TCG, v86, the host CPU), several times, interleaved (run 1 of every
 * configuration, then run 2 of every one...) so machine drift hits all alike, and prints a table of
 * median wall time, guest instructions, MIPS, peak RSS, translation time and the issue's ratios.
 * Each N-iteration run is paired with an iters=0 run of the same configuration whose median (boot
 * plus process start-up) is subtracted before computing MIPS. Checksums are checked against the
 * native program. Writes bench/results/latest.json and latest.svg (and --svg/--json copies).
 * Usage: npx tsx bench/run.ts [--quick] [--runs N] [--configs a,b] [--workloads a,b] [--svg F] [--json F]
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { WORKLOADS, buildNative, makeConfigs, type Config, type Workload } from './lib/configs.js';
import { measure, parseChecksum, parseRingvmStats } from './lib/measure.js';
import { ratios, summarise, table, type Row, type Sample } from './lib/results.js';
import { chart } from './lib/svg.js';

const ROOT = resolve(import.meta.dirname, '..');

const program = new Command()
  .name('bench')
  .option('--quick', 'small iteration counts and one run: about a minute')
  .option('--runs <n>', 'runs per configuration (median taken)', (v) => Number(v))
  .option('--configs <ids>', 'comma-separated configuration ids (default: every one that can run here)')
  .option('--workloads <ids>', 'comma-separated workload ids (default: all)')
  .option('--out <dir>', 'directory for latest.json and latest.svg', 'bench/results')
  .option('--json <file>', 'also write the JSON here')
  .option('--svg <file>', 'also write the chart here (e.g. docs/performance.svg)')
  .option('--timeout <s>', 'seconds before one run is abandoned', (v) => Number(v), 600)
  .parse();
const opts = program.opts<{
  quick?: boolean; runs?: number; configs?: string; workloads?: string; out: string; json?: string; svg?: string; timeout: number;
}>();

const quick = !!opts.quick;
const runs = opts.runs ?? (quick ? 1 : 3);
const outDir = resolve(ROOT, opts.out);
mkdirSync(outDir, { recursive: true });
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);

const all = makeConfigs(ROOT, outDir);
const wanted = opts.configs?.split(',');
const skipped: { config: string; reason: string }[] = [];
const configs: Config[] = [];
for (const c of all) {
  if (wanted && !wanted.includes(c.id)) continue;
  const why = c.unavailable();
  if (why) skipped.push({ config: c.id, reason: why });
  else configs.push(c);
}
for (const id of wanted ?? []) if (!all.some((c) => c.id === id)) skipped.push({ config: id, reason: 'unknown configuration' });
const wantedW = opts.workloads?.split(',');
const workloads = WORKLOADS.filter((w) => !wantedW || wantedW.includes(w.id));

// The reference checksum for (workload, N): the native program, built from the same source; for a
// workload with no native build, QEMU's run of the same image and N (when QEMU is installed).
const natives = new Map<number, string | null>();
const expectedCache = new Map<string, string | null>();
function expected(w: Workload, n: number): string | null {
  const key = `${w.id}:${n}`;
  if (!expectedCache.has(key)) {
    let sum: string | null = null;
    if (w.native) {
      // The workload's arithmetic is 32-bit throughout, so either build gives the same checksum:
      // without gcc-multilib (no -m32 libc) the 64-bit program is the reference for both.
      for (const a of [w.arch, 64] as const) if (!natives.has(a)) natives.set(a, buildNative(ROOT, outDir, a));
      const exe = natives.get(w.arch) ?? natives.get(64);
      const r = exe ? spawnSync(exe, [w.cmdline(n)], { encoding: 'utf8' }) : null;
      sum = r ? (parseChecksum(r.stdout ?? '')?.checksum ?? null) : null;
    } else {
      const qemu = all.find((c) => c.id === 'qemu-tcg')!;
      if (!qemu.unavailable()) sum = w.parse(measure(qemu.command(w, n), ROOT, opts.timeout).stdout)?.checksum ?? null;
    }
    expectedCache.set(key, sum);
  }
  return expectedCache.get(key)!;
}

function sample(c: Config, w: Workload, n: number): Sample {
  const m = measure(c.command(w, n), ROOT, opts.timeout);
  const cs = w.parse(m.stdout);
  if (!cs) log(`${c.id} ${w.id} iters=${n}: no checksum line (status ${m.status}${m.timedOut ? ', timed out' : ''}) ${m.stderr.slice(-300)}`);
  return {
    wall: cs ? m.wall : NaN, maxRssKiB: m.maxRssKiB, checksum: cs?.checksum ?? null, status: m.status,
    stats: c.kind === 'ringvm' ? parseRingvmStats(m.stderr) : null,
  };
}

interface Pair { w: Workload; c: Config; n: number; full: Sample[]; base: Sample[] }
const pairs: Pair[] = [];
for (const w of workloads)
  for (const c of configs)
    if (c.arches.includes(w.arch) && (c.accepts?.(w) ?? true))
      pairs.push({ w, c, n: w.fixed ? 1 : (quick ? c.iters.quick : c.iters.full) * (w.scale ?? 1), full: [], base: [] });

// A fixed workload (boot) has nothing to subtract: its baseline is zero time and zero
// instructions, so net s is the whole run, start-up included, and Minsn the boot's instructions.
const zero = (c: Config): Sample => ({
  wall: 0, maxRssKiB: 0, checksum: 'fixed', status: 0, stats: c.kind === 'ringvm' ? { guestInstructions: 0 } : null,
});

log(`${pairs.length} workload/configuration pairs, ${runs} run(s) each${quick ? ' (quick)' : ''}`);
const t0 = performance.now();
for (let r = 0; r < runs; r++) {
  for (const p of pairs) {
    p.full.push(sample(p.c, p.w, p.n));
    p.base.push(p.w.fixed ? zero(p.c) : sample(p.c, p.w, 0));
    log(`run ${r + 1}/${runs} ${p.w.id} ${p.c.id} iters=${p.n}: ${p.full.at(-1)!.wall.toFixed(3)} s (iters=0: ${p.base.at(-1)!.wall.toFixed(3)} s)`);
  }
}

// Instructions per iteration of each workload, from ringvm's own runs; counted with a short
// interpreter run when no ringvm configuration was measured. Exact: every round does the same work.
const perIter = new Map<string, number | null>();
for (const w of workloads) {
  const own = pairs.find((p) => p.w === w && p.c.kind === 'ringvm');
  const count = (s: Sample | undefined) => (typeof s?.stats?.guestInstructions === 'number' ? s.stats.guestInstructions : null);
  let full = own ? count(own.full[0]) : null;
  let base = own ? count(own.base[0]) : null;
  let n = own?.n ?? 1;
  if (full === null || base === null) {
    const interp = all.find((c) => c.id === 'ringvm-interp')!;
    n = 1;
    full = count(sample(interp, w, 1));
    base = w.fixed ? 0 : count(sample(interp, w, 0));
  }
  perIter.set(w.id, full !== null && base !== null && n > 0 ? (full - base) / n : null);
}

const rows: Row[] = pairs.map((p) => summarise(p.w.id, p.c.id, p.n, p.full, p.base, expected(p.w, p.n), perIter.get(p.w.id) ?? null));
const rs = ratios(rows);
const text = table(rows, rs, skipped);
process.stdout.write(text + '\n');

const result = {
  date: new Date().toISOString(),
  command: `npx tsx bench/run.ts ${process.argv.slice(2).join(' ')}`.trim(),
  quick, runs,
  host: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version },
  seconds: (performance.now() - t0) / 1000,
  workloads: workloads.map((w) => ({ ...w, instructionsPerIteration: perIter.get(w.id) ?? null })),
  configs: configs.map((c) => ({ id: c.id, describe: c.describe })),
  skipped, rows, ratios: rs, table: text,
};
const json = JSON.stringify(result, null, 2) + '\n';
const svg = chart(rows, `ringvm benchmark: guest MIPS${quick ? ' (quick run)' : ''}, ${result.date.slice(0, 10)}`);
writeFileSync(join(outDir, 'latest.json'), json);
writeFileSync(join(outDir, 'latest.svg'), svg);
if (opts.json) writeFileSync(resolve(ROOT, opts.json), json);
if (opts.svg) writeFileSync(resolve(ROOT, opts.svg), svg);
log(`wrote ${join(opts.out, 'latest.json')} and latest.svg in ${result.seconds.toFixed(1)} s`);
const bad = rows.filter((r) => r.checksumOk === false || r.checksum === null || r.failedRuns > 0);
if (bad.length) {
  log(`checksum mismatch or missing: ${bad.map((r) => `${r.workload}/${r.config}`).join(', ')}`);
  process.exitCode = 1;
}
