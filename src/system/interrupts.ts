/**
 * Interrupt and exception delivery through the guest's IDT (SDM Vol. 3 ch. 6, Vol. 2 "INT n"):
 * real mode (IVT of 4-byte vectors), protected mode (16- and 32-bit interrupt and trap gates,
 * privilege change with a stack switch from the TSS, VM86 interrupted), and IA-32e mode (16-byte
 * gates, IST, 16-byte stack alignment, SS null on a privilege change). Task gates switch tasks
 * (task.ts; 32-bit TSSs).
 *
 * Contract with the interpreter: before calling `deliver`, OFF_RIP holds the return address (the
 * faulting instruction for a fault, the next one for a trap, INT n or an external interrupt),
 * registers and lazy flags are current, and `mmu.fault` is taken out (deliver clears it). On
 * return, RIP, CS, SS, rSP, RFLAGS, CPL and OFF_MODE describe the handler's first instruction.
 *
 * A fault while delivering an event follows the double-fault rules (Vol. 3 Table 6-5): benign then
 * anything → the second event is delivered instead; contributory (#DE #TS #NP #SS #GP) then
 * contributory, or #PF then contributory or #PF → #DF(0); any fault while delivering #DF → shutdown
 * (DELIVER_TRIPLE_FAULT). #PF loads CR2 from OFF_FAULT_ADDR when it is raised. Error codes of
 * faults raised by delivery carry EXT (bit 0) for hardware events and IDT (bit 1) when they name
 * an IDT entry. The RF flag is not set in the pushed image of faults (QEMU's behaviour, which our
 * images are compared with).
 */
import {
  ATTR_DB, ATTR_L, ATTR_P, ATTR_S, EFER_LMA, FLAG_AC, FLAG_IF, FLAG_NT, FLAG_RF, FLAG_TF, FLAG_VM, MODE_REAL,
  MODE_VM86, OFF_CPL, OFF_CR2, OFF_EFER, OFF_FAULT_ADDR, OFF_HALTED, OFF_IDTR_BASE, OFF_IDTR_LIMIT,
  OFF_INT_SHADOW, OFF_LAST_VECTOR, OFF_MODE, OFF_RIP, SEG_CS, SEG_DS, SEG_ES, SEG_FS, SEG_GS, SEG_SS, SEG_TR,
  segOffset, SEG_BASE, REG_RSP, gprOffset,
} from '../cpu/state.js';
import {
  VEC_DF, VEC_GP, VEC_NP, VEC_PF, VEC_SS, VEC_TS, faultErrorCode, faultHasError, faultVector, faultWithCode,
  describeFault,
} from '../cpu/fault.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import { canonical } from '../mmu/mmu.js';
import { DELIVER_OK, DELIVER_TRIPLE_FAULT, DELIVER_UNSUPPORTED, type SystemContext } from './context.js';
import { StackFrame } from './frame.js';
import { updateMode } from './mode.js';
import { TASK_INT, TASK_UNSUPPORTED, taskSwitch } from './task.js';
import {
  SYS_INTGATE16, SYS_INTGATE32, SYS_TASKGATE, SYS_TRAPGATE16, SYS_TRAPGATE32, TYPE_CODE, TYPE_EC, TYPE_RW,
  attrDpl, desc, descAttr, descBase, descLimit, markAccessed, readDescriptor, segAttr, segBaseHi, segBaseLo,
  segLimit, segSelector, selError, setNullSegment, setSegment, tableLinear, takeMmuFault,
} from './segments.js';

/** A hardware exception (fault or trap): EXT = 1 in error codes of nested faults. */
export const EV_EXCEPTION = 0;
/** INT n, INT3, INTO: the gate's DPL must be >= CPL (else #GP(vector*8+2)); EXT = 0. */
export const EV_SOFTWARE = 1;
/** An external interrupt or NMI: EXT = 1. */
export const EV_EXTERNAL = 2;

/** Internal marker returned by `deliverOnce` for a task gate. */
const UNSUPPORTED = -1;

