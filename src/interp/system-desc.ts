/**
 * Descriptor-table and machine-status handlers: LGDT/LIDT (CPL 0), SGDT/SIDT/SLDT/STR/SMSW (not
 * privileged but sensitive: the policy decides, see system/context.ts), LLDT/LTR/LMSW (CPL 0),
 * LAR/LSL/VERR/VERW (ZF reports the verdict; a selector that fails a check is not a fault) and
 * ARPL.
 *
 * Policy for the sensitive stores at CPL > 0: `emulate` (and CR4.UMIP clear) answers from the
 * virtual state, as hardware does; `umip`, or CR4.UMIP set, raises #GP(0); `leak` shows what a
 * pre-VT trap-and-emulate monitor would expose: the monitor's own tables (LEAK_* values below).
 */
import {
  CR4_UMIP, FLAG_ZF, MODE_LONG64, MODE_REAL, MODE_VM86, OFF_CR0, OFF_CR4, OFF_GDTR_BASE, OFF_GDTR_LIMIT,
  OFF_IDTR_BASE, OFF_IDTR_LIMIT, SEG_LDTR, SEG_TR, segOffset, SEG_SELECTOR, ATTR_S, EFER_LMA, OFF_EFER,
} from '../cpu/state.js';
import { FAULT_GP0, FAULT_UD } from '../cpu/fault.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import { POLICY_LEAK, POLICY_UMIP } from '../system/context.js';
import { writeCr0 } from '../system/mode.js';
import {
  TYPE_CODE, TYPE_EC, TYPE_RW, attrDpl, desc, descAttr, descLimit, loadLdtr, loadTr, readDescriptor,
} from '../system/segments.js';
import type { Cpu, Decoded, Handler } from './cpu.js';
import type { Registrar } from './dispatch.js';
import { cplOf, offPlus, privileged } from './system-common.js';

/** What `leak` shows: a monitor's tables high in the host's address space (Red Pill's tell). */
export const LEAK_GDT_BASE = 0xffc07000;
export const LEAK_IDT_BASE = 0xffc18000;
export const LEAK_TABLE_LIMIT = 0x7ff;
export const LEAK_LDTR = 0;
export const LEAK_TR = 0x40;

/**
 * The verdict for a sensitive store: 0 = answer truthfully, 1 = leak, or a fault (#GP(0) under
 * UMIP at CPL > 0). Under `leak` every protected-mode use leaks, the guest kernel's included: a
 * classic monitor runs the kernel deprivileged, so the instruction reads the real (host) register.
 * Real mode has no monitor tables to leak; SLDT/STR are #UD there (see callers).
 */
function sensitive(cpu: Cpu): number {
  if (cpu.mode === MODE_REAL) return 0;
  const p = cpu.ctx.policy;
  if (cplOf(cpu) !== 0 && ((cpu.u32[OFF_CR4 >> 2] & CR4_UMIP) !== 0 || p === POLICY_UMIP)) return FAULT_GP0;
  return p === POLICY_LEAK ? 1 : 0;
}

// ---- LGDT / LIDT / SGDT / SIDT ------------------------------------------------------------------

/** LGDT/LIDT m16&32 (24-bit base with a 16-bit operand) or m16&64 in 64-bit mode. */
function loadTableReg(baseOff: number, limitOff: number): Handler {
  return (cpu, d) => {
    if (!privileged(cpu)) return FAULT_GP0;
    const ea = cpu.ea(d);
    const limit = cpu.rd16(d.seg, ea);
    const at = offPlus(d.adSize, ea, 2);
    let lo: number;
    let hi = 0;
    if (cpu.mode === MODE_LONG64) {
      lo = cpu.rd64(d.seg, at);
      hi = cpu.hi;
    } else {
      lo = cpu.rd32(d.seg, at);
      if (d.opSize === 2) lo &= 0xffffff;
    }
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    if (cpu.mode === MODE_LONG64) {
      const t = (hi | 0) >> 15;
      if (t !== 0 && t !== -1) return FAULT_GP0;
    }
    cpu.views.set64(baseOff, lo >>> 0, hi >>> 0);
    cpu.u32[limitOff >> 2] = limit;
    return 0;
  };
}

