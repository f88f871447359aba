/**
 * Far control transfers that load CS: JMP far, CALL far (direct, and through call gates to the
 * same or an inner privilege level), RET far (to the same or an outer level). SDM Vol. 2 JMP,
 * CALL and RET pages; Vol. 3 §5.8.
 *
 * Contract: the caller passes the target selector and offset (two halves), the operand size of
 * the instruction (2, 4 or 8) and, for CALL, the return offset; the functions check everything,
 * push or pop through a StackFrame, and commit CS, CPL, (SS, rSP) and OFF_RIP only when nothing
 * faulted. A TSS or task-gate target switches tasks (task.ts; for JMP, OFF_RIP must already hold
 * the next instruction's address, which the task saves). They return 0, a fault value, or
 * FAR_UNSUPPORTED (16-bit TSS; ctx.stopReason says so). OFF_MODE is recomputed after every
 * successful transfer.
 */
import {
  ATTR_DB, ATTR_L, ATTR_P, ATTR_S, EFER_LMA, MODE_LONG64, MODE_REAL, MODE_VM86, OFF_CPL, OFF_EFER, OFF_MODE,
  OFF_RIP, REG_RSP, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEG_TR, gprOffset, segOffset, SEG_BASE, SEG_ATTR, SEG_SELECTOR,
} from '../cpu/state.js';
import { FAULT_GP0, VEC_GP, VEC_NP, VEC_TS, faultWithCode } from '../cpu/fault.js';
import { canonical } from '../mmu/mmu.js';
import type { SystemContext } from './context.js';
import { StackFrame } from './frame.js';
import { checkNewStack, frameOf } from './interrupts.js';
import { updateMode } from './mode.js';
import { TASK_CALL, TASK_JMP, TASK_UNSUPPORTED, taskSwitch } from './task.js';
import {
  SYS_CALLGATE16, SYS_CALLGATE32, SYS_TASKGATE, SYS_TSS16_AVAIL, SYS_TSS32_AVAIL, TYPE_CODE, TYPE_EC, TYPE_RW,
  attrDpl, desc, descAttr, descBase, descLimit, markAccessed, readDescriptor, segAttr, segBaseHi, segBaseLo,
  segLimit, segSelector, selError, setNullSegment, setSegment, takeMmuFault,
} from './segments.js';

export const FAR_UNSUPPORTED = -1;

const gp = (code: number): number => faultWithCode(VEC_GP, code);
const np = (code: number): number => faultWithCode(VEC_NP, code);
const TWO32 = 4294967296;

const isLong = (ctx: SystemContext): boolean => (ctx.views.u32[OFF_EFER >>> 2] & EFER_LMA) !== 0;

/** Real mode and VM86: CS = selector, base = selector << 4. */
function loadCsReal(ctx: SystemContext, sel: number): void {
  const v = ctx.views;
  const o = segOffset(SEG_CS) >>> 2;
  v.u32[o] = sel & 0xffff;
  v.u32[o + (SEG_BASE >>> 2)] = (sel & 0xffff) << 4;
  v.u32[o + (SEG_BASE >>> 2) + 1] = 0;
}

/** Masks a target offset to the operand size; outside 64-bit targets it must lie within `limit`. */
function targetOk(offLo: number, offHi: number, size: number, attr: number, limit: number, long: boolean): boolean {
  if (long && (attr & ATTR_L) !== 0) {
    const t = (offHi | 0) >> 15;
    return size !== 8 || t === 0 || t === -1;
  }
  return (size === 2 ? offLo & 0xffff : offLo >>> 0) <= limit;
}

/** Writes RIP for a target of operand size `size` (16-bit wraps, 32-bit zero-extends). */
function setRip(ctx: SystemContext, offLo: number, offHi: number, size: number): void {
  ctx.views.set64(OFF_RIP, size === 2 ? offLo & 0xffff : offLo >>> 0, size === 8 ? offHi : 0);
}

