/**
 * Stack instructions: PUSH/POP in every general-purpose form and size, PUSH of a segment register,
 * PUSHA/POPA, ENTER/LEAVE, PUSHF/POPF (user-mode rules: IF changes only when CPL <= IOPL, IOPL only
 * at CPL 0; VM86 with IOPL < 3 is #GP(0)). Every push and pop moves rSP only after its memory access
 * succeeded, so a faulting one can be restarted.
 */
import {
  FLAG_AC, FLAG_AF, FLAG_CF, FLAG_DF, FLAG_FIXED1, FLAG_ID, FLAG_IF, FLAG_IOPL, FLAG_NT, FLAG_OF, FLAG_PF,
  FLAG_RF, FLAG_SF, FLAG_TF, FLAG_VM, FLAG_ZF, MODE_VM86, OFF_CPL, SEG_SS, segOffset,
} from '../cpu/state.js';
import { FAULT_GP0 } from '../cpu/fault.js';
import { getFlags, setFlags } from '../cpu/flags.js';
import type { Handler } from './cpu.js';

const TWO32 = 4294967296;

const pushZv: Handler = (cpu, d) => {
  const size = d.opSize;
  return cpu.push(size, cpu.reg(d.rm, size), cpu.m[(d.rm << 1) + 1]);
};

const popZv: Handler = (cpu, d) => {
  const size = d.opSize;
  const v = cpu.peek(size, 0);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const hi = cpu.hi;
  cpu.addSp(size);
  cpu.setReg(d.rm, size, v, hi); // POP rSP: the popped value wins over the increment
  return 0;
};

const pushImm: Handler = (cpu, d) => cpu.push(d.opSize, d.imm, d.imm >> 31);

const pushEv: Handler = (cpu, d) => {
  const size = d.opSize;
  const v = cpu.readRm(d, size);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  return cpu.push(size, v, cpu.hi);
};

/** POP Ev: a destination addressed through rSP uses rSP after the increment. */
const popEv: Handler = (cpu, d) => {
  const size = d.opSize;
  const v = cpu.peek(size, 0);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const hi = cpu.hi;
  if (d.mod === 3) {
    cpu.addSp(size);
    cpu.setReg(d.rm, size, v, hi);
    return 0;
  }
  const m = cpu.m;
  const spLo = m[8], spHi = m[9];
  cpu.addSp(size);
  cpu.wr(d.seg, cpu.ea(d), size, v, hi);
  if (cpu.mmu.fault !== 0) {
    m[8] = spLo;
    m[9] = spHi;
    return cpu.mmu.fault;
  }
  return 0;
};

/** PUSH Sreg: modern processors write only the selector's 16 bits into the slot. */
function pushSeg(s: number): Handler {
  return (cpu, d) => {
    const size = d.opSize;
    const sel = cpu.u16[(segOffset(s) >> 1)];
    const off = cpu.spPlus(-size);
    cpu.wr16(SEG_SS, off, sel);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    if (size > 2) {
      // the whole slot must be writable even though only its low word is stored
      cpu.probeWrite(SEG_SS, off, size);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    }
    cpu.setSp(off);
    return 0;
  };
}

const pusha: Handler = (cpu, d) => {
  const size = d.opSize;
  const sp = cpu.reg(4, size);
  const base = cpu.spPlus(-8 * size);
  // Stores go one by one, as on hardware: a fault part-way leaves the earlier ones in memory but
  // rSP unchanged, so the instruction still restarts correctly.
  for (let r = 0; r < 8; r++) {
    const v = r === 4 ? sp : cpu.reg(r, size);
    const off = cpu.spPlus(-(r + 1) * size);
    cpu.wr(SEG_SS, off, size, v, 0);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  }
  cpu.setSp(base);
  return 0;
};

