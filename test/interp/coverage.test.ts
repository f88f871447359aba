/**
 * The oracle's coverage, computed from the instruction table so it cannot go stale: every
 * general-purpose row valid in 64-bit mode and in 32-bit protected mode is either drawn by the
 * generator (and actually appears in a few thousand generated cases) or listed in
 * gen-exclusions.ts with a reason. x87/MMX/SSE rows are not executed yet (a later issue).
 */
import { describe, expect, it } from 'vitest';
import { tableRows } from '../../src/cpu/table.js';
import { F_INV64, F_ONLY64, F_SSE, F_X87 } from '../../src/cpu/table-defs.js';
import { candidateRows, genCase, Rng } from './gen.js';
import { EXCLUDED, EXCLUDED32, EXCLUDED64, exclusionReason } from './gen-exclusions.js';

for (const bits of [64, 32] as const) {
  describe(`oracle coverage, ${bits}-bit`, () => {
    const valid = tableRows.filter((r) => (r.flags & (F_SSE | F_X87 | (bits === 64 ? F_INV64 : F_ONLY64))) === 0);
    const drawn = new Set(candidateRows(bits).map((g) => g.row.index));

    it('every row is drawn or excluded with a reason', () => {
      const neither = valid.filter((r) => !drawn.has(r.index) && exclusionReason(r.name, r.spec, bits) === undefined);
      expect(neither.map((r) => `${r.name} (${r.spec})`)).toEqual([]);
      expect(drawn.size).toBeGreaterThan(300);
    });

    it('every drawable row appears in 6,000 generated cases', () => {
      const rng = new Rng(bits);
      const rows = candidateRows(bits);
      const seen = new Set<number>();
      for (let i = 0; i < 6000; i++) for (const r of genCase(rows, rng, 8, bits).rows) seen.add(r);
      const never = rows.filter((g) => !seen.has(g.row.index)).map((g) => `${g.row.name} (${g.row.spec})`);
      expect(never).toEqual([]);
    });
  });
}

describe('the exclusion list', () => {
  it('names only rows of the table, each with a reason', () => {
    const names = new Set(tableRows.map((r) => r.name));
    const keys = new Set(tableRows.map((r) => `${r.name}@${r.spec}`));
    for (const list of [EXCLUDED, EXCLUDED32, EXCLUDED64]) {
      for (const [k, why] of Object.entries(list)) {
        expect(k.includes('@') ? keys.has(k) : names.has(k), k).toBe(true);
        expect(why.length, k).toBeGreaterThan(10);
      }
    }
  });
});
