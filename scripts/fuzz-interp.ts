/**
 * Long fuzz runs of the interpreter against the host CPU (the same generator and comparison as
 * test/interp/oracle.test.ts, in batches): prints every mismatch and a summary per instruction.
 *
 *   npx tsx scripts/fuzz-interp.ts --count 1000000 [--bits 64|32] [--seed 1] [--len 8] [--show 20] [--focus32]
 *   RINGVM_ORACLE32=qemu npx tsx scripts/fuzz-interp.ts --bits 32 --focus32 ...   (the QEMU pass)
 *
 * Exit status 1 when any mismatch was found.
 */
import { Command } from 'commander';
import { ensureHarness, harnessViaQemu } from '../test/oracle/native.js';
import { compareCases, makeCases } from '../test/interp/compare.js';

const opts = new Command()
  .option('--count <n>', 'cases to run', '100000')
  .option('--bits <n>', '64 or 32', '64')
  .option('--seed <n>', 'first seed', '1')
  .option('--len <n>', 'maximum instructions per case', '8')
  .option('--batch <n>', 'cases per native batch', '20000')
  .option('--show <n>', 'mismatches to print', '20')
  .option('--focus32', '32-bit cases weighted to the rows that exist only outside 64-bit mode, half of them with 16-bit addressing')
  .parse()
  .opts();

const bits = Number(opts.bits) as 64 | 32;
if (ensureHarness(bits) === null) {
  console.error(`fuzz-interp: the ${bits}-bit native harness cannot be built here`);
  process.exit(2);
}
console.error(`fuzz-interp: ${bits}-bit oracle: ${harnessViaQemu(bits) ? 'qemu-i386' : 'the host CPU'}`);
const total = Number(opts.count);
const batch = Number(opts.batch);
let seed = Number(opts.seed);
let done = 0, compared = 0, faults = 0, shown = 0;
const byName = new Map<string, number>();
const departures = new Map<string, number>();
const t0 = Date.now();
while (done < total) {
  const n = Math.min(batch, total - done);
  const r = compareCases(makeCases(seed, n, Number(opts.len), bits, opts.focus32 === true), bits);
  compared += r.compared;
  for (const [k, v] of r.qemuDepartures) departures.set(k, (departures.get(k) ?? 0) + v);
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
if (departures.size > 0) {
  const dep = [...departures.entries()].sort((a, b) => b[1] - a[1]);
  console.log(`${dep.reduce((a, [, c]) => a + c, 0)} QEMU departures (the host CPU agrees with ringvm), by row:`);
  for (const [name, c] of dep) console.log(`  ${c}\t${name}`);
}
process.exit(summary.length > 0 ? 1 : 0);
