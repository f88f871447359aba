/**
 * The eight classic ALU operations (ADD OR ADC SBB AND SUB XOR CMP) in every form, TEST, INC, DEC,
 * NEG and NOT. Each computes its result first, writes the destination (which may fault), and only
 * then records the lazy flags, so a faulting instruction leaves flags and registers untouched.
 *
 * Sizes are in bytes (1, 2, 4, 8). 8/16/32-bit values are int32 masked to the size; 64-bit values
 * travel as (lo, hi) halves and the result's high half comes back in `cpu.hi`.
 */
import {
  IX_LF_AUX, IX_LF_DST, IX_LF_DST_HI, IX_LF_OP, IX_LF_RES, IX_LF_RES_HI, IX_LF_SRC, IX_LF_SRC_HI,
  LF_ADC, LF_ADD, LF_DEC, LF_INC, LF_LOGIC, LF_SBB, LF_SUB, lazyCF,
} from '../cpu/flags.js';
import type { Cpu, Decoded, Handler } from './cpu.js';

export const OP_ADD = 0;
export const OP_OR = 1;
export const OP_ADC = 2;
export const OP_SBB = 3;
export const OP_AND = 4;
export const OP_SUB = 5;
export const OP_XOR = 6;
export const OP_CMP = 7;

/** Size in bytes -> size index of a lazy tag. */
export const SZIDX = [0, 0, 1, 0, 2, 0, 0, 0, 3];
/** Size in bytes -> value mask (int32). */
export const SZMASK = [0, 0xff, 0xffff, 0, -1, 0, 0, 0, -1];
const LF_OF_OP = [LF_ADD, LF_LOGIC, LF_ADC, LF_SBB, LF_LOGIC, LF_SUB, LF_LOGIC, LF_SUB];

/**
 * a op b (with carry-in cin for ADC/SBB) at `size`; returns the low (masked) result, the high
 * half in cpu.hi for size 8. No side effects on flags.
 */
export function aluCompute(cpu: Cpu, op: number, size: number, a: number, aHi: number, b: number, bHi: number, cin: number): number {
  if (size !== 8) {
    const mask = SZMASK[size];
    switch (op) {
      case OP_ADD: return (a + b) & mask;
      case OP_OR: return (a | b) & mask;
      case OP_ADC: return (a + b + cin) & mask;
      case OP_SBB: return (a - b - cin) & mask;
      case OP_AND: return a & b & mask;
      case OP_XOR: return (a ^ b) & mask;
      default: return (a - b) & mask; // SUB, CMP
    }
  }
  let lo: number;
  switch (op) {
    case OP_ADD:
    case OP_ADC: {
      const s = (a >>> 0) + (b >>> 0) + (op === OP_ADC ? cin : 0);
      cpu.hi = (aHi + bHi + (s > 0xffffffff ? 1 : 0)) | 0;
      return s | 0;
    }
    case OP_OR: cpu.hi = aHi | bHi; return a | b;
    case OP_AND: cpu.hi = aHi & bHi; return a & b;
    case OP_XOR: cpu.hi = aHi ^ bHi; return a ^ b;
    default: {
      lo = (a >>> 0) - (b >>> 0) - (op === OP_SBB ? cin : 0);
      cpu.hi = (aHi - bHi - (lo < 0 ? 1 : 0)) | 0;
      return lo | 0;
    }
  }
}

/** Records the lazy flags of an ALU operation (after the destination was written). */
export function aluFlags(m: Int32Array, op: number, size: number, a: number, aHi: number, b: number, bHi: number, r: number, rHi: number, cin: number): void {
  m[IX_LF_OP] = (LF_OF_OP[op] << 2) | SZIDX[size];
  const mask = SZMASK[size];
  m[IX_LF_DST] = a & mask;
  m[IX_LF_SRC] = b & mask;
  m[IX_LF_RES] = r;
  m[IX_LF_AUX] = cin;
  if (size === 8) {
    m[IX_LF_DST_HI] = aHi;
    m[IX_LF_SRC_HI] = bHi;
    m[IX_LF_RES_HI] = rHi;
  }
}