function storeTableReg(baseOff: number, limitOff: number, leakBase: number): Handler {
  return (cpu, d) => {
    const s = sensitive(cpu);
    if (s > 1) return s;
    const ea = cpu.ea(d);
    const long = cpu.mode === MODE_LONG64;
    const size = long ? 8 : 4;
    cpu.probeWrite(d.seg, ea, 2 + size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const limit = s === 1 ? LEAK_TABLE_LIMIT : cpu.u32[limitOff >> 2];
    const lo = s === 1 ? leakBase : cpu.u32[baseOff >> 2];
    const hi = s === 1 ? (long ? -1 : 0) : cpu.u32[(baseOff >> 2) + 1];
    cpu.wr16(d.seg, ea, limit);
    cpu.wr(d.seg, offPlus(d.adSize, ea, 2), size, lo, hi);
    return cpu.mmu.fault;
  };
}

// ---- LDTR, TR, MSW --------------------------------------------------------------------------

/** SLDT/STR/SMSW to a register: the value zero-extended to the operand size. */
function storeToReg(cpu: Cpu, d: Decoded, value: number): number {
  cpu.setReg(d.rm, d.opSize, d.opSize === 2 ? value & 0xffff : value, 0);
  return 0;
}

const selectorOf = (cpu: Cpu, s: number): number => cpu.u32[(segOffset(s) + SEG_SELECTOR) >> 2] & 0xffff;

function storeSystemSelector(seg: number, leakValue: number, toReg: boolean): Handler {
  return (cpu, d) => {
    if (cpu.mode === MODE_REAL || cpu.mode === MODE_VM86) return FAULT_UD;
    const s = sensitive(cpu);
    if (s > 1) return s;
    const v = s === 1 ? leakValue : selectorOf(cpu, seg);
    if (toReg) return storeToReg(cpu, d, v);
    cpu.wr16(d.seg, cpu.ea(d), v);
    return cpu.mmu.fault;
  };
}

function smsw(toReg: boolean): Handler {
  return (cpu, d) => {
    const s = sensitive(cpu);
    if (s > 1) return s;
    // A deprivileged guest kernel under `leak` sees the monitor's CR0: paging and protection on.
    const cr0 = s === 1 ? 0x8005003b : cpu.u32[OFF_CR0 >> 2];
    if (toReg) return storeToReg(cpu, d, cr0);
    cpu.wr16(d.seg, cpu.ea(d), cr0);
    return cpu.mmu.fault;
  };
}

function loadSystemSelector(load: typeof loadLdtr): Handler {
  return (cpu, d) => {
    if (cpu.mode === MODE_REAL || cpu.mode === MODE_VM86) return FAULT_UD;
    if (cplOf(cpu) !== 0) return FAULT_GP0;
    const sel = cpu.readRm(d, 2);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    return load(cpu.ctx, sel);
  };
}

/** LMSW: loads CR0 bits 0..3; it can set PE but never clear it. */
const lmswEw: Handler = (cpu, d) => {
  if (!privileged(cpu)) return FAULT_GP0;
  const src = cpu.readRm(d, 2);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const cr0 = cpu.u32[OFF_CR0 >> 2];
  const v = (cr0 & ~0xe) | (src & 0xf) | (cr0 & 1);
  const f = writeCr0(cpu.ctx, v, 0);
  if (f !== 0) return f;
  cpu.refreshMode();
  return 0;
};

// ---- LAR / LSL / VERR / VERW / ARPL ----------------------------------------------------------

function setZf(cpu: Cpu, on: boolean): void {
  const f = getFlags(cpu.m);
  setFlags(cpu.m, on ? f | FLAG_ZF : f & ~FLAG_ZF);
}

/** System types LAR accepts (legacy / IA-32e), LSL accepts (legacy / IA-32e), bit per type. */
const LAR_LEGACY = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5) | (1 << 9) | (1 << 11) | (1 << 12);
const LAR_LONG = (1 << 2) | (1 << 9) | (1 << 11) | (1 << 12);
const LSL_LEGACY = (1 << 1) | (1 << 2) | (1 << 3) | (1 << 9) | (1 << 11);
const LSL_LONG = (1 << 2) | (1 << 9) | (1 << 11);

/**
 * Reads the descriptor of `sel` for LAR/LSL/VERR/VERW and applies the common checks. Returns
 * 1 (ok, descriptor in `desc`), 0 (ZF = 0 verdict) or a fault (from reading memory).
 */