const CLASS_BENIGN = 0;
const CLASS_CONTRIBUTORY = 1;
const CLASS_PF = 2;

function eventClass(vector: number, kind: number): number {
  if (kind !== EV_EXCEPTION) return CLASS_BENIGN;
  if (vector === VEC_PF) return CLASS_PF;
  if (vector === 0 || (vector >= VEC_TS && vector <= VEC_GP)) return CLASS_CONTRIBUTORY;
  return CLASS_BENIGN;
}

const frames = new WeakMap<SystemContext, StackFrame>();
/** The context's reusable frame (one per context, created on first use). */
export function frameOf(ctx: SystemContext): StackFrame {
  let f = frames.get(ctx);
  if (f === undefined) {
    f = new StackFrame(ctx);
    frames.set(ctx, f);
  }
  return f;
}

function copyCr2(ctx: SystemContext): void {
  const v = ctx.views;
  v.set64(OFF_CR2, v.lo(OFF_FAULT_ADDR), v.hi(OFF_FAULT_ADDR));
}

/**
 * Delivers an event. `errorCode` is -1 when the vector pushes none. Returns DELIVER_OK,
 * DELIVER_TRIPLE_FAULT or DELIVER_UNSUPPORTED (ctx.stopReason says why).
 */
export function deliver(ctx: SystemContext, vector: number, errorCode: number, kind: number): number {
  ctx.mmu.fault = 0;
  if (vector === VEC_PF && kind === EV_EXCEPTION) copyCr2(ctx);
  for (;;) {
    const f = deliverOnce(ctx, vector, errorCode, kind);
    if (f === 0) return delivered(ctx, vector);
    if (f === UNSUPPORTED) return DELIVER_UNSUPPORTED;
    const v2 = faultVector(f);
    if (v2 === VEC_PF) copyCr2(ctx);
    if (vector === VEC_DF && kind === EV_EXCEPTION) {
      ctx.stopReason = `triple fault: ${describeFault(f)} while delivering #DF`;
      return DELIVER_TRIPLE_FAULT;
    }
    const c1 = eventClass(vector, kind);
    const c2 = eventClass(v2, EV_EXCEPTION);
    if ((c1 === CLASS_CONTRIBUTORY && c2 === CLASS_CONTRIBUTORY) || (c1 === CLASS_PF && c2 !== CLASS_BENIGN)) {
      vector = VEC_DF;
      errorCode = 0;
    } else {
      vector = v2;
      errorCode = faultHasError(f) ? faultErrorCode(f) : -1;
    }
    kind = EV_EXCEPTION;
  }
}

function delivered(ctx: SystemContext, vector: number): number {
  const v = ctx.views;
  v.u32[OFF_LAST_VECTOR >>> 2] = vector;
  v.u32[OFF_HALTED >>> 2] = 0;
  v.u32[OFF_INT_SHADOW >>> 2] = 0;
  ctx.vectorCounts[vector]++;
  return DELIVER_OK;
}

/**
 * INT n / INT3 / INTO: one delivery attempt (OFF_RIP = the next instruction). Returns DELIVER_OK,
 * DELIVER_UNSUPPORTED, or the fault the attempt raised, uncommitted: that fault belongs to the INT
 * instruction itself (its saved RIP is the INT's, as for any fault), so the caller returns it and
 * the run loop delivers it like any other fault (a software interrupt is a benign event).
 */
export function deliverSoftware(ctx: SystemContext, vector: number): number {
  ctx.mmu.fault = 0;
  const f = deliverOnce(ctx, vector, -1, EV_SOFTWARE);
  if (f === 0) return delivered(ctx, vector);
  return f === UNSUPPORTED ? DELIVER_UNSUPPORTED : f;
}

/** Delivers the exception a handler returned as a fault value (cpu/fault.ts). */
export function deliverFault(ctx: SystemContext, f: number): number {
  return deliver(ctx, faultVector(f), faultHasError(f) ? faultErrorCode(f) : -1, EV_EXCEPTION);
}

