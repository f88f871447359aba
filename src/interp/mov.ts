/**
 * Data movement: MOV in its general-purpose forms, MOVZX/MOVSX/MOVSXD, XCHG, CMPXCHG, CMPXCHG8B/16B,
 * XADD, BSWAP, LEA, CMOVcc, SETcc, XLAT, the sign extensions CBW..CQO, and the flag moves
 * (CLC STC CMC CLD STD LAHF SAHF) and NOP forms. LOCK needs nothing: ringvm is single-threaded,
 * so every read-modify-write is already atomic.
 */
import {
  FLAG_AF, FLAG_CF, FLAG_DF, FLAG_FIXED1, FLAG_PF, FLAG_SF, FLAG_ZF,
} from '../cpu/state.js';
import { FAULT, FAULT_UD, FAULT_GP0, VEC_BR } from '../cpu/fault.js';
import { IX_FLAGS, getFlags, setFlags, testCond } from '../cpu/flags.js';
import { OP_ADD, OP_CMP, SZMASK, aluCompute, aluFlags } from './alu.js';
import type { Cpu, Handler } from './cpu.js';

const TWO32 = 4294967296;

export function movEG(byte: boolean): Handler {
  return (cpu, d) => {
    if (byte) {
      const v = cpu.r8(d.reg, d.rex);
      if (d.mod === 3) cpu.setR8(d.rm, d.rex, v);
      else cpu.wr8(d.seg, cpu.ea(d), v);
    } else {
      const size = d.opSize;
      const m = cpu.m;
      const v = size === 2 ? cpu.u16[d.reg << 2] : m[d.reg << 1];
      const hi = m[(d.reg << 1) + 1];
      if (d.mod === 3) cpu.setReg(d.rm, size, v, hi);
      else cpu.wr(d.seg, cpu.ea(d), size, v, hi);
    }
    return cpu.mmu.fault;
  };
}

