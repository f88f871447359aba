import { describe, expect, it } from 'vitest';
import {
  EFER_NXE, EFER_SCE, OFF_EFER, OFF_MSR_APIC_BASE, SEG_FS, SEG_BASE, segOffset,
} from '../../src/cpu/state.js';
import { FAULT_GP0 } from '../../src/cpu/fault.js';
import { cpuidLeaf, cpuidOut } from '../../src/system/cpuid.js';
import {
  MSR_APIC_BASE, MSR_EFER, MSR_FS_BASE, MSR_LSTAR, MSR_PAT, MSR_SFMASK, MSR_STAR, MSR_TSC, msrOut, rdmsr, wrmsr,
} from '../../src/system/msr.js';
import { makeCtx } from './helpers.js';

/** The 12 ASCII characters of three registers, in the given order. */
function ascii(...regs: number[]): string {
  let s = '';
  for (const r of regs) for (let i = 0; i < 4; i++) s += String.fromCharCode((r >>> (8 * i)) & 0xff);
  return s;
}

describe('CPUID', () => {
  it('leaf 0: maximum leaf and the vendor in EBX, EDX, ECX', () => {
    const ctx = makeCtx();
    cpuidLeaf(ctx, 0, 0);
    expect(cpuidOut[0]).toBeGreaterThanOrEqual(1);
    expect(ascii(cpuidOut[1], cpuidOut[3], cpuidOut[2])).toBe('RingVMRingVM');
  });

  it('leaf 1: hypervisor bit, paging features, no SSE; APIC follows IA32_APIC_BASE.EN', () => {
    const ctx = makeCtx();
    ctx.views.set64(OFF_MSR_APIC_BASE, 0xfee00900, 0);
    cpuidLeaf(ctx, 1, 0);
    const ecx = cpuidOut[2];
    const edx = cpuidOut[3];
    expect(ecx >>> 31).toBe(1);
    for (const bit of [3, 4, 5, 6, 8, 9, 11, 13, 15]) expect((edx >>> bit) & 1).toBe(1);
    for (const bit of [0, 23, 24, 25, 26]) expect((edx >>> bit) & 1).toBe(0); // FPU MMX FXSR SSE SSE2
    ctx.views.set64(OFF_MSR_APIC_BASE, 0xfee00100, 0);
    cpuidLeaf(ctx, 1, 0);
    expect((cpuidOut[3] >>> 9) & 1).toBe(0);
  });

  it('hypervisor leaf 0x40000000 carries the signature; extended leaves report LM, NX, SYSCALL', () => {
    const ctx = makeCtx();
    cpuidLeaf(ctx, 0x40000000, 0);
    expect(ascii(cpuidOut[1], cpuidOut[2], cpuidOut[3])).toBe('ringvmringvm');
    cpuidLeaf(ctx, 0x80000000, 0);
    expect(cpuidOut[0]).toBe(0x80000008);
    cpuidLeaf(ctx, 0x80000001, 0);
    expect((cpuidOut[3] >>> 29) & 1).toBe(1);
    expect((cpuidOut[3] >>> 20) & 1).toBe(1);
    expect((cpuidOut[3] >>> 11) & 1).toBe(1);
    let brand = '';
    for (let l = 0x80000002; l <= 0x80000004; l++) {
      cpuidLeaf(ctx, l, 0);
      brand += ascii(cpuidOut[0], cpuidOut[1], cpuidOut[2], cpuidOut[3]);
    }
    expect(brand.replace(/\0+$/, '')).toMatch(/^ringvm/);
    cpuidLeaf(ctx, 0x80000008, 0);
    expect((cpuidOut[0] >>> 8) & 0xff).toBe(48);
  });
});

describe('MSRs', () => {
  it('unknown MSRs and reserved values are #GP(0)', () => {
    const ctx = makeCtx();
    expect(rdmsr(ctx, 0x12345, 0)).toBe(FAULT_GP0);
    expect(wrmsr(ctx, 0x12345, 0, 0, 0)).toBe(FAULT_GP0);
    expect(wrmsr(ctx, MSR_LSTAR, 0, 0x00010000, 0)).toBe(FAULT_GP0); // non-canonical
    expect(wrmsr(ctx, MSR_PAT, 0x02, 0, 0)).toBe(FAULT_GP0); // memory type 2 does not exist
    expect(wrmsr(ctx, MSR_SFMASK, 0, 1, 0)).toBe(FAULT_GP0);
    expect(wrmsr(ctx, MSR_EFER, 1 << 3, 0, 0)).toBe(FAULT_GP0);
    expect(wrmsr(ctx, MSR_APIC_BASE, 0xfee00001, 0, 0)).toBe(FAULT_GP0);
  });

  it('round-trips STAR, LSTAR (canonical high half), EFER; FS_BASE is the FS cache base', () => {
    const ctx = makeCtx();
    expect(wrmsr(ctx, MSR_STAR, 0, 0x00230008, 0)).toBe(0);
    expect(rdmsr(ctx, MSR_STAR, 0)).toBe(0);
    expect([msrOut[0], msrOut[1]]).toEqual([0, 0x00230008]);
    expect(wrmsr(ctx, MSR_LSTAR, 0x80001000, 0xffffffff, 0)).toBe(0);
    rdmsr(ctx, MSR_LSTAR, 0);
    expect([msrOut[0], msrOut[1]]).toEqual([0x80001000, 0xffffffff]);
    expect(wrmsr(ctx, MSR_EFER, EFER_SCE | EFER_NXE, 0, 0)).toBe(0);
    expect(ctx.views.u32[OFF_EFER >>> 2]).toBe(EFER_SCE | EFER_NXE);
    expect(wrmsr(ctx, MSR_FS_BASE, 0x1000, 0x7fff, 0)).toBe(0);
    expect(ctx.views.getNum(segOffset(SEG_FS) + SEG_BASE)).toBe(0x7fff00001000);
  });

  it('the TSC counts instructions and writing it sets an offset', () => {
    const ctx = makeCtx();
    rdmsr(ctx, MSR_TSC, 1000);
    expect([msrOut[0], msrOut[1]]).toEqual([1000, 0]);
    expect(wrmsr(ctx, MSR_TSC, 0xfffffff0, 4, 1000)).toBe(0);
    rdmsr(ctx, MSR_TSC, 1020); // 20 instructions later: 0x4_FFFFFFF0 + 20 carries into the high half
    expect([msrOut[0], msrOut[1]]).toEqual([4, 5]);
  });
});
