// Differential test: the MMU against an independent reference walker (refwalk.ts) on random page
// tables, with and without the TLB. scripts/fuzz-mmu.ts runs the same thing for longer.
import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz-gen.js';

describe('MMU vs reference walker', () => {
  it('agrees on every walk with the TLB flushed before each access', () => {
    const s = runFuzz(0x1234567, 24, 150, 'all');
    expect(s.faults).toBeGreaterThan(300);
    expect(s.translations).toBeGreaterThan(300);
  });
  it('agrees with the TLB kept between accesses', () => {
    const s = runFuzz(0x7654321, 24, 150, 'none');
    expect(s.faults).toBeGreaterThan(300);
    expect(s.translations).toBeGreaterThan(300);
  });
  it('sees page-table edits after INVLPG of the accessed address', () => {
    const s = runFuzz(0x2468ace, 24, 150, 'page');
    expect(s.faults).toBeGreaterThan(300);
    expect(s.translations).toBeGreaterThan(300);
  });
});
