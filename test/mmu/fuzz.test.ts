// Differential test: the MMU against an independent reference walker (refwalk.ts) on random page
// tables, with and without the TLB. scripts/fuzz-mmu.ts runs the same thing for longer.
import { describe, expect, it } from 'vitest';
import { runFuzz } from './fuzz-gen.js';

describe('MMU vs reference walker', () => {
  it('agrees on every walk with the TLB flushed before each access', () => {
    const s = runFuzz(0x1234567, 24, 150, true);
    expect(s.faults).toBeGreaterThan(300);
    expect(s.translations).toBeGreaterThan(300);
  });
  it('agrees with the TLB kept between accesses', () => {
    const s = runFuzz(0x7654321, 24, 150, false);
    expect(s.faults).toBeGreaterThan(300);
    expect(s.translations).toBeGreaterThan(300);
  });
});
