/**
 * Segment registers: reading descriptors from the GDT/LDT and loading the segment caches with the
 * checks of the SDM (Vol. 2 MOV/POP/LDS/LLDT/LTR pages, Vol. 3 ch. 3 and 5).
 *
 * A descriptor is read as two dwords (lo, hi); a 64-bit-mode system descriptor (LDT, TSS, call
 * gate) has a third and fourth dword. The cache (cpu/state.ts) keeps the selector, the attributes =
 * descriptor bits 40..55 shifted down by 40 (bits 0..3 type, 4 S, 5..6 DPL, 7 P, 12 AVL, 13 L,
 * 14 D/B, 15 G; bits 8..11 zero), the limit scaled by G, and the 64-bit base. A null or unusable
 * segment has attributes 0 (P clear).
 *
 * Descriptor-table reads are supervisor accesses through the MMU whatever the CPL. Every function
 * returns 0 or a fault value (cpu/fault.ts); a fault from the MMU is taken out of `mmu.fault`
 * (cleared) and returned. Selector error codes carry the selector's index and TI bits (RPL bits
 * cleared); `ext` (0 or 1) is the EXT bit for loads made while delivering an external event.
 * In real mode and VM86 a load sets selector and base = selector << 4; real mode keeps the
 * cached limit and attributes (so "unreal mode" works as on hardware), VM86 forces a 64 KiB
 * DPL-3 segment.
 */
import {
  ATTR_DB, ATTR_G, ATTR_L, ATTR_P, ATTR_S, EFER_LMA, MODE_LONG64, MODE_REAL, MODE_VM86, OFF_CPL, OFF_EFER,
  OFF_GDTR_BASE, OFF_GDTR_LIMIT, OFF_MODE, SEG_ATTR, SEG_BASE, SEG_LDTR, SEG_LIMIT,
  SEG_SELECTOR, SEG_SS, SEG_TR, segOffset, type StateViews,
} from '../cpu/state.js';
import { VEC_GP, VEC_NP, VEC_SS, faultWithCode } from '../cpu/fault.js';
import { canonical } from '../mmu/mmu.js';
import type { SystemContext } from './context.js';

// ---- descriptor fields ---------------------------------------------------------------------

/** Type field values of system descriptors (S = 0). */
export const SYS_TSS16_AVAIL = 1;
export const SYS_LDT = 2;
export const SYS_TSS16_BUSY = 3;
export const SYS_CALLGATE16 = 4;
export const SYS_TASKGATE = 5;
export const SYS_INTGATE16 = 6;
export const SYS_TRAPGATE16 = 7;
export const SYS_TSS32_AVAIL = 9;
export const SYS_TSS32_BUSY = 11;
export const SYS_CALLGATE32 = 12;
export const SYS_INTGATE32 = 14;
export const SYS_TRAPGATE32 = 15;

/** Code/data type bits (S = 1). */
export const TYPE_ACCESSED = 1;
export const TYPE_RW = 2; // data: writable; code: readable
export const TYPE_EC = 4; // data: expand-down; code: conforming
export const TYPE_CODE = 8;

export const descAttr = (hi: number): number => (hi >>> 8) & 0xf0ff;
export const descBase = (lo: number, hi: number): number => ((lo >>> 16) | ((hi & 0xff) << 16) | (hi & 0xff000000)) >>> 0;
export function descLimit(lo: number, hi: number): number {
  const raw = (lo & 0xffff) | (hi & 0xf0000);
  return (hi & (1 << 23)) !== 0 ? ((raw << 12) | 0xfff) >>> 0 : raw;
}
export const attrDpl = (attr: number): number => (attr >>> 5) & 3;
export const attrType = (attr: number): number => attr & 0xf;
export const selError = (sel: number): number => sel & 0xfffc;

/** The descriptor read by the last successful `readDescriptor` (one scratch object, no allocation). */
export class DescriptorScratch {
  lo = 0;
  hi = 0;
  /** Dwords 2 and 3 of a 16-byte system descriptor in 64-bit mode (base 63:32 and the zero field). */
  hi2 = 0;
  hi3 = 0;
  /** Linear address of the descriptor (for the accessed and busy bits). */
  addr = 0;
}
export const desc = new DescriptorScratch();

