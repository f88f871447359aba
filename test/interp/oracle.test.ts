/**
 * The host CPU as the oracle for user-mode semantics (ARCHITECTURE.md §9): random table-driven
 * sequences run natively and in the interpreter must end with the same registers, defined flags,
 * scratch memory and fault vector. Skipped when the native harness cannot be built (no gcc).
 */
import { describe, expect, it } from 'vitest';
import { ensureHarness } from '../oracle/native.js';
import { compareCases, makeCases } from './compare.js';

const have = ensureHarness(64) !== null;

describe.skipIf(!have)('interpreter vs host CPU (64-bit user mode)', () => {
  it('single instructions agree', () => {
    const { mismatches, compared } = compareCases(makeCases(1, 3000, 1));
    expect(compared).toBeGreaterThan(2500);
    expect(mismatches.slice(0, 10).map((m) => m.text)).toEqual([]);
  });

  it('short sequences agree', () => {
    const { mismatches, compared } = compareCases(makeCases(2, 2000, 6));
    expect(compared).toBeGreaterThan(1500);
    expect(mismatches.slice(0, 10).map((m) => m.text)).toEqual([]);
  });
});
