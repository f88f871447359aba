/**
 * IRET / IRETD / IRETQ in every mode (SDM Vol. 2 "IRET/IRETD/IRETQ"): real mode, VM86 with
 * IOPL 3, protected mode to the same or an outer privilege level and back to VM86, and IA-32e
 * mode. In 64-bit mode IRET of any operand size pops SS:RSP (as hardware and QEMU do); in
 * compatibility and legacy protected mode only a return to an outer level pops SS:ESP.
 * A return with RFLAGS.NT set is a task return through the TSS back link (task.ts; OFF_RIP must
 * hold the next instruction's address, saved in the outgoing TSS) outside IA-32e mode, and #GP(0)
 * inside it. Nothing is committed until every check has passed.
 */
import {
  ATTR_DB, ATTR_L, ATTR_P, ATTR_S, EFER_LMA, FLAG_AC, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_FIXED1, FLAG_ID, FLAG_IF,
  FLAG_IOPL, FLAG_NT, FLAG_OF, FLAG_PF, FLAG_RF, FLAG_SF, FLAG_TF, FLAG_VIF, FLAG_VIP, FLAG_VM, FLAG_ZF,
  MODE_LONG64, MODE_REAL, MODE_VM86, OFF_CPL, OFF_EFER, OFF_MODE, OFF_RIP, REG_RSP, SEG_CS, SEG_DS, SEG_ES,
  SEG_FS, SEG_GS, SEG_SS, SEG_TR, gprOffset, segOffset, SEG_BASE,
} from '../cpu/state.js';
import { FAULT_GP0, VEC_GP, VEC_NP, VEC_SS, faultWithCode } from '../cpu/fault.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import type { SystemContext } from './context.js';
import { FAR_UNSUPPORTED, nullInaccessibleDataSegments } from './far.js';
import { frameOf } from './interrupts.js';
import { updateMode } from './mode.js';
import {
  TYPE_CODE, TYPE_EC, TYPE_RW, attrDpl, desc, descAttr, descBase, descLimit, markAccessed, readDescriptor,
  segBaseLo, segLimit, selError, setSegment, takeMmuFault,
} from './segments.js';
import { TASK_IRET, TASK_UNSUPPORTED, taskSwitch } from './task.js';

const gp = (code: number): number => faultWithCode(VEC_GP, code);

/** Flags any IRET may load (the privilege-dependent ones are added below). */
const BASE_MASK = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_TF | FLAG_DF | FLAG_OF | FLAG_NT;

function loadReal(ctx: SystemContext, seg: number, sel: number, vm86: boolean): void {
  const v = ctx.views;
  if (vm86) {
    setSegment(v, seg, sel, seg === SEG_CS ? 0xfb : 0xf3, 0xffff, (sel & 0xffff) << 4, 0);
    return;
  }
  const o = segOffset(seg) >>> 2;
  v.u32[o] = sel & 0xffff;
  v.u32[o + (SEG_BASE >>> 2)] = (sel & 0xffff) << 4;
  v.u32[o + (SEG_BASE >>> 2) + 1] = 0;
}