/** Operand forms of the ALU rows. */
export const F_EG = 0; // Eb,Gb / Ev,Gv
export const F_GE = 1; // Gb,Eb / Gv,Ev
export const F_AI = 2; // AL,Ib / rAX,Iz
export const F_EI = 3; // Eb,Ib / Ev,Iz / Ev,Ibs

/**
 * Builds the handler of ALU operation `op` in form `form`; byte=true for the b-sized rows. The
 * 32/64-bit register and immediate forms without carry-in take a short path (the common case in
 * compiled code); everything else goes through the general one.
 */
export function makeAlu(op: number, form: number, byte: boolean): Handler {
  const general = makeAluGeneral(op, form, byte);
  if (byte || op === OP_ADC || op === OP_SBB) return general;
  const writes = op !== OP_CMP;
  const tag32 = (LF_OF_OP[op] << 2) | 2;
  return (cpu: Cpu, d: Decoded): number => {
    const size = d.opSize;
    if (size === 2 || (form !== F_AI && d.mod !== 3)) return general(cpu, d);
    const m = cpu.m;
    let dreg: number, b: number, bHi: number;
    if (form === F_GE) {
      dreg = d.reg;
      b = m[d.rm << 1];
      bHi = m[(d.rm << 1) + 1];
    } else {
      dreg = form === F_AI ? 0 : d.rm;
      if (form === F_EG) {
        b = m[d.reg << 1];
        bHi = m[(d.reg << 1) + 1];
      } else {
        b = d.imm;
        bHi = d.imm >> 31;
      }
    }
    const a = m[dreg << 1];
    if (size === 4) {
      let r: number;
      switch (op) {
        case OP_ADD: r = (a + b) | 0; break;
        case OP_OR: r = a | b; break;
        case OP_AND: r = a & b; break;
        case OP_XOR: r = a ^ b; break;
        default: r = (a - b) | 0; break;
      }
      if (writes) {
        m[dreg << 1] = r;
        m[(dreg << 1) + 1] = 0;
      }
      m[IX_LF_OP] = tag32;
      m[IX_LF_DST] = a;
      m[IX_LF_SRC] = b;
      m[IX_LF_RES] = r;
      return 0;
    }
    const aHi = m[(dreg << 1) + 1];
    let r: number, rHi: number;
    switch (op) {
      case OP_ADD: {
        const lo = (a >>> 0) + (b >>> 0);
        r = lo | 0;
        rHi = (aHi + bHi + (lo > 0xffffffff ? 1 : 0)) | 0;
        break;
      }
      case OP_OR: r = a | b; rHi = aHi | bHi; break;
      case OP_AND: r = a & b; rHi = aHi & bHi; break;
      case OP_XOR: r = a ^ b; rHi = aHi ^ bHi; break;
      default: {
        const lo = (a >>> 0) - (b >>> 0);
        r = lo | 0;
        rHi = (aHi - bHi - (lo < 0 ? 1 : 0)) | 0;
        break;
      }
    }
    if (writes) {
      m[dreg << 1] = r;
      m[(dreg << 1) + 1] = rHi;
    }
    m[IX_LF_OP] = tag32 + 1;
    m[IX_LF_DST] = a;
    m[IX_LF_DST_HI] = aHi;
    m[IX_LF_SRC] = b;
    m[IX_LF_SRC_HI] = bHi;
    m[IX_LF_RES] = r;
    m[IX_LF_RES_HI] = rHi;
    return 0;
  };
}

