/**
 * The fast system-call instructions (SDM Vol. 2): SYSCALL/SYSRET (64-bit mode only, Intel rules:
 * #UD outside 64-bit mode or with EFER.SCE clear; RFLAGS masked with IA32_FMASK only; SYSRET
 * loads RFLAGS from R11 & 0x3C7FD7 | 2) and SYSENTER/SYSEXIT (IA32_SYSENTER_CS/ESP/EIP). They load
 * CS and SS with fixed flat descriptors derived from the MSRs, not from the GDT, as the hardware
 * does. Each returns 0 or a fault; OFF_RIP (the next instruction's address on entry) is replaced.
 */
import {
  EFER_LMA, EFER_SCE, FLAG_FIXED1, FLAG_IF, FLAG_RF, FLAG_VM, CR0_PE, MODE_LONG64, OFF_CPL, OFF_CR0, OFF_EFER,
  OFF_MODE, OFF_MSR_LSTAR, OFF_MSR_SFMASK, OFF_MSR_STAR, OFF_MSR_SYSENTER_CS, OFF_MSR_SYSENTER_EIP,
  OFF_MSR_SYSENTER_ESP, OFF_RIP, REG_RCX, REG_RDX, REG_RSP, SEG_CS, SEG_SS, gprOffset,
} from '../cpu/state.js';
import { FAULT_GP0, FAULT_UD } from '../cpu/fault.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import type { SystemContext } from './context.js';
import { updateMode } from './mode.js';
import { canonicalHi, flatCodeAttr, flatDataAttr, setSegment } from './segments.js';

const R11 = 11;

function in64(ctx: SystemContext): boolean {
  const u32 = ctx.views.u32;
  return u32[OFF_MODE >>> 2] === MODE_LONG64 && (u32[OFF_EFER >>> 2] & EFER_LMA) !== 0;
}

export function syscall(ctx: SystemContext): number {
  const v = ctx.views;
  const u32 = v.u32;
  if (!in64(ctx) || (u32[OFF_EFER >>> 2] & EFER_SCE) === 0) return FAULT_UD;
  const flags = getFlags(v.i32);
  v.set64(gprOffset(REG_RCX), v.lo(OFF_RIP), v.hi(OFF_RIP));
  v.set64(gprOffset(R11), flags, 0);
  setFlags(v.i32, (flags & ~v.lo(OFF_MSR_SFMASK) & ~FLAG_RF) | FLAG_FIXED1);
  const sel = (v.hi(OFF_MSR_STAR) & 0xffff) & 0xfffc;
  setSegment(v, SEG_CS, sel, flatCodeAttr(0, true), 0xffffffff, 0, 0);
  setSegment(v, SEG_SS, (sel + 8) & 0xffff, flatDataAttr(0), 0xffffffff, 0, 0);
  u32[OFF_CPL >>> 2] = 0;
  v.set64(OFF_RIP, v.lo(OFF_MSR_LSTAR), v.hi(OFF_MSR_LSTAR));
  updateMode(ctx);
  return 0;
}

/** SYSRET with operand size 8 (to 64-bit code) or 4 (to compatibility mode). */
export function sysret(ctx: SystemContext, size: number): number {
  const v = ctx.views;
  const u32 = v.u32;
  if (!in64(ctx) || (u32[OFF_EFER >>> 2] & EFER_SCE) === 0) return FAULT_UD;
  if (u32[OFF_CPL >>> 2] !== 0) return FAULT_GP0;
  const rcx = gprOffset(REG_RCX);
  if (size === 8 && !canonicalHi(v.lo(rcx), v.hi(rcx))) return FAULT_GP0;
  const base = (v.hi(OFF_MSR_STAR) >>> 16) & 0xffff;
  const r11 = v.lo(gprOffset(R11));
  setFlags(v.i32, (r11 & 0x3c7fd7) | FLAG_FIXED1);
  if (size === 8) {
    setSegment(v, SEG_CS, ((base + 16) | 3) & 0xffff, flatCodeAttr(3, true), 0xffffffff, 0, 0);
    v.set64(OFF_RIP, v.lo(rcx), v.hi(rcx));
  } else {
    setSegment(v, SEG_CS, (base | 3) & 0xffff, flatCodeAttr(3, false), 0xffffffff, 0, 0);
    v.set64(OFF_RIP, v.lo(rcx), 0);
  }
  setSegment(v, SEG_SS, ((base + 8) | 3) & 0xffff, flatDataAttr(3), 0xffffffff, 0, 0);
  u32[OFF_CPL >>> 2] = 3;
  updateMode(ctx);
  return 0;
}