/** IRET with operand size `size` (2, 4, 8). Returns 0, a fault, or FAR_UNSUPPORTED. */
export function iret(ctx: SystemContext, size: number): number {
  const v = ctx.views;
  const u32 = v.u32;
  const m = u32[OFF_MODE >>> 2];
  const cpl = u32[OFF_CPL >>> 2];
  const old = getFlags(v.i32);
  const fr = frameOf(ctx);

  if (m === MODE_REAL || m === MODE_VM86) {
    if (m === MODE_VM86 && (old & FLAG_IOPL) !== FLAG_IOPL) return FAULT_GP0;
    fr.useCurrent(m === MODE_VM86, 0);
    fr.checkLimit = false;
    const ip = fr.pop(size);
    const cs = fr.pop(size) & 0xffff;
    const fl = fr.pop(size);
    if (fr.fault !== 0) return fr.fault;
    if (ip > segLimit(v, SEG_CS)) return FAULT_GP0;
    let mask = size === 2 ? 0xffff : 0x257fd5; // real mode: every flag but VM, VIF, VIP
    if (m === MODE_VM86) mask &= ~FLAG_IOPL;
    fr.commitSp(v);
    setFlags(v.i32, (old & ~mask) | (fl & mask) | FLAG_FIXED1);
    loadReal(ctx, SEG_CS, cs, m === MODE_VM86);
    v.set64(OFF_RIP, ip, 0);
    return 0;
  }

  const long = (u32[OFF_EFER >>> 2] & EFER_LMA) !== 0;
  if ((old & FLAG_NT) !== 0) {
    if (long) return FAULT_GP0;
    // Task return: back to the task named by the back link (offset 0 of the current TSS).
    const link = ctx.mmu.read16(segBaseLo(v, SEG_TR), false);
    const f = takeMmuFault(ctx);
    if (f !== 0) return f;
    const t = taskSwitch(ctx, link, TASK_IRET, -1, 0);
    return t === TASK_UNSUPPORTED ? FAR_UNSUPPORTED : t;
  }
  fr.useCurrent(cpl === 3, 0);
  const ipLo = fr.pop(size);
  const ipHi = fr.hi;
  const cs = fr.pop(size) & 0xffff;
  const fl = fr.pop(size);
  if (fr.fault !== 0) return fr.fault;

  if (!long && (fl & FLAG_VM) !== 0 && cpl === 0 && size === 4) return iretToVm86(ctx, ipLo, cs, fl);

  if ((cs & 0xfffc) === 0) return FAULT_GP0;
  let f = readDescriptor(ctx, cs, 0, false);
  if (f !== 0) return f;
  const attr = descAttr(desc.hi);
  const rpl = cs & 3;
  if ((attr & ATTR_S) === 0 || (attr & TYPE_CODE) === 0 || rpl < cpl) return gp(selError(cs));
  if ((attr & TYPE_EC) !== 0 ? attrDpl(attr) > rpl : attrDpl(attr) !== rpl) return gp(selError(cs));
  if ((attr & ATTR_P) === 0) return faultWithCode(VEC_NP, selError(cs));
  const to64 = long && (attr & ATTR_L) !== 0;
  if (to64 && (attr & ATTR_DB) !== 0) return gp(selError(cs));
  const cLo = desc.lo;
  const cHi = desc.hi;
  const cAddr = desc.addr;

  // The new stack, if this return pops one.
  const popStack = rpl > cpl || m === MODE_LONG64;
  let spLo = 0;
  let spHi = 0;
  let ssSel = 0;
  let ssAttr = 0;
  let ssLimit = 0;
  let ssBase = 0;
  if (popStack) {
    spLo = fr.pop(size);
    spHi = fr.hi;
    ssSel = fr.pop(size) & 0xffff;
    if (fr.fault !== 0) return fr.fault;
    if ((ssSel & 0xfffc) === 0) {
      // A null SS is allowed only back to 64-bit code below CPL 3 with RPL = the new CPL.
      if (!to64 || rpl === 3 || (ssSel & 3) !== rpl) return FAULT_GP0;
      ssAttr = 0;
    } else {
      f = readDescriptor(ctx, ssSel, 0, false);
      if (f !== 0) return f;
      const sa = descAttr(desc.hi);
      if ((ssSel & 3) !== rpl || (sa & ATTR_S) === 0 || (sa & TYPE_CODE) !== 0 || (sa & TYPE_RW) === 0 ||
          attrDpl(sa) !== rpl) {
        return gp(selError(ssSel));
      }
      if ((sa & ATTR_P) === 0) return faultWithCode(VEC_SS, selError(ssSel));
      f = markAccessed(ctx);
      if (f !== 0) return f;
      ssAttr = descAttr(desc.hi);
      ssLimit = descLimit(desc.lo, desc.hi);
      ssBase = descBase(desc.lo, desc.hi);
    }
  }
  // The target offset: canonical for 64-bit code, within the limit otherwise.
  if (to64) {
    const t = size === 8 ? (ipHi | 0) >> 15 : 0;
    if (t !== 0 && t !== -1) return FAULT_GP0;
  } else if ((size === 2 ? ipLo & 0xffff : ipLo) > descLimit(cLo, cHi)) {
    return FAULT_GP0;
  }
  // Commit.
  desc.lo = cLo;
  desc.hi = cHi;
  desc.addr = cAddr;
  f = markAccessed(ctx);
  if (f !== 0) return f;
  let mask = BASE_MASK;
  if (size !== 2) mask |= FLAG_RF | FLAG_AC | FLAG_ID;
  if (cpl <= (old & FLAG_IOPL) >>> 12) mask |= FLAG_IF;
  if (cpl === 0) {
    mask |= FLAG_IOPL;
    if (size !== 2) mask |= FLAG_VIF | FLAG_VIP;
  }
  if (size === 2) mask &= 0xffff;
  setFlags(v.i32, (old & ~mask) | (fl & mask) | FLAG_FIXED1);
  setSegment(v, SEG_CS, cs, descAttr(cHi), descLimit(cLo, cHi), descBase(cLo, cHi), 0);
  u32[OFF_CPL >>> 2] = rpl;
  if (to64) v.set64(OFF_RIP, ipLo, size === 8 ? ipHi : 0);
  else v.set64(OFF_RIP, size === 2 ? ipLo & 0xffff : ipLo, 0);
  if (popStack) {
    setSegment(v, SEG_SS, ssSel, ssAttr, ssLimit, ssBase, 0);
    const rspOff = gprOffset(REG_RSP);
    if (to64) v.set64(rspOff, spLo, size === 8 ? spHi : 0);
    else if ((ssAttr & ATTR_DB) !== 0) v.set64(rspOff, size === 2 ? spLo & 0xffff : spLo, 0);
    else v.u16[rspOff >>> 1] = spLo;
  } else {
    fr.commitSp(v);
  }
  updateMode(ctx);
  if (rpl > cpl) nullInaccessibleDataSegments(ctx);
  return 0;
}

/** IRETD at CPL 0 with VM set in the popped EFLAGS: back to virtual-8086 mode. */
function iretToVm86(ctx: SystemContext, ip: number, cs: number, fl: number): number {
  const v = ctx.views;
  const fr = frameOf(ctx);
  const esp = fr.pop32();
  const ss = fr.pop32() & 0xffff;
  const es = fr.pop32() & 0xffff;
  const ds = fr.pop32() & 0xffff;
  const fs = fr.pop32() & 0xffff;
  const gs = fr.pop32() & 0xffff;
  if (fr.fault !== 0) return fr.fault;
  setFlags(v.i32, (fl | FLAG_FIXED1) >>> 0);
  loadReal(ctx, SEG_CS, cs, true);
  loadReal(ctx, SEG_SS, ss, true);
  loadReal(ctx, SEG_ES, es, true);
  loadReal(ctx, SEG_DS, ds, true);
  loadReal(ctx, SEG_FS, fs, true);
  loadReal(ctx, SEG_GS, gs, true);
  v.set64(gprOffset(REG_RSP), esp, 0);
  v.set64(OFF_RIP, ip & 0xffff, 0);
  updateMode(ctx); // VM set: MODE_VM86, CPL 3
  return 0;
}
