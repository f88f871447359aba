/**
 * Hardware task switching with 32-bit TSSs (SDM Vol. 3 §7.3): JMP or CALL to a TSS descriptor or a
 * task gate, an interrupt or exception through a task gate, and IRET with NT set. Legacy protected
 * mode only (IA-32e mode has no task switching: callers raise #GP there). 16-bit TSSs stop the run
 * as unsupported.
 *
 * Order, as in the SDM: check the new TSS descriptor (present, limit >= 0x67, available or, for
 * IRET, busy), save the outgoing state into the current TSS (EIP = OFF_RIP, which the caller set
 * to the return address, EFLAGS, the eight GPRs, the six selectors), update busy bits and NT/the
 * back link by reason, load TR, set CR0.TS, then load the incoming state: CR3 (with paging on),
 * EFLAGS, EIP, GPRs, LDTR and the segment registers with their checks. Faults before the switch
 * commits leave the old task intact; faults while loading the new task's segments are raised in
 * the new task's context (with the #TS(selector) codes of SDM Table 7-1), as on hardware.
 */
import {
  ATTR_P, ATTR_S, CR0_PG, CR0_TS, FLAG_NT, FLAG_VM, OFF_CPL, OFF_CR0, OFF_CR3, OFF_RIP, SEG_CS, SEG_DS, SEG_ES,
  SEG_FS, SEG_GS, SEG_LDTR, SEG_SS, SEG_TR, gprOffset, segOffset, SEG_ATTR, SEG_LIMIT, SEG_BASE,
} from '../cpu/state.js';
import { VEC_GP, VEC_NP, VEC_SS, VEC_TS, faultVector, faultWithCode } from '../cpu/fault.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import type { SystemContext } from './context.js';
import { updateMode } from './mode.js';
import { requestCheck } from './debug.js';
import {
  SYS_LDT, SYS_TSS16_AVAIL, SYS_TSS16_BUSY, SYS_TSS32_AVAIL, SYS_TSS32_BUSY, TYPE_CODE, TYPE_EC, TYPE_RW,
  attrDpl, desc, descAttr, descBase, descLimit, readDescriptor, segSelector, selError, setSegment,
  setNullSegment, takeMmuFault,
} from './segments.js';

export const TASK_JMP = 0;
export const TASK_CALL = 1;
export const TASK_INT = 2;
export const TASK_IRET = 3;

/** Returned for a 16-bit TSS (ctx.stopReason says so). */
export const TASK_UNSUPPORTED = -1;

const ts = (code: number): number => faultWithCode(VEC_TS, code);
const TSS_SEG_ORDER = [SEG_ES, SEG_CS, SEG_SS, SEG_DS, SEG_FS, SEG_GS];

/**
 * Switches to the task whose TSS selector is `sel` (already taken from a task gate, if any).
 * `errorCode` >= 0 is pushed on the new task's stack (exceptions through a task gate).
 * Returns 0, a fault value or TASK_UNSUPPORTED.
 */