const gp = (code: number): number => faultWithCode(VEC_GP, code);

/** One attempt: 0, a fault raised on the way (nothing committed), or UNSUPPORTED. */
function deliverOnce(ctx: SystemContext, vector: number, errorCode: number, kind: number): number {
  const m = ctx.views.u32[OFF_MODE >>> 2];
  if (m === MODE_REAL) return deliverReal(ctx, vector);
  if ((ctx.views.u32[OFF_EFER >>> 2] & EFER_LMA) !== 0) return deliverLong(ctx, vector, errorCode, kind);
  return deliverProtected(ctx, vector, errorCode, kind);
}

// ---- real mode -------------------------------------------------------------------------------

function deliverReal(ctx: SystemContext, vector: number): number {
  const v = ctx.views;
  if (vector * 4 + 3 > v.u32[OFF_IDTR_LIMIT >>> 2]) return gp(vector * 8 + 2);
  const mmu = ctx.mmu;
  const ent = (v.lo(OFF_IDTR_BASE) + vector * 4) >>> 0;
  const ip = mmu.read16(ent, false);
  const cs = mmu.read16(ent + 2, false);
  let f = takeMmuFault(ctx);
  if (f !== 0) return f;
  const flags = getFlags(v.i32);
  const fr = frameOf(ctx);
  fr.useCurrent(false, 0);
  fr.checkLimit = false;
  fr.push16(flags);
  fr.push16(segSelector(v, SEG_CS));
  fr.push16(v.lo(OFF_RIP));
  f = fr.fault;
  if (f !== 0) return f;
  fr.commitSp(v);
  setFlags(v.i32, flags & ~(FLAG_IF | FLAG_TF | FLAG_AC | FLAG_RF));
  const o = segOffset(SEG_CS) >>> 2;
  v.u32[o] = cs;
  v.u32[o + (SEG_BASE >>> 2)] = cs << 4;
  v.u32[o + (SEG_BASE >>> 2) + 1] = 0;
  v.set64(OFF_RIP, ip, 0);
  return 0;
}

// ---- protected mode (16/32-bit gates, VM86 interrupted) ---------------------------------------

/** Reads the ring-`dpl` stack pointer and SS from the current TSS (legacy formats). */
let tssSp = 0;
let tssSs = 0;
function readLegacyTssStack(ctx: SystemContext, dpl: number, ext: number): number {
  const v = ctx.views;
  const trAttr = segAttr(v, SEG_TR);
  const trSel = segSelector(v, SEG_TR);
  if ((trAttr & ATTR_P) === 0) return faultWithCode(VEC_TS, selError(trSel) | ext);
  const is32 = (trAttr & 8) !== 0;
  const off = is32 ? 4 + dpl * 8 : 2 + dpl * 4;
  if (off + (is32 ? 5 : 3) > segLimit(v, SEG_TR)) return faultWithCode(VEC_TS, selError(trSel) | ext);
  const base = segBaseLo(v, SEG_TR);
  const mmu = ctx.mmu;
  if (is32) {
    tssSp = mmu.read32((base + off) >>> 0, false) >>> 0;
    tssSs = mmu.read16((base + off + 4) >>> 0, false);
  } else {
    tssSp = mmu.read16((base + off) >>> 0, false);
    tssSs = mmu.read16((base + off + 2) >>> 0, false);
  }
  return takeMmuFault(ctx);
}

/**
 * Checks the new SS a privilege change loads (the TSS's, or a call gate's) and sets its accessed
 * bit; on success `desc` holds its descriptor. Faults are #TS(selector) (#SS when not present), as the SDM specifies.
 */
