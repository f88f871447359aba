/**
 * Faults in the middle of POPA and REP string instructions (32-bit, compatibility mode), by the
 * Intel SDM: a fault restores the state from before the faulting instruction (Vol. 3A 6.5), so a
 * POPA whose last reads fault changes no register; a REP string instruction faulting in
 * iteration k keeps the k - 1 completed iterations (rCX/rSI/rDI exact, Vol. 2B REP).
 *
 * The host oracle (an AMD EPYC) disagrees on POPA: it commits EDI/ESI/EBP before the #PF on a
 * later read (fuzz seeds 5015 case 3586, 5002 case 16024). ringvm follows the SDM here.
 */
import { describe, expect, it } from 'vitest';
import { TestMachine, SCRATCH_BASE } from './env.js';

const hex = (s: string): Uint8Array => Uint8Array.from(s.trim().split(/\s+/).map((b) => parseInt(b, 16)));
const regs = (over: Record<number, number>): bigint[] => Array.from({ length: 16 }, (_, i) => BigInt(over[i] ?? 0));

describe('faults mid-instruction (32-bit)', () => {
  const tm = new TestMachine(32);
  const mem = new Uint8Array(4096);
  for (let i = 0; i < 4096; i++) mem[i] = (i * 7 + 3) & 0xff;

  it('POPAD whose reads cross into an unmapped page changes no register', () => {
    const inp = { 0: 1, 1: 2, 2: 3, 3: 4, 4: SCRATCH_BASE + 0xff0, 5: 6, 6: 7, 7: 8 };
    const r = tm.runCase(hex('61'), regs(inp), 0, mem);
    expect(r.fault).toBe(14);
    expect(r.faultAddr).toBe(SCRATCH_BASE + 0x1000);
    expect(r.regs.slice(0, 8)).toEqual(regs(inp).slice(0, 8));
  });

  it('POPA (16-bit) crossing the page end changes no register', () => {
    const inp = { 0: 0x11110001, 1: 2, 2: 3, 3: 4, 4: SCRATCH_BASE + 0xff8, 5: 6, 6: 7, 7: 0x88880008 };
    const r = tm.runCase(hex('66 61'), regs(inp), 0, mem);
    expect(r.fault).toBe(14);
    expect(r.regs.slice(0, 8)).toEqual(regs(inp).slice(0, 8));
  });

  it('POPA (16-bit) that fits loads DI SI BP BX DX CX AX, skips SP', () => {
    const sp = SCRATCH_BASE + 0xfe0;
    const inp = { 0: 0x11110000, 1: 0x22220000, 4: sp, 7: 0x77770000 };
    const r = tm.runCase(hex('66 61'), regs(inp), 0, mem);
    expect(r.fault).toBe(-1);
    const w = (k: number): number => mem[0xfe0 + 2 * k]! | (mem[0xfe0 + 2 * k + 1]! << 8);
    expect(r.regs[7]).toBe(BigInt(0x77770000 | w(0)));
    expect(r.regs[6]).toBe(BigInt(w(1)));
    expect(r.regs[5]).toBe(BigInt(w(2)));
    expect(r.regs[3]).toBe(BigInt(w(4)));
    expect(r.regs[0]).toBe(BigInt(0x11110000 | w(7)));
    expect(r.regs[4]).toBe(BigInt(sp + 16));
  });

  it('REP MOVSB faulting on a read keeps the completed iterations', () => {
    const inp = { 1: 0x80000000, 4: SCRATCH_BASE + 0xf00, 6: SCRATCH_BASE + 0xff0, 7: SCRATCH_BASE + 0x100 };
    const r = tm.runCase(hex('f2 a4'), regs(inp), 0, mem);
    expect(r.fault).toBe(14);
    expect(r.faultAddr).toBe(SCRATCH_BASE + 0x1000);
    expect(r.regs[1]).toBe(0x7ffffff0n);
    expect(r.regs[6]).toBe(BigInt(SCRATCH_BASE + 0x1000));
    expect(r.regs[7]).toBe(BigInt(SCRATCH_BASE + 0x110));
    expect([...r.mem.subarray(0x100, 0x110)]).toEqual([...mem.subarray(0xff0, 0x1000)]);
  });

  it('REP MOVSB faulting on its first write changes nothing', () => {
    const inp = { 1: 0x80000000, 4: SCRATCH_BASE + 0xf00, 6: SCRATCH_BASE + 0x114, 7: 0x0ff5156b };
    const r = tm.runCase(hex('f2 a4'), regs(inp), 0, mem);
    expect(r.fault).toBe(14);
    expect(r.faultAddr).toBe(0x0ff5156b);
    expect(r.regs.slice(0, 8)).toEqual(regs(inp).slice(0, 8));
  });

  it('REP MOVSD with 16-bit addresses: CX/SI/DI count, upper halves kept', () => {
    // fs: a32->a16 rep movsd: FS:SI -> ES:DI; ES is flat, so DI below 64 KiB is unmapped: the
    // first write faults and nothing changes.
    const inp = { 1: 0xabcd0005, 4: SCRATCH_BASE + 0xf00, 6: 0x12340010, 7: 0x56780020 };
    const r = tm.runCase(hex('64 67 f3 a5'), regs(inp), 0, mem);
    expect(r.fault).toBe(14);
    expect(r.faultAddr).toBe(0x20);
    expect(r.regs.slice(0, 8)).toEqual(regs(inp).slice(0, 8));
  });
});