export function taskSwitch(ctx: SystemContext, sel: number, reason: number, errorCode: number, ext: number): number {
  const v = ctx.views;
  const mmu = ctx.mmu;
  sel &= 0xffff;
  // The new TSS descriptor: in the GDT, a TSS of the right busy state, present, big enough.
  if ((sel & 4) !== 0) return faultWithCode(reason === TASK_IRET ? VEC_TS : VEC_GP, selError(sel) | ext);
  let f = readDescriptor(ctx, sel, ext, false);
  if (f !== 0) return reason === TASK_IRET && faultVector(f) === VEC_GP ? ts(selError(sel) | ext) : f;
  const nLo = desc.lo;
  const nHi = desc.hi;
  const nAddr = desc.addr;
  const nAttr = descAttr(nHi);
  const nType = nAttr & 0xf;
  if ((nAttr & ATTR_S) !== 0) return faultWithCode(reason === TASK_IRET ? VEC_TS : VEC_GP, selError(sel) | ext);
  if (nType === SYS_TSS16_AVAIL || nType === SYS_TSS16_BUSY) {
    ctx.stopReason = 'task switch to a 16-bit TSS (not supported)';
    return TASK_UNSUPPORTED;
  }
  const wantType = reason === TASK_IRET ? SYS_TSS32_BUSY : SYS_TSS32_AVAIL;
  if (nType !== wantType) return faultWithCode(reason === TASK_IRET ? VEC_TS : VEC_GP, selError(sel) | ext);
  if ((nAttr & ATTR_P) === 0) return faultWithCode(VEC_NP, selError(sel) | ext);
  const nLimit = descLimit(nLo, nHi);
  if (nLimit < 0x67) return ts(selError(sel) | ext);
  const nBase = descBase(nLo, nHi);

  // The current TSS.
  const oSel = segSelector(v, SEG_TR);
  const trOff = segOffset(SEG_TR);
  const oBase = v.u32[(trOff + SEG_BASE) >>> 2];
  if (v.u32[(trOff + SEG_LIMIT) >>> 2] < 0x5f || (v.u32[(trOff + SEG_ATTR) >>> 2] & 8) === 0) {
    return ts(selError(oSel) | ext);
  }
  // Read the incoming state first (a fault here leaves the old task untouched).
  const rd = (o: number): number => mmu.read32((nBase + o) >>> 0, false);
  const nCr3 = rd(0x1c);
  const nEip = rd(0x20);
  const nFlags = rd(0x24);
  for (let r = 0; r < 8; r++) gprIn[r] = rd(0x28 + r * 4);
  for (let i = 0; i < 6; i++) segIn[i] = rd(0x48 + i * 4) & 0xffff;
  const nLdt = rd(0x60) & 0xffff;
  f = takeMmuFault(ctx);
  if (f !== 0) return f;

  // Save the outgoing state (EIP = the return address the caller left in OFF_RIP).
  let oFlags = getFlags(v.i32);
  if (reason === TASK_IRET) oFlags &= ~FLAG_NT;
  const wr = (o: number, x: number): void => mmu.write32((oBase + o) >>> 0, x >>> 0, false);
  wr(0x20, v.lo(OFF_RIP));
  wr(0x24, oFlags);
  for (let r = 0; r < 8; r++) wr(0x28 + r * 4, v.lo(gprOffset(r)));
  for (let i = 0; i < 6; i++) wr(0x48 + i * 4, segSelector(v, TSS_SEG_ORDER[i]));
  f = takeMmuFault(ctx);
  if (f !== 0) return f;

  // Busy bits, back link and NT.
  if (reason === TASK_JMP || reason === TASK_IRET) {
    f = readDescriptor(ctx, oSel, ext, false);
    if (f !== 0) return f;
    mmu.write8(desc.addr + 5, (desc.hi >>> 8) & ~2 & 0xff, false);
  }
  let flagsIn = nFlags | 2;
  if (reason === TASK_CALL || reason === TASK_INT) {
    flagsIn |= FLAG_NT;
    mmu.write16(nBase >>> 0, oSel, false);
  }
  if (reason !== TASK_IRET) mmu.write8(nAddr + 5, ((nHi >>> 8) | 2) & 0xff, false);
  f = takeMmuFault(ctx);
  if (f !== 0) return f;

  // Commit: TR, CR0.TS, CR3, registers. From here faults belong to the new task.
  setSegment(v, SEG_TR, sel, nAttr | 2, nLimit, nBase, 0);
  v.u32[OFF_CR0 >>> 2] |= CR0_TS;
  if ((v.u32[OFF_CR0 >>> 2] & CR0_PG) !== 0) {
    v.set64(OFF_CR3, nCr3, 0);
    ctx.mmu.flushAll();
  }
  setFlags(v.i32, flagsIn);
  requestCheck(v); // the new EFLAGS may turn on alignment checking (debug.ts)
  v.set64(OFF_RIP, nEip, 0);
  for (let r = 0; r < 8; r++) v.set64(gprOffset(r), gprIn[r], 0);
  // Selectors first (so a fault below shows the new task's selectors), descriptors after.
  for (let i = 0; i < 6; i++) setNullSegment(v, TSS_SEG_ORDER[i], segIn[i]);
  setNullSegment(v, SEG_LDTR, nLdt);
  const vm86 = (flagsIn & FLAG_VM) !== 0;
  v.u32[OFF_CPL >>> 2] = vm86 ? 3 : segIn[1] & 3;
  f = loadTaskSegments(ctx, nLdt, vm86, ext);
  updateMode(ctx);
  if (f === 0 && errorCode >= 0) f = pushTaskError(ctx, errorCode);
  return f;
}

const gprIn = new Uint32Array(8);
const segIn = new Uint32Array(6);