export function checkNewStack(ctx: SystemContext, sel: number, dpl: number, ext: number): number {
  if ((sel & 0xfffc) === 0) return faultWithCode(VEC_TS, ext);
  const f = readDescriptor(ctx, sel, ext, false);
  if (f !== 0) return faultVector(f) === VEC_GP ? faultWithCode(VEC_TS, selError(sel) | ext) : f;
  const attr = descAttr(desc.hi);
  if ((sel & 3) !== dpl || attrDpl(attr) !== dpl || (attr & ATTR_S) === 0 || (attr & TYPE_CODE) !== 0 ||
      (attr & TYPE_RW) === 0) {
    return faultWithCode(VEC_TS, selError(sel) | ext);
  }
  if ((attr & ATTR_P) === 0) return faultWithCode(VEC_SS, selError(sel) | ext);
  return markAccessed(ctx);
}

/** Reads and checks gate `vector`'s target code descriptor (into `desc`); returns a fault or 0. */
function checkGateTarget(ctx: SystemContext, sel: number, cpl: number, ext: number, long: boolean): number {
  if ((sel & 0xfffc) === 0) return gp(ext);
  const f = readDescriptor(ctx, sel, ext, false);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  if ((attr & ATTR_S) === 0 || (attr & TYPE_CODE) === 0 || attrDpl(attr) > cpl) return gp(selError(sel) | ext);
  if (long && ((attr & ATTR_L) === 0 || (attr & ATTR_DB) !== 0)) return gp(selError(sel) | ext);
  if ((attr & ATTR_P) === 0) return faultWithCode(VEC_NP, selError(sel) | ext);
  return 0;
}

