/**
 * The host CPU as the oracle for user-mode semantics (ARCHITECTURE.md §9): random table-driven
 * sequences run natively (test/oracle/native.ts) and in the interpreter must end with the same
 * registers, defined flags, scratch memory and fault vector. 64-bit cases run in long mode,
 * 32-bit cases in compatibility mode (BCD, PUSHA/POPA, INC/DEC r, 16-bit addressing through FS).
 * Skipped when the native harness cannot be built (no gcc / no -m32 support).
 */
import { describe, expect, it } from 'vitest';
import { ensureHarness } from '../oracle/native.js';
import { compareCases, makeCases } from './compare.js';

const have64 = ensureHarness(64) !== null;
const have32 = ensureHarness(32) !== null;

describe.skipIf(!have64)('interpreter vs host CPU, 64-bit user mode', () => {
  it('single instructions agree', () => {
    const { mismatches, compared } = compareCases(makeCases(1, 4000, 1));
    expect(compared).toBeGreaterThan(3500);
    expect(mismatches.slice(0, 10).map((m) => m.text)).toEqual([]);
  });

  it('sequences of up to 8 instructions agree', () => {
    const { mismatches, compared } = compareCases(makeCases(7, 4000, 8));
    expect(compared).toBeGreaterThan(3500);
    expect(mismatches.slice(0, 10).map((m) => m.text)).toEqual([]);
  });
});

describe.skipIf(!have32)('interpreter vs host CPU, 32-bit user mode', () => {
  it('single instructions agree', () => {
    const { mismatches, compared } = compareCases(makeCases(1, 4000, 1, 32), 32);
    expect(compared).toBeGreaterThan(3500);
    expect(mismatches.slice(0, 10).map((m) => m.text)).toEqual([]);
  });

  it('sequences of up to 6 instructions agree', () => {
    const { mismatches, compared } = compareCases(makeCases(3, 4000, 6, 32), 32);
    expect(compared).toBeGreaterThan(3500);
    expect(mismatches.slice(0, 10).map((m) => m.text)).toEqual([]);
  });
});