function makeAluGeneral(op: number, form: number, byte: boolean): Handler {
  const writes = op !== OP_CMP;
  const needCin = op === OP_ADC || op === OP_SBB;
  return (cpu: Cpu, d: Decoded): number => {
    const size = byte ? 1 : d.opSize;
    const m = cpu.m;
    let a: number, aHi = 0, b: number, bHi = 0;
    // source operand
    if (form === F_EG) {
      b = size === 1 ? cpu.r8(d.reg, d.rex) : cpu.reg(d.reg, size);
      if (size === 8) bHi = m[(d.reg << 1) + 1];
    } else if (form === F_GE) {
      b = cpu.readRm(d, size);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      bHi = cpu.hi;
    } else {
      b = d.imm;
      bHi = d.imm >> 31;
    }
    const cin = needCin ? lazyCF(m) : 0;
    // destination: a register (G, the accumulator, or E with mod 3) or memory
    let dreg = -1;
    if (form === F_GE) dreg = d.reg;
    else if (form === F_AI) dreg = 0;
    else if (d.mod === 3) dreg = d.rm;
    let r: number;
    if (dreg >= 0) {
      if (size === 1) a = form === F_AI ? cpu.u8[0] : cpu.r8(dreg, d.rex);
      else {
        a = cpu.reg(dreg, size);
        if (size === 8) aHi = m[(dreg << 1) + 1];
      }
      r = aluCompute(cpu, op, size, a, aHi, b, bHi, cin);
      const rHi = cpu.hi;
      if (writes) {
        if (size === 1) cpu.setR8(dreg, form === F_AI ? 0 : d.rex, r);
        else cpu.setReg(dreg, size, r, rHi);
      }
      aluFlags(m, op, size, a, aHi, b, bHi, r, rHi, cin);
      return 0;
    }
    const seg = d.seg;
    const off = cpu.ea(d);
    a = cpu.rd(seg, off, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    aHi = cpu.hi;
    r = aluCompute(cpu, op, size, a, aHi, b, bHi, cin);
    const rHi = cpu.hi;
    if (writes) {
      cpu.wr(seg, off, size, r, rHi);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    }
    aluFlags(m, op, size, a, aHi, b, bHi, r, rHi, cin);
    return 0;
  };
}

/** TEST: AND without a result. */
function makeTest(form: number, byte: boolean): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = byte ? 1 : d.opSize;
    let b: number, bHi: number;
    if (form === F_EG) {
      b = size === 1 ? cpu.r8(d.reg, d.rex) : cpu.reg(d.reg, size);
      bHi = cpu.m[(d.reg << 1) + 1];
    } else {
      b = d.imm;
      bHi = d.imm >> 31;
    }
    let a: number;
    if (form === F_AI) a = size === 1 ? cpu.u8[0] : cpu.reg(0, size);
    else a = cpu.readRm(d, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const aHi = form === F_AI ? cpu.m[1] : cpu.hi;
    const r = a & b & SZMASK[size];
    aluFlags(cpu.m, OP_AND, size, a, aHi, b, bHi, r, aHi & bHi, 0);
    return 0;
  };
}