function probeSelector(cpu: Cpu, sel: number, sysTypes: number): number {
  if ((sel & 0xfffc) === 0) return 0;
  const f = readDescriptor(cpu.ctx, sel, 0, false);
  if (f !== 0) return (f & 0xff) === 13 ? 0 : f; // beyond the table limit: a verdict, not a fault
  const attr = descAttr(desc.hi);
  if ((attr & ATTR_S) === 0) {
    if ((sysTypes & (1 << (attr & 0xf))) === 0) return 0;
  } else if ((attr & (TYPE_CODE | TYPE_EC)) === (TYPE_CODE | TYPE_EC)) {
    return 1; // conforming code: no privilege check
  }
  const dpl = attrDpl(attr);
  return dpl < cplOf(cpu) || dpl < (sel & 3) ? 0 : 1;
}

const isLong = (cpu: Cpu): boolean => (cpu.u32[OFF_EFER >> 2] & EFER_LMA) !== 0;

function larLsl(isLar: boolean): Handler {
  return (cpu, d) => {
    if (cpu.mode === MODE_REAL || cpu.mode === MODE_VM86) return FAULT_UD;
    const sel = cpu.readRm(d, 2);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const types = isLar ? (isLong(cpu) ? LAR_LONG : LAR_LEGACY) : isLong(cpu) ? LSL_LONG : LSL_LEGACY;
    const r = probeSelector(cpu, sel, types);
    if (r > 1) return r;
    if (r === 1) {
      const v = isLar ? desc.hi & 0x00f0ff00 : descLimit(desc.lo, desc.hi);
      cpu.setReg(d.reg, d.opSize, d.opSize === 2 ? v & 0xffff : v, 0);
    }
    setZf(cpu, r === 1);
    return 0;
  };
}

function verify(write: boolean): Handler {
  return (cpu, d) => {
    if (cpu.mode === MODE_REAL || cpu.mode === MODE_VM86) return FAULT_UD;
    const sel = cpu.readRm(d, 2);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    let r = probeSelector(cpu, sel, 0);
    if (r > 1) return r;
    if (r === 1) {
      const attr = descAttr(desc.hi);
      if ((attr & ATTR_S) === 0) r = 0;
      else if (write) r = (attr & TYPE_CODE) === 0 && (attr & TYPE_RW) !== 0 ? 1 : 0;
      else r = (attr & TYPE_CODE) === 0 || (attr & TYPE_RW) !== 0 ? 1 : 0;
    }
    setZf(cpu, r === 1);
    return 0;
  };
}

/** ARPL r/m16, r16: raises the destination's RPL to the source's (protected mode only). */
const arplEwGw: Handler = (cpu, d) => {
  if (cpu.mode === MODE_REAL || cpu.mode === MODE_VM86) return FAULT_UD;
  const dst = cpu.readRm(d, 2);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const src = cpu.r16(d.reg);
  if ((dst & 3) < (src & 3)) {
    cpu.writeRm(d, 2, (dst & ~3) | (src & 3), 0);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    setZf(cpu, true);
  } else {
    setZf(cpu, false);
  }
  return 0;
};

export const registerSystemDesc: Registrar = (h) => {
  h.set('lgdtMs', loadTableReg(OFF_GDTR_BASE, OFF_GDTR_LIMIT));
  h.set('lidtMs', loadTableReg(OFF_IDTR_BASE, OFF_IDTR_LIMIT));
  h.set('sgdtMs', storeTableReg(OFF_GDTR_BASE, OFF_GDTR_LIMIT, LEAK_GDT_BASE));
  h.set('sidtMs', storeTableReg(OFF_IDTR_BASE, OFF_IDTR_LIMIT, LEAK_IDT_BASE));
  h.set('sldtMw', storeSystemSelector(SEG_LDTR, LEAK_LDTR, false));
  h.set('sldtRv', storeSystemSelector(SEG_LDTR, LEAK_LDTR, true));
  h.set('strMw', storeSystemSelector(SEG_TR, LEAK_TR, false));
  h.set('strRv', storeSystemSelector(SEG_TR, LEAK_TR, true));
  h.set('smswMw', smsw(false));
  h.set('smswRv', smsw(true));
  h.set('lldtEw', loadSystemSelector(loadLdtr));
  h.set('ltrEw', loadSystemSelector(loadTr));
  h.set('lmswEw', lmswEw);
  h.set('larGvEw', larLsl(true));
  h.set('lslGvEw', larLsl(false));
  h.set('verrEw', verify(false));
  h.set('verwEw', verify(true));
  h.set('arplEwGw', arplEwGw);
};
