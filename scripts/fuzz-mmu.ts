/**
 * Long differential run of the MMU against the reference walker in test/mmu/refwalk.ts: random
 * page tables in all three paging modes, with the TLB flushed before each access, kept, and kept with
 * page-table edits followed by INVLPG.
 *   npx tsx scripts/fuzz-mmu.ts [--configs N] [--accesses N] [--seed S]
 */
import { runFuzz } from '../test/mmu/fuzz-gen.js';

const arg = (name: string, def: number): number => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const configs = arg('--configs', 500);
const accesses = arg('--accesses', 400);
const seed = arg('--seed', Date.now() & 0x7fffffff) | 1;
const t0 = Date.now();
let total = 0;
for (const flush of ['all', 'none', 'page'] as const) {
  const s = runFuzz(seed, configs, accesses, flush);
  total += s.accesses;
  console.log(`seed ${seed} flush=${flush}: ${s.accesses} accesses, ${s.translations} translations, ${s.faults} faults: agree`);
}
console.log(`${total} accesses in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