/** Loads CS from the descriptor in `desc` with RPL = cpl (marks it accessed). */
function commitCs(ctx: SystemContext, sel: number, cpl: number): number {
  const f = markAccessed(ctx);
  if (f !== 0) return f;
  setSegment(ctx.views, SEG_CS, (sel & 0xfffc) | cpl, descAttr(desc.hi), descLimit(desc.lo, desc.hi),
    descBase(desc.lo, desc.hi), 0);
  ctx.views.u32[OFF_CPL >>> 2] = cpl;
  return 0;
}

/** Checks of a direct (non-gate) code target for JMP/CALL at privilege `cpl`. */
function checkDirectCode(sel: number, attr: number, cpl: number, long: boolean): number {
  if ((attr & TYPE_EC) !== 0) {
    if (attrDpl(attr) > cpl) return gp(selError(sel));
  } else if ((sel & 3) > cpl || attrDpl(attr) !== cpl) {
    return gp(selError(sel));
  }
  if ((attr & ATTR_P) === 0) return np(selError(sel));
  if (long && (attr & ATTR_L) !== 0 && (attr & ATTR_DB) !== 0) return gp(selError(sel));
  return 0;
}

/**
 * JMP/CALL to a TSS descriptor or a task gate (the 8-byte descriptor of `sel` is in `desc`):
 * DPL >= CPL and >= RPL, present, then a task switch. OFF_RIP must hold the return address.
 */
function farTask(ctx: SystemContext, sel: number, type: number, cpl: number, reason: number): number {
  const dpl = (desc.hi >>> 13) & 3;
  if (dpl < cpl || dpl < (sel & 3)) return gp(selError(sel));
  let target = sel;
  if (type === SYS_TASKGATE) {
    if ((desc.hi & 0x8000) === 0) return np(selError(sel));
    target = desc.lo >>> 16;
  }
  const f = taskSwitch(ctx, target, reason, -1, 0);
  return f === TASK_UNSUPPORTED ? FAR_UNSUPPORTED : f;
}

/** JMP ptr16:16/32 and JMP m16:16/32/64. */
export function jmpFar(ctx: SystemContext, sel: number, offLo: number, offHi: number, size: number): number {
  const v = ctx.views;
  sel &= 0xffff;
  const m = v.u32[OFF_MODE >>> 2];
  if (m === MODE_REAL || m === MODE_VM86) {
    const off = size === 2 ? offLo & 0xffff : offLo >>> 0;
    if (off > segLimit(v, SEG_CS)) return FAULT_GP0;
    loadCsReal(ctx, sel);
    setRip(ctx, offLo, 0, size);
    return 0;
  }
  if ((sel & 0xfffc) === 0) return FAULT_GP0;
  const long = isLong(ctx);
  const cpl = v.u32[OFF_CPL >>> 2];
  let f = readDescriptor(ctx, sel, 0, false);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  if ((attr & ATTR_S) !== 0) {
    if ((attr & TYPE_CODE) === 0) return gp(selError(sel));
    f = checkDirectCode(sel, attr, cpl, long);
    if (f !== 0) return f;
    if (!targetOk(offLo, offHi, size, attr, descLimit(desc.lo, desc.hi), long)) return FAULT_GP0;
    f = commitCs(ctx, sel, cpl);
    if (f !== 0) return f;
    setRip(ctx, offLo, offHi, (attr & ATTR_L) !== 0 && long ? size : Math.min(size, 4));
    updateMode(ctx);
    return 0;
  }
  const type = attr & 0xf;
  if (type === SYS_TASKGATE || type === SYS_TSS16_AVAIL || type === SYS_TSS32_AVAIL) {
    return long ? gp(selError(sel)) : farTask(ctx, sel, type, cpl, TASK_JMP);
  }
  if (type !== SYS_CALLGATE32 && (long || type !== SYS_CALLGATE16)) return gp(selError(sel));
  f = readGate(ctx, sel, cpl, long);
  if (f !== 0) return f;
  const tattr = descAttr(desc.hi);
  if ((tattr & TYPE_EC) !== 0 ? attrDpl(tattr) > cpl : attrDpl(tattr) !== cpl) return gp(selError(gateTarget));
  if ((tattr & ATTR_P) === 0) return np(selError(gateTarget));
  if (!targetOk(gateOffLo, gateOffHi, gateSize, tattr, descLimit(desc.lo, desc.hi), long)) return FAULT_GP0;
  f = commitCs(ctx, gateTarget, cpl);
  if (f !== 0) return f;
  setRip(ctx, gateOffLo, gateOffHi, gateSize);
  updateMode(ctx);
  return 0;
}

