/**
 * Long fuzz runs of the interpreter against the host CPU (the same generator and comparison as
 * test/interp/oracle.test.ts, in batches): prints every mismatch and a summary per instruction.
 *
 *   npx tsx scripts/fuzz-interp.ts --count 1000000 [--bits 64|32] [--seed 1] [--len 8] [--show 20]
 *
 * Exit status 1 when any mismatch was found.
 */
import { Command } from 'commander';
import { ensureHarness } from '../test/oracle/native.js';
import { compareCases, makeCases } from '../test/interp/compare.js';

const opts = new Command()
  .option('--count <n>', 'cases to run', '100000')
  .option('--bits <n>', '64 or 32', '64')
  .option('--seed <n>', 'first seed', '1')
  .option('--len <n>', 'maximum instructions per case', '8')
  .option('--batch <n>', 'cases per native batch', '20000')
  .option('--show <n>', 'mismatches to print', '20')
  .parse()
  .opts();

const bits = Number(opts.bits) as 64 | 32;
if (ensureHarness(bits) === null) {
  console.error(`fuzz-interp: the ${bits}-bit native harness cannot be built here`);
  process.exit(2);
}
const total = Number(opts.count);
const batch = Number(opts.batch);
let seed = Number(opts.seed);
let done = 0, compared = 0, faults = 0, shown = 0;
const byName = new Map<string, number>();
const t0 = Date.now();
while (done < total) {
  const n = Math.min(batch, total - done);
  const r = compareCases(makeCases(seed, n, Number(opts.len), bits), bits);
  compared += r.compared;
  faults += r.faults;
  for (const m of r.mismatches) {
    const key = m.text.split(' ')[0]!;
    byName.set(key, (byName.get(key) ?? 0) + 1);
    if (shown++ < Number(opts.show)) console.log(`seed ${seed} case ${m.index}: ${m.text}`);
  }
  done += n;
  seed++;
  console.error(`${done}/${total} cases, ${compared} compared, ${faults} faulting, ` +
    `${[...byName.values()].reduce((a, b) => a + b, 0)} mismatches, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}
const summary = [...byName.entries()].sort((a, b) => b[1] - a[1]);
console.log(`${compared} cases compared (${faults} faulting), ${summary.reduce((a, [, c]) => a + c, 0)} mismatches`);
for (const [name, c] of summary.slice(0, 40)) console.log(`  ${c}\t${name}`);
process.exit(summary.length > 0 ? 1 : 0);