/** LDTR, then CS, SS, DS, ES, FS, GS of the new task with the checks of SDM Table 7-1. */
function loadTaskSegments(ctx: SystemContext, ldt: number, vm86: boolean, ext: number): number {
  const v = ctx.views;
  if ((ldt & 0xfffc) !== 0) {
    if ((ldt & 4) !== 0) return ts(selError(ldt) | ext);
    const f = readDescriptor(ctx, ldt, ext, false);
    if (f !== 0) return ts(selError(ldt) | ext);
    const a = descAttr(desc.hi);
    if ((a & ATTR_S) !== 0 || (a & 0xf) !== SYS_LDT) return ts(selError(ldt) | ext);
    if ((a & ATTR_P) === 0) return ts(selError(ldt) | ext);
    setSegment(v, SEG_LDTR, ldt, a, descLimit(desc.lo, desc.hi), descBase(desc.lo, desc.hi), 0);
  }
  if (vm86) {
    for (let i = 0; i < 6; i++) {
      const s = TSS_SEG_ORDER[i];
      setSegment(v, s, segIn[i], s === SEG_CS ? 0xfb : 0xf3, 0xffff, segIn[i] << 4, 0);
    }
    return 0;
  }
  // CS: a present code segment; its RPL is the new CPL.
  const cs = segIn[1];
  const cpl = cs & 3;
  if ((cs & 0xfffc) === 0) return ts(selError(cs) | ext);
  let f = readDescriptor(ctx, cs, ext, false);
  if (f !== 0) return ts(selError(cs) | ext);
  let a = descAttr(desc.hi);
  if ((a & ATTR_S) === 0 || (a & TYPE_CODE) === 0) return ts(selError(cs) | ext);
  if ((a & TYPE_EC) !== 0 ? attrDpl(a) > cpl : attrDpl(a) !== cpl) return ts(selError(cs) | ext);
  if ((a & ATTR_P) === 0) return faultWithCode(VEC_NP, selError(cs) | ext);
  setSegment(v, SEG_CS, cs, a, descLimit(desc.lo, desc.hi), descBase(desc.lo, desc.hi), 0);
  // SS: writable data at DPL = RPL = CPL.
  const ss = segIn[2];
  if ((ss & 0xfffc) === 0) return ts(selError(ss) | ext);
  f = readDescriptor(ctx, ss, ext, false);
  if (f !== 0) return ts(selError(ss) | ext);
  a = descAttr(desc.hi);
  if ((a & ATTR_S) === 0 || (a & TYPE_CODE) !== 0 || (a & TYPE_RW) === 0 || attrDpl(a) !== cpl || (ss & 3) !== cpl) {
    return ts(selError(ss) | ext);
  }
  if ((a & ATTR_P) === 0) return faultWithCode(VEC_SS, selError(ss) | ext);
  setSegment(v, SEG_SS, ss, a, descLimit(desc.lo, desc.hi), descBase(desc.lo, desc.hi), 0);
  // DS, ES, FS, GS: null allowed; data or readable code, accessible at CPL.
  for (const i of [0, 3, 4, 5]) {
    const sel = segIn[i];
    const s = TSS_SEG_ORDER[i];
    if ((sel & 0xfffc) === 0) continue;
    f = readDescriptor(ctx, sel, ext, false);
    if (f !== 0) return ts(selError(sel) | ext);
    a = descAttr(desc.hi);
    if ((a & ATTR_S) === 0 || ((a & TYPE_CODE) !== 0 && (a & TYPE_RW) === 0)) return ts(selError(sel) | ext);
    if (((a & TYPE_CODE) === 0 || (a & TYPE_EC) === 0) && (attrDpl(a) < cpl || attrDpl(a) < (sel & 3))) {
      return ts(selError(sel) | ext);
    }
    if ((a & ATTR_P) === 0) return faultWithCode(VEC_NP, selError(sel) | ext);
    setSegment(v, s, sel, a, descLimit(desc.lo, desc.hi), descBase(desc.lo, desc.hi), 0);
  }
  return 0;
}

/** Pushes an exception's error code on the new task's stack (32-bit TSS: a dword). */
function pushTaskError(ctx: SystemContext, code: number): number {
  const v = ctx.views;
  const ssOff = segOffset(SEG_SS);
  const big = (v.u32[(ssOff + SEG_ATTR) >>> 2] & (1 << 14)) !== 0;
  const rspOff = gprOffset(4);
  const sp = big ? (v.lo(rspOff) - 4) >>> 0 : (v.lo(rspOff) - 4) & 0xffff;
  ctx.mmu.write32((v.u32[(ssOff + SEG_BASE) >>> 2] + sp) >>> 0, code, false);
  const f = takeMmuFault(ctx);
  if (f !== 0) return f;
  if (big) v.set64(rspOff, sp, 0);
  else v.u16[rspOff >>> 1] = sp;
  return 0;
}