const popa: Handler = (cpu, d) => {
  const size = d.opSize;
  const vals = POPA_TMP;
  for (let r = 7; r >= 0; r--) {
    vals[r] = cpu.peek(size, (7 - r) * size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  }
  for (let r = 0; r < 8; r++) if (r !== 4) cpu.setReg(r, size, vals[r], 0);
  cpu.addSp(8 * size);
  return 0;
};
const POPA_TMP = new Int32Array(8);

/** ENTER Iw, Ib: frame of imm bytes, nesting level imm2 (mod 32). */
const enter: Handler = (cpu, d) => {
  const size = d.opSize;
  const ss = cpu.stackSize();
  const m = cpu.m;
  const level = d.imm2 & 31;
  const alloc = d.imm & 0xffff;
  // Stores go one by one as on hardware; rBP and rSP change only at the end (restartable).
  const bp = cpu.reg(5, size), bpHi = m[11];
  let off = cpu.spPlus(-size);
  cpu.wr(SEG_SS, off, size, bp, bpHi);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const frame = off;
  if (level > 0) {
    let p = ss === 8 ? m[11] * TWO32 + (m[10] >>> 0) : ss === 4 ? m[10] >>> 0 : cpu.u16[20];
    for (let i = 1; i < level; i++) {
      p = ss === 8 ? p - size : ss === 4 ? (p - size) >>> 0 : (p - size) & 0xffff;
      const v = cpu.rd(SEG_SS, p, size);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      const vHi = cpu.hi;
      off = ss === 8 ? off - size : ss === 4 ? (off - size) >>> 0 : (off - size) & 0xffff;
      cpu.wr(SEG_SS, off, size, v, vHi);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    }
    off = ss === 8 ? off - size : ss === 4 ? (off - size) >>> 0 : (off - size) & 0xffff;
    cpu.wr(SEG_SS, off, size, frame | 0, Math.floor(frame / TWO32) | 0);
  }
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  // rBP = frame (of the operand size), rSP = the last push - alloc
  cpu.setReg(5, size, size === 2 ? frame & 0xffff : frame | 0, Math.floor(frame / TWO32) | 0);
  cpu.setSp(ss === 8 ? off - alloc : ss === 4 ? (off - alloc) >>> 0 : (off - alloc) & 0xffff);
  return 0;
};

/** LEAVE: rSP = rBP (of the stack size), then pop rBP. */
const leave: Handler = (cpu, d) => {
  const size = d.opSize;
  const ss = cpu.stackSize();
  const m = cpu.m;
  const bp = ss === 8 ? m[11] * TWO32 + (m[10] >>> 0) : ss === 4 ? m[10] >>> 0 : cpu.u16[20];
  const v = cpu.rd(SEG_SS, bp, size);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const hi = cpu.hi;
  cpu.setSp(ss === 8 ? bp + size : ss === 4 ? (bp + size) >>> 0 : (bp + size) & 0xffff);
  cpu.setReg(5, size, v, hi);
  return 0;
};

/** PUSHF: the image has VM and RF clear. */
const pushf: Handler = (cpu, d) => {
  const f = getFlags(cpu.m);
  if (cpu.mode === MODE_VM86 && (f & FLAG_IOPL) !== FLAG_IOPL) return FAULT_GP0;
  return cpu.push(d.opSize, f & ~(FLAG_VM | FLAG_RF), 0);
};

const POPF_ALWAYS = FLAG_CF | FLAG_PF | FLAG_AF | FLAG_ZF | FLAG_SF | FLAG_TF | FLAG_DF | FLAG_OF | FLAG_NT | FLAG_AC | FLAG_ID;

const popf: Handler = (cpu, d) => {
  const m = cpu.m;
  const size = d.opSize;
  const old = getFlags(m);
  const iopl = (old & FLAG_IOPL) >> 12;
  if (cpu.mode === MODE_VM86 && iopl !== 3) return FAULT_GP0;
  const v = cpu.peek(size, 0);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const cpl = cpu.u32[OFF_CPL >> 2];
  let mask = POPF_ALWAYS;
  if (cpl <= iopl) mask |= FLAG_IF;
  if (cpl === 0 && cpu.mode !== MODE_VM86) mask |= FLAG_IOPL;
  if (size === 2) mask &= 0xffff;
  cpu.addSp(size);
  setFlags(m, ((old & ~mask) | (v & mask) | FLAG_FIXED1) & ~FLAG_RF);
  return 0;
};

export function registerStack(h: Map<string, Handler>): void {
  h.set('pushZv', pushZv);
  h.set('popZv', popZv);
  h.set('pushIz', pushImm);
  h.set('pushIbs', pushImm);
  h.set('pushIb', pushImm);
  h.set('pushEv', pushEv);
  h.set('popEv', popEv);
  h.set('pushES', pushSeg(0));
  h.set('pushCS', pushSeg(1));
  h.set('pushSS', pushSeg(2));
  h.set('pushDS', pushSeg(3));
  h.set('pushFS', pushSeg(4));
  h.set('pushGS', pushSeg(5));
  h.set('pusha', pusha);
  h.set('popa', popa);
  h.set('enterIwIb', enter);
  h.set('leave', leave);
  h.set('pushf', pushf);
  h.set('popf', popf);
}