// ---- call gates -------------------------------------------------------------------------------

let gateTarget = 0;
let gateOffLo = 0;
let gateOffHi = 0;
let gateSize = 4;
let gateParams = 0;

/**
 * Reads the call gate `sel` (whose 8-byte descriptor is in `desc`), checks its DPL and presence,
 * then reads and checks its target code descriptor into `desc` (type code, DPL <= CPL, 64-bit
 * code for a 64-bit gate). Fills gateTarget, gateOffLo/Hi, gateSize and gateParams.
 */
function readGate(ctx: SystemContext, sel: number, cpl: number, long: boolean): number {
  if (long) {
    const f = readDescriptor(ctx, sel, 0, true);
    if (f !== 0) return f;
    if (((desc.hi3 >>> 8) & 0x1f) !== 0) return gp(selError(sel));
  }
  const lo = desc.lo;
  const hi = desc.hi;
  const gdpl = (hi >>> 13) & 3;
  if (gdpl < cpl || (sel & 3) > gdpl) return gp(selError(sel));
  if ((hi & 0x8000) === 0) return np(selError(sel));
  gateTarget = lo >>> 16;
  const is32 = ((hi >>> 8) & 0xf) === SYS_CALLGATE32;
  gateSize = long ? 8 : is32 ? 4 : 2;
  gateOffLo = is32 ? ((lo & 0xffff) | (hi & 0xffff0000)) >>> 0 : lo & 0xffff;
  gateOffHi = long ? desc.hi2 : 0;
  gateParams = long ? 0 : hi & 0x1f;
  if ((gateTarget & 0xfffc) === 0) return FAULT_GP0;
  const f = readDescriptor(ctx, gateTarget, 0, false);
  if (f !== 0) return f;
  const tattr = descAttr(desc.hi);
  if ((tattr & ATTR_S) === 0 || (tattr & TYPE_CODE) === 0 || attrDpl(tattr) > cpl) return gp(selError(gateTarget));
  if (long && ((tattr & ATTR_L) === 0 || (tattr & ATTR_DB) !== 0)) return gp(selError(gateTarget));
  return 0;
}

