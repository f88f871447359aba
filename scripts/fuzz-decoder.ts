/**
 * Fuzzes the decoder against iced-x86: `npx tsx scripts/fuzz-decoder.ts [--count N]
 * [--bitness 16|32|64] [--seed S] [--show K] [--gp-text-only] [--uniform]`. The strings are
 * biased towards prefixes, escapes and ModRM forms unless --uniform. The Intel text is compared
 * for every row unless --gp-text-only limits it to general-purpose/system rows. Prints the disagreement
 * count per mode, the first K disagreements (bytes and reason) and the most common reasons.
 * A million strings take a few seconds per mode.
 */
import { Oracle, Rng, hexOf, randomInsn } from '../test/cpu/oracle.js';

const args = process.argv.slice(2);
const opt = (name: string, def: number): number => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const count = opt('--count', 1_000_000);
const only = opt('--bitness', 0);
const seed = opt('--seed', 12345);
const show = opt('--show', 20);
const uniform = args.includes('--uniform');
let total = 0;
for (const bitness of [16, 32, 64]) {
  if (only !== 0 && only !== bitness) continue;
  const oracle = new Oracle(bitness);
  oracle.textAll = !args.includes('--gp-text-only');
  const rng = new Rng(seed + bitness);
  const CH = 4096;
  const buf = new Uint8Array(CH * 16 + 16);
  let bad = 0;
  let excluded = 0;
  const t0 = Date.now();
  const reasons = new Map<string, number>();
  for (let done = 0; done < count; done += CH) {
    const n = Math.min(CH, count - done);
    for (let i = 0; i < n; i++) randomInsn(rng, bitness, buf, i * 16, uniform);
    oracle.load(buf);
    for (let i = 0; i < n; i++) {
      const v = oracle.compare(buf, i * 16, i * 16 + 16);
      if (v.excluded) excluded++;
      if (!v.ok) {
        bad++;
        const k = v.why.replace(/\(.*\)|\d+/g, '');
        reasons.set(k, (reasons.get(k) ?? 0) + 1);
        if (bad <= show) console.log(`${bitness}: ${hexOf(buf, i * 16, 16)}  ${v.why}`);
      }
    }
  }
  total += bad;
  console.log(`bitness ${bitness}: ${count} strings, ${bad} disagreements, ${excluded} excluded ` +
    `(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const top = [...reasons].sort((a, b) => b[1] - a[1]).slice(0, 15);
  for (const [k, v] of top) console.log(`  ${v}\t${k}`);
}
console.log(`total disagreements: ${total}`);
process.exitCode = total === 0 ? 0 : 1;
