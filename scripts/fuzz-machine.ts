/**
 * Long runs of the machine fuzz (test/robustness/harness.ts): random and table-driven code in
 * real mode, 32-bit protected mode and long mode, CPL 0 and 3, under one engine. Every case must
 * end in a documented stop with no host exception and intact host state; failures are printed with
 * their seeds (re-run one with --seed S --count 1 --verbose). Prints how the cases ended.
 * Run: npx tsx scripts/fuzz-machine.ts --count N --engine interp|dbt --seed S [--budget B] [--trace]
 *      [--sensitive emulate|leak|umip|all] [--tc-index phys|virt|virt-noflush] [--oddities] [--verbose]
 * (--trace runs every case under --trace exec,int, so the disassembler sees the random code too;
 * --sensitive all takes the policy from the seed, seed % 3, and prints the stops per policy;
 * --stop-file F ends the run early, with the summary of the cases run so far, once F exists;
 * --oddities adds damaged page tables and odd descriptors to every case: oddities.ts.)
 */
import { existsSync } from 'node:fs';
import { runCase } from '../test/robustness/harness.js';

const args = process.argv.slice(2);
const arg = (name: string, def: string): string => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : def;
};
const count = Number(arg('--count', '1000'));
const seed0 = Number(arg('--seed', '1')) >>> 0;
const engine = arg('--engine', 'interp');
const budget = Number(arg('--budget', '20000'));
const verbose = args.includes('--verbose');
const trace = args.includes('--trace');
const oddities = args.includes('--oddities');
const POLICIES = ['emulate', 'leak', 'umip'];
const allPolicies = arg('--sensitive', 'emulate') === 'all';
const policy = allPolicies ? 0 : POLICIES.indexOf(arg('--sensitive', 'emulate'));
const tcIndex = arg('--tc-index', 'phys') as 'phys' | 'virt' | 'virt-noflush';
if (policy < 0 || !['phys', 'virt', 'virt-noflush'].includes(tcIndex)) {
  process.stderr.write('fuzz-machine: --sensitive takes emulate|leak|umip|all, --tc-index phys|virt|virt-noflush\n');
  process.exit(2);
}
if (engine !== 'interp' && engine !== 'dbt') {
  process.stderr.write(`fuzz-machine: --engine must be interp or dbt, not '${engine}'\n`);
  process.exit(2);
}

const stopFile = arg('--stop-file', '');

async function main(): Promise<void> {
  const stops = new Map<string, number>();
  let run = 0;
  const failures: string[] = [];
  let slowest = 0;
  let slowSeed = 0;
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    if (stopFile !== '' && i % 100 === 0 && existsSync(stopFile)) break;
    const seed = (seed0 + i) >>> 0;
    run++;
    // Every REP iteration counts, so the budget bounds the time (120 s allows for a loaded host).
    const p = allPolicies ? seed % 3 : policy;
    const r = await runCase(seed, { engine: engine as 'interp' | 'dbt', budget, maxMs: 120_000, trace, policy: p, tcIndex, oddities });
    if (r.failure === '' && r.ms > 5000) process.stdout.write(`SLOW seed ${seed} (${r.setting}, ${engine}): ${r.ms.toFixed(0)} ms\n`);
    // Classify stops without their numbers so the summary stays short.
    const kind = `${allPolicies ? `${POLICIES[p]} ` : ''}${r.setting}: ${r.stop ? r.stop.reason.replace(/0x[0-9a-f]+|\b[0-9a-f]{4,}\b|\d+/gi, '#') : 'no stop'}`;
    stops.set(kind, (stops.get(kind) ?? 0) + 1);
    if (r.ms > slowest) {
      slowest = r.ms;
      slowSeed = seed;
    }
    if (r.failure !== '') {
      failures.push(`seed ${seed} (${r.setting}, ${engine}): ${verbose ? r.failure : r.failure.split('\n').slice(0, 6).join('\n    ')}`);
      process.stdout.write(`FAIL ${failures[failures.length - 1]}\n`);
    } else if (verbose) {
      process.stdout.write(`seed ${seed} ${r.setting}: ${r.stop?.reason} (${r.ms.toFixed(1)} ms)\n${r.stop?.dump ?? ''}\n`);
    }
    if ((i + 1) % 10000 === 0) process.stderr.write(`${i + 1} cases, ${failures.length} failures, ${((performance.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  const s = (performance.now() - t0) / 1000;
  process.stdout.write(`${run} cases (seeds ${seed0}..${seed0 + run - 1}, engine ${engine}, budget ${budget}) in ${s.toFixed(1)} s; `
    + `slowest ${slowest.toFixed(0)} ms (seed ${slowSeed}); ${failures.length} failures\n`);
  for (const [k, n] of [...stops.entries()].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${String(n).padStart(7)}  ${k}\n`);
  process.exitCode = failures.length === 0 ? 0 : 1;
}

void main();