/** CALL ptr16:16/32 and CALL m16:16/32/64; (retLo, retHi) is the offset of the next instruction. */
export function callFar(
  ctx: SystemContext, sel: number, offLo: number, offHi: number, size: number, retLo: number, retHi: number,
): number {
  const v = ctx.views;
  sel &= 0xffff;
  const m = v.u32[OFF_MODE >>> 2];
  const cpl = v.u32[OFF_CPL >>> 2];
  const oldCs = segSelector(v, SEG_CS);
  const fr = frameOf(ctx);
  if (m === MODE_REAL || m === MODE_VM86) {
    const off = size === 2 ? offLo & 0xffff : offLo >>> 0;
    if (off > segLimit(v, SEG_CS)) return FAULT_GP0;
    fr.useCurrent(m === MODE_VM86, 0);
    fr.checkLimit = false;
    fr.push(size, oldCs, 0);
    fr.push(size, retLo, 0);
    if (fr.fault !== 0) return fr.fault;
    fr.commitSp(v);
    loadCsReal(ctx, sel);
    setRip(ctx, offLo, 0, size);
    return 0;
  }
  if ((sel & 0xfffc) === 0) return FAULT_GP0;
  const long = isLong(ctx);
  let f = readDescriptor(ctx, sel, 0, false);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  if ((attr & ATTR_S) !== 0) {
    if ((attr & TYPE_CODE) === 0) return gp(selError(sel));
    f = checkDirectCode(sel, attr, cpl, long);
    if (f !== 0) return f;
    if (!targetOk(offLo, offHi, size, attr, descLimit(desc.lo, desc.hi), long)) return FAULT_GP0;
    fr.useCurrent(cpl === 3, 0);
    fr.push(size, oldCs, 0);
    fr.push(size, retLo, retHi);
    if (fr.fault !== 0) return fr.fault;
    f = commitCs(ctx, sel, cpl);
    if (f !== 0) return f;
    fr.commitSp(v);
    setRip(ctx, offLo, offHi, (attr & ATTR_L) !== 0 && long ? size : Math.min(size, 4));
    updateMode(ctx);
    return 0;
  }
  const type = attr & 0xf;
  if (type === SYS_TASKGATE || type === SYS_TSS16_AVAIL || type === SYS_TSS32_AVAIL) {
    if (long) return gp(selError(sel));
    v.set64(OFF_RIP, retLo, retHi);
    return farTask(ctx, sel, type, cpl, TASK_CALL);
  }
  if (type !== SYS_CALLGATE32 && (long || type !== SYS_CALLGATE16)) return gp(selError(sel));
  f = readGate(ctx, sel, cpl, long);
  if (f !== 0) return f;
  const tLo = desc.lo;
  const tHi = desc.hi;
  const tAddr = desc.addr;
  const tattr = descAttr(tHi);
  const tdpl = attrDpl(tattr);
  if ((tattr & ATTR_P) === 0) return np(selError(gateTarget));
  if (!targetOk(gateOffLo, gateOffHi, gateSize, tattr, descLimit(tLo, tHi), long)) return FAULT_GP0;
  const gs = gateSize;
  if ((tattr & TYPE_EC) === 0 && tdpl < cpl) {
    // More privileged: new stack from the TSS; legacy gates copy `gateParams` stack parameters.
    const rspOff = gprOffset(REG_RSP);
    const oldSs = segSelector(v, SEG_SS);
    const oldSpLo = v.lo(rspOff);
    const oldSpHi = v.hi(rspOff);
    let ssSel: number;
    let ssLo = 0;
    let ssHi = 0;
    if (long) {
      const off = 4 + tdpl * 8;
      if (off + 7 > segLimit(v, SEG_TR)) return faultWithCode(VEC_TS, selError(segSelector(v, SEG_TR)));
      const a = canonical(segBaseLo(v, SEG_TR), segBaseHi(v, SEG_TR)) + off;
      const lo = ctx.mmu.read32(a, false);
      const hi = ctx.mmu.read32(a + 4, false);
      f = takeMmuFault(ctx);
      if (f !== 0) return f;
      ssSel = tdpl;
      fr.use(0, canonical(lo, hi), 8, 0, 0, false, false, 0);
    } else {
      f = readTssStack(ctx, tdpl);
      if (f !== 0) return f;
      ssSel = tssSs;
      f = checkNewStack(ctx, ssSel, tdpl, 0);
      if (f !== 0) return f;
      ssLo = desc.lo;
      ssHi = desc.hi;
      const sa = descAttr(ssHi);
      fr.use(descBase(ssLo, ssHi), tssSp, (sa & ATTR_DB) !== 0 ? 4 : 2, descLimit(ssLo, ssHi), sa, true, false,
        selError(ssSel));
    }
    fr.push(gs, oldSs, 0);
    fr.push(gs, oldSpLo, oldSpHi);
    if (gateParams > 0) {
      // Copy the parameters from the caller's stack (read at the caller's privilege).
      const src = frameOf2(ctx);
      src.useCurrent(cpl === 3, 0);
      src.skip(gateParams * gs);
      for (let i = 0; i < gateParams; i++) {
        src.skip(-gs);
        const val = src.pop(gs);
        src.skip(-gs);
        fr.push(gs, val, 0);
        if (src.fault !== 0) return src.fault;
      }
    }
    fr.push(gs, oldCs, 0);
    fr.push(gs, retLo, retHi);
    if (fr.fault !== 0) return fr.fault;
    desc.lo = tLo;
    desc.hi = tHi;
    desc.addr = tAddr;
    f = commitCs(ctx, gateTarget, tdpl);
    if (f !== 0) return f;
    if (long) setNullSegment(v, SEG_SS, tdpl);
    else setSegment(v, SEG_SS, ssSel, descAttr(ssHi), descLimit(ssLo, ssHi), descBase(ssLo, ssHi), 0);
    fr.commitSp(v);
  } else {
    fr.useCurrent(cpl === 3, 0);
    fr.push(gs, oldCs, 0);
    fr.push(gs, retLo, retHi);
    if (fr.fault !== 0) return fr.fault;
    f = commitCs(ctx, gateTarget, cpl);
    if (f !== 0) return f;
    fr.commitSp(v);
  }
  setRip(ctx, gateOffLo, gateOffHi, gs);
  updateMode(ctx);
  return 0;
}