/** Reads the E operand for a one-operand read-modify-write (INC/DEC/NEG/NOT); returns 0 or a fault. */
function unary(cpu: Cpu, d: Decoded, size: number, kind: number): number {
  const m = cpu.m;
  let a: number, aHi = 0, seg = 0, off = 0;
  const isReg = d.mod === 3;
  if (isReg) {
    a = size === 1 ? cpu.r8(d.rm, d.rex) : cpu.reg(d.rm, size);
    if (size === 8) aHi = m[(d.rm << 1) + 1];
  } else {
    seg = d.seg;
    off = cpu.ea(d);
    a = cpu.rd(seg, off, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    aHi = cpu.hi;
  }
  let r: number, rHi = 0;
  const mask = SZMASK[size];
  switch (kind) {
    case 0: // inc
      r = aluCompute(cpu, OP_ADD, size, a, aHi, 1, 0, 0);
      rHi = cpu.hi;
      break;
    case 1: // dec
      r = aluCompute(cpu, OP_SUB, size, a, aHi, 1, 0, 0);
      rHi = cpu.hi;
      break;
    case 2: // neg
      r = aluCompute(cpu, OP_SUB, size, 0, 0, a, aHi, 0);
      rHi = cpu.hi;
      break;
    default: // not
      r = ~a & mask;
      rHi = ~aHi;
      break;
  }
  if (isReg) {
    if (size === 1) cpu.setR8(d.rm, d.rex, r);
    else cpu.setReg(d.rm, size, r, rHi);
  } else {
    cpu.wr(seg, off, size, r, rHi);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  }
  if (kind <= 1) {
    const cf = lazyCF(m);
    m[IX_LF_OP] = ((kind === 0 ? LF_INC : LF_DEC) << 2) | SZIDX[size];
    m[IX_LF_DST] = a & mask;
    m[IX_LF_DST_HI] = aHi;
    m[IX_LF_SRC] = 1;
    m[IX_LF_SRC_HI] = 0;
    m[IX_LF_RES] = r;
    m[IX_LF_RES_HI] = rHi;
    m[IX_LF_AUX] = cf;
  } else if (kind === 2) {
    aluFlags(m, OP_SUB, size, 0, 0, a, aHi, r, rHi, 0);
  }
  return 0;
}

/** INC/DEC r16/r32 (40+r / 48+r, 16/32-bit modes only). */
function incDecZv(kind: number): Handler {
  return (cpu: Cpu, d: Decoded): number => {
    const size = d.opSize;
    const m = cpu.m;
    const a = cpu.reg(d.rm, size);
    const r = (kind === 0 ? a + 1 : a - 1) & SZMASK[size];
    const cf = lazyCF(m);
    cpu.setReg(d.rm, size, r, 0);
    m[IX_LF_OP] = ((kind === 0 ? LF_INC : LF_DEC) << 2) | SZIDX[size];
    m[IX_LF_DST] = a & SZMASK[size];
    m[IX_LF_SRC] = 1;
    m[IX_LF_RES] = r;
    m[IX_LF_AUX] = cf;
    return 0;
  };
}

const ALU_NAMES = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

/** Registers every handler of this file under its table name. */
export function registerAlu(h: Map<string, Handler>): void {
  for (let op = 0; op < 8; op++) {
    const n = ALU_NAMES[op];
    h.set(`${n}EbGb`, makeAlu(op, F_EG, true));
    h.set(`${n}EvGv`, makeAlu(op, F_EG, false));
    h.set(`${n}GbEb`, makeAlu(op, F_GE, true));
    h.set(`${n}GvEv`, makeAlu(op, F_GE, false));
    h.set(`${n}ALIb`, makeAlu(op, F_AI, true));
    h.set(`${n}rAXIz`, makeAlu(op, F_AI, false));
    h.set(`${n}EbIb`, makeAlu(op, F_EI, true));
    h.set(`${n}EvIz`, makeAlu(op, F_EI, false));
    h.set(`${n}EvIbs`, makeAlu(op, F_EI, false));
    h.set(`${n}EvIb`, makeAlu(op, F_EI, false)); // the table names Ibs rows ...Ib
  }
  h.set('testEbGb', makeTest(F_EG, true));
  h.set('testEvGv', makeTest(F_EG, false));
  h.set('testALIb', makeTest(F_AI, true));
  h.set('testrAXIz', makeTest(F_AI, false));
  h.set('testEbIb', makeTest(F_EI, true));
  h.set('testEvIz', makeTest(F_EI, false));
  h.set('incEb', (cpu, d) => unary(cpu, d, 1, 0));
  h.set('incEv', (cpu, d) => unary(cpu, d, d.opSize, 0));
  h.set('decEb', (cpu, d) => unary(cpu, d, 1, 1));
  h.set('decEv', (cpu, d) => unary(cpu, d, d.opSize, 1));
  h.set('negEb', (cpu, d) => unary(cpu, d, 1, 2));
  h.set('negEv', (cpu, d) => unary(cpu, d, d.opSize, 2));
  h.set('notEb', (cpu, d) => unary(cpu, d, 1, 3));
  h.set('notEv', (cpu, d) => unary(cpu, d, d.opSize, 3));
  h.set('incZv', incDecZv(0));
  h.set('decZv', incDecZv(1));
}