// ---- helpers over the CPU block ---------------------------------------------------------------

/** Linear address base + off of a descriptor table: 32-bit wrap outside IA-32e mode, canonical inside. */
export function tableLinear(v: StateViews, baseOff: number, off: number): number {
  if ((v.u32[OFF_EFER >>> 2] & EFER_LMA) !== 0) return canonical(v.lo(baseOff), v.hi(baseOff)) + off;
  return (v.lo(baseOff) + off) >>> 0;
}

/** Writes one segment cache. */
export function setSegment(
  v: StateViews, seg: number, sel: number, attr: number, limit: number, baseLo: number, baseHi: number,
): void {
  const o = segOffset(seg) >>> 2;
  const u32 = v.u32;
  u32[o] = sel & 0xffff;
  u32[o + (SEG_ATTR >>> 2)] = attr;
  u32[o + (SEG_LIMIT >>> 2)] = limit;
  u32[o + (SEG_BASE >>> 2)] = baseLo;
  u32[o + (SEG_BASE >>> 2) + 1] = baseHi;
}

/** Loads a cache from the descriptor in `desc` (base 32-bit; the 64-bit forms set the high half). */
export function setSegmentFromDesc(v: StateViews, seg: number, sel: number): void {
  setSegment(v, seg, sel, descAttr(desc.hi), descLimit(desc.lo, desc.hi), descBase(desc.lo, desc.hi), 0);
}

export const segSelector = (v: StateViews, seg: number): number => v.u32[(segOffset(seg) + SEG_SELECTOR) >>> 2];
export const segAttr = (v: StateViews, seg: number): number => v.u32[(segOffset(seg) + SEG_ATTR) >>> 2];
export const segLimit = (v: StateViews, seg: number): number => v.u32[(segOffset(seg) + SEG_LIMIT) >>> 2];
export const segBaseLo = (v: StateViews, seg: number): number => v.u32[(segOffset(seg) + SEG_BASE) >>> 2];
export const segBaseHi = (v: StateViews, seg: number): number => v.u32[((segOffset(seg) + SEG_BASE) >>> 2) + 1];

/** Takes the MMU's pending fault (and clears it), or 0. */
export function takeMmuFault(ctx: SystemContext): number {
  const f = ctx.mmu.fault;
  ctx.mmu.fault = 0;
  return f;
}

const gp = (code: number): number => faultWithCode(VEC_GP, code);
const np = (code: number): number => faultWithCode(VEC_NP, code);
const ss = (code: number): number => faultWithCode(VEC_SS, code);

/**
 * Reads the 8-byte descriptor of a (non-null) selector from the GDT or the LDT into `desc`.
 * #GP(selector | ext) when it lies beyond the table limit or the LDT is unusable.
 * `wide` reads 16 bytes (64-bit-mode system descriptors) and checks the limit for all of them.
 */
export function readDescriptor(ctx: SystemContext, sel: number, ext: number, wide: boolean): number {
  const v = ctx.views;
  const index = sel & 0xfff8;
  const last = index + (wide ? 15 : 7);
  let baseOff: number;
  let limit: number;
  if ((sel & 4) !== 0) {
    const ldtr = segOffset(SEG_LDTR);
    if ((v.u32[(ldtr + SEG_ATTR) >>> 2] & ATTR_P) === 0) return gp(selError(sel) | ext);
    baseOff = ldtr + SEG_BASE;
    limit = v.u32[(ldtr + SEG_LIMIT) >>> 2];
  } else {
    baseOff = OFF_GDTR_BASE;
    limit = v.u32[OFF_GDTR_LIMIT >>> 2];
  }
  if (last > limit) return gp(selError(sel) | ext);
  const addr = tableLinear(v, baseOff, index);
  const mmu = ctx.mmu;
  desc.addr = addr;
  desc.lo = mmu.read32(addr, false);
  desc.hi = mmu.read32(addr + 4, false);
  if (wide) {
    desc.hi2 = mmu.read32(addr + 8, false);
    desc.hi3 = mmu.read32(addr + 12, false);
  } else {
    desc.hi2 = 0;
    desc.hi3 = 0;
  }
  return takeMmuFault(ctx);
}