const second = new WeakMap<SystemContext, StackFrame>();
/** A second frame for copying call-gate parameters between two stacks. */
function frameOf2(ctx: SystemContext): StackFrame {
  let f = second.get(ctx);
  if (f === undefined) {
    f = new StackFrame(ctx);
    second.set(ctx, f);
  }
  return f;
}

let tssSp = 0;
let tssSs = 0;
/** Ring-`dpl` SS:ESP from a legacy (16- or 32-bit) TSS. */
function readTssStack(ctx: SystemContext, dpl: number): number {
  const v = ctx.views;
  const trAttr = segAttr(v, SEG_TR);
  const trSel = segSelector(v, SEG_TR);
  const is32 = (trAttr & 8) !== 0;
  const off = is32 ? 4 + dpl * 8 : 2 + dpl * 4;
  if ((trAttr & ATTR_P) === 0 || off + (is32 ? 5 : 3) > segLimit(v, SEG_TR)) {
    return faultWithCode(VEC_TS, selError(trSel));
  }
  const base = segBaseLo(v, SEG_TR);
  tssSp = is32 ? ctx.mmu.read32((base + off) >>> 0, false) >>> 0 : ctx.mmu.read16((base + off) >>> 0, false);
  tssSs = ctx.mmu.read16((base + off + (is32 ? 4 : 2)) >>> 0, false);
  return takeMmuFault(ctx);
}