function deliverProtected(ctx: SystemContext, vector: number, errorCode: number, kind: number): number {
  const v = ctx.views;
  const u32 = v.u32;
  const mmu = ctx.mmu;
  const ext = kind === EV_SOFTWARE ? 0 : 1;
  const idtCode = vector * 8 + 2 + ext;
  if (vector * 8 + 7 > u32[OFF_IDTR_LIMIT >>> 2]) return gp(idtCode);
  const ent = (v.lo(OFF_IDTR_BASE) + vector * 8) >>> 0;
  const glo = mmu.read32(ent, false);
  const ghi = mmu.read32(ent + 4, false);
  let f = takeMmuFault(ctx);
  if (f !== 0) return f;
  const gtype = (ghi >>> 8) & 0x1f; // type with the S bit, which must be 0
  if (gtype !== SYS_TASKGATE && gtype !== SYS_INTGATE16 && gtype !== SYS_TRAPGATE16 && gtype !== SYS_INTGATE32 &&
      gtype !== SYS_TRAPGATE32) {
    return gp(idtCode);
  }
  const cpl = u32[OFF_CPL >>> 2];
  if (kind === EV_SOFTWARE && ((ghi >>> 13) & 3) < cpl) return gp(vector * 8 + 2);
  if ((ghi & 0x8000) === 0) return faultWithCode(VEC_NP, idtCode);
  if (gtype === SYS_TASKGATE) {
    const t = taskSwitch(ctx, glo >>> 16, TASK_INT, errorCode, ext);
    return t === TASK_UNSUPPORTED ? UNSUPPORTED : t;
  }
  const gate32 = (gtype & 8) !== 0;
  const size = gate32 ? 4 : 2;
  const sel = glo >>> 16;
  const offset = gate32 ? ((glo & 0xffff) | (ghi & 0xffff0000)) >>> 0 : glo & 0xffff;
  f = checkGateTarget(ctx, sel, cpl, ext, false);
  if (f !== 0) return f;
  const cLo = desc.lo;
  const cHi = desc.hi;
  const cAddr = desc.addr;
  const cAttr = descAttr(cHi);
  const cdpl = attrDpl(cAttr);
  const vm86 = u32[OFF_MODE >>> 2] === MODE_VM86;
  const flags = getFlags(v.i32);
  const oldCs = segSelector(v, SEG_CS);
  const oldRip = v.lo(OFF_RIP);
  const fr = frameOf(ctx);
  let newCpl = cpl;
  let ssSel = 0;
  let ssLo = 0;
  let ssHi = 0;
  if ((cAttr & TYPE_EC) === 0 && cdpl < cpl) {
    // Inner privilege: switch to the TSS stack of ring cdpl.
    if (vm86 && cdpl !== 0) return gp(selError(sel) | ext);
    f = readLegacyTssStack(ctx, cdpl, ext);
    if (f !== 0) return f;
    const newSp = tssSp;
    ssSel = tssSs;
    f = checkNewStack(ctx, ssSel, cdpl, ext);
    if (f !== 0) return f;
    ssLo = desc.lo;
    ssHi = desc.hi;
    const ssAttr = descAttr(ssHi);
    fr.use(descBase(ssLo, ssHi), newSp, (ssAttr & ATTR_DB) !== 0 ? 4 : 2, descLimit(ssLo, ssHi), ssAttr, true,
      false, selError(ssSel) | ext);
    if (vm86) {
      fr.push(size, segSelector(v, SEG_GS), 0);
      fr.push(size, segSelector(v, SEG_FS), 0);
      fr.push(size, segSelector(v, SEG_DS), 0);
      fr.push(size, segSelector(v, SEG_ES), 0);
    }
    fr.push(size, segSelector(v, SEG_SS), 0);
    fr.push(size, v.lo(gprOffset(REG_RSP)), 0); // old ESP
    newCpl = cdpl;
  } else if ((cAttr & TYPE_EC) !== 0 || cdpl === cpl) {
    if (vm86) return gp(selError(sel) | ext);
    fr.useCurrent(cpl === 3, ext);
  } else {
    return gp(selError(sel) | ext);
  }
  fr.push(size, flags, 0);
  fr.push(size, oldCs, 0);
  fr.push(size, oldRip, 0);
  if (errorCode >= 0) fr.push(size, errorCode, 0);
  if (fr.fault !== 0) return fr.fault;
  if (offset > descLimit(cLo, cHi)) return gp(ext);
  // Everything checked and written: commit.
  desc.lo = cLo;
  desc.hi = cHi;
  desc.addr = cAddr;
  f = markAccessed(ctx);
  if (f !== 0) return f;
  if (newCpl !== cpl) {
    setSegment(v, SEG_SS, ssSel, descAttr(ssHi), descLimit(ssLo, ssHi), descBase(ssLo, ssHi), 0);
    if (vm86) {
      setNullSegment(v, SEG_ES, 0);
      setNullSegment(v, SEG_DS, 0);
      setNullSegment(v, SEG_FS, 0);
      setNullSegment(v, SEG_GS, 0);
    }
  }
  fr.commitSp(v);
  setSegment(v, SEG_CS, (sel & 0xfffc) | newCpl, descAttr(desc.hi), descLimit(cLo, cHi),
    descBase(cLo, cHi), 0);
  u32[OFF_CPL >>> 2] = newCpl;
  let nf = flags & ~(FLAG_TF | FLAG_NT | FLAG_VM | FLAG_RF);
  if ((gtype & 1) === 0) nf &= ~FLAG_IF; // interrupt gate
  setFlags(v.i32, nf);
  v.set64(OFF_RIP, offset, 0);
  updateMode(ctx);
  return 0;
}

// ---- IA-32e mode ---------------------------------------------------------------------------------

