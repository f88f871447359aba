/**
 * Interpreter bugs the host-CPU oracle found, pinned as small cases worked out from the SDM and the
 * host's behaviour (so they fail without the fix even when no native harness can be built).
 */
import { describe, expect, it } from 'vitest';
import { CODE_BASE, SCRATCH_BASE, TestMachine } from './env.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const regs = (over: Record<number, number>): bigint[] => Array.from({ length: 16 }, (_, i) => BigInt(over[i] ?? 0));

describe('shifts with a zero count still access a memory destination for writing', () => {
  // fuzz seed 1000 case 3596 (64-bit), seed 5001 case 80 (32-bit): the host takes the #PF of a
  // read-only page even though a zero count changes nothing.
  const mem = new Uint8Array(4096).fill(0x5a);
  for (const [bits, name, code] of [
    [64, 'ROL dword [rdi], CL', 'd3 07'],
    [64, 'SAR byte [rdi], 0', 'c0 3f 00'],
    [64, 'SHLD [rdi], eax, CL', '0f a5 07'],
    [64, 'SHRD [rdi], eax, 0', '0f ac 07 00'],
    [32, 'RCR byte [edi], CL', 'd2 1f'],
  ] as const) {
    it(`${bits}-bit ${name}: #PF on the read-only code page`, () => {
      const tm = new TestMachine(bits, true);
      const inp = regs({ 1: 0x100, 4: SCRATCH_BASE + 0xf00, 7: CODE_BASE + 0x800 });
      const r = tm.runCase(hex(code), inp, 0, mem);
      expect(r.fault).toBe(14);
      expect(r.faultAddr).toBe(CODE_BASE + 0x800);
      expect(r.regs).toEqual(inp);
    });
    it(`${bits}-bit ${name}: nothing changes on a writable page`, () => {
      const tm = new TestMachine(bits, true);
      const inp = regs({ 1: 0x100, 4: SCRATCH_BASE + 0xf00, 7: SCRATCH_BASE + 0x10 });
      const r = tm.runCase(hex(code), inp, 0x8d5, mem);
      expect(r.fault).toBe(-1);
      expect(r.rflags & 0x8d5).toBe(0x8d5);
      expect([...r.mem]).toEqual([...mem]);
    });
  }
});