/** Sets the accessed bit of the descriptor in `desc` in guest memory if it is clear. */
export function markAccessed(ctx: SystemContext): number {
  if ((desc.hi & (TYPE_ACCESSED << 8)) !== 0) return 0;
  desc.hi |= TYPE_ACCESSED << 8;
  ctx.mmu.write8(desc.addr + 5, (desc.hi >>> 8) & 0xff, false);
  return takeMmuFault(ctx);
}

/** Makes a data-segment register null/unusable (selector kept, P clear, base 0 as on Intel). */
export function setNullSegment(v: StateViews, seg: number, sel: number): void {
  setSegment(v, seg, sel, 0, 0, 0, 0);
}

// ---- data and stack segments ---------------------------------------------------------------

/** Real mode / VM86 load: base = selector << 4. */
function loadRealMode(v: StateViews, seg: number, sel: number, vm86: boolean): void {
  const o = segOffset(seg) >>> 2;
  const u32 = v.u32;
  u32[o] = sel & 0xffff;
  u32[o + (SEG_BASE >>> 2)] = (sel & 0xffff) << 4;
  u32[o + (SEG_BASE >>> 2) + 1] = 0;
  if (vm86) {
    u32[o + (SEG_LIMIT >>> 2)] = 0xffff;
    u32[o + (SEG_ATTR >>> 2)] = seg === 1 ? 0xfb : 0xf3; // P, DPL 3, S, code/data accessed
  }
}

/**
 * MOV/POP to DS, ES, FS, GS, SS and the segment half of LDS/LES/LFS/LGS/LSS. (CS is loaded only
 * by far transfers: see far.ts.) Returns 0 or the fault the SDM specifies.
 */
export function loadSegment(ctx: SystemContext, seg: number, sel: number): number {
  const v = ctx.views;
  sel &= 0xffff;
  const m = v.u32[OFF_MODE >>> 2];
  if (m === MODE_REAL || m === MODE_VM86) {
    loadRealMode(v, seg, sel, m === MODE_VM86);
    return 0;
  }
  return seg === SEG_SS ? loadStackSegment(ctx, sel, 0) : loadDataSegment(ctx, seg, sel);
}

/** Protected-mode load of DS/ES/FS/GS. */
export function loadDataSegment(ctx: SystemContext, seg: number, sel: number): number {
  const v = ctx.views;
  if ((sel & 0xfffc) === 0) {
    setNullSegment(v, seg, sel);
    return 0;
  }
  const f = readDescriptor(ctx, sel, 0, false);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  const type = attrType(attr);
  if ((attr & ATTR_S) === 0) return gp(selError(sel));
  if ((type & TYPE_CODE) !== 0 && (type & TYPE_RW) === 0) return gp(selError(sel)); // execute-only
  if ((type & TYPE_CODE) === 0 || (type & TYPE_EC) === 0) {
    // Data and non-conforming code: both RPL and CPL must be numerically <= DPL.
    const dpl = attrDpl(attr);
    if ((sel & 3) > dpl || v.u32[OFF_CPL >>> 2] > dpl) return gp(selError(sel));
  }
  if ((attr & ATTR_P) === 0) return np(selError(sel));
  const fa = markAccessed(ctx);
  if (fa !== 0) return fa;
  setSegmentFromDesc(v, seg, sel);
  return 0;
}

/** Protected-mode load of SS at the current CPL (`ext` for loads during event delivery). */
export function loadStackSegment(ctx: SystemContext, sel: number, ext: number): number {
  const v = ctx.views;
  const cpl = v.u32[OFF_CPL >>> 2];
  if ((sel & 0xfffc) === 0) {
    // 64-bit mode allows a null SS below CPL 3 when RPL = CPL.
    if (v.u32[OFF_MODE >>> 2] === MODE_LONG64 && cpl !== 3 && (sel & 3) === cpl) {
      setNullSegment(v, SEG_SS, sel);
      return 0;
    }
    return gp(ext);
  }
  const f = readDescriptor(ctx, sel, ext, false);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  const type = attrType(attr);
  if ((sel & 3) !== cpl || (attr & ATTR_S) === 0 || (type & TYPE_CODE) !== 0 || (type & TYPE_RW) === 0 ||
      attrDpl(attr) !== cpl) {
    return gp(selError(sel) | ext);
  }
  if ((attr & ATTR_P) === 0) return ss(selError(sel) | ext);
  const fa = markAccessed(ctx);
  if (fa !== 0) return fa;
  setSegmentFromDesc(v, SEG_SS, sel);
  return 0;
}