function deliverLong(ctx: SystemContext, vector: number, errorCode: number, kind: number): number {
  const v = ctx.views;
  const u32 = v.u32;
  const mmu = ctx.mmu;
  const ext = kind === EV_SOFTWARE ? 0 : 1;
  const idtCode = vector * 8 + 2 + ext;
  if (vector * 16 + 15 > u32[OFF_IDTR_LIMIT >>> 2]) return gp(idtCode);
  const ent = tableLinear(v, OFF_IDTR_BASE, vector * 16);
  const g0 = mmu.read32(ent, false);
  const g1 = mmu.read32(ent + 4, false);
  const g2 = mmu.read32(ent + 8, false);
  let f = takeMmuFault(ctx);
  if (f !== 0) return f;
  const gtype = (g1 >>> 8) & 0x1f;
  if (gtype !== SYS_INTGATE32 && gtype !== SYS_TRAPGATE32) return gp(idtCode);
  const cpl = u32[OFF_CPL >>> 2];
  if (kind === EV_SOFTWARE && ((g1 >>> 13) & 3) < cpl) return gp(vector * 8 + 2);
  if ((g1 & 0x8000) === 0) return faultWithCode(VEC_NP, idtCode);
  const sel = g0 >>> 16;
  const offLo = ((g0 & 0xffff) | (g1 & 0xffff0000)) >>> 0;
  const offHi = g2 | 0;
  const ist = g1 & 7;
  f = checkGateTarget(ctx, sel, cpl, ext, true);
  if (f !== 0) return f;
  const cLo = desc.lo;
  const cHi = desc.hi;
  const cAddr = desc.addr;
  const cAttr = descAttr(cHi);
  const cdpl = attrDpl(cAttr);
  let newCpl = cpl;
  if ((cAttr & TYPE_EC) === 0 && cdpl < cpl) newCpl = cdpl;
  else if ((cAttr & TYPE_EC) === 0 && cdpl !== cpl) return gp(selError(sel) | ext);
  // The new RSP: IST entry if the gate names one, else RSPn on a privilege change, else current.
  let rsp: number;
  const rspSlot = gprOffset(REG_RSP);
  if (ist !== 0 || newCpl !== cpl) {
    const off = ist !== 0 ? 0x24 + (ist - 1) * 8 : 4 + newCpl * 8;
    const trSel = segSelector(v, SEG_TR);
    if (off + 7 > segLimit(v, SEG_TR)) return faultWithCode(VEC_TS, selError(trSel) | ext);
    const a = canonical(segBaseLo(v, SEG_TR), segBaseHi(v, SEG_TR)) + off;
    const lo = mmu.read32(a, false);
    const hi = mmu.read32(a + 4, false);
    f = takeMmuFault(ctx);
    if (f !== 0) return f;
    const t = (hi | 0) >> 15;
    if (t !== 0 && t !== -1) return faultWithCode(VEC_SS, ext);
    rsp = canonical(lo, hi);
  } else {
    rsp = canonical(v.lo(rspSlot), v.hi(rspSlot));
  }
  rsp -= ((rsp % 16) + 16) % 16; // align down to 16 bytes (works for negative numbers)
  const flags = getFlags(v.i32);
  const fr = frameOf(ctx);
  fr.use(0, rsp, 8, 0, 0, false, false, ext);
  fr.push64(segSelector(v, SEG_SS), 0);
  fr.push64(v.lo(rspSlot), v.hi(rspSlot));
  fr.push64(flags, 0);
  fr.push64(segSelector(v, SEG_CS), 0);
  fr.push64(v.lo(OFF_RIP), v.hi(OFF_RIP));
  if (errorCode >= 0) fr.push64(errorCode, 0);
  if (fr.fault !== 0) return fr.fault;
  const t = offHi >> 15;
  if (t !== 0 && t !== -1) return gp(ext);
  desc.lo = cLo;
  desc.hi = cHi;
  desc.addr = cAddr;
  f = markAccessed(ctx);
  if (f !== 0) return f;
  if (newCpl !== cpl) setNullSegment(v, SEG_SS, newCpl);
  fr.commitSp(v);
  setSegment(v, SEG_CS, (sel & 0xfffc) | newCpl, descAttr(desc.hi), descLimit(cLo, cHi), descBase(cLo, cHi), 0);
  u32[OFF_CPL >>> 2] = newCpl;
  let nf = flags & ~(FLAG_TF | FLAG_NT | FLAG_VM | FLAG_RF);
  if ((gtype & 1) === 0) nf &= ~FLAG_IF;
  setFlags(v.i32, nf);
  v.set64(OFF_RIP, offLo, offHi);
  updateMode(ctx);
  return 0;
}
