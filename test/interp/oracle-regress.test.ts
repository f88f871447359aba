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

describe('CPL 3 faults the host raises', () => {
  const mem = new Uint8Array(4096);
  const run = (code: string, over: Record<number, number> = {}): number =>
    new TestMachine(64, true, true).runCase(hex(code), regs({ 4: SCRATCH_BASE + 0xf00, ...over }), 0, mem).fault;

  // fuzz seed 1000 (64-bit): ringvm raised #GP for these privileged rows it does not implement
  it('unimplemented privileged instructions are #UD before the CPL check', () => {
    expect(run('0f 01 c3')).toBe(6); // VMRESUME
    expect(run('0f 01 ca')).toBe(6); // CLAC
    expect(run('0f 01 c8')).toBe(6); // MONITOR
    expect(run('66 0f 38 82 03', { 3: SCRATCH_BASE })).toBe(6); // INVPCID
  });

  it('implemented privileged instructions are still #GP', () => {
    expect(run('f4')).toBe(13); // HLT
    expect(run('0f 30')).toBe(13); // WRMSR
    expect(run('0f 20 c0')).toBe(13); // MOV rax, CR0
  });

  // fuzz seed 1000 case 75: CLFLUSHOPT of a non-canonical address was a NOP
  it('CLFLUSH/CLFLUSHOPT/CLWB check their operand like a byte read', () => {
    for (const op of ['0f ae 3b', '66 0f ae 3b', '66 0f ae 33']) {
      expect(run(op, { 3: SCRATCH_BASE + 0x10 })).toBe(-1);
      expect(run(op, { 3: CODE_BASE + 0x10 })).toBe(-1); // read-only is fine
      expect(run(op, { 3: 0x30000000 })).toBe(14);
      expect(run(op, { 3: 2 ** 47 })).toBe(13); // non-canonical
    }
  });
});

describe('WBNOINVD', () => {
  // fuzz seed 1000 case 718: ringvm raised #UD; without WBNOINVD support F3 0F 09 is WBINVD (#GP at CPL 3)
  it('is privileged like WBINVD', () => {
    const r = new TestMachine(64, true, true).runCase(hex('f3 0f 09'), regs({ 4: SCRATCH_BASE + 0xf00 }), 0, new Uint8Array(16));
    expect(r.fault).toBe(13);
  });
});