export function sysenter(ctx: SystemContext): number {
  const v = ctx.views;
  const u32 = v.u32;
  const cs = v.lo(OFF_MSR_SYSENTER_CS) & 0xffff;
  if ((u32[OFF_CR0 >>> 2] & CR0_PE) === 0 || (cs & 0xfffc) === 0) return FAULT_GP0;
  const long = (u32[OFF_EFER >>> 2] & EFER_LMA) !== 0;
  setFlags(v.i32, getFlags(v.i32) & ~(FLAG_VM | FLAG_IF | FLAG_RF));
  setSegment(v, SEG_CS, cs & 0xfffc, flatCodeAttr(0, long), 0xffffffff, 0, 0);
  setSegment(v, SEG_SS, ((cs & 0xfffc) + 8) & 0xffff, flatDataAttr(0), 0xffffffff, 0, 0);
  u32[OFF_CPL >>> 2] = 0;
  if (long) {
    v.set64(gprOffset(REG_RSP), v.lo(OFF_MSR_SYSENTER_ESP), v.hi(OFF_MSR_SYSENTER_ESP));
    v.set64(OFF_RIP, v.lo(OFF_MSR_SYSENTER_EIP), v.hi(OFF_MSR_SYSENTER_EIP));
  } else {
    v.set64(gprOffset(REG_RSP), v.lo(OFF_MSR_SYSENTER_ESP), 0);
    v.set64(OFF_RIP, v.lo(OFF_MSR_SYSENTER_EIP), 0);
  }
  updateMode(ctx);
  return 0;
}

/** SYSEXIT with operand size 8 (REX.W: to 64-bit code) or 4. */
export function sysexit(ctx: SystemContext, size: number): number {
  const v = ctx.views;
  const u32 = v.u32;
  const cs = v.lo(OFF_MSR_SYSENTER_CS) & 0xffff;
  if ((u32[OFF_CR0 >>> 2] & CR0_PE) === 0 || (cs & 0xfffc) === 0 || u32[OFF_CPL >>> 2] !== 0) return FAULT_GP0;
  const rcx = gprOffset(REG_RCX);
  const rdx = gprOffset(REG_RDX);
  if (size === 8) {
    if (!canonicalHi(v.lo(rdx), v.hi(rdx)) || !canonicalHi(v.lo(rcx), v.hi(rcx))) return FAULT_GP0;
    setSegment(v, SEG_CS, ((cs + 32) | 3) & 0xffff, flatCodeAttr(3, true), 0xffffffff, 0, 0);
    setSegment(v, SEG_SS, ((cs + 40) | 3) & 0xffff, flatDataAttr(3), 0xffffffff, 0, 0);
    v.set64(gprOffset(REG_RSP), v.lo(rcx), v.hi(rcx));
    v.set64(OFF_RIP, v.lo(rdx), v.hi(rdx));
  } else {
    setSegment(v, SEG_CS, ((cs + 16) | 3) & 0xffff, flatCodeAttr(3, false), 0xffffffff, 0, 0);
    setSegment(v, SEG_SS, ((cs + 24) | 3) & 0xffff, flatDataAttr(3), 0xffffffff, 0, 0);
    v.set64(gprOffset(REG_RSP), v.lo(rcx), 0);
    v.set64(OFF_RIP, v.lo(rdx), 0);
  }
  u32[OFF_CPL >>> 2] = 3;
  updateMode(ctx);
  return 0;
}