// ---- LDTR and TR -----------------------------------------------------------------------------

/** LLDT: a null selector makes the LDT unusable. */
export function loadLdtr(ctx: SystemContext, sel: number): number {
  const v = ctx.views;
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) {
    setSegment(v, SEG_LDTR, sel, 0, 0, 0, 0);
    return 0;
  }
  if ((sel & 4) !== 0) return gp(selError(sel));
  const long = (v.u32[OFF_EFER >>> 2] & EFER_LMA) !== 0;
  const f = readDescriptor(ctx, sel, 0, long);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  if ((attr & ATTR_S) !== 0 || attrType(attr) !== SYS_LDT) return gp(selError(sel));
  if (long && ((desc.hi3 >>> 8) & 0x1f) !== 0) return gp(selError(sel));
  if ((attr & ATTR_P) === 0) return np(selError(sel));
  if (long && !canonicalHi(descBase(desc.lo, desc.hi), desc.hi2)) return gp(selError(sel));
  setSegment(v, SEG_LDTR, sel, attr, descLimit(desc.lo, desc.hi), descBase(desc.lo, desc.hi), long ? desc.hi2 : 0);
  return 0;
}

/** LTR: the descriptor must be an available TSS; it is marked busy in memory. */
export function loadTr(ctx: SystemContext, sel: number): number {
  const v = ctx.views;
  sel &= 0xffff;
  if ((sel & 0xfffc) === 0) return gp(0);
  if ((sel & 4) !== 0) return gp(selError(sel));
  const long = (v.u32[OFF_EFER >>> 2] & EFER_LMA) !== 0;
  const f = readDescriptor(ctx, sel, 0, long);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  const type = attrType(attr);
  // In IA-32e mode only the 64-bit TSS type (9) is valid; outside it a 16-bit TSS is accepted too.
  if ((attr & ATTR_S) !== 0 || (type !== SYS_TSS32_AVAIL && (long || type !== SYS_TSS16_AVAIL))) {
    return gp(selError(sel));
  }
  if (long && ((desc.hi3 >>> 8) & 0x1f) !== 0) return gp(selError(sel));
  if ((attr & ATTR_P) === 0) return np(selError(sel));
  if (long && !canonicalHi(descBase(desc.lo, desc.hi), desc.hi2)) return gp(selError(sel));
  desc.hi |= 2 << 8; // busy
  ctx.mmu.write8(desc.addr + 5, (desc.hi >>> 8) & 0xff, false);
  const fw = takeMmuFault(ctx);
  if (fw !== 0) return fw;
  setSegment(v, SEG_TR, sel, attr | 2, descLimit(desc.lo, desc.hi), descBase(desc.lo, desc.hi), long ? desc.hi2 : 0);
  return 0;
}

/** True when the 64-bit value (lo, hi) is a canonical 48-bit address. */
export function canonicalHi(lo: number, hi: number): boolean {
  void lo;
  const t = (hi | 0) >> 15;
  return t === 0 || t === -1;
}

/** Code-segment attributes for flat 64-bit / 32-bit code at a DPL (SYSCALL, SYSENTER and friends). */
export const flatCodeAttr = (dpl: number, long: boolean): number =>
  ATTR_P | ATTR_S | TYPE_CODE | TYPE_RW | TYPE_ACCESSED | (dpl << 5) | ATTR_G | (long ? ATTR_L : ATTR_DB);
/** Flat writable data (stack) attributes at a DPL. */
export const flatDataAttr = (dpl: number): number =>
  ATTR_P | ATTR_S | TYPE_RW | TYPE_ACCESSED | (dpl << 5) | ATTR_G | ATTR_DB;