/** RET far (imm16 = bytes of parameters to release), same or outer privilege. */
export function retFar(ctx: SystemContext, size: number, imm: number): number {
  const v = ctx.views;
  const m = v.u32[OFF_MODE >>> 2];
  const cpl = v.u32[OFF_CPL >>> 2];
  const fr = frameOf(ctx);
  fr.useCurrent(cpl === 3, 0);
  if (m === MODE_REAL || m === MODE_VM86) fr.checkLimit = false;
  const ipLo = fr.pop(size);
  const ipHi = fr.hi;
  const sel = fr.pop(size) & 0xffff;
  if (fr.fault !== 0) return fr.fault;
  if (m === MODE_REAL || m === MODE_VM86) {
    const off = size === 2 ? ipLo & 0xffff : ipLo;
    if (off > segLimit(v, SEG_CS)) return FAULT_GP0;
    fr.skip(imm);
    fr.commitSp(v);
    loadCsReal(ctx, sel);
    setRip(ctx, ipLo, 0, size);
    return 0;
  }
  if ((sel & 0xfffc) === 0) return FAULT_GP0;
  const long = isLong(ctx);
  let f = readDescriptor(ctx, sel, 0, false);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  const rpl = sel & 3;
  if ((attr & ATTR_S) === 0 || (attr & TYPE_CODE) === 0 || rpl < cpl) return gp(selError(sel));
  if ((attr & TYPE_EC) !== 0 ? attrDpl(attr) > rpl : attrDpl(attr) !== rpl) return gp(selError(sel));
  if ((attr & ATTR_P) === 0) return np(selError(sel));
  if (long && (attr & ATTR_L) !== 0 && (attr & ATTR_DB) !== 0) return gp(selError(sel));
  if (!targetOk(ipLo, ipHi, size, attr, descLimit(desc.lo, desc.hi), long)) return FAULT_GP0;
  const cLo = desc.lo;
  const cHi = desc.hi;
  const cAddr = desc.addr;
  if (rpl === cpl) {
    fr.skip(imm);
    f = commitCs(ctx, sel, cpl);
    if (f !== 0) return f;
    fr.commitSp(v);
    setRip(ctx, ipLo, ipHi, (attr & ATTR_L) !== 0 && long ? size : Math.min(size, 4));
    updateMode(ctx);
    return 0;
  }
  // Outer privilege: release parameters, pop SS:rSP, check the new SS at the new CPL.
  fr.skip(imm);
  const spLo = fr.pop(size);
  const spHi = fr.hi;
  const ssSel = fr.pop(size) & 0xffff;
  if (fr.fault !== 0) return fr.fault;
  const toLong = long && (attr & ATTR_L) !== 0;
  let ssAttr = 0;
  let ssLimit = 0;
  let ssBase = 0;
  if ((ssSel & 0xfffc) === 0) {
    if (!toLong || rpl === 3) return FAULT_GP0;
  } else {
    f = readDescriptor(ctx, ssSel, 0, false);
    if (f !== 0) return f;
    const sa = descAttr(desc.hi);
    if ((ssSel & 3) !== rpl || (sa & ATTR_S) === 0 || (sa & TYPE_CODE) !== 0 || (sa & TYPE_RW) === 0 ||
        attrDpl(sa) !== rpl) {
      return gp(selError(ssSel));
    }
    if ((sa & ATTR_P) === 0) return faultWithCode(12, selError(ssSel));
    f = markAccessed(ctx);
    if (f !== 0) return f;
    ssAttr = descAttr(desc.hi);
    ssLimit = descLimit(desc.lo, desc.hi);
    ssBase = descBase(desc.lo, desc.hi);
  }
  desc.lo = cLo;
  desc.hi = cHi;
  desc.addr = cAddr;
  f = commitCs(ctx, sel, rpl);
  if (f !== 0) return f;
  setSegment(v, SEG_SS, ssSel, ssAttr, ssLimit, ssBase, 0);
  // The new stack pointer, RET imm16 also releasing parameters on the outer stack.
  const w = toLong ? 8 : (ssAttr & ATTR_DB) !== 0 ? 4 : 2;
  const rspOff = gprOffset(REG_RSP);
  if (w === 8) {
    const p = canonical(spLo, size === 8 ? spHi : 0) + imm;
    v.set64(rspOff, p >>> 0, Math.floor(p / TWO32) >>> 0);
  } else if (w === 4) v.set64(rspOff, (spLo + imm) >>> 0, 0);
  else v.u16[rspOff >>> 1] = (spLo + imm) & 0xffff;
  setRip(ctx, ipLo, ipHi, toLong ? size : Math.min(size, 4));
  updateMode(ctx);
  nullInaccessibleDataSegments(ctx);
  return 0;
}

/**
 * After a return to an outer level, DS/ES/FS/GS that hold data or non-conforming code segments
 * more privileged than the new CPL are made null (SDM RET/IRET "return to outer privilege").
 */
export function nullInaccessibleDataSegments(ctx: SystemContext): void {
  const v = ctx.views;
  const cpl = v.u32[OFF_CPL >>> 2];
  for (const s of DATA_SEGS) {
    const attr = segAttr(v, s);
    if ((attr & ATTR_P) === 0) continue;
    const dataOrNc = (attr & TYPE_CODE) === 0 || (attr & TYPE_EC) === 0;
    if (dataOrNc && attrDpl(attr) < cpl) {
      // Selector 0 and unusable; the hidden base stays (FS/GS bases from MSRs survive in 64-bit mode).
      v.u32[(segOffset(s) + SEG_SELECTOR) >>> 2] = 0;
      v.u32[(segOffset(s) + SEG_ATTR) >>> 2] = 0;
    }
  }
}
const DATA_SEGS = [SEG_ES, SEG_DS, SEG_FS, SEG_GS];

export const isLongMode64 = (ctx: SystemContext): boolean => ctx.views.u32[OFF_MODE >>> 2] === MODE_LONG64;
