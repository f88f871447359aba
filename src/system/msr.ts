/**
 * Model-specific registers: RDMSR/WRMSR of the MSRs ringvm implements. Most live in the CPU block
 * (cpu/state.ts OFF_MSR_*), so translated code and dumps see them; FS/GS bases are the segment
 * caches' bases; the time-stamp counter is virtual time (instructions retired) plus
 * OFF_MSR_TSC_OFFSET, so writing IA32_TSC stores the difference. An MSR not listed here, or a
 * value with reserved bits set, or a non-canonical address where an address is expected, is #GP(0).
 * Values are two 32-bit halves; `rdmsr` leaves them in `msrOut` (no allocation).
 */
import {
  OFF_EFER, OFF_INSN_COUNT, OFF_MSR_APIC_BASE, OFF_MSR_CSTAR, OFF_MSR_KERNEL_GS_BASE, OFF_MSR_LSTAR,
  OFF_MSR_PAT, OFF_MSR_SFMASK, OFF_MSR_STAR, OFF_MSR_SYSENTER_CS, OFF_MSR_SYSENTER_EIP, OFF_MSR_SYSENTER_ESP,
  OFF_MSR_TSC_AUX, OFF_MSR_TSC_OFFSET, SEG_BASE, SEG_FS, SEG_GS, segOffset,
} from '../cpu/state.js';
import { FAULT_GP0 } from '../cpu/fault.js';
import type { SystemContext } from './context.js';
import { writeEfer } from './mode.js';
import { canonicalHi } from './segments.js';

export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_PAT = 0x277;
export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SFMASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;
export const MSR_TSC_AUX = 0xc0000103;

/** EDX:EAX of the last successful `rdmsr`: [0] low half, [1] high half. */
export const msrOut = new Uint32Array(2);

/** The time-stamp counter (virtual time + offset) into msrOut. `icount` is the current count. */
export function readTsc(ctx: SystemContext, icount: number): void {
  const v = ctx.views;
  const cLo = icount >>> 0;
  const cHi = Math.floor(icount / 4294967296) >>> 0;
  const lo = cLo + v.lo(OFF_MSR_TSC_OFFSET);
  msrOut[0] = lo >>> 0;
  msrOut[1] = (cHi + v.hi(OFF_MSR_TSC_OFFSET) + (lo > 0xffffffff ? 1 : 0)) >>> 0;
}

/** Current instruction count from the CPU block (callers that keep it in a local pass it instead). */
export const blockInsnCount = (ctx: SystemContext): number => ctx.views.getNum(OFF_INSN_COUNT);

/** Offset in the CPU block of the simple MSRs, or -1. */
function slotOf(msr: number): number {
  switch (msr) {
    case MSR_SYSENTER_CS: return OFF_MSR_SYSENTER_CS;
    case MSR_SYSENTER_ESP: return OFF_MSR_SYSENTER_ESP;
    case MSR_SYSENTER_EIP: return OFF_MSR_SYSENTER_EIP;
    case MSR_PAT: return OFF_MSR_PAT;
    case MSR_STAR: return OFF_MSR_STAR;
    case MSR_LSTAR: return OFF_MSR_LSTAR;
    case MSR_CSTAR: return OFF_MSR_CSTAR;
    case MSR_SFMASK: return OFF_MSR_SFMASK;
    case MSR_KERNEL_GS_BASE: return OFF_MSR_KERNEL_GS_BASE;
    case MSR_TSC_AUX: return OFF_MSR_TSC_AUX;
    case MSR_APIC_BASE: return OFF_MSR_APIC_BASE;
    case MSR_EFER: return OFF_EFER;
    case MSR_FS_BASE: return segOffset(SEG_FS) + SEG_BASE;
    case MSR_GS_BASE: return segOffset(SEG_GS) + SEG_BASE;
    default: return -1;
  }
}

/** RDMSR: 0 with the value in msrOut, or #GP(0). */
export function rdmsr(ctx: SystemContext, msr: number, icount: number): number {
  msr >>>= 0;
  if (msr === MSR_TSC) {
    readTsc(ctx, icount);
    return 0;
  }
  if (msr === MSR_MISC_ENABLE) {
    msrOut[0] = ctx.msrMiscEnable;
    msrOut[1] = 0;
    return 0;
  }
  const off = slotOf(msr);
  if (off < 0) return FAULT_GP0;
  msrOut[0] = ctx.views.lo(off);
  msrOut[1] = ctx.views.hi(off);
  return 0;
}

/** A PAT value is valid when every byte is a memory type that exists (0, 1, 4, 5, 6, 7). */
function validPat(lo: number, hi: number): boolean {
  for (let i = 0; i < 8; i++) {
    const t = ((i < 4 ? lo : hi) >>> ((i & 3) * 8)) & 0xff;
    if (t === 2 || t === 3 || t > 7) return false;
  }
  return true;
}

/** WRMSR: 0, or #GP(0) for an unknown MSR or a bad value. */
export function wrmsr(ctx: SystemContext, msr: number, lo: number, hi: number, icount: number): number {
  const v = ctx.views;
  msr >>>= 0;
  lo >>>= 0;
  hi >>>= 0;
  switch (msr) {
    case MSR_TSC: {
      // Store value - count as the offset (64-bit subtraction on halves).
      const cLo = icount >>> 0;
      const cHi = Math.floor(icount / 4294967296) >>> 0;
      const dLo = lo - cLo;
      v.set64(OFF_MSR_TSC_OFFSET, dLo >>> 0, (hi - cHi - (dLo < 0 ? 1 : 0)) >>> 0);
      return 0;
    }
    case MSR_MISC_ENABLE:
      ctx.msrMiscEnable = lo;
      return 0;
    case MSR_EFER:
      return writeEfer(ctx, lo, hi);
    case MSR_PAT:
      if (!validPat(lo, hi)) return FAULT_GP0;
      break;
    case MSR_APIC_BASE:
      // Bits 11 (enable) and 12..39 (base) are writable; bit 8 (BSP) is read-only; others reserved.
      if ((lo & 0x6ff) !== 0 || (hi & ~0xff) !== 0) return FAULT_GP0;
      lo = (lo & ~0x100) | (v.lo(OFF_MSR_APIC_BASE) & 0x100);
      break;
    case MSR_SFMASK:
    case MSR_TSC_AUX:
    case MSR_SYSENTER_CS:
      if (hi !== 0) return FAULT_GP0;
      break;
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
      if (!canonicalHi(lo, hi)) return FAULT_GP0;
      break;
    case MSR_STAR:
      break;
    default:
      return FAULT_GP0;
  }
  const off = slotOf(msr);
  v.set64(off, lo, hi);
  return 0;
}