export function movGE(byte: boolean): Handler {
  return (cpu, d) => {
    if (byte) {
      const v = cpu.readRm(d, 1);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      cpu.setR8(d.reg, d.rex, v);
      return 0;
    }
    const size = d.opSize;
    if (d.mod === 3) {
      const m = cpu.m;
      if (size === 2) cpu.u16[d.reg << 2] = cpu.u16[d.rm << 2];
      else {
        m[d.reg << 1] = m[d.rm << 1];
        m[(d.reg << 1) + 1] = size === 8 ? m[(d.rm << 1) + 1] : 0;
      }
      return 0;
    }
    const off = cpu.ea(d);
    if (size === 4) {
      const v = cpu.rd32(d.seg, off);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      cpu.m[d.reg << 1] = v;
      cpu.m[(d.reg << 1) + 1] = 0;
      return 0;
    }
    const v = cpu.rd(d.seg, off, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    cpu.setReg(d.reg, size, v, cpu.hi);
    return 0;
  };
}

/** MOV to the r/m operand from an immediate (C6/C7) or to a register from one (B0+r/B8+r). */
function movEI(byte: boolean): Handler {
  return (cpu, d) => {
    const size = byte ? 1 : d.opSize;
    cpu.writeRm(d, size, d.imm, d.imm >> 31);
    return cpu.mmu.fault;
  };
}

/** MOVZX/MOVSX Gv from Eb/Ew; MOVSXD Gv from Ed. */
function movExt(srcSize: number, signed: boolean): Handler {
  return (cpu, d) => {
    let v = cpu.readRm(d, srcSize);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    if (signed) v = srcSize === 1 ? (v << 24) >> 24 : srcSize === 2 ? (v << 16) >> 16 : v | 0;
    cpu.setReg(d.reg, d.opSize, d.opSize === 2 ? v & 0xffff : v, v >> 31);
    return 0;
  };
}

function xchgEG(byte: boolean): Handler {
  return (cpu, d) => {
    const size = byte ? 1 : d.opSize;
    const m = cpu.m;
    const a = cpu.readRm(d, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const aHi = cpu.hi;
    const b = byte ? cpu.r8(d.reg, d.rex) : cpu.reg(d.reg, size);
    const bHi = m[(d.reg << 1) + 1];
    cpu.writeRm(d, size, b, bHi);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    if (byte) cpu.setR8(d.reg, d.rex, a);
    else cpu.setReg(d.reg, size, a, aHi);
    return 0;
  };
}

/** 90+r: XCHG rAX, r (the plain 90 is NOP; with REX.B it is XCHG rAX, r8). */
const xchgZvrAX: Handler = (cpu, d) => {
  const size = d.opSize;
  const m = cpu.m;
  const a = cpu.reg(0, size), aHi = m[1];
  const b = cpu.reg(d.rm, size), bHi = m[(d.rm << 1) + 1];
  cpu.setReg(0, size, b, bHi);
  cpu.setReg(d.rm, size, a, aHi);
  return 0;
};

/** CMPXCHG: compare the accumulator with E; equal: E = G, else accumulator = E. Flags of CMP. */
function cmpxchg(byte: boolean): Handler {
  return (cpu, d) => {
    const size = byte ? 1 : d.opSize;
    const m = cpu.m;
    const mask = SZMASK[size];
    const seg = d.seg;
    const off = d.mod === 3 ? 0 : cpu.ea(d);
    const dst = d.mod === 3 ? (byte ? cpu.r8(d.rm, d.rex) : cpu.reg(d.rm, size)) : cpu.rd(seg, off, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const dstHi = d.mod === 3 ? m[(d.rm << 1) + 1] : cpu.hi;
    const acc = (byte ? cpu.u8[0] : cpu.reg(0, size)) & mask;
    const accHi = m[1];
    const r = aluCompute(cpu, OP_CMP, size, acc, accHi, dst, dstHi, 0);
    const rHi = cpu.hi;
    const equal = (acc & mask) === (dst & mask) && (size !== 8 || accHi === dstHi);
    if (equal) {
      const src = byte ? cpu.r8(d.reg, d.rex) : cpu.reg(d.reg, size);
      if (d.mod === 3) {
        if (byte) cpu.setR8(d.rm, d.rex, src);
        else cpu.setReg(d.rm, size, src, m[(d.reg << 1) + 1]);
      } else {
        cpu.wr(seg, off, size, src, m[(d.reg << 1) + 1]);
        if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      }
    } else {
      // The destination is written back with its own value (the processor always writes).
      if (d.mod !== 3) {
        cpu.wr(seg, off, size, dst, dstHi);
        if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      }
      if (byte) cpu.u8[0] = dst;
      else cpu.setReg(0, size, dst, dstHi);
    }
    aluFlags(m, OP_CMP, size, acc, accHi, dst, dstHi, r, rHi, 0);
    return 0;
  };
}

/** CMPXCHG8B m64 / CMPXCHG16B m128 (REX.W): compare EDX:EAX (RDX:RAX) with memory; ZF says equal. */
const cmpxchg8b: Handler = (cpu, d) => {
  const m = cpu.m;
  if (d.mod === 3) return FAULT_UD;
  const seg = d.seg;
  const off = cpu.ea(d);
  if (d.opSize === 8) {
    if (((d.adSize === 8 ? cpu.eaLo : off) & 15) !== 0) return FAULT_GP0;
    const a0 = cpu.rd64(seg, off), a1 = cpu.hi;
    const b0 = cpu.rd64(seg, off + 8), b1 = cpu.hi;
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const eq = a0 === m[0] && a1 === m[1] && b0 === m[4] && b1 === m[5];
    if (eq) {
      cpu.probeWrite(seg, off, 16);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      cpu.wr64(seg, off, m[6], m[7]);
      cpu.wr64(seg, off + 8, m[2], m[3]);
    } else {
      cpu.probeWrite(seg, off, 16);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      m[0] = a0; m[1] = a1; m[4] = b0; m[5] = b1;
    }
    setZF(cpu, eq);
    return 0;
  }
  const lo = cpu.rd32(seg, off), hi = cpu.rd32(seg, off + 4);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const eq = lo === m[0] && hi === m[4];
  if (eq) {
    cpu.wr64(seg, off, m[6], m[2]);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  } else {
    cpu.wr64(seg, off, lo, hi);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    cpu.setR32(0, lo);
    cpu.setR32(2, hi);
  }
  setZF(cpu, eq);
  return 0;
};

function setZF(cpu: Cpu, on: boolean): void {
  const f = getFlags(cpu.m);
  setFlags(cpu.m, on ? f | FLAG_ZF : f & ~FLAG_ZF);
}

/** XADD: E = E + G, G = old E; flags of ADD. */
function xadd(byte: boolean): Handler {
  return (cpu, d) => {
    const size = byte ? 1 : d.opSize;
    const m = cpu.m;
    const seg = d.seg;
    const off = d.mod === 3 ? 0 : cpu.ea(d);
    const a = d.mod === 3 ? (byte ? cpu.r8(d.rm, d.rex) : cpu.reg(d.rm, size)) : cpu.rd(seg, off, size);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    const aHi = d.mod === 3 ? m[(d.rm << 1) + 1] : cpu.hi;
    const b = byte ? cpu.r8(d.reg, d.rex) : cpu.reg(d.reg, size);
    const bHi = m[(d.reg << 1) + 1];
    const r = aluCompute(cpu, OP_ADD, size, a, aHi, b, bHi, 0);
    const rHi = cpu.hi;
    if (d.mod !== 3) {
      cpu.wr(seg, off, size, r, rHi);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    }
    if (byte) cpu.setR8(d.reg, d.rex, a);
    else cpu.setReg(d.reg, size, a, aHi);
    if (d.mod === 3) {
      if (byte) cpu.setR8(d.rm, d.rex, r);
      else cpu.setReg(d.rm, size, r, rHi);
    }
    aluFlags(m, OP_ADD, size, a, aHi, b, bHi, r, rHi, 0);
    return 0;
  };
}

const bswap: Handler = (cpu, d) => {
  const m = cpu.m;
  const r = d.rm;
  const sw = (x: number): number => ((x >>> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) | 0;
  if (d.opSize === 8) {
    const lo = m[r << 1], hi = m[(r << 1) + 1];
    m[r << 1] = sw(hi);
    m[(r << 1) + 1] = sw(lo);
  } else if (d.opSize === 4) cpu.setR32(r, sw(m[r << 1]));
  else cpu.u16[r << 2] = 0; // BSWAP r16 is undefined; hardware gives 0
  return 0;
};

/** LEA: the effective address, truncated or zero-extended to the operand size. */
const lea: Handler = (cpu, d) => {
  if (d.mod === 3) return FAULT_UD;
  const off = cpu.ea(d);
  const lo = d.adSize === 8 ? cpu.eaLo : off | 0;
  const hi = d.adSize === 8 ? cpu.eaHi : 0;
  cpu.setReg(d.reg, d.opSize, d.opSize === 2 ? lo & 0xffff : lo, hi);
  return 0;
};

/** CMOVcc: the source is read (and may fault) even when the condition is false. */
const cmovcc: Handler = (cpu, d) => {
  const size = d.opSize;
  const v = cpu.readRm(d, size);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  if (testCond(cpu.m, d.cond)) cpu.setReg(d.reg, size, v, cpu.hi);
  else if (size === 4) cpu.m[(d.reg << 1) + 1] = 0; // a 32-bit CMOV zero-extends even when false
  return 0;
};

const setcc: Handler = (cpu, d) => {
  cpu.writeRm(d, 1, testCond(cpu.m, d.cond) ? 1 : 0, 0);
  return cpu.mmu.fault;
};

/** XLAT: AL = [seg:rBX + zero-extended AL]. */
const xlatb: Handler = (cpu, d) => {
  const m = cpu.m;
  let off: number;
  if (d.adSize === 8) off = m[7] * TWO32 + (m[6] >>> 0) + cpu.u8[0];
  else if (d.adSize === 4) off = (m[6] + cpu.u8[0]) >>> 0;
  else off = (cpu.u16[12] + cpu.u8[0]) & 0xffff;
  const v = cpu.rd8(d.seg, off);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  cpu.u8[0] = v;
  return 0;
};

/** CBW/CWDE/CDQE: sign-extend the lower half of the accumulator into the whole. */
const cbw: Handler = (cpu, d) => {
  const m = cpu.m;
  if (d.opSize === 2) cpu.u16[0] = (cpu.u8[0] << 24) >> 24;
  else if (d.opSize === 4) cpu.setR32(0, (cpu.u16[0] << 16) >> 16);
  else m[1] = m[0] >> 31;
  return 0;
};

/** CWD/CDQ/CQO: rDX = the sign of rAX. */
const cwd: Handler = (cpu, d) => {
  const m = cpu.m;
  if (d.opSize === 2) cpu.u16[8] = (cpu.u16[0] & 0x8000) !== 0 ? 0xffff : 0;
  else if (d.opSize === 4) cpu.setR32(2, m[0] >> 31);
  else {
    m[4] = m[1] >> 31;
    m[5] = m[1] >> 31;
  }
  return 0;
};

/** Sets (on) or clears the given RFLAGS bits. */
function flagOp(bit: number, how: number): Handler {
  return (cpu) => {
    const m = cpu.m;
    if (bit === FLAG_DF) {
      m[IX_FLAGS] = how === 0 ? m[IX_FLAGS] & ~bit : m[IX_FLAGS] | bit;
      return 0;
    }
    const f = getFlags(m);
    setFlags(m, how === 0 ? f & ~bit : how === 1 ? f | bit : f ^ bit);
    return 0;
  };
}

const LAHF_MASK = FLAG_SF | FLAG_ZF | FLAG_AF | FLAG_PF | FLAG_CF;

const lahf: Handler = (cpu) => {
  cpu.u8[1] = (getFlags(cpu.m) & LAHF_MASK) | FLAG_FIXED1;
  return 0;
};

const sahf: Handler = (cpu) => {
  const m = cpu.m;
  const f = getFlags(m);
  setFlags(m, (f & ~LAHF_MASK) | (cpu.u8[1] & LAHF_MASK));
  return 0;
};

/** SALC (undocumented, D6): AL = CF ? 0xFF : 0. */
const salc: Handler = (cpu) => {
  cpu.u8[0] = (getFlags(cpu.m) & FLAG_CF) !== 0 ? 0xff : 0;
  return 0;
};

const nop: Handler = () => 0;
/** Multi-byte NOP and hint forms: the memory operand is not accessed. */
const ud: Handler = () => FAULT_UD;

/** BOUND: #BR unless lower <= G <= upper (signed), both bounds read from memory. */
const bound: Handler = (cpu, d) => {
  if (d.mod === 3) return FAULT_UD;
  const size = d.opSize;
  const off = cpu.ea(d);
  const lo = size === 2 ? (cpu.rd16(d.seg, off) << 16) >> 16 : cpu.rd32(d.seg, off);
  const up = size === 2 ? (cpu.rd16(d.seg, off + 2) << 16) >> 16 : cpu.rd32(d.seg, off + 4);
  if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
  const v = size === 2 ? (cpu.u16[d.reg << 2] << 16) >> 16 : cpu.m[d.reg << 1];
  return v < lo || v > up ? FAULT | VEC_BR : 0;
};

/** MOVBE: a load or store with the bytes reversed. */
function movbe(toReg: boolean): Handler {
  return (cpu, d) => {
    const size = d.opSize;
    const sw32 = (x: number): number => ((x >>> 24) | ((x >> 8) & 0xff00) | ((x << 8) & 0xff0000) | (x << 24)) | 0;
    const seg = d.seg;
    const off = cpu.ea(d);
    if (toReg) {
      const v = cpu.rd(seg, off, size);
      if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
      if (size === 2) cpu.u16[d.reg << 2] = ((v & 0xff) << 8) | ((v >> 8) & 0xff);
      else if (size === 4) cpu.setR32(d.reg, sw32(v));
      else cpu.setR64(d.reg, sw32(cpu.hi), sw32(v));
      return 0;
    }
    const m = cpu.m;
    const v = m[d.reg << 1];
    if (size === 2) cpu.wr16(seg, off, ((v & 0xff) << 8) | ((v >> 8) & 0xff));
    else if (size === 4) cpu.wr32(seg, off, sw32(v));
    else cpu.wr64(seg, off, sw32(m[(d.reg << 1) + 1]), sw32(v));
    return cpu.mmu.fault;
  };
}

export function registerMov(h: Map<string, Handler>): void {
  h.set('movEbGb', movEG(true));
  h.set('movEvGv', movEG(false));
  h.set('movGbEb', movGE(true));
  h.set('movGvEv', movGE(false));
  h.set('movEbIb', movEI(true));
  h.set('movEvIz', movEI(false));
  h.set('movZbIb', (cpu, d) => {
    cpu.setR8(d.rm, d.rex, d.imm);
    return 0;
  });
  h.set('movZvIv', (cpu, d) => {
    cpu.setReg(d.rm, d.opSize, d.imm, d.immHi);
    return 0;
  });
  // moffs forms: the decoder leaves base/index at -1 and puts the address in disp/dispHi.
  h.set('movALOb', (cpu, d) => {
    const v = cpu.rd8(d.seg, cpu.ea(d));
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    cpu.u8[0] = v;
    return 0;
  });
  h.set('movrAXOv', (cpu, d) => {
    const v = cpu.rd(d.seg, cpu.ea(d), d.opSize);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    cpu.setReg(0, d.opSize, v, cpu.hi);
    return 0;
  });
  h.set('movObAL', (cpu, d) => {
    cpu.wr8(d.seg, cpu.ea(d), cpu.u8[0]);
    return cpu.mmu.fault;
  });
  h.set('movOvrAX', (cpu, d) => {
    cpu.wr(d.seg, cpu.ea(d), d.opSize, cpu.m[0], cpu.m[1]);
    return cpu.mmu.fault;
  });
  h.set('movzxGvEb', movExt(1, false));
  h.set('movzxGvEw', movExt(2, false));
  h.set('movsxGvEb', movExt(1, true));
  h.set('movsxGvEw', movExt(2, true));
  h.set('movsxdGvEd', (cpu, d) => {
    const v = cpu.readRm(d, 4);
    if (cpu.mmu.fault !== 0) return cpu.mmu.fault;
    cpu.setReg(d.reg, d.opSize, d.opSize === 2 ? v & 0xffff : v, v >> 31);
    return 0;
  });
  h.set('xchgEbGb', xchgEG(true));
  h.set('xchgEvGv', xchgEG(false));
  h.set('xchgZvrAX', xchgZvrAX);
  h.set('cmpxchgEbGb', cmpxchg(true));
  h.set('cmpxchgEvGv', cmpxchg(false));
  h.set('cmpxchg8b', cmpxchg8b);
  h.set('xaddEbGb', xadd(true));
  h.set('xaddEvGv', xadd(false));
  h.set('bswapZv', bswap);
  h.set('leaGvM', lea);
  h.set('cmovccGvEv', cmovcc);
  h.set('setccEb', setcc);
  h.set('xlatb', xlatb);
  h.set('cbw', cbw);
  h.set('cwd', cwd);
  h.set('clc', flagOp(FLAG_CF, 0));
  h.set('stc', flagOp(FLAG_CF, 1));
  h.set('cmc', flagOp(FLAG_CF, 2));
  h.set('cld', flagOp(FLAG_DF, 0));
  h.set('std', flagOp(FLAG_DF, 1));
  h.set('lahf', lahf);
  h.set('sahf', sahf);
  h.set('salc', salc);
  h.set('nop', nop);
  // F3 90 with REX.B is XCHG r8, rAX, not PAUSE (the decoder picks the PAUSE row for it).
  h.set('pause', (cpu, d) => {
    if ((d.rex & 1) === 0) return 0;
    const size = d.opSize;
    const m = cpu.m;
    const a = cpu.reg(0, size), aHi = m[1];
    cpu.setReg(0, size, cpu.reg(8, size), m[17]);
    cpu.setReg(8, size, a, aHi);
    return 0;
  });
  h.set('nopEv', nop);
  h.set('nopEvGv', nop);
  h.set('prefetchExclusiveMb', nop);
  h.set('prefetchwMb', nop);
  h.set('ud2', ud);
  h.set('ud1GvEv', ud);
  h.set('ud0GvEv', ud);
  for (const n of ['prefetchwt1Mb', 'prefetchReservedMb', 'prefetchit1Mb', 'prefetchit0Mb', 'cldemoteMb',
    'prefetchntaMb', 'prefetcht0Mb', 'prefetcht1Mb', 'prefetcht2Mb', 'lfence', 'mfence', 'sfence',
    'serialize']) h.set(n, nop);
  // Cache-line flushes have no effect here but are checked as a byte read (SDM CLFLUSH): #GP/#SS
  // beyond a limit or non-canonical, #PF on a page that is not readable. Prefetches never fault.
  const flush: Handler = (cpu, d) => {
    cpu.rd(d.seg, cpu.ea(d), 1);
    return cpu.mmu.fault;
  };
  for (const n of ['clflushMb', 'clwbMb', 'clflushoptMb']) h.set(n, flush);
  h.set('xabortIb', ud);
  h.set('xbeginJz', ud);
  h.set('xend', ud);
  h.set('xtest', ud);
  h.set('movntiMyGy', movEG(false));
  h.set('boundGvMa', bound);
  h.set('movbeGvMv', movbe(true));
  h.set('movbeMvGv', movbe(false));
}
